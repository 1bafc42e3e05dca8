package envelope

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/smx509"
)

// Errors of EncryptAs for names it does not know, so an API can say which
// parameter was wrong.
var (
	ErrUnknownFormat = errors.New("envelope: format is not pkcs7, sm2, sm2-c1c3c2, sm2-c1c2c3 or sm2-asn1")
	ErrUnknownOIDs   = errors.New("envelope: oids is not gm or standard")
)

// EncryptAs envelopes plaintext for recipient in the format an encryption
// API names, in any letter case: "pkcs7" or "" (EnvelopedData, with GM/T
// 0010 OIDs for SM2 recipients unless oids is "standard"), or raw SM2
// ciphertext "sm2" / "sm2-c1c3c2", "sm2-c1c2c3", "sm2-asn1" (SM2
// recipients only: ErrUnsupported otherwise). It returns the format's
// canonical name with the envelope.
func EncryptAs(plaintext []byte, recipient *smx509.Certificate, format, oids string) ([]byte, string, error) {
	var standard bool
	switch strings.ToLower(oids) {
	case "", "gm":
	case "standard":
		standard = true
	default:
		return nil, "", ErrUnknownOIDs
	}
	var sm2Format SM2Format
	switch format = strings.ToLower(format); format {
	case "", "pkcs7":
		out, err := Encrypt(plaintext, recipient, Options{StandardOIDs: standard})
		return out, "pkcs7", err
	case "sm2", "sm2-c1c3c2":
		format, sm2Format = "sm2-c1c3c2", C1C3C2
	case "sm2-c1c2c3":
		sm2Format = C1C2C3
	case "sm2-asn1":
		sm2Format = ASN1
	default:
		return nil, "", fmt.Errorf("%w: %q", ErrUnknownFormat, format)
	}
	out, err := EncryptSM2(plaintext, recipient, sm2Format)
	return out, format, err
}
