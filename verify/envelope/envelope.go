package envelope

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm4"
	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/certs/ber"
	"github.com/scansign/scansign/verify/cms"
)

// MaxPlaintext bounds what Encrypt accepts (the guide's messages are short
// strings; files go through the PDF flows).
const MaxPlaintext = 8 << 20

// Errors.
var (
	ErrMalformed   = errors.New("envelope: malformed")
	ErrNotForKey   = errors.New("envelope: no recipient matches the key")
	ErrDecryption  = errors.New("envelope: decryption failed")
	ErrUnsupported = errors.New("envelope: unsupported")
)

// Options shape an EnvelopedData.
type Options struct {
	// StandardOIDs uses the PKCS#7 content types for SM2 recipients instead
	// of GM/T 0010's (1.2.156.10197.6.1.4.2.3 / .1). RSA recipients always
	// get standard OIDs.
	StandardOIDs bool
	// BySubjectKeyID identifies the recipient by subject key identifier.
	BySubjectKeyID bool
}

type envelopedDataASN struct {
	Version              int
	OriginatorInfo       asn1.RawValue `asn1:"optional,tag:0"`
	RecipientInfos       asn1.RawValue
	EncryptedContentInfo encryptedContentInfoASN
	UnprotectedAttrs     asn1.RawValue `asn1:"optional,tag:1"`
}

type keyTransRecipientInfoASN struct {
	Version                int
	RID                    asn1.RawValue
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey           []byte
}

type encryptedContentInfoASN struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           asn1.RawValue `asn1:"optional,tag:0"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

// Encrypt envelopes plaintext for recipient and returns the DER
// EnvelopedData ContentInfo.
func Encrypt(plaintext []byte, recipient *smx509.Certificate, opts Options) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("envelope: %d bytes is over the %d byte limit", len(plaintext), MaxPlaintext)
	}
	if recipient == nil {
		return nil, errors.New("envelope: no recipient certificate")
	}
	var (
		keyEncAlg  pkix.AlgorithmIdentifier
		contentAlg asn1.ObjectIdentifier
		cek        []byte
		block      cipher.Block
		gm         bool
	)
	switch pub := recipient.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if !sm2.IsSM2PublicKey(pub) {
			return nil, fmt.Errorf("%w: ECDSA recipients", ErrUnsupported)
		}
		cek = make([]byte, 16)
		if _, err := rand.Read(cek); err != nil {
			return nil, err
		}
		b, err := sm4.NewCipher(cek)
		if err != nil {
			return nil, err
		}
		block, contentAlg, gm = b, cms.OIDSM4CBC, !opts.StandardOIDs
		keyEncAlg = pkix.AlgorithmIdentifier{Algorithm: cms.OIDSM2Encrypt}
	case *rsa.PublicKey:
		cek = make([]byte, 32)
		if _, err := rand.Read(cek); err != nil {
			return nil, err
		}
		b, err := aes.NewCipher(cek)
		if err != nil {
			return nil, err
		}
		block, contentAlg = b, cms.OIDAES256CBC
		keyEncAlg = pkix.AlgorithmIdentifier{Algorithm: cms.OIDRSAEncryption, Parameters: asn1.NullRawValue}
	default:
		return nil, fmt.Errorf("%w: recipient key %T", ErrUnsupported, recipient.PublicKey)
	}
	encKey, err := encryptKey(recipient.PublicKey, cek)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, block.BlockSize())
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	padded := pad(plaintext, block.BlockSize())
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	ivDER, _ := asn1.Marshal(iv)

	ri := keyTransRecipientInfoASN{Version: 0, KeyEncryptionAlgorithm: keyEncAlg, EncryptedKey: encKey}
	if opts.BySubjectKeyID {
		id, err := cms.KeyIdentifier(recipient)
		if err != nil {
			return nil, err
		}
		ri.Version = 2
		ri.RID = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: id}
	} else {
		b, err := asn1.Marshal(issuerAndSerial{Issuer: asn1.RawValue{FullBytes: recipient.RawIssuer}, Serial: recipient.SerialNumber})
		if err != nil {
			return nil, err
		}
		ri.RID = asn1.RawValue{FullBytes: b}
	}
	riDER, err := asn1.Marshal(ri)
	if err != nil {
		return nil, err
	}
	version := 0
	if opts.BySubjectKeyID {
		version = 2
	}
	ed := envelopedDataASN{
		Version:        version,
		RecipientInfos: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: riDER},
		EncryptedContentInfo: encryptedContentInfoASN{
			ContentType:                cms.DataContentType(gm),
			ContentEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: contentAlg, Parameters: asn1.RawValue{FullBytes: ivDER}},
			EncryptedContent:           asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: ct},
		},
	}
	inner, err := asn1.Marshal(ed)
	if err != nil {
		return nil, err
	}
	outer := cms.OIDEnvelopedData
	if gm {
		outer = cms.OIDGMEnvelopedData
	}
	return asn1.Marshal(cms.ContentInfo{ContentType: outer, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
}

func encryptKey(pub crypto.PublicKey, cek []byte) ([]byte, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return sm2.EncryptASN1(rand.Reader, k, cek)
	case *rsa.PublicKey:
		return rsa.EncryptPKCS1v15(rand.Reader, k, cek)
	}
	return nil, fmt.Errorf("%w: key %T", ErrUnsupported, pub)
}

func pad(b []byte, size int) []byte {
	n := size - len(b)%size
	return append(append([]byte(nil), b...), bytes.Repeat([]byte{byte(n)}, n)...)
}

func unpad(b []byte, size int) ([]byte, error) {
	if len(b) == 0 || len(b)%size != 0 {
		return nil, ErrDecryption
	}
	n := int(b[len(b)-1])
	if n == 0 || n > size {
		return nil, ErrDecryption
	}
	if subtle.ConstantTimeCompare(b[len(b)-n:], bytes.Repeat([]byte{byte(n)}, n)) != 1 {
		return nil, ErrDecryption
	}
	return b[:len(b)-n], nil
}

// Decrypt opens an EnvelopedData (DER or BER, standard or GM/T OIDs) with
// key — *sm2.PrivateKey or *rsa.PrivateKey, e.g. certs.Identity.Signer.
// cert, if given, picks the recipientInfo; otherwise every key-transport
// recipient is tried.
func Decrypt(data []byte, key crypto.PrivateKey, cert *smx509.Certificate) ([]byte, error) {
	ci, _, err := cms.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !ci.ContentType.Equal(cms.OIDEnvelopedData) && !ci.ContentType.Equal(cms.OIDGMEnvelopedData) {
		return nil, fmt.Errorf("%w: content type %v is not EnvelopedData", ErrMalformed, ci.ContentType)
	}
	var ed envelopedDataASN
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: EnvelopedData", ErrMalformed)
	}
	var cek []byte
	found := false
	for rest := ed.RecipientInfos.Bytes; len(rest) > 0 && cek == nil; {
		var raw asn1.RawValue
		r, err := asn1.Unmarshal(rest, &raw)
		if err != nil {
			return nil, fmt.Errorf("%w: recipientInfos", ErrMalformed)
		}
		rest = r
		if raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagSequence {
			continue // key agreement, KEK, password recipients: not ours
		}
		var ri keyTransRecipientInfoASN
		if _, err := asn1.Unmarshal(raw.FullBytes, &ri); err != nil {
			return nil, fmt.Errorf("%w: recipientInfo", ErrMalformed)
		}
		if cert != nil && !matchesRecipient(ri.RID, cert) {
			continue
		}
		found = true
		if k, err := decryptKey(key, ri); err == nil {
			cek = k
		} else if cert != nil {
			return nil, err
		}
	}
	if cek == nil {
		if found {
			return nil, ErrDecryption
		}
		return nil, ErrNotForKey
	}
	eci := ed.EncryptedContentInfo
	ct := eci.EncryptedContent.Bytes
	if eci.EncryptedContent.IsCompound { // BER: constructed [0] of OCTET STRING chunks
		ct = ber.JoinChunks(ct)
	}
	var block cipher.Block
	alg := eci.ContentEncryptionAlgorithm
	switch {
	case alg.Algorithm.Equal(cms.OIDSM4CBC), alg.Algorithm.Equal(cms.OIDSM4):
		block, err = sm4.NewCipher(cek)
	case alg.Algorithm.Equal(cms.OIDAES128CBC), alg.Algorithm.Equal(cms.OIDAES192CBC), alg.Algorithm.Equal(cms.OIDAES256CBC):
		block, err = aes.NewCipher(cek)
	default:
		return nil, fmt.Errorf("%w: content encryption %v", ErrUnsupported, alg.Algorithm)
	}
	if err != nil {
		return nil, ErrDecryption
	}
	var iv []byte
	if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &iv); err != nil || len(iv) != block.BlockSize() {
		return nil, fmt.Errorf("%w: content encryption IV", ErrMalformed)
	}
	if len(ct) == 0 || len(ct)%block.BlockSize() != 0 {
		return nil, ErrDecryption
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	return unpad(plain, block.BlockSize())
}

func matchesRecipient(rid asn1.RawValue, cert *smx509.Certificate) bool {
	if rid.Class == asn1.ClassContextSpecific && rid.Tag == 0 {
		id, err := cms.KeyIdentifier(cert)
		return err == nil && bytes.Equal(id, rid.Bytes)
	}
	var ias issuerAndSerial
	if _, err := asn1.Unmarshal(rid.FullBytes, &ias); err != nil || ias.Serial == nil {
		return false
	}
	return ias.Serial.Cmp(cert.SerialNumber) == 0 && bytes.Equal(ias.Issuer.FullBytes, cert.RawIssuer)
}

func decryptKey(key crypto.PrivateKey, ri keyTransRecipientInfoASN) ([]byte, error) {
	alg := ri.KeyEncryptionAlgorithm.Algorithm
	switch k := key.(type) {
	case *sm2.PrivateKey:
		if !alg.Equal(cms.OIDSM2Encrypt) && !alg.Equal(cms.OIDSM2EncryptAlt) && !alg.Equal(cms.OIDSM2) && !alg.Equal(cms.OIDECPublicKey) {
			return nil, fmt.Errorf("%w: key encryption %v for an SM2 key", ErrUnsupported, alg)
		}
		cek, err := DecryptSM2(ri.EncryptedKey, k)
		if err != nil {
			return nil, ErrDecryption
		}
		return cek, nil
	case *rsa.PrivateKey:
		if !alg.Equal(cms.OIDRSAEncryption) {
			return nil, fmt.Errorf("%w: key encryption %v for an RSA key", ErrUnsupported, alg)
		}
		cek, err := rsa.DecryptPKCS1v15(nil, k, ri.EncryptedKey)
		if err != nil {
			return nil, ErrDecryption
		}
		return cek, nil
	case *ecdsa.PrivateKey:
		if sm2.IsSM2PublicKey(&k.PublicKey) {
			return decryptKey(&sm2.PrivateKey{PrivateKey: *k}, ri)
		}
	}
	return nil, fmt.Errorf("%w: private key %T", ErrUnsupported, key)
}

// SM2 ciphertext layouts.
type SM2Format int

// SM2 raw ciphertext formats.
const (
	C1C3C2 SM2Format = iota // GB/T 32918.4-2016, the current standard
	C1C2C3                  // the 2010 draft, still sent by old apps
	ASN1                    // GM/T 0009 SM2Cipher
)

// EncryptSM2 encrypts plaintext to an SM2 certificate (or public key) in
// the given format (C1 uncompressed, with the 0x04 prefix).
func EncryptSM2(plaintext []byte, pub crypto.PublicKey, format SM2Format) ([]byte, error) {
	if c, ok := pub.(*smx509.Certificate); ok {
		pub = c.PublicKey
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(k) {
		return nil, fmt.Errorf("%w: not an SM2 public key", ErrUnsupported)
	}
	if len(plaintext) == 0 || len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("envelope: plaintext must be 1..%d bytes", MaxPlaintext)
	}
	switch format {
	case ASN1:
		return sm2.EncryptASN1(rand.Reader, k, plaintext)
	case C1C2C3:
		return sm2.Encrypt(rand.Reader, k, plaintext, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C2C3))
	}
	return sm2.Encrypt(rand.Reader, k, plaintext, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2))
}

// DecryptSM2 decrypts raw SM2 ciphertext in any layout seen in the wild:
// ASN.1, C1C3C2, C1C2C3, and either without the 0x04 point prefix. The C3
// hash tells the layouts apart, so a wrong guess cannot yield wrong
// plaintext.
func DecryptSM2(ciphertext []byte, key *sm2.PrivateKey) ([]byte, error) {
	if len(ciphertext) == 0 || len(ciphertext) > MaxPlaintext+256 {
		return nil, ErrDecryption
	}
	if ciphertext[0] == 0x30 {
		if p, err := sm2.Decrypt(key, ciphertext); err == nil {
			return p, nil
		}
	}
	// Without the prefix, X may itself start with 0x04: try both.
	tries := [][]byte{ciphertext, append([]byte{0x04}, ciphertext...)}
	for _, ct := range tries {
		if ct[0] != 0x04 {
			continue
		}
		for _, order := range []SM2Format{C1C3C2, C1C2C3} {
			o := sm2.C1C3C2
			if order == C1C2C3 {
				o = sm2.C1C2C3
			}
			if p, err := key.Decrypt(nil, ct, sm2.NewPlainDecrypterOpts(o)); err == nil {
				return p, nil
			}
		}
	}
	return nil, ErrDecryption
}

// DecryptWithPFX opens an EnvelopedData with the key and certificate in a
// PKCS#12 file (the way a CA app holds them).
func DecryptWithPFX(data, pfx, password []byte) ([]byte, error) {
	id, err := certs.ParsePFX(pfx, password)
	if err != nil {
		return nil, err
	}
	return Decrypt(data, id.Signer, id.Certificate)
}
