package certs

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"unicode/utf16"

	"github.com/emmansun/gmsm/cfca"
	"github.com/emmansun/gmsm/pkcs"
	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs/ber"
)

// PKCS#12 (RFC 7292) reading and writing. gmsm has no PKCS#12 codec and
// the common Go ones cannot hold SM2 keys, so scansign carries a small one:
// it writes what OpenSSL 3 writes by default (PBES2 with PBKDF2-HMAC-SHA256
// and AES-256-CBC for the key and the certificates, an HMAC-SHA256 MAC) and
// reads that, the SM PBES variant, and the legacy
// pbeWithSHAAnd3-KeyTripleDES-CBC key bags of older tools. CFCA's own SM2
// key-pair format (.sm2) is read as a fallback.

var (
	oidDataContent      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedContent = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509CertType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidPBEWithSHA3DES   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidSHA1             = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSM3              = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}
)

type pfxPDU struct {
	Version  int
	AuthSafe p12ContentInfo
	MacData  macData `asn1:"optional"`
}

type p12ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue     `asn1:"tag:0,explicit"`
	Attributes []pkcs12Attribute `asn1:"set,optional"`
}

type pkcs12Attribute struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

type certBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

type p12EncryptedData struct {
	Version              int
	EncryptedContentInfo p12EncryptedContentInfo
}

type p12EncryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           asn1.RawValue `asn1:"tag:0,optional"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbeParams struct {
	Salt       []byte
	Iterations int
}

// pfxIterations is the PBKDF2 / MAC iteration count written; OpenSSL 3's
// default.
const pfxIterations = 2048

// ParsePFX opens a PKCS#12 (.pfx/.p12) file, or CFCA's SM2 key-pair file,
// with password and returns the key, the certificate that matches it, and
// the other certificates as its chain.
func ParsePFX(data, password []byte) (*Identity, error) {
	if len(data) > MaxKeyFileSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformedKey, len(data), MaxKeyFileSize)
	}
	der, err := DecodeBinary(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
	}
	id, err := parsePFX(der, password)
	if err == nil || errors.Is(err, ErrBadPassword) {
		return id, err
	}
	if key, cert, cerr := cfca.ParseSM2(password, der); cerr == nil {
		return &Identity{Signer: key, Certificate: cert}, nil
	}
	return nil, err
}

func parsePFX(in, password []byte) (*Identity, error) {
	der, _, err := ber.ToDER(in)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
	}
	var pfx pfxPDU
	if rest, err := asn1.Unmarshal(der, &pfx); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: not a PKCS#12 PFX", ErrMalformedKey)
	}
	if pfx.Version != 3 {
		return nil, fmt.Errorf("%w: PKCS#12 version %d", ErrMalformedKey, pfx.Version)
	}
	if !pfx.AuthSafe.ContentType.Equal(oidDataContent) {
		return nil, fmt.Errorf("%w: PKCS#12 with public-key integrity mode is not supported", ErrMalformedKey)
	}
	var authSafe []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, fmt.Errorf("%w: PKCS#12 authSafe: %v", ErrMalformedKey, err)
	}
	if len(pfx.MacData.Mac.Digest) > 0 {
		if err := checkPFXMac(&pfx.MacData, authSafe, password); err != nil {
			return nil, err
		}
	}
	var infos []p12ContentInfo
	if _, err := asn1.Unmarshal(authSafe, &infos); err != nil {
		return nil, fmt.Errorf("%w: PKCS#12 authenticated safe: %v", ErrMalformedKey, err)
	}
	var keys []any
	var certList []*smx509.Certificate
	for _, ci := range infos {
		var contents []byte
		switch {
		case ci.ContentType.Equal(oidDataContent):
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &contents); err != nil {
				return nil, fmt.Errorf("%w: PKCS#12 data: %v", ErrMalformedKey, err)
			}
		case ci.ContentType.Equal(oidEncryptedContent):
			var ed p12EncryptedData
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				return nil, fmt.Errorf("%w: PKCS#12 encryptedData: %v", ErrMalformedKey, err)
			}
			enc := ed.EncryptedContentInfo.EncryptedContent.Bytes
			if ed.EncryptedContentInfo.EncryptedContent.IsCompound {
				enc = ber.JoinChunks(enc)
			}
			plain, err := pbeDecrypt(ed.EncryptedContentInfo.ContentEncryptionAlgorithm, enc, password)
			if err != nil {
				return nil, err
			}
			contents = plain
		default:
			continue
		}
		var bags []safeBag
		if _, err := asn1.Unmarshal(contents, &bags); err != nil {
			return nil, fmt.Errorf("%w: PKCS#12 safe contents: %v", ErrMalformedKey, err)
		}
		for _, bag := range bags {
			switch {
			case bag.ID.Equal(oidCertBag):
				var cb certBag
				if _, err := asn1.Unmarshal(bag.Value.Bytes, &cb); err != nil || !cb.ID.Equal(oidX509CertType) {
					continue
				}
				c, err := smx509.ParseCertificate(cb.Data)
				if err != nil {
					return nil, fmt.Errorf("%w: PKCS#12 certificate: %v", ErrMalformedKey, err)
				}
				certList = append(certList, c)
			case bag.ID.Equal(oidKeyBag):
				k, err := smx509.ParsePKCS8PrivateKey(bag.Value.Bytes)
				if err != nil {
					return nil, fmt.Errorf("%w: PKCS#12 key: %v", ErrMalformedKey, err)
				}
				keys = append(keys, k)
			case bag.ID.Equal(oidShroudedKeyBag):
				k, err := decryptShroudedKey(bag.Value.Bytes, password)
				if err != nil {
					return nil, err
				}
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: the PKCS#12 file holds no private key", ErrMalformedKey)
	}
	signer, err := asSigner(keys[0])
	if err != nil {
		return nil, err
	}
	id := &Identity{Signer: signer}
	for _, c := range certList {
		if id.Certificate == nil && KeyMatches(signer, c) {
			id.Certificate = c
		} else {
			id.Chain = append(id.Chain, c)
		}
	}
	if id.Certificate == nil {
		return nil, fmt.Errorf("%w: the PKCS#12 file holds no certificate for its key", ErrMalformedKey)
	}
	return id, nil
}

func decryptShroudedKey(der, password []byte) (any, error) {
	var epki encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(der, &epki); err != nil {
		return nil, fmt.Errorf("%w: PKCS#12 shrouded key: %v", ErrMalformedKey, err)
	}
	plain, err := pbeDecrypt(epki.Algorithm, epki.EncryptedData, password)
	if err != nil {
		return nil, err
	}
	k, err := smx509.ParsePKCS8PrivateKey(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS#12 key: %v", ErrBadPassword, err)
	}
	return k, nil
}

// pbeDecrypt opens PBES2 (UTF-8 password, as OpenSSL and Java write it),
// GB/T SM PBES, or the legacy PKCS#12 3DES scheme (BMPString password).
func pbeDecrypt(alg pkix.AlgorithmIdentifier, ciphertext, password []byte) ([]byte, error) {
	switch {
	case pkcs.IsPBES2(alg) || pkcs.IsSMPBES(alg):
		if err := checkPBES2(alg); err != nil {
			return nil, err
		}
		var params pkcs.PBES2Params
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &params); err != nil {
			return nil, fmt.Errorf("%w: PBES2 parameters: %v", ErrMalformedKey, err)
		}
		plain, _, err := params.Decrypt(password, ciphertext)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadPassword, err)
		}
		return plain, nil
	case alg.Algorithm.Equal(oidPBEWithSHA3DES):
		var p pbeParams
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("%w: PBE parameters: %v", ErrMalformedKey, err)
		}
		if p.Iterations < 1 || p.Iterations > MaxPBEIterations {
			return nil, fmt.Errorf("%w: PBE iteration count %d", ErrMalformedKey, p.Iterations)
		}
		pw := bmpPassword(password)
		key := pkcs12KDF(sha1.New, pw, p.Salt, p.Iterations, 1, 24)
		iv := pkcs12KDF(sha1.New, pw, p.Salt, p.Iterations, 2, 8)
		block, err := des.NewTripleDESCipher(key)
		if err != nil {
			return nil, err
		}
		if len(ciphertext) == 0 || len(ciphertext)%8 != 0 {
			return nil, fmt.Errorf("%w: ciphertext is not whole blocks", ErrBadPassword)
		}
		plain := make([]byte, len(ciphertext))
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ciphertext)
		return unpad(plain, 8)
	}
	return nil, fmt.Errorf("%w: PKCS#12 encryption %v is not supported", ErrMalformedKey, alg.Algorithm)
}

// MaxPBEIterations bounds the password-hashing work a key file may ask
// for: real files use 2,048–600,000 iterations; a crafted one asking for
// billions would hang the reader.
const MaxPBEIterations = 1 << 20

var oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}

// pbkdf2Params is RFC 8018's PBKDF2-params.
type pbkdf2Params struct {
	Salt       asn1.RawValue // OCTET STRING, or otherSource
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// checkPBES2 refuses PBES2 parameters that would cost unbounded work:
// only PBKDF2 is accepted (scrypt's cost is a memory bomb when crafted),
// with at most MaxPBEIterations iterations.
func checkPBES2(alg pkix.AlgorithmIdentifier) error {
	var params pkcs.PBES2Params
	if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &params); err != nil {
		return fmt.Errorf("%w: PBES2 parameters: %v", ErrMalformedKey, err)
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return fmt.Errorf("%w: key derivation %v is not supported (PBKDF2 only)", ErrMalformedKey, params.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return fmt.Errorf("%w: PBKDF2 parameters: %v", ErrMalformedKey, err)
	}
	if kdf.Iterations < 1 || kdf.Iterations > MaxPBEIterations {
		return fmt.Errorf("%w: PBKDF2 iteration count %d (at most %d)", ErrMalformedKey, kdf.Iterations, MaxPBEIterations)
	}
	return nil
}

// checkEncryptedPKCS8 applies checkPBES2 to an EncryptedPrivateKeyInfo.
func checkEncryptedPKCS8(der []byte) error {
	var epki encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(der, &epki); err != nil {
		return fmt.Errorf("%w: encrypted PKCS#8: %v", ErrMalformedKey, err)
	}
	if pkcs.IsPBES2(epki.Algorithm) || pkcs.IsSMPBES(epki.Algorithm) {
		return checkPBES2(epki.Algorithm)
	}
	return nil
}

func unpad(b []byte, blockSize int) ([]byte, error) {
	if len(b) == 0 {
		return nil, ErrBadPassword
	}
	n := int(b[len(b)-1])
	if n == 0 || n > blockSize || n > len(b) {
		return nil, fmt.Errorf("%w: bad padding", ErrBadPassword)
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, fmt.Errorf("%w: bad padding", ErrBadPassword)
		}
	}
	return b[:len(b)-n], nil
}

func macHash(oid asn1.ObjectIdentifier) (func() hash.Hash, bool) {
	switch {
	case oid.Equal(oidSHA1):
		return sha1.New, true
	case oid.Equal(oidSHA256):
		return sha256.New, true
	case oid.Equal(oidSHA384):
		return sha512.New384, true
	case oid.Equal(oidSHA512):
		return sha512.New, true
	case oid.Equal(oidSM3):
		return sm3.New, true
	}
	return nil, false
}

func checkPFXMac(md *macData, content, password []byte) error {
	h, ok := macHash(md.Mac.Algorithm.Algorithm)
	if !ok {
		return fmt.Errorf("%w: PKCS#12 MAC algorithm %v is not supported", ErrMalformedKey, md.Mac.Algorithm.Algorithm)
	}
	if md.Iterations < 1 || md.Iterations > MaxPBEIterations {
		return fmt.Errorf("%w: PKCS#12 MAC iteration count %d", ErrMalformedKey, md.Iterations)
	}
	key := pkcs12KDF(h, bmpPassword(password), md.MacSalt, md.Iterations, 3, h().Size())
	mac := hmac.New(h, key)
	mac.Write(content)
	if subtle.ConstantTimeCompare(mac.Sum(nil), md.Mac.Digest) != 1 {
		return fmt.Errorf("%w: PKCS#12 MAC does not match", ErrBadPassword)
	}
	return nil
}

// bmpPassword is the password as a NUL-terminated BMPString (UTF-16BE),
// the form the PKCS#12 key derivation uses.
func bmpPassword(password []byte) []byte {
	u := utf16.Encode([]rune(string(password)))
	out := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return append(out, 0, 0)
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2.
func pkcs12KDF(newHash func() hash.Hash, password, salt []byte, iterations int, id byte, size int) []byte {
	h := newHash()
	u := h.Size()
	v := h.BlockSize()
	D := bytes.Repeat([]byte{id}, v)
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		n := v * ((len(b) + v - 1) / v)
		out := make([]byte, n)
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	I := append(fill(salt), fill(password)...)
	var out []byte
	one := big.NewInt(1)
	for len(out) < size {
		h.Reset()
		h.Write(D)
		h.Write(I)
		A := h.Sum(nil)
		for r := 1; r < iterations; r++ {
			h.Reset()
			h.Write(A)
			A = h.Sum(A[:0])
		}
		out = append(out, A...)
		if len(out) >= size {
			break
		}
		B := make([]byte, v)
		for i := range B {
			B[i] = A[i%u]
		}
		Bn := new(big.Int).SetBytes(B)
		Bn.Add(Bn, one)
		mod := new(big.Int).Lsh(one, uint(v*8))
		for j := 0; j < len(I); j += v {
			Ij := new(big.Int).SetBytes(I[j : j+v])
			Ij.Add(Ij, Bn)
			Ij.Mod(Ij, mod)
			b := Ij.Bytes()
			block := I[j : j+v]
			for k := range block {
				block[k] = 0
			}
			copy(block[v-len(b):], b)
		}
	}
	return out[:size]
}

// EncodePFX writes id as a PKCS#12 file protected by password, the way
// OpenSSL 3 does by default, so `openssl pkcs12`, Java's keytool and
// BouncyCastle open it; SM2 keys are written as PKCS#8 with the SM2 curve
// OID, which gmsm and BouncyCastle read.
func EncodePFX(id *Identity, password []byte, friendlyName string) ([]byte, error) {
	if id == nil || id.Signer == nil || id.Certificate == nil {
		return nil, errors.New("certs: EncodePFX needs a key and its certificate")
	}
	localKeyID := sha1.Sum(id.Certificate.Raw)
	attrs, err := bagAttributes(localKeyID[:], friendlyName)
	if err != nil {
		return nil, err
	}
	// Certificates: leaf (with the local key id) then the chain, in one
	// PBES2-encrypted SafeContents.
	var certBags []safeBag
	for i, c := range append([]*smx509.Certificate{id.Certificate}, id.Chain...) {
		cb, err := asn1.Marshal(certBag{ID: oidX509CertType, Data: c.Raw})
		if err != nil {
			return nil, err
		}
		bag := safeBag{ID: oidCertBag, Value: asn1.RawValue{FullBytes: explicit0(cb)}}
		if i == 0 {
			bag.Attributes = attrs
		}
		certBags = append(certBags, bag)
	}
	certContents, err := asn1.Marshal(certBags)
	if err != nil {
		return nil, err
	}
	encAlg, encCerts, err := pbes2Encrypter().Encrypt(rand.Reader, password, certContents)
	if err != nil {
		return nil, fmt.Errorf("certs: encrypting PKCS#12 certificates: %w", err)
	}
	ed, err := asn1.Marshal(p12EncryptedData{
		Version: 0,
		EncryptedContentInfo: p12EncryptedContentInfo{
			ContentType:                oidDataContent,
			ContentEncryptionAlgorithm: *encAlg,
			EncryptedContent:           asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: encCerts},
		},
	})
	if err != nil {
		return nil, err
	}
	// Key: a shrouded key bag in a plain data SafeContents.
	shrouded, err := pkcs8.MarshalPrivateKey(id.Signer, password, pbes2Encrypter())
	if err != nil {
		return nil, fmt.Errorf("certs: encrypting PKCS#12 key: %w", err)
	}
	keyContents, err := asn1.Marshal([]safeBag{{ID: oidShroudedKeyBag, Value: asn1.RawValue{FullBytes: explicit0(shrouded)}, Attributes: attrs}})
	if err != nil {
		return nil, err
	}
	keyData, err := asn1.Marshal(keyContents)
	if err != nil {
		return nil, err
	}
	authSafe, err := asn1.Marshal([]p12ContentInfo{
		{ContentType: oidEncryptedContent, Content: asn1.RawValue{FullBytes: explicit0(ed)}},
		{ContentType: oidDataContent, Content: asn1.RawValue{FullBytes: explicit0(keyData)}},
	})
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	macKey := pkcs12KDF(sha256.New, bmpPassword(password), salt, pfxIterations, 3, sha256.Size)
	mac := hmac.New(sha256.New, macKey)
	mac.Write(authSafe)
	authSafeOctets, err := asn1.Marshal(authSafe)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(pfxPDU{
		Version:  3,
		AuthSafe: p12ContentInfo{ContentType: oidDataContent, Content: asn1.RawValue{FullBytes: explicit0(authSafeOctets)}},
		MacData: macData{
			Mac:        digestInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}, Digest: mac.Sum(nil)},
			MacSalt:    salt,
			Iterations: pfxIterations,
		},
	})
}

func pbes2Encrypter() pkcs.PBESEncrypter {
	return pkcs.NewPBESEncrypter(pkcs.AES256CBC, pkcs.NewPBKDF2Opts(pkcs.SHA256, 16, pfxIterations))
}

func bagAttributes(localKeyID []byte, friendlyName string) ([]pkcs12Attribute, error) {
	idv, err := asn1.Marshal(localKeyID)
	if err != nil {
		return nil, err
	}
	attrs := []pkcs12Attribute{{ID: oidLocalKeyID, Value: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: idv}}}
	if friendlyName != "" {
		u := utf16.Encode([]rune(friendlyName))
		b := make([]byte, 0, 2*len(u))
		for _, c := range u {
			b = append(b, byte(c>>8), byte(c))
		}
		fv, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: 30, Bytes: b}) // BMPString
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, pkcs12Attribute{ID: oidFriendlyName, Value: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: fv}})
	}
	return attrs, nil
}

// explicit0 wraps DER in a [0] EXPLICIT tag.
func explicit0(der []byte) []byte {
	out, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der})
	return out
}
