package cms

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs/ber"
)

// MaxSize bounds a CMS structure scansign will parse (signatures with
// their certificate chains, or envelopes of a few megabytes).
const MaxSize = 16 << 20

// MaxSigners bounds the signerInfos read from one SignedData.
const MaxSigners = 16

// ErrMalformed is returned (wrapped) for input that is not the expected
// CMS structure.
var ErrMalformed = errors.New("cms: malformed")

// ContentInfo is the outer wrapper of every CMS structure.
type ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signedDataASN struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      asn1.RawValue
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signerInfoASN struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerialASN struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

// Attribute is one signed or unsigned attribute with its values as DER.
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue
}

type attributeASN struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue
}

// SignedData is a parsed PKCS#7/CMS SignedData.
type SignedData struct {
	// GM is true when the outer content type is the GM/T 0010 one.
	GM bool
	// EContentType is the encapsulated content's type (data, or GM data).
	EContentType asn1.ObjectIdentifier
	// Content is the attached content; nil when detached.
	Content []byte
	// Detached is true when no eContent is present.
	Detached bool
	// Certificates are the parseable certificates the structure carries
	// (others, such as attribute certificates, are skipped).
	Certificates []*smx509.Certificate
	// Signers are the signerInfos in order.
	Signers []SignerInfo
	// DER is the whole structure re-encoded as DER (input may be BER).
	DER []byte
}

// SignerInfo is one parsed signerInfo.
type SignerInfo struct {
	Version int
	// Exactly one of IssuerSerial and SubjectKeyID is set.
	IssuerSerial *IssuerSerial
	SubjectKeyID []byte

	DigestAlgorithm    pkix.AlgorithmIdentifier
	Digest             Digest // DigestUnknown when the OID is not one we know
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte

	// SignedAttrsDER is the DER of the signed attributes as the signer
	// encoded them, with the SET OF tag (0x31) the signature covers; nil
	// when there are none.
	SignedAttrsDER []byte
	SignedAttrs    []Attribute
	UnsignedAttrs  []Attribute

	// From the signed attributes, when present.
	ContentTypeAttr asn1.ObjectIdentifier
	MessageDigest   []byte
	SigningTime     *time.Time
}

// IssuerSerial identifies a certificate by issuer name and serial number.
type IssuerSerial struct {
	RawIssuer []byte
	Serial    *big.Int
}

// HasSignedAttributes reports whether the signature covers signed
// attributes (and so the content only through messageDigest).
func (s *SignerInfo) HasSignedAttributes() bool { return s.SignedAttrsDER != nil }

// Parse decodes a ContentInfo (BER or DER). Trailing zero bytes are
// allowed, as a PDF's zero-padded /Contents carries them; any other
// trailing data is refused.
func Parse(data []byte) (*ContentInfo, []byte, error) {
	if len(data) > MaxSize {
		return nil, nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(data), MaxSize)
	}
	der, rest, err := ber.ToDER(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	for _, b := range rest {
		if b != 0 {
			return nil, nil, fmt.Errorf("%w: %d bytes of trailing data", ErrMalformed, len(rest))
		}
	}
	var ci ContentInfo
	if r, err := asn1.Unmarshal(der, &ci); err != nil || len(r) != 0 {
		return nil, nil, fmt.Errorf("%w: not a ContentInfo", ErrMalformed)
	}
	return &ci, der, nil
}

// ParseSignedData decodes a SignedData ContentInfo, standard or GM/T.
func ParseSignedData(data []byte) (*SignedData, error) {
	return ParseSignedDataWith(data, smx509.ParseCertificate)
}

// ParseSignedDataWith is ParseSignedData with the certificate parser
// given (a verifier passes one that caches).
func ParseSignedDataWith(data []byte, parseCert func([]byte) (*smx509.Certificate, error)) (*SignedData, error) {
	ci, der, err := Parse(data)
	if err != nil {
		return nil, err
	}
	out := &SignedData{DER: der}
	switch {
	case ci.ContentType.Equal(OIDSignedData):
	case ci.ContentType.Equal(OIDGMSignedData):
		out.GM = true
	default:
		return nil, fmt.Errorf("%w: content type %v is not SignedData", ErrMalformed, ci.ContentType)
	}
	var sd signedDataASN
	if r, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(r) != 0 {
		return nil, fmt.Errorf("%w: SignedData: %v", ErrMalformed, errOr(err, "trailing data"))
	}
	out.EContentType = sd.EncapContentInfo.EContentType
	if len(sd.EncapContentInfo.EContent.FullBytes) == 0 {
		out.Detached = true
	} else {
		content, err := octets(sd.EncapContentInfo.EContent.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: eContent: %v", ErrMalformed, err)
		}
		out.Content = content
		if len(content) == 0 {
			// An empty eContent is what some signers of digests write;
			// treat it as detached.
			out.Detached, out.Content = true, nil
		}
	}
	if len(sd.Certificates.FullBytes) > 0 {
		for rest := sd.Certificates.Bytes; len(rest) > 0; {
			var raw asn1.RawValue
			r, err := asn1.Unmarshal(rest, &raw)
			if err != nil {
				return nil, fmt.Errorf("%w: certificates: %v", ErrMalformed, err)
			}
			rest = r
			if raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagSequence {
				continue // attribute certificates and other choices
			}
			if c, err := parseCert(raw.FullBytes); err == nil {
				out.Certificates = append(out.Certificates, c)
			}
		}
	}
	if sd.SignerInfos.Tag != asn1.TagSet || !sd.SignerInfos.IsCompound {
		return nil, fmt.Errorf("%w: signerInfos is not a SET", ErrMalformed)
	}
	for rest := sd.SignerInfos.Bytes; len(rest) > 0; {
		if len(out.Signers) == MaxSigners {
			return nil, fmt.Errorf("%w: more than %d signers", ErrMalformed, MaxSigners)
		}
		var si signerInfoASN
		r, err := asn1.Unmarshal(rest, &si)
		if err != nil {
			return nil, fmt.Errorf("%w: signerInfo %d: %v", ErrMalformed, len(out.Signers)+1, err)
		}
		rest = r
		parsed, err := parseSignerInfo(&si)
		if err != nil {
			return nil, fmt.Errorf("%w: signerInfo %d: %v", ErrMalformed, len(out.Signers)+1, err)
		}
		out.Signers = append(out.Signers, *parsed)
	}
	return out, nil
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// octets reads an OCTET STRING (or, leniently, any primitive element whose
// bytes are the content, as some GM encoders write eContent).
func octets(der []byte) ([]byte, error) {
	var raw asn1.RawValue
	r, err := asn1.Unmarshal(der, &raw)
	if err != nil {
		return nil, err
	}
	if len(r) != 0 {
		return nil, errors.New("trailing data")
	}
	if raw.IsCompound {
		return nil, errors.New("constructed content is not supported")
	}
	return raw.Bytes, nil
}

func parseSignerInfo(si *signerInfoASN) (*SignerInfo, error) {
	out := &SignerInfo{
		Version:            si.Version,
		DigestAlgorithm:    si.DigestAlgorithm,
		Digest:             DigestFromOID(si.DigestAlgorithm.Algorithm),
		SignatureAlgorithm: si.SignatureAlgorithm,
		Signature:          si.Signature,
	}
	switch {
	case si.SID.Class == asn1.ClassUniversal && si.SID.Tag == asn1.TagSequence:
		var ias issuerAndSerialASN
		if r, err := asn1.Unmarshal(si.SID.FullBytes, &ias); err != nil || len(r) != 0 || ias.Serial == nil {
			return nil, fmt.Errorf("issuerAndSerialNumber: %v", errOr(err, "trailing data"))
		}
		out.IssuerSerial = &IssuerSerial{RawIssuer: ias.Issuer.FullBytes, Serial: ias.Serial}
	case si.SID.Class == asn1.ClassContextSpecific && si.SID.Tag == 0 && !si.SID.IsCompound:
		if len(si.SID.Bytes) == 0 {
			return nil, errors.New("empty subjectKeyIdentifier")
		}
		out.SubjectKeyID = si.SID.Bytes
	default:
		return nil, errors.New("signer identifier is neither issuerAndSerialNumber nor subjectKeyIdentifier")
	}
	if len(si.SignedAttrs.FullBytes) > 0 {
		if !si.SignedAttrs.IsCompound {
			return nil, errors.New("signedAttrs is not constructed")
		}
		set := append([]byte(nil), si.SignedAttrs.FullBytes...)
		set[0] = 0x31 // [0] IMPLICIT → SET OF, as RFC 5652 §5.4 says the signature covers
		out.SignedAttrsDER = set
		attrs, err := parseAttributes(si.SignedAttrs.Bytes)
		if err != nil {
			return nil, fmt.Errorf("signedAttrs: %w", err)
		}
		out.SignedAttrs = attrs
		if err := out.readSignedAttributes(); err != nil {
			return nil, err
		}
	}
	if len(si.UnsignedAttrs.FullBytes) > 0 {
		attrs, err := parseAttributes(si.UnsignedAttrs.Bytes)
		if err != nil {
			return nil, fmt.Errorf("unsignedAttrs: %w", err)
		}
		out.UnsignedAttrs = attrs
	}
	return out, nil
}

func parseAttributes(b []byte) ([]Attribute, error) {
	var out []Attribute
	for len(b) > 0 {
		var a attributeASN
		r, err := asn1.Unmarshal(b, &a)
		if err != nil {
			return nil, err
		}
		b = r
		if a.Values.Tag != asn1.TagSet || !a.Values.IsCompound {
			return nil, fmt.Errorf("attribute %v: values are not a SET", a.Type)
		}
		attr := Attribute{Type: a.Type}
		for v := a.Values.Bytes; len(v) > 0; {
			var raw asn1.RawValue
			rr, err := asn1.Unmarshal(v, &raw)
			if err != nil {
				return nil, fmt.Errorf("attribute %v: %w", a.Type, err)
			}
			v = rr
			attr.Values = append(attr.Values, raw)
		}
		out = append(out, attr)
	}
	return out, nil
}

// readSignedAttributes extracts contentType, messageDigest and
// signingTime. RFC 5652 requires exactly one value for each and at most one
// attribute of each type.
func (s *SignerInfo) readSignedAttributes() error {
	seen := map[string]bool{}
	for _, a := range s.SignedAttrs {
		key := a.Type.String()
		isKnown := a.Type.Equal(OIDAttrContentType) || a.Type.Equal(OIDAttrMessageDigest) || a.Type.Equal(OIDAttrSigningTime)
		if !isKnown {
			continue
		}
		if seen[key] || len(a.Values) != 1 {
			return fmt.Errorf("signed attribute %v must appear once with one value", a.Type)
		}
		seen[key] = true
		v := a.Values[0].FullBytes
		switch {
		case a.Type.Equal(OIDAttrContentType):
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(v, &oid); err != nil {
				return fmt.Errorf("contentType attribute: %w", err)
			}
			s.ContentTypeAttr = oid
		case a.Type.Equal(OIDAttrMessageDigest):
			var md []byte
			if _, err := asn1.Unmarshal(v, &md); err != nil {
				return fmt.Errorf("messageDigest attribute: %w", err)
			}
			s.MessageDigest = md
		case a.Type.Equal(OIDAttrSigningTime):
			var t time.Time
			if _, err := asn1.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("signingTime attribute: %w", err)
			}
			s.SigningTime = &t
		}
	}
	if s.MessageDigest == nil {
		return errors.New("signed attributes lack messageDigest")
	}
	return nil
}

// SignerCertificate finds the certificate of signer s among certs: by
// issuer name and serial number, or by subject key identifier (the
// extension, or failing that the SHA-1 of the public key as RFC 5280
// method 1 computes it).
func SignerCertificate(s *SignerInfo, certs []*smx509.Certificate) *smx509.Certificate {
	for _, c := range certs {
		if Identifies(s, c) {
			return c
		}
	}
	return nil
}

// Identifies reports whether c is the certificate signer s names.
func Identifies(s *SignerInfo, c *smx509.Certificate) bool {
	switch {
	case s.IssuerSerial != nil:
		return c.SerialNumber != nil && c.SerialNumber.Cmp(s.IssuerSerial.Serial) == 0 &&
			bytes.Equal(c.RawIssuer, s.IssuerSerial.RawIssuer)
	case s.SubjectKeyID != nil:
		if len(c.SubjectKeyId) > 0 {
			return bytes.Equal(c.SubjectKeyId, s.SubjectKeyID)
		}
		id, err := KeyIdentifier(c)
		return err == nil && bytes.Equal(id, s.SubjectKeyID)
	}
	return false
}

// KeyIdentifier is the certificate's subject key identifier: the
// extension's value if present, else SHA-1 of the subjectPublicKey bits.
func KeyIdentifier(c *smx509.Certificate) ([]byte, error) {
	if len(c.SubjectKeyId) > 0 {
		return c.SubjectKeyId, nil
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, err
	}
	sum := sha1.Sum(spki.Key.Bytes)
	return sum[:], nil
}
