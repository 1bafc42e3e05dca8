package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"

	"github.com/scansign/scansign/certs"
)

// DecodeSignature turns a signature as it arrives — base64 (either
// alphabet, padded or not, with line breaks), hex, a PEM block ("PKCS7",
// "CMS", "SIGNATURE"), or binary DER/raw bytes — into bytes. Text that is
// none of these is returned as is (binary input).
func DecodeSignature(in []byte) ([]byte, error) {
	if len(in) == 0 {
		return nil, errors.New("verify: empty signature")
	}
	if !isText(in) || certs.IsDERElement(in) {
		return in, nil // binary: never trim (it may end in 0x20 or 0x0a)
	}
	t := bytes.TrimSpace(in)
	if len(t) == 0 {
		return nil, errors.New("verify: empty signature")
	}
	if bytes.HasPrefix(t, []byte("-----BEGIN")) {
		block, _ := pem.Decode(t)
		if block == nil {
			return nil, errors.New("verify: unreadable PEM block")
		}
		return block.Bytes, nil
	}
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, strings.ReplaceAll(string(t), `\n`, ""))
	if len(s)%2 == 0 && isHexString(s) {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	s = strings.NewReplacer("-", "+", "_", "/").Replace(strings.TrimRight(s, "="))
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return nil, errors.New("verify: the signature is text but neither base64, hex nor PEM")
}

func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\r' && c != '\n' && c != '\t' || c > 0x7e {
			return false
		}
	}
	return true
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}
