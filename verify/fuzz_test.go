package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/verify"
	"github.com/scansign/scansign/verify/cms"
)

// FuzzVerify feeds arbitrary signature bytes to the verifier, as PKCS#7
// and as raw signatures with a certificate: no panic, and every result is
// consistent (valid exactly when the reason is empty, messages present).
func FuzzVerify(f *testing.F) {
	entries, _ := os.ReadDir(fixtures)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".p7s") || strings.HasSuffix(e.Name(), ".sig") {
			if b, err := os.ReadFile(filepath.Join(fixtures, e.Name())); err == nil {
				f.Add(b, false)
			}
		}
	}
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x80, 0x00, 0x00, 0x00, 0x00}, false)
	f.Add(make([]byte, 64), true)
	v := newVerifier(f)
	content, err := os.ReadFile(filepath.Join(fixtures, "content.txt"))
	if err != nil {
		f.Fatal(err)
	}
	certPEM, err := os.ReadFile(testpki.Leaf(f, "sm2-person").CertPath)
	if err != nil {
		f.Fatal(err)
	}
	hashExp, _ := verify.ExpectHashHex("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	f.Fuzz(func(t *testing.T, sig []byte, withCert bool) {
		req := verify.Request{Signature: sig, Expected: verify.ExpectBytes(content)}
		if withCert {
			req.Cert = certPEM
			req.Expected = hashExp
		}
		for _, res := range []*verify.Result{
			v.Verify(context.Background(), req),
			v.Verify(context.Background(), verify.Request{Signature: sig, Expected: verify.ExpectDigest(func(d cms.Digest) ([]byte, error) {
				return make([]byte, d.Size()), nil
			})}),
		} {
			if res.Valid != (res.Reason == verify.ReasonNone) || res.Message == "" || res.MessageEn == "" {
				t.Fatalf("inconsistent result %+v", res)
			}
		}
		if sd, err := cms.ParseSignedData(sig); err == nil {
			for i := range sd.Signers {
				cms.SignerCertificate(&sd.Signers[i], sd.Certificates)
			}
		}
		certs.DecodeBinary(sig)
	})
}
