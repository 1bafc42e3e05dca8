package envelope_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/scansign/scansign/internal/testpki"
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
	sid, rid := testpki.Identity(f, "sm2-person"), testpki.Identity(f, "rsa-person")
	f.Fuzz(func(t *testing.T, data []byte) {
		envelope.Decrypt(data, sid.Signer, nil)
		envelope.Decrypt(data, rid.Signer, rid.Certificate)
		envelope.DecryptSM2(data, sid.Signer.(*sm2.PrivateKey))
	})
}
