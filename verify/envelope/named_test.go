package envelope_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/verify/envelope"
)

func TestEncryptAs(t *testing.T) {
	sm2ID, rsaID := testpki.Identity(t, "sm2-person"), testpki.Identity(t, "rsa-person")
	plain := []byte("需加密的字符串")
	for _, tc := range []struct {
		format, oids, want string
	}{
		{"", "", "pkcs7"}, {"PKCS7", "standard", "pkcs7"}, {"sm2", "", "sm2-c1c3c2"},
		{"sm2-c1c3c2", "gm", "sm2-c1c3c2"}, {"sm2-c1c2c3", "", "sm2-c1c2c3"}, {"SM2-ASN1", "", "sm2-asn1"},
	} {
		out, name, err := envelope.EncryptAs(plain, sm2ID.Certificate, tc.format, tc.oids)
		if err != nil || name != tc.want {
			t.Fatalf("%q/%q: %q, %v; want %q", tc.format, tc.oids, name, err, tc.want)
		}
		var got []byte
		if name == "pkcs7" {
			got, err = envelope.Decrypt(out, sm2ID.Signer, sm2ID.Certificate)
		} else {
			got, err = envelope.DecryptSM2(out, sm2ID.Signer.(*sm2.PrivateKey))
		}
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%q: decrypts to %q, %v", tc.format, got, err)
		}
	}
	for _, tc := range []struct {
		format, oids string
		want         error
	}{
		{"zip", "", envelope.ErrUnknownFormat}, {"", "x", envelope.ErrUnknownOIDs}, {"sm2", "", envelope.ErrUnsupported},
	} {
		if _, _, err := envelope.EncryptAs(plain, rsaID.Certificate, tc.format, tc.oids); !errors.Is(err, tc.want) {
			t.Errorf("%q/%q to RSA: %v, want %v", tc.format, tc.oids, err, tc.want)
		}
	}
}
