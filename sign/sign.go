package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/verify/cms"
)

// DefaultUserID is the SM2 user ID (distinguishing identifier) of GM/T
// 0009 that everyone uses unless agreed otherwise.
var DefaultUserID = []byte("1234567812345678")

// Options shape a PKCS#7 signature. The zero value makes an attached
// signature with signed attributes, GM/T 0010 OIDs for SM2, SHA-256 for
// RSA, the signer found by issuer and serial, and the signer's certificate
// included.
type Options struct {
	Detached           bool // leave the content out
	NoSignedAttributes bool // sign the content directly (no contentType/messageDigest/signingTime)
	// StandardOIDs makes SM2 signatures with the PKCS#7 content types and
	// SM3withSM2 (1.2.156.10197.1.501) instead of the GM/T 0010 content
	// types (1.2.156.10197.6.1.4.2.x) and SM2-1 (1.2.156.10197.1.301.1).
	// RSA signatures always use standard OIDs.
	StandardOIDs   bool
	BySubjectKeyID bool                  // identify the signer by subject key identifier
	SigningTime    time.Time             // default now
	Chain          []*smx509.Certificate // more certificates to include (intermediates)
	NoCertificates bool                  // include no certificate at all
	UserID         []byte                // SM2 user ID; default DefaultUserID
	Digest         cms.Digest            // RSA digest; default SHA-256 (SM2 always SM3)
}

// ErrUnsupportedKey is returned for keys other than SM2 and RSA.
var ErrUnsupportedKey = errors.New("sign: only SM2 and RSA keys are supported")

// PKCS7 signs content with key (whose certificate is cert) and returns the
// DER SignedData.
func PKCS7(content []byte, key crypto.Signer, cert *smx509.Certificate, opts Options) ([]byte, error) {
	return build(content, nil, key, cert, opts)
}

// PKCS7Digest makes a detached SignedData over content the caller has
// already hashed with alg (SM3 for SM2 keys, SHA-256/384/512 for RSA):
// digest becomes the messageDigest attribute. This is how a PDF's byte
// ranges are signed. Signed attributes are required.
func PKCS7Digest(digest []byte, alg cms.Digest, key crypto.Signer, cert *smx509.Certificate, opts Options) ([]byte, error) {
	if opts.NoSignedAttributes {
		return nil, errors.New("sign: a signature over a precomputed digest needs signed attributes")
	}
	if alg.Size() == 0 || len(digest) != alg.Size() {
		return nil, fmt.Errorf("sign: digest of %d bytes does not fit %v", len(digest), alg)
	}
	opts.Detached = true
	opts.Digest = alg
	return build(nil, digest, key, cert, opts)
}

func build(content, precomputed []byte, key crypto.Signer, cert *smx509.Certificate, opts Options) ([]byte, error) {
	if key == nil || cert == nil {
		return nil, errors.New("sign: key and certificate are required")
	}
	isSM2 := sm2.IsSM2PublicKey(key.Public())
	_, isRSA := key.Public().(*rsa.PublicKey)
	if !isSM2 && !isRSA {
		return nil, ErrUnsupportedKey
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("sign: the key does not belong to the certificate")
	}
	gm := isSM2 && !opts.StandardOIDs
	var digest cms.Digest
	var digestAlg, sigAlg pkix.AlgorithmIdentifier
	if isSM2 {
		if opts.Digest != cms.DigestUnknown && opts.Digest != cms.SM3 {
			return nil, errors.New("sign: SM2 signs with SM3 only")
		}
		digest = cms.SM3
		digestAlg = pkix.AlgorithmIdentifier{Algorithm: cms.OIDSM3}
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: cms.OIDSM2Sign}
		if opts.StandardOIDs {
			sigAlg = pkix.AlgorithmIdentifier{Algorithm: cms.OIDSM2WithSM3}
		}
	} else {
		digest = opts.Digest
		if digest == cms.DigestUnknown {
			digest = cms.SHA256
		}
		if digest == cms.SM3 {
			return nil, errors.New("sign: RSA with SM3 is not supported")
		}
		digestAlg = pkix.AlgorithmIdentifier{Algorithm: digest.OID()}
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: cms.OIDRSAEncryption, Parameters: asn1.NullRawValue}
	}
	signer := cms.SignerToEncode{
		Certificate:        cert,
		BySubjectKeyID:     opts.BySubjectKeyID,
		DigestAlgorithm:    digestAlg,
		SignatureAlgorithm: sigAlg,
	}
	var toSign []byte
	if opts.NoSignedAttributes {
		toSign = content
	} else {
		md := precomputed
		if md == nil {
			md = digest.Sum(content)
		}
		when := opts.SigningTime
		if when.IsZero() {
			when = time.Now()
		}
		attrs, err := cms.SignedAttributes(cms.DataContentType(gm), md, when.UTC().Truncate(time.Second))
		if err != nil {
			return nil, err
		}
		signer.SignedAttrsDER = attrs
		toSign = attrs
	}
	var sig []byte
	var err error
	if isSM2 {
		sig, err = SM2(key, toSign, RawOptions{UserID: opts.UserID})
	} else {
		sig, err = RSA(key, toSign, digest)
	}
	if err != nil {
		return nil, err
	}
	signer.Signature = sig
	var certList []*smx509.Certificate
	if !opts.NoCertificates {
		certList = append([]*smx509.Certificate{cert}, opts.Chain...)
	}
	return cms.EncodeSignedData(cms.SignedDataToEncode{
		GM:           gm,
		Content:      content,
		Detached:     opts.Detached,
		Certificates: certList,
		Signers:      []cms.SignerToEncode{signer},
	})
}

// RawOptions shape a raw SM2 signature.
type RawOptions struct {
	UserID []byte // default DefaultUserID
	// RS writes the 64-byte r||s form some apps send instead of DER.
	RS bool
}

func sm2Key(key crypto.Signer) (*sm2.PrivateKey, error) {
	switch k := key.(type) {
	case *sm2.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		if sm2.IsSM2PublicKey(&k.PublicKey) {
			return &sm2.PrivateKey{PrivateKey: *k}, nil
		}
	}
	return nil, errors.New("sign: not an SM2 private key")
}

// SM2 signs msg with the SM2 signature of GB/T 32918: e = SM3(Z‖msg)
// where Z depends on the user ID and public key.
func SM2(key crypto.Signer, msg []byte, opts RawOptions) ([]byte, error) {
	k, err := sm2Key(key)
	if err != nil {
		return nil, err
	}
	uid := opts.UserID
	if uid == nil {
		uid = DefaultUserID
	}
	der, err := k.Sign(rand.Reader, msg, sm2.NewSM2SignerOption(true, uid))
	if err != nil {
		return nil, fmt.Errorf("sign: SM2: %w", err)
	}
	if opts.RS {
		return DERToRS(der)
	}
	return der, nil
}

// SM2Digest signs a 32-byte value e directly, without the Z value: what
// apps do when told to "sign the hash" as a precomputed SM3 digest.
func SM2Digest(key crypto.Signer, e []byte, opts RawOptions) ([]byte, error) {
	k, err := sm2Key(key)
	if err != nil {
		return nil, err
	}
	if len(e) != 32 {
		return nil, errors.New("sign: an SM3 digest is 32 bytes")
	}
	der, err := sm2.SignASN1(rand.Reader, k, e, nil)
	if err != nil {
		return nil, fmt.Errorf("sign: SM2: %w", err)
	}
	if opts.RS {
		return DERToRS(der)
	}
	return der, nil
}

// RSA signs msg with RSA PKCS#1 v1.5 over digest(msg) (SHA-256 when digest
// is DigestUnknown).
func RSA(key crypto.Signer, msg []byte, digest cms.Digest) ([]byte, error) {
	if _, ok := key.Public().(*rsa.PublicKey); !ok {
		return nil, errors.New("sign: not an RSA private key")
	}
	if digest == cms.DigestUnknown {
		digest = cms.SHA256
	}
	h := digest.CryptoHash()
	if h == 0 {
		return nil, fmt.Errorf("sign: RSA with %v is not supported", digest)
	}
	return key.Sign(rand.Reader, digest.Sum(msg), h)
}

// DERToRS converts an ASN.1 ECDSA/SM2 signature to 64-byte r||s.
func DERToRS(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 {
		return nil, errors.New("sign: not a DER signature")
	}
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.BitLen() > 256 || sig.S.BitLen() > 256 {
		return nil, errors.New("sign: signature values out of range")
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}
