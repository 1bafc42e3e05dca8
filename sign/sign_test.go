package sign_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify/cms"
)

func TestSignRefusals(t *testing.T) {
	sid, rid := testpki.Identity(t, "sm2-person"), testpki.Identity(t, "rsa-person")
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, f := range map[string]func() error{
		"key of another certificate": func() error {
			_, err := sign.PKCS7([]byte("x"), sid.Signer, rid.Certificate, sign.Options{})
			return err
		},
		"P-256 key": func() error { _, err := sign.PKCS7([]byte("x"), p256, rid.Certificate, sign.Options{}); return err },
		"SM2 with SHA-256": func() error {
			_, err := sign.PKCS7([]byte("x"), sid.Signer, sid.Certificate, sign.Options{Digest: cms.SHA256})
			return err
		},
		"RSA with SM3": func() error {
			_, err := sign.PKCS7([]byte("x"), rid.Signer, rid.Certificate, sign.Options{Digest: cms.SM3})
			return err
		},
		"digest of wrong size": func() error {
			_, err := sign.PKCS7Digest(make([]byte, 20), cms.SM3, sid.Signer, sid.Certificate, sign.Options{})
			return err
		},
		"digest without attributes": func() error {
			_, err := sign.PKCS7Digest(make([]byte, 32), cms.SM3, sid.Signer, sid.Certificate, sign.Options{NoSignedAttributes: true})
			return err
		},
		"raw SM2 with RSA key": func() error { _, err := sign.SM2(rid.Signer, []byte("x"), sign.RawOptions{}); return err },
		"raw RSA with SM2 key": func() error { _, err := sign.RSA(sid.Signer, []byte("x"), cms.SHA256); return err },
		"SM2 digest not 32":    func() error { _, err := sign.SM2Digest(sid.Signer, []byte("x"), sign.RawOptions{}); return err },
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDERToRS(t *testing.T) {
	der, _ := asn1.Marshal(struct{ R, S *big.Int }{big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 255)})
	rs, err := sign.DERToRS(der)
	if err != nil || len(rs) != 64 || rs[31] != 1 || rs[32] != 0x80 {
		t.Fatalf("%x %v", rs, err)
	}
	tooBig, _ := asn1.Marshal(struct{ R, S *big.Int }{big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 256)})
	for _, bad := range [][]byte{nil, {0x30, 0x00}, tooBig} {
		if _, err := sign.DERToRS(bad); err == nil {
			t.Errorf("%x accepted", bad)
		}
	}
}
