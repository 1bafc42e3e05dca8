package phone

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify/cms"
	"github.com/scansign/scansign/verify/envelope"
)

func (a *App) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// signature signs content as the options say: a PKCS#7 SignedData with the
// content attached (the guide's "p7 附原文签名"), or a raw SM2/RSA signature.
// how describes it for the step log.
func (a *App) signature(content []byte, raw bool) (sig []byte, how string, err error) {
	id := a.Identity
	alg, _ := certs.KeyAlgorithm(id.Certificate)
	if raw {
		switch {
		case certs.IsSM2(id.Certificate):
			sig, err = sign.SM2(id.Signer, content, sign.RawOptions{})
			how = "raw SM2 signature (SM3 with the default user ID, DER)"
		case alg == "RSA":
			sig, err = sign.RSA(id.Signer, content, cms.SHA256)
			how = "raw RSA PKCS#1 v1.5 signature over SHA-256"
		default:
			err = sign.ErrUnsupportedKey
		}
	} else {
		style := a.Options.OIDStyle
		if style == "" {
			style = OIDsGM
		}
		sig, err = sign.PKCS7(content, id.Signer, id.Certificate, sign.Options{
			StandardOIDs: style == OIDsStandard, Chain: id.Chain, SigningTime: a.now(),
		})
		how = fmt.Sprintf("PKCS#7 SignedData with the content attached, %s", alg)
		if alg == "SM2" {
			how += fmt.Sprintf("/SM3, %s OIDs", style)
		} else {
			how += "/SHA-256"
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("phone: sign: %w", err)
	}
	if a.Options.Tamper {
		// The last byte of a PKCS#7 is the end of the signature value (no
		// unsigned attributes follow), and of a raw signature its s or its
		// last block: flipping one bit keeps the structure and breaks the
		// signature.
		sig[len(sig)-1] ^= 0x01
		how += ", then TAMPERED (one bit flipped)"
	}
	return sig, how, nil
}

// open decrypts a decrypt operation's message: a PKCS#7 EnvelopedData or a
// raw SM2 ciphertext (C1C3C2, C1C2C3 or ASN.1, with or without the 0x04
// prefix) for SM2 keys, or a raw RSA PKCS#1 v1.5 block for RSA keys, sent as
// base64, hex or PEM text.
func (a *App) open(message string) (plain []byte, how string, err error) {
	data, err := certs.DecodeBinary([]byte(message))
	if err != nil || len(data) == 0 {
		return nil, "", errors.New("the message is not base64, hex or PEM")
	}
	id := a.Identity
	plain, envErr := envelope.Decrypt(data, id.Signer, id.Certificate)
	if envErr == nil {
		return plain, "the PKCS#7 EnvelopedData", nil
	}
	if !errors.Is(envErr, envelope.ErrMalformed) {
		return nil, "", envErr
	}
	switch k := id.Signer.(type) {
	case *sm2.PrivateKey:
		plain, err := envelope.DecryptSM2(data, k)
		if err != nil {
			return nil, "", fmt.Errorf("neither a PKCS#7 envelope (%v) nor SM2 ciphertext for this key (%v)", envErr, err)
		}
		return plain, "the raw SM2 ciphertext", nil
	case *rsa.PrivateKey:
		if len(data) != k.Size() {
			return nil, "", fmt.Errorf("not a PKCS#7 envelope (%v)", envErr)
		}
		plain, err := rsa.DecryptPKCS1v15(rand.Reader, k, data)
		if err != nil {
			return nil, "", fmt.Errorf("neither a PKCS#7 envelope (%v) nor RSA ciphertext for this key", envErr)
		}
		return plain, "the raw RSA PKCS#1 v1.5 ciphertext", nil
	}
	return nil, "", fmt.Errorf("not a PKCS#7 envelope for this key (%v)", envErr)
}
