package envelope_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/verify/envelope"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	msg := []byte("需加密的字符串 — the guide's encrypt flow")
	for _, leaf := range []string{"sm2-person", "rsa-org"} {
		id := testpki.Identity(t, leaf)
		other := testpki.Identity(t, map[string]string{"sm2-person": "sm2-org", "rsa-org": "rsa-person"}[leaf])
		for _, opts := range []envelope.Options{{}, {StandardOIDs: true}, {BySubjectKeyID: true}} {
			env, err := envelope.Encrypt(msg, id.Certificate, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := envelope.Decrypt(env, id.Signer, id.Certificate)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%s %+v: %v", leaf, opts, err)
			}
			got, err = envelope.Decrypt(env, id.Signer, nil)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%s %+v without cert: %v", leaf, opts, err)
			}
			if _, err := envelope.Decrypt(env, other.Signer, other.Certificate); !errors.Is(err, envelope.ErrNotForKey) {
				t.Errorf("%s: someone else's key: %v", leaf, err)
			}
			if _, err := envelope.Decrypt(env, other.Signer, nil); err == nil {
				t.Errorf("%s: someone else's key without cert decrypted", leaf)
			}
			bad := bytes.Clone(env)
			bad[len(bad)-3] ^= 0xff
			if got, err := envelope.Decrypt(bad, id.Signer, id.Certificate); err == nil && bytes.Equal(got, msg) {
				t.Errorf("%s: tampered envelope gave the plaintext", leaf)
			}
		}
	}
	if _, err := envelope.Decrypt([]byte("garbage"), testpki.Identity(t, "sm2-person").Signer, nil); !errors.Is(err, envelope.ErrMalformed) {
		t.Errorf("garbage: %v", err)
	}
}

func TestRawSM2Formats(t *testing.T) {
	id := testpki.Identity(t, "sm2-person")
	key := id.Signer.(*sm2.PrivateKey)
	msg := []byte("hello SM2")
	for _, f := range []envelope.SM2Format{envelope.C1C3C2, envelope.C1C2C3, envelope.ASN1} {
		ct, err := envelope.EncryptSM2(msg, id.Certificate, f)
		if err != nil {
			t.Fatal(err)
		}
		variants := map[string][]byte{"as is": ct}
		if f != envelope.ASN1 {
			variants["no 04 prefix"] = ct[1:]
		}
		for name, v := range variants {
			got, err := envelope.DecryptSM2(v, key)
			if err != nil || !bytes.Equal(got, msg) {
				t.Errorf("format %d %s: %v", f, name, err)
			}
		}
		bad := bytes.Clone(ct)
		bad[len(bad)-1] ^= 1
		if _, err := envelope.DecryptSM2(bad, key); err == nil {
			t.Errorf("format %d: tampered ciphertext decrypted", f)
		}
	}
}
