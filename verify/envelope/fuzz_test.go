package envelope_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/scansign/scansign/certs/devpki"
	"github.com/scansign/scansign/verify/envelope"
)

// FuzzDecrypt: arbitrary envelopes and raw SM2 ciphertexts never panic.
func FuzzDecrypt(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/interop/fixtures/*.p7m")
	raws, _ := filepath.Glob("../../testdata/interop/fixtures/bc-sm2-raw-*.bin")
	for _, p := range append(files, raws...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	m, err := devpki.Load("../../testdata/pki")
	if err != nil {
		f.Fatal(err)
	}
	sl, _ := m.Leaf("sm2-person")
	sid, err := sl.Identity()
	if err != nil {
		f.Fatal(err)
	}
	rl, _ := m.Leaf("rsa-person")
	rid, err := rl.Identity()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		envelope.Decrypt(data, sid.Signer, nil)
		envelope.Decrypt(data, rid.Signer, rid.Certificate)
		envelope.DecryptSM2(data, sid.Signer.(*sm2.PrivateKey))
	})
}
