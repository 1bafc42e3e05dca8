// Package cms assembles the detached CMS SignedData that a PDF signature of
// /SubFilter /adbe.pkcs7.detached carries (PAdES-B-B shape): the signed
// attributes the signer signs, and the SignedData around the signature.
// It builds; it does not verify (package verify does).
package cms

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// Object identifiers used in what we build.
var (
	OIDData                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDAttrContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDAttrMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDAttrSigningTime     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDAttrSigningCertV2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	OIDDigestSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDDigestSM3           = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}
	OIDRSAEncryption       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	OIDSM2Sign             = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301, 1} // GM/T 0010 "sm2-1"
	OIDECPublicKey         = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	OIDSM2Curve            = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}
	OIDSignatureSM2WithSM3 = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}
)

// Digest names the digest algorithm of a signature.
type Digest int

const (
	SHA256 Digest = iota
	SM3
)

// OID returns the algorithm identifier's OID.
func (d Digest) OID() asn1.ObjectIdentifier {
	if d == SM3 {
		return OIDDigestSM3
	}
	return OIDDigestSHA256
}

// Sum hashes b.
func (d Digest) Sum(b []byte) []byte {
	if d == SM3 {
		s := sm3.Sum(b)
		return s[:]
	}
	s := sha256.Sum256(b)
	return s[:]
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

var asn1Null = asn1.RawValue{Tag: asn1.TagNull}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

// essCertIDv2 is RFC 5035's ESSCertIDv2; the hash algorithm is omitted when
// it is SHA-256 (the DEFAULT), as DER requires.
type essCertIDv2 struct {
	HashAlgorithm algorithmIdentifier `asn1:"optional"`
	CertHash      []byte
	IssuerSerial  issuerSerial `asn1:"optional"`
}

type issuerSerial struct {
	Issuer []asn1.RawValue // GeneralNames with one directoryName
	Serial *big.Int
}

type signingCertificateV2 struct {
	Certs []essCertIDv2
}

// SignedAttributes returns the DER SET OF Attribute that the signer signs:
// contentType data, signing-time, messageDigest over the PDF byte ranges, and
// signing-certificate-v2 when the signer's certificate is known (PAdES-B-B
// requires it; without it the signature is plain CMS).
func SignedAttributes(d Digest, digest []byte, at time.Time, cert *smx509.Certificate) ([]byte, error) {
	var attrs [][]byte
	add := func(oid asn1.ObjectIdentifier, v any) error {
		inner, err := asn1.Marshal(v)
		if err != nil {
			return err
		}
		a, err := asn1.Marshal(attribute{Type: oid, Values: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: inner}})
		if err != nil {
			return err
		}
		attrs = append(attrs, a)
		return nil
	}
	if err := add(OIDAttrContentType, OIDData); err != nil {
		return nil, err
	}
	if err := add(OIDAttrMessageDigest, digest); err != nil {
		return nil, err
	}
	// UTCTime covers 1950–2049 as RFC 5652 asks; encoding/asn1 picks it.
	if err := add(OIDAttrSigningTime, at.UTC().Truncate(time.Second)); err != nil {
		return nil, err
	}
	if cert != nil {
		id := essCertIDv2{CertHash: d.Sum(cert.Raw)}
		if d != SHA256 {
			id.HashAlgorithm = algorithmIdentifier{Algorithm: d.OID()}
		}
		id.IssuerSerial = issuerSerial{
			Issuer: []asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: cert.RawIssuer}},
			Serial: cert.SerialNumber,
		}
		if err := add(OIDAttrSigningCertV2, signingCertificateV2{Certs: []essCertIDv2{id}}); err != nil {
			return nil, err
		}
	}
	return derSet(attrs), nil
}

// derSet sorts encodings as DER's SET OF requires and wraps them.
func derSet(elems [][]byte) []byte {
	sort.Slice(elems, func(i, j int) bool { return bytes.Compare(elems[i], elems[j]) < 0 })
	body := bytes.Join(elems, nil)
	out, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: body})
	return out
}

type signerInfo struct {
	Version            int
	SID                issuerAndSerial
	DigestAlgorithm    algorithmIdentifier
	SignedAttrs        asn1.RawValue
	SignatureAlgorithm algorithmIdentifier
	Signature          []byte
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue
	SignerInfos      asn1.RawValue
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue
}

// ErrKeyAlgorithm is returned for a signer certificate whose key is neither
// RSA nor SM2.
var ErrKeyAlgorithm = errors.New("cms: signer key is neither RSA nor SM2")

// DigestFor returns the digest that goes with a signer certificate: SM3 for
// an SM2 key, SHA-256 for RSA.
func DigestFor(cert *smx509.Certificate) (Digest, error) {
	switch {
	case IsSM2(cert):
		return SM3, nil
	case cert.PublicKeyAlgorithm == smx509.RSA:
		return SHA256, nil
	}
	return 0, ErrKeyAlgorithm
}

// IsSM2 reports whether cert carries an SM2 public key.
func IsSM2(cert *smx509.Certificate) bool {
	var spki struct {
		Raw       asn1.RawContent
		Algorithm struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.ObjectIdentifier `asn1:"optional"`
		}
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	return spki.Algorithm.Parameters.Equal(OIDSM2Curve) || spki.Algorithm.Algorithm.Equal(OIDSM2Curve)
}

// Assemble builds the detached SignedData (as a ContentInfo) from the DER
// signed attributes (the SET, as SignedAttributes returned it), the raw
// signature over them, the signer certificate and any further certificates
// of its chain. For SM2 the signature is DER (r, s); for RSA, PKCS #1 v1.5.
func Assemble(d Digest, signedAttrs, signature []byte, signer *smx509.Certificate, chain []*smx509.Certificate) ([]byte, error) {
	if len(signedAttrs) < 2 || signedAttrs[0] != 0x31 {
		return nil, fmt.Errorf("cms: signed attributes are not a DER SET")
	}
	var sigAlg algorithmIdentifier
	switch {
	case IsSM2(signer):
		sigAlg = algorithmIdentifier{Algorithm: OIDSM2Sign}
	case signer.PublicKeyAlgorithm == smx509.RSA:
		sigAlg = algorithmIdentifier{Algorithm: OIDRSAEncryption, Parameters: asn1Null}
	default:
		return nil, ErrKeyAlgorithm
	}
	digestAlg := algorithmIdentifier{Algorithm: d.OID()}
	if d == SHA256 {
		digestAlg.Parameters = asn1Null
	}
	// [0] IMPLICIT SET OF Attribute: the same bytes with the tag changed.
	attrs := append([]byte{0xA0}, signedAttrs[1:]...)
	si := signerInfo{
		Version:            1,
		SID:                issuerAndSerial{Issuer: asn1.RawValue{FullBytes: signer.RawIssuer}, Serial: signer.SerialNumber},
		DigestAlgorithm:    digestAlg,
		SignedAttrs:        asn1.RawValue{FullBytes: attrs},
		SignatureAlgorithm: sigAlg,
		Signature:          signature,
	}
	siDER, err := asn1.Marshal(si)
	if err != nil {
		return nil, fmt.Errorf("cms: signer info: %w", err)
	}
	daDER, err := asn1.Marshal(digestAlg)
	if err != nil {
		return nil, err
	}
	var certs [][]byte
	seen := map[string]bool{}
	for _, c := range append([]*smx509.Certificate{signer}, chain...) {
		if c == nil || seen[string(c.Raw)] {
			continue
		}
		seen[string(c.Raw)] = true
		certs = append(certs, c.Raw)
	}
	sd := signedData{
		Version:          1,
		DigestAlgorithms: asn1.RawValue{FullBytes: derSet([][]byte{daDER})},
		EncapContentInfo: encapContentInfo{EContentType: OIDData},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: bytes.Join(certs, nil)},
		SignerInfos:      asn1.RawValue{FullBytes: derSet([][]byte{siDER})},
	}
	sdDER, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("cms: signed data: %w", err)
	}
	return asn1.Marshal(contentInfo{
		ContentType: OIDSignedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sdDER},
	})
}

// EstimateSize is a generous upper bound of Assemble's output for a signer
// with the given certificates: what a prepared PDF must leave room for.
func EstimateSize(certs [][]byte) int {
	n := 0
	for _, c := range certs {
		n += len(c)
	}
	// Signed attributes (~300 B with signing-certificate-v2), signer info
	// headers, and a signature up to RSA-8192 (1 KiB).
	return n + 2048
}
