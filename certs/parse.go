package certs

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/smx509"
)

// MaxCertificateSize bounds one encoded certificate (PEM, base64 or DER).
// Real SM2 and RSA certificates are 0.5–3 KiB; 64 KiB leaves room for large
// extensions while refusing garbage early.
const MaxCertificateSize = 64 << 10

// MaxBundleSize bounds a file of several certificates (a chain or a CA bundle).
const MaxBundleSize = 4 << 20

// ErrMalformedCertificate is returned (wrapped) for input that is not a
// certificate in any encoding ParseCertificate accepts.
var ErrMalformedCertificate = errors.New("certs: not a certificate")

// ParseCertificate reads one certificate given as PEM, DER, or bare base64
// of the DER (standard or URL alphabet, padded or not, with or without line
// breaks — the way CA apps send pubCert). A PEM input may hold a chain; the
// first CERTIFICATE block is returned. SM2, RSA and ECDSA keys are accepted.
func ParseCertificate(data []byte) (*smx509.Certificate, error) {
	if len(data) > MaxCertificateSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformedCertificate, len(data), MaxCertificateSize)
	}
	der, err := certificateDER(data)
	if err != nil {
		return nil, err
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedCertificate, err)
	}
	return cert, nil
}

// ParseCertificates reads every certificate in data: PEM blocks (other
// block types are skipped), or one DER/base64 certificate, or several DER
// certificates concatenated.
func ParseCertificates(data []byte) ([]*smx509.Certificate, error) {
	if len(data) > MaxBundleSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformedCertificate, len(data), MaxBundleSize)
	}
	trimmed := trimText(data)
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		var out []*smx509.Certificate
		rest := trimmed
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if !isCertificateBlock(block.Type) {
				continue
			}
			cert, err := smx509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PEM block %d: %v", ErrMalformedCertificate, len(out)+1, err)
			}
			out = append(out, cert)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: no CERTIFICATE block in PEM input", ErrMalformedCertificate)
		}
		return out, nil
	}
	der := trimmed
	if len(der) > 0 && der[0] != 0x30 {
		decoded, err := DecodeBinary(der)
		if err != nil {
			return nil, fmt.Errorf("%w: neither PEM, DER nor base64", ErrMalformedCertificate)
		}
		der = decoded
	}
	certs, err := smx509.ParseCertificates(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedCertificate, err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformedCertificate)
	}
	return certs, nil
}

// CertificateDER finds the DER of the first certificate in data (PEM, DER
// or base64) without parsing it, for callers that cache parsed
// certificates by their DER.
func CertificateDER(data []byte) ([]byte, error) {
	if len(data) > MaxCertificateSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformedCertificate, len(data), MaxCertificateSize)
	}
	return certificateDER(data)
}

// certificateDER finds the DER of the first certificate in data.
func certificateDER(data []byte) ([]byte, error) {
	trimmed := trimText(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformedCertificate)
	}
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		rest := trimmed
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				return nil, fmt.Errorf("%w: no CERTIFICATE block in PEM input", ErrMalformedCertificate)
			}
			if isCertificateBlock(block.Type) {
				return block.Bytes, nil
			}
		}
	}
	// A DER certificate starts with SEQUENCE (0x30) and a long-form length;
	// base64 text never starts with byte 0x30 followed by 0x82/0x81.
	if trimmed[0] == 0x30 && len(trimmed) > 1 && trimmed[1]&0x80 != 0 {
		return trimmed, nil
	}
	der, err := DecodeBinary(trimmed)
	if err != nil {
		return nil, fmt.Errorf("%w: neither PEM, DER nor base64", ErrMalformedCertificate)
	}
	return der, nil
}

func isCertificateBlock(t string) bool {
	return t == "CERTIFICATE" || t == "X509 CERTIFICATE" || t == "TRUSTED CERTIFICATE"
}

// DecodeBinary turns binary data as it reaches scansign — signatures,
// envelopes, certificates and key files, sent as base64 (either alphabet,
// padded or not, with line breaks or the "\n" escapes some apps leave in
// JSON strings), hex, a PEM block, or raw bytes — into bytes. Input that is
// not printable text, or is one DER element, is returned as it is: binary
// is never trimmed, since it may end in 0x20 or 0x0a.
func DecodeBinary(in []byte) ([]byte, error) {
	if len(in) == 0 {
		return nil, errors.New("certs: empty input")
	}
	if !isText(in) || IsDERElement(in) {
		return in, nil
	}
	t := bytes.TrimSpace(in)
	if len(t) == 0 {
		return nil, errors.New("certs: empty input")
	}
	if bytes.HasPrefix(t, []byte("-----BEGIN")) {
		block, _ := pem.Decode(t)
		if block == nil {
			return nil, errors.New("certs: unreadable PEM block")
		}
		return block.Bytes, nil
	}
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, strings.ReplaceAll(string(t), `\n`, ""))
	if len(s)%2 == 0 && isHex(s) {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	s = strings.NewReplacer("-", "+", "_", "/").Replace(strings.TrimRight(s, "="))
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return nil, errors.New("certs: text that is neither base64, hex nor PEM")
}

func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\r' && c != '\n' && c != '\t' || c > 0x7e {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// EncodePEM returns the certificate as one PEM block.
func EncodePEM(cert *smx509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// IsDERElement reports whether b is exactly one ASN.1 element with a
// definite length (binary DER, not text). Binary input must never be
// whitespace-trimmed: a signature or certificate may end in 0x20 or 0x0a.
func IsDERElement(b []byte) bool {
	if len(b) < 2 || b[0]&0x1f == 0x1f {
		return false
	}
	n, l := 0, int(b[1])
	hdr := 2
	switch {
	case l < 0x80:
		n = l
	case l == 0x80:
		return false
	default:
		k := l & 0x7f
		if k > 4 || len(b) < 2+k {
			return false
		}
		for i := 0; i < k; i++ {
			n = n<<8 | int(b[2+i])
		}
		hdr += k
	}
	return n >= 0 && hdr+n == len(b)
}

// trimText trims surrounding whitespace from text input, leaving binary
// DER untouched.
func trimText(b []byte) []byte {
	if IsDERElement(b) {
		return b
	}
	return bytes.TrimSpace(b)
}
