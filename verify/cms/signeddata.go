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
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/scansign/scansign/certs/ber"
)

// MaxSize bounds a CMS structure scansign will parse (signatures with
// their certificate chains, or envelopes of a few megabytes).
const MaxSize = 16 << 20

// MaxSigners bounds the signerInfos read from one SignedData.
const MaxSigners = 16

// MaxCertificates bounds the certificates one SignedData may carry. A
// signer sends its own and its chain (a handful); each one is parsed, so
// a bag of thousands is refused rather than read.
const MaxCertificates = 64

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
// given (a verifier passes one that caches). It reads with cryptobyte, not
// reflection: parsing is on the hot path of every verification.
func ParseSignedDataWith(data []byte, parseCert func([]byte) (*smx509.Certificate, error)) (*SignedData, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(data), MaxSize)
	}
	der, rest, err := ber.ToDER(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	for _, b := range rest {
		if b != 0 {
			return nil, fmt.Errorf("%w: %d bytes of trailing data", ErrMalformed, len(rest))
		}
	}
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }
	in := cryptobyte.String(der)
	var ci, content cryptobyte.String
	var outer asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() || !ci.ReadASN1ObjectIdentifier(&outer) {
		return nil, bad("not a ContentInfo")
	}
	out := &SignedData{DER: der}
	switch {
	case outer.Equal(OIDSignedData):
	case outer.Equal(OIDGMSignedData):
		out.GM = true
	default:
		return nil, fmt.Errorf("%w: content type %v is not SignedData", ErrMalformed, outer)
	}
	var sd cryptobyte.String
	if !ci.ReadASN1(&content, tagExplicit0) || !ci.Empty() || !content.ReadASN1(&sd, cbasn1.SEQUENCE) || !content.Empty() {
		return nil, bad("SignedData")
	}
	var version int64
	var digestAlgs, eci, certsField, signerInfos cryptobyte.String
	var hasCerts bool
	if !sd.ReadASN1Integer(&version) || !sd.ReadASN1(&digestAlgs, cbasn1.SET) || !sd.ReadASN1(&eci, cbasn1.SEQUENCE) {
		return nil, bad("SignedData header")
	}
	if !eci.ReadASN1ObjectIdentifier(&out.EContentType) {
		return nil, bad("encapContentInfo")
	}
	var ec cryptobyte.String
	var hasContent bool
	if !eci.ReadOptionalASN1(&ec, &hasContent, tagExplicit0) || !eci.Empty() {
		return nil, bad("eContent")
	}
	if hasContent {
		var body cryptobyte.String
		var tag cbasn1.Tag
		if !ec.ReadAnyASN1(&body, &tag) || !ec.Empty() || tag&0x20 != 0 {
			return nil, bad("eContent is not a primitive OCTET STRING")
		}
		out.Content = []byte(body)
	}
	if len(out.Content) == 0 {
		// No eContent, or an empty one as some digest signers write.
		out.Detached, out.Content = true, nil
	}
	if !sd.ReadOptionalASN1(&certsField, &hasCerts, tagImplicit0Constructed) {
		return nil, bad("certificates")
	}
	seen := 0
	for !certsField.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !certsField.ReadAnyASN1Element(&el, &tag) {
			return nil, bad("certificates")
		}
		if tag != cbasn1.SEQUENCE {
			continue // attribute certificates and other choices
		}
		if seen++; seen > MaxCertificates {
			return nil, fmt.Errorf("%w: more than %d certificates", ErrMalformed, MaxCertificates)
		}
		if c, err := parseCert(el); err == nil {
			out.Certificates = append(out.Certificates, c)
		}
	}
	if !sd.SkipOptionalASN1(tagImplicit1Constructed) || !sd.ReadASN1(&signerInfos, cbasn1.SET) || !sd.Empty() {
		return nil, bad("signerInfos is not a SET")
	}
	for !signerInfos.Empty() {
		if len(out.Signers) == MaxSigners {
			return nil, fmt.Errorf("%w: more than %d signers", ErrMalformed, MaxSigners)
		}
		var si cryptobyte.String
		if !signerInfos.ReadASN1(&si, cbasn1.SEQUENCE) {
			return nil, fmt.Errorf("%w: signerInfo %d", ErrMalformed, len(out.Signers)+1)
		}
		parsed, err := parseSignerInfo(si)
		if err != nil {
			return nil, fmt.Errorf("%w: signerInfo %d: %v", ErrMalformed, len(out.Signers)+1, err)
		}
		out.Signers = append(out.Signers, *parsed)
	}
	return out, nil
}

var (
	tagExplicit0            = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagImplicit0Constructed = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagImplicit1Constructed = cbasn1.Tag(1).Constructed().ContextSpecific()
	tagImplicit0Primitive   = cbasn1.Tag(0).ContextSpecific()
)

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

// readAlgorithm reads an AlgorithmIdentifier.
func readAlgorithm(s *cryptobyte.String) (pkix.AlgorithmIdentifier, bool) {
	var alg, params cryptobyte.String
	var ai pkix.AlgorithmIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&ai.Algorithm) {
		return ai, false
	}
	if !alg.Empty() {
		var tag cbasn1.Tag
		if !alg.ReadAnyASN1Element(&params, &tag) || !alg.Empty() {
			return ai, false
		}
		ai.Parameters = rawValue(params, tag)
	}
	return ai, true
}

// rawValue builds the asn1.RawValue of a DER element.
func rawValue(el cryptobyte.String, tag cbasn1.Tag) asn1.RawValue {
	body := el
	var inner cryptobyte.String
	var t cbasn1.Tag
	body.ReadAnyASN1(&inner, &t)
	return asn1.RawValue{
		Class:      int(tag) >> 6,
		Tag:        int(tag) & 0x1f,
		IsCompound: tag&0x20 != 0,
		Bytes:      []byte(inner),
		FullBytes:  []byte(el),
	}
}

func parseSignerInfo(si cryptobyte.String) (*SignerInfo, error) {
	out := &SignerInfo{}
	var version int64
	if !si.ReadASN1Integer(&version) {
		return nil, errors.New("version")
	}
	out.Version = int(version)
	switch {
	case si.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, issuer cryptobyte.String
		serial := new(big.Int)
		if !si.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !ias.ReadASN1Integer(serial) || !ias.Empty() {
			return nil, errors.New("issuerAndSerialNumber")
		}
		out.IssuerSerial = &IssuerSerial{RawIssuer: []byte(issuer), Serial: serial}
	case si.PeekASN1Tag(tagImplicit0Primitive):
		var ski cryptobyte.String
		if !si.ReadASN1(&ski, tagImplicit0Primitive) || len(ski) == 0 {
			return nil, errors.New("empty subjectKeyIdentifier")
		}
		out.SubjectKeyID = []byte(ski)
	default:
		return nil, errors.New("signer identifier is neither issuerAndSerialNumber nor subjectKeyIdentifier")
	}
	var ok bool
	if out.DigestAlgorithm, ok = readAlgorithm(&si); !ok {
		return nil, errors.New("digestAlgorithm")
	}
	out.Digest = DigestFromOID(out.DigestAlgorithm.Algorithm)
	if si.PeekASN1Tag(tagImplicit0Constructed) {
		var el, body cryptobyte.String
		if !si.ReadASN1Element(&el, tagImplicit0Constructed) {
			return nil, errors.New("signedAttrs")
		}
		set := append([]byte(nil), el...)
		set[0] = 0x31 // [0] IMPLICIT → SET OF, as RFC 5652 §5.4 says the signature covers
		out.SignedAttrsDER = set
		body = el
		var tag cbasn1.Tag
		body.ReadAnyASN1(&body, &tag)
		attrs, err := parseAttributes(body)
		if err != nil {
			return nil, fmt.Errorf("signedAttrs: %w", err)
		}
		out.SignedAttrs = attrs
		if err := out.readSignedAttributes(); err != nil {
			return nil, err
		}
	}
	if out.SignatureAlgorithm, ok = readAlgorithm(&si); !ok {
		return nil, errors.New("signatureAlgorithm")
	}
	var sig cryptobyte.String
	if !si.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return nil, errors.New("signature")
	}
	out.Signature = []byte(sig)
	if si.PeekASN1Tag(tagImplicit1Constructed) {
		var body cryptobyte.String
		if !si.ReadASN1(&body, tagImplicit1Constructed) {
			return nil, errors.New("unsignedAttrs")
		}
		attrs, err := parseAttributes(body)
		if err != nil {
			return nil, fmt.Errorf("unsignedAttrs: %w", err)
		}
		out.UnsignedAttrs = attrs
	}
	if !si.Empty() {
		return nil, errors.New("trailing data")
	}
	return out, nil
}

func parseAttributes(b cryptobyte.String) ([]Attribute, error) {
	var out []Attribute
	for !b.Empty() {
		var a, values cryptobyte.String
		var attr Attribute
		if !b.ReadASN1(&a, cbasn1.SEQUENCE) || !a.ReadASN1ObjectIdentifier(&attr.Type) || !a.ReadASN1(&values, cbasn1.SET) || !a.Empty() {
			return nil, errors.New("attribute is not a SEQUENCE of type and SET of values")
		}
		for !values.Empty() {
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !values.ReadAnyASN1Element(&el, &tag) {
				return nil, fmt.Errorf("attribute %v: bad value", attr.Type)
			}
			attr.Values = append(attr.Values, rawValue(el, tag))
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
		v := cryptobyte.String(a.Values[0].FullBytes)
		switch {
		case a.Type.Equal(OIDAttrContentType):
			var oid asn1.ObjectIdentifier
			if !v.ReadASN1ObjectIdentifier(&oid) || !v.Empty() {
				return errors.New("contentType attribute is not an OID")
			}
			s.ContentTypeAttr = oid
		case a.Type.Equal(OIDAttrMessageDigest):
			var md cryptobyte.String
			if !v.ReadASN1(&md, cbasn1.OCTET_STRING) || !v.Empty() {
				return errors.New("messageDigest attribute is not an OCTET STRING")
			}
			s.MessageDigest = []byte(md)
		case a.Type.Equal(OIDAttrSigningTime):
			var t time.Time
			switch {
			case v.PeekASN1Tag(cbasn1.UTCTime):
				if !v.ReadASN1UTCTime(&t) {
					return errors.New("signingTime attribute: bad UTCTime")
				}
			case v.PeekASN1Tag(cbasn1.GeneralizedTime):
				if !v.ReadASN1GeneralizedTime(&t) {
					return errors.New("signingTime attribute: bad GeneralizedTime")
				}
			default:
				return errors.New("signingTime attribute is not a time")
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
