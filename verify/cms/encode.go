package cms

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"sort"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// SignerToEncode is one signerInfo for EncodeSignedData.
type SignerToEncode struct {
	// Identify the signer by issuer and serial (default) or, when
	// BySubjectKeyID, by subject key identifier.
	Certificate    *smx509.Certificate
	BySubjectKeyID bool

	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignatureAlgorithm pkix.AlgorithmIdentifier
	// SignedAttrsDER is the SET OF attributes (tag 0x31) the signature
	// covers, as built by SignedAttributes; nil for none.
	SignedAttrsDER []byte
	Signature      []byte
}

// SignedDataToEncode describes a SignedData for EncodeSignedData.
type SignedDataToEncode struct {
	GM           bool   // GM/T 0010 content type OIDs
	Content      []byte // the content (also what detached signatures cover)
	Detached     bool   // leave eContent out
	Certificates []*smx509.Certificate
	Signers      []SignerToEncode
}

// DataContentType is the data content type for the OID style.
func DataContentType(gm bool) asn1.ObjectIdentifier {
	if gm {
		return OIDGMData
	}
	return OIDData
}

// SignedAttributes builds the DER SET OF signed attributes (contentType,
// messageDigest, signingTime, then extra) in the DER order RFC 5652
// requires; the result is what the signature covers.
func SignedAttributes(contentType asn1.ObjectIdentifier, messageDigest []byte, signingTime time.Time, extra ...Attribute) ([]byte, error) {
	type attr struct {
		Type   asn1.ObjectIdentifier
		Values asn1.RawValue
	}
	one := func(v any) (asn1.RawValue, error) {
		b, err := asn1.Marshal(v)
		if err != nil {
			return asn1.RawValue{}, err
		}
		return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: b}, nil
	}
	var encoded [][]byte
	add := func(t asn1.ObjectIdentifier, values asn1.RawValue) error {
		b, err := asn1.Marshal(attr{Type: t, Values: values})
		if err != nil {
			return err
		}
		encoded = append(encoded, b)
		return nil
	}
	ct, err := one(contentType)
	if err != nil {
		return nil, err
	}
	md, err := one(messageDigest)
	if err != nil {
		return nil, err
	}
	// UTCTime for 1950–2049 as RFC 5652 §11.3 requires.
	st, err := one(signingTime.UTC())
	if err != nil {
		return nil, err
	}
	if err := add(OIDAttrContentType, ct); err != nil {
		return nil, err
	}
	if err := add(OIDAttrMessageDigest, md); err != nil {
		return nil, err
	}
	if !signingTime.IsZero() {
		if err := add(OIDAttrSigningTime, st); err != nil {
			return nil, err
		}
	}
	for _, a := range extra {
		var vals []byte
		for _, v := range a.Values {
			vals = append(vals, v.FullBytes...)
		}
		if err := add(a.Type, asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: vals}); err != nil {
			return nil, err
		}
	}
	sort.Slice(encoded, func(i, j int) bool { return bytes.Compare(encoded[i], encoded[j]) < 0 })
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(encoded, nil)})
}

// EncodeSignedData writes a SignedData ContentInfo as DER.
func EncodeSignedData(p SignedDataToEncode) ([]byte, error) {
	if len(p.Signers) == 0 {
		return nil, errors.New("cms: no signers")
	}
	version := 1
	var digestAlgs [][]byte
	var signerInfos [][]byte
	for _, s := range p.Signers {
		if s.Certificate == nil {
			return nil, errors.New("cms: signer without certificate")
		}
		si := signerInfoASN{
			Version:            1,
			DigestAlgorithm:    s.DigestAlgorithm,
			SignatureAlgorithm: s.SignatureAlgorithm,
			Signature:          s.Signature,
		}
		if s.BySubjectKeyID {
			id, err := KeyIdentifier(s.Certificate)
			if err != nil {
				return nil, err
			}
			si.Version, version = 3, 3
			si.SID = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: id}
		} else {
			b, err := asn1.Marshal(issuerAndSerialASN{Issuer: asn1.RawValue{FullBytes: s.Certificate.RawIssuer}, Serial: s.Certificate.SerialNumber})
			if err != nil {
				return nil, err
			}
			si.SID = asn1.RawValue{FullBytes: b}
		}
		if s.SignedAttrsDER != nil {
			var set asn1.RawValue
			if _, err := asn1.Unmarshal(s.SignedAttrsDER, &set); err != nil {
				return nil, err
			}
			si.SignedAttrs = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: set.Bytes}
		}
		b, err := asn1.Marshal(si)
		if err != nil {
			return nil, err
		}
		signerInfos = append(signerInfos, b)
		da, err := asn1.Marshal(s.DigestAlgorithm)
		if err != nil {
			return nil, err
		}
		dup := false
		for _, d := range digestAlgs {
			dup = dup || bytes.Equal(d, da)
		}
		if !dup {
			digestAlgs = append(digestAlgs, da)
		}
	}
	eci := encapContentInfo{EContentType: DataContentType(p.GM)}
	if !p.Detached {
		content, err := asn1.Marshal(p.Content)
		if err != nil {
			return nil, err
		}
		eci.EContent = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: content}
	}
	sd := signedDataASN{
		Version:          version,
		DigestAlgorithms: setOf(digestAlgs),
		EncapContentInfo: eci,
		SignerInfos:      setOf(signerInfos),
	}
	if len(p.Certificates) > 0 {
		var raw []byte
		for _, c := range p.Certificates {
			raw = append(raw, c.Raw...)
		}
		sd.Certificates = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: raw}
	}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		return nil, err
	}
	outer := OIDSignedData
	if p.GM {
		outer = OIDGMSignedData
	}
	return asn1.Marshal(ContentInfo{ContentType: outer, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
}

// setOf wraps DER elements in a SET OF, sorted as DER requires.
func setOf(elems [][]byte) asn1.RawValue {
	sorted := append([][]byte(nil), elems...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(sorted, nil)}
}
