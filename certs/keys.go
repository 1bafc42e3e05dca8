package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/pkcs"
	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// MaxKeyFileSize bounds a key or .pfx file.
const MaxKeyFileSize = 1 << 20

// ErrBadPassword is returned (wrapped) when an encrypted key or .pfx does
// not open with the password given.
var ErrBadPassword = errors.New("certs: wrong password or corrupted key")

// ErrMalformedKey is returned (wrapped) for input that is not a private key.
var ErrMalformedKey = errors.New("certs: not a private key")

// Identity is a private key with its certificate and the chain above it
// (intermediates, leaf's issuer first), as loaded from a .pfx or a key and
// certificate pair. Signer is *sm2.PrivateKey, *rsa.PrivateKey or
// *ecdsa.PrivateKey, so it is also a crypto.Decrypter for SM2 and RSA.
type Identity struct {
	Signer      crypto.Signer
	Certificate *smx509.Certificate
	Chain       []*smx509.Certificate
}

// ParsePrivateKey reads a private key from PEM or DER: PKCS#8 (plain, or
// encrypted with PBES2 including the SM PBES of GB/T 35276, or PBES1),
// SEC 1 EC/SM2 keys, and PKCS#1 RSA keys. SM2 keys come back as
// *sm2.PrivateKey. password may be nil for a plain key.
func ParsePrivateKey(data, password []byte) (crypto.Signer, error) {
	if len(data) > MaxKeyFileSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformedKey, len(data), MaxKeyFileSize)
	}
	der := bytes.TrimSpace(data)
	blockType := ""
	if bytes.HasPrefix(der, []byte("-----BEGIN")) {
		rest := der
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				return nil, fmt.Errorf("%w: no private key PEM block", ErrMalformedKey)
			}
			if bytes.Contains([]byte(block.Type), []byte("PRIVATE KEY")) {
				der, blockType = block.Bytes, block.Type
				if smx509.IsEncryptedPEMBlock(block) {
					plain, err := smx509.DecryptPEMBlock(block, password)
					if err != nil {
						return nil, fmt.Errorf("%w: %v", ErrBadPassword, err)
					}
					der = plain
				}
				break
			}
		}
	}
	switch blockType {
	case "RSA PRIVATE KEY":
		k, err := smx509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
		}
		return k, nil
	case "EC PRIVATE KEY", "SM2 PRIVATE KEY":
		k, err := smx509.ParseTypedECPrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
		}
		return asSigner(k)
	case "ENCRYPTED PRIVATE KEY":
		if len(password) == 0 {
			return nil, fmt.Errorf("%w: the key is encrypted and no password was given", ErrBadPassword)
		}
		if err := checkEncryptedPKCS8(der); err != nil {
			return nil, err
		}
		k, _, err := pkcs8.ParsePrivateKey(der, password)
		if err != nil {
			if errors.Is(err, pkcs.ErrPBEDecryption) {
				return nil, fmt.Errorf("%w: %v", ErrBadPassword, err)
			}
			return nil, fmt.Errorf("%w: %v", ErrBadPassword, err)
		}
		return asSigner(k)
	}
	// DER or a "PRIVATE KEY" block: PKCS#8 first, then the older forms.
	if k, err := smx509.ParsePKCS8PrivateKey(der); err == nil {
		return asSigner(k)
	}
	if len(password) > 0 && checkEncryptedPKCS8(der) == nil {
		if k, _, err := pkcs8.ParsePrivateKey(der, password); err == nil {
			return asSigner(k)
		}
	}
	if k, err := smx509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := smx509.ParseTypedECPrivateKey(der); err == nil {
		return asSigner(k)
	}
	return nil, fmt.Errorf("%w: not PKCS#8, PKCS#1 or SEC 1", ErrMalformedKey)
}

func asSigner(k any) (crypto.Signer, error) {
	switch key := k.(type) {
	case *sm2.PrivateKey:
		return key, nil
	case *rsa.PrivateKey:
		return key, nil
	case *ecdsa.PrivateKey:
		if sm2.IsSM2PublicKey(&key.PublicKey) {
			return &sm2.PrivateKey{PrivateKey: *key}, nil
		}
		return key, nil
	}
	return nil, fmt.Errorf("%w: unsupported key type %T", ErrMalformedKey, k)
}

// MarshalPrivateKeyPEM encodes key as PKCS#8 PEM: "PRIVATE KEY" without a
// password, "ENCRYPTED PRIVATE KEY" (PBES2, PBKDF2-HMAC-SHA256,
// AES-256-CBC — readable by OpenSSL and BouncyCastle) with one.
func MarshalPrivateKeyPEM(key crypto.Signer, password []byte) ([]byte, error) {
	der, err := pkcs8.MarshalPrivateKey(key, password, nil)
	if err != nil {
		return nil, fmt.Errorf("certs: encoding private key: %w", err)
	}
	t := "PRIVATE KEY"
	if len(password) > 0 {
		t = "ENCRYPTED PRIVATE KEY"
	}
	return pem.EncodeToMemory(&pem.Block{Type: t, Bytes: der}), nil
}

// KeyMatches reports whether key is the private half of cert's public key.
func KeyMatches(key crypto.Signer, cert *smx509.Certificate) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pub, ok := key.Public().(equaler)
	return ok && pub.Equal(cert.PublicKey)
}

// LoadIdentity builds an Identity from a key file (PEM/DER, optionally
// encrypted) and a certificate file that may hold the chain after the leaf.
func LoadIdentity(keyData, certData, password []byte) (*Identity, error) {
	key, err := ParsePrivateKey(keyData, password)
	if err != nil {
		return nil, err
	}
	chain, err := ParseCertificates(certData)
	if err != nil {
		return nil, err
	}
	for i, c := range chain {
		if KeyMatches(key, c) {
			rest := append(append([]*smx509.Certificate{}, chain[:i]...), chain[i+1:]...)
			return &Identity{Signer: key, Certificate: c, Chain: rest}, nil
		}
	}
	return nil, errors.New("certs: no certificate matches the private key")
}
