package cms

import (
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"hash"

	"github.com/emmansun/gmsm/sm3"
)

// Content types, standard (RFC 5652) and GM/T 0010.
var (
	OIDData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}

	OIDGMData          = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 1}
	OIDGMSignedData    = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 2}
	OIDGMEnvelopedData = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 3}
)

// Attributes.
var (
	OIDAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDAttrSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
)

// Digest algorithms.
var (
	OIDSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	OIDSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	OIDSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	OIDSM3    = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}
)

// Signature and key algorithms.
var (
	OIDRSAEncryption   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	OIDSHA1WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	OIDSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	OIDSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	OIDSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	OIDECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	OIDECDSAWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	OIDECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	OIDECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	// OIDSM2Sign is SM2-1 (the SM2 signature, GM/T 0006), what GM/T 0010
	// puts in signerInfo.digestEncryptionAlgorithm.
	OIDSM2Sign = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301, 1}
	// OIDSM2 is the SM2 key algorithm / curve.
	OIDSM2 = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}
	// OIDSM2WithSM3 (SM3withSM2) is what BouncyCastle and X.509 use.
	OIDSM2WithSM3 = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}
	// OIDSM2Encrypt is SM2-3, the SM2 public-key encryption of envelopes.
	OIDSM2Encrypt = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301, 3}
	// OIDSM2EncryptAlt is the key-encryption OID GmSSL's cmsencrypt writes.
	OIDSM2EncryptAlt = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301, 2}
)

// Content encryption algorithms.
var (
	OIDSM4CBC    = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 104, 2}
	OIDSM4       = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 104}
	OIDAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	OIDAES192CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	OIDAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// Digest is a digest algorithm scansign accepts in signatures.
type Digest int

// The digests. SHA1 is accepted only where the verifier is configured to.
const (
	DigestUnknown Digest = iota
	SM3
	SHA1
	SHA256
	SHA384
	SHA512
)

// String is the name reports use: "SM3", "SHA-256", ….
func (d Digest) String() string {
	switch d {
	case SM3:
		return "SM3"
	case SHA1:
		return "SHA-1"
	case SHA256:
		return "SHA-256"
	case SHA384:
		return "SHA-384"
	case SHA512:
		return "SHA-512"
	}
	return "unknown"
}

// New returns a fresh hash; nil for DigestUnknown.
func (d Digest) New() hash.Hash {
	switch d {
	case SM3:
		return sm3.New()
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	case SHA384:
		return sha512.New384()
	case SHA512:
		return sha512.New()
	}
	return nil
}

// Sum hashes b.
func (d Digest) Sum(b []byte) []byte {
	h := d.New()
	h.Write(b)
	return h.Sum(nil)
}

// Size is the digest length in bytes.
func (d Digest) Size() int {
	switch d {
	case SM3, SHA256:
		return 32
	case SHA1:
		return 20
	case SHA384:
		return 48
	case SHA512:
		return 64
	}
	return 0
}

// CryptoHash is the crypto.Hash for RSA/ECDSA; 0 for SM3.
func (d Digest) CryptoHash() crypto.Hash {
	switch d {
	case SHA1:
		return crypto.SHA1
	case SHA256:
		return crypto.SHA256
	case SHA384:
		return crypto.SHA384
	case SHA512:
		return crypto.SHA512
	}
	return 0
}

// OID is the digest algorithm's identifier.
func (d Digest) OID() asn1.ObjectIdentifier {
	switch d {
	case SM3:
		return OIDSM3
	case SHA1:
		return OIDSHA1
	case SHA256:
		return OIDSHA256
	case SHA384:
		return OIDSHA384
	case SHA512:
		return OIDSHA512
	}
	return nil
}

// DigestFromOID maps a digest algorithm identifier (or a combined
// signature OID that names its digest) to a Digest.
func DigestFromOID(oid asn1.ObjectIdentifier) Digest {
	switch {
	case oid.Equal(OIDSM3), oid.Equal(OIDSM2WithSM3):
		return SM3
	case oid.Equal(OIDSHA1), oid.Equal(OIDSHA1WithRSA), oid.Equal(OIDECDSAWithSHA1):
		return SHA1
	case oid.Equal(OIDSHA256), oid.Equal(OIDSHA256WithRSA), oid.Equal(OIDECDSAWithSHA256):
		return SHA256
	case oid.Equal(OIDSHA384), oid.Equal(OIDSHA384WithRSA), oid.Equal(OIDECDSAWithSHA384):
		return SHA384
	case oid.Equal(OIDSHA512), oid.Equal(OIDSHA512WithRSA), oid.Equal(OIDECDSAWithSHA512):
		return SHA512
	}
	return DigestUnknown
}

// KeyKind is the public-key family a signature algorithm belongs to.
type KeyKind string

// Key kinds.
const (
	KindSM2   KeyKind = "SM2"
	KindRSA   KeyKind = "RSA"
	KindECDSA KeyKind = "ECDSA"
)

// SignatureKind maps signerInfo.signatureAlgorithm to a key family and the
// digest the OID itself names (DigestUnknown when it names none, as
// rsaEncryption and SM2-1 do). ok is false for algorithms scansign does
// not verify.
func SignatureKind(oid asn1.ObjectIdentifier) (kind KeyKind, named Digest, ok bool) {
	switch {
	case oid.Equal(OIDSM2Sign), oid.Equal(OIDSM2), oid.Equal(OIDSM2WithSM3):
		return KindSM2, DigestFromOID(oid), true
	case oid.Equal(OIDRSAEncryption):
		return KindRSA, DigestUnknown, true
	case oid.Equal(OIDSHA1WithRSA), oid.Equal(OIDSHA256WithRSA), oid.Equal(OIDSHA384WithRSA), oid.Equal(OIDSHA512WithRSA):
		return KindRSA, DigestFromOID(oid), true
	case oid.Equal(OIDECPublicKey):
		// Some SM2 encoders write ecPublicKey; the certificate's curve decides.
		return KindECDSA, DigestUnknown, true
	case oid.Equal(OIDECDSAWithSHA1), oid.Equal(OIDECDSAWithSHA256), oid.Equal(OIDECDSAWithSHA384), oid.Equal(OIDECDSAWithSHA512):
		return KindECDSA, DigestFromOID(oid), true
	}
	return "", DigestUnknown, false
}
