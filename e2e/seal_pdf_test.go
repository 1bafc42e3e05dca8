package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/testtool"
	"github.com/scansign/scansign/pdfsign"
	"github.com/scansign/scansign/phone"
	"github.com/scansign/scansign/relay/client"
	"github.com/scansign/scansign/verify"
)

// TestSealAndRevokeAPDF is the guide's 三.5 and 三.6 on a real PDF, with
// the phone simulator as the app and this test as the seal control: the
// control prepares the PDF once the app has named its certificate, puts
// the hash in (status 4), embeds the app's answer, and later takes the
// seal back with the app's signature over that seal's hash. The sealed
// PDF is checked by our verifier, poppler's pdfsig and qpdf; the revoked
// one must be the original, byte for byte.
func TestSealAndRevokeAPDF(t *testing.T) {
	original, err := os.ReadFile("../testdata/pdf/gs-basic.pdf")
	if err != nil {
		t.Fatal(err)
	}
	sealPNG, err := os.ReadFile("../testdata/seals/round-company.png")
	if err != nil {
		t.Fatal(err)
	}
	forEachStore(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			name  string
			leaf  string
			shape pdfsign.Shape
		}{
			// The standard detached CMS: the app signs the prepared
			// signed attributes raw; what validators other than ours read.
			{"rsa cms", "rsa-org", pdfsign.ShapeCMS},
			{"sm2 cms", "sm2-org", pdfsign.ShapeCMS},
			// The guide's apps: a PKCS#7 with the hash attached.
			{"sm2 p7hash", "sm2-org", pdfsign.ShapeP7Hash},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.t = t
				trust, err := certs.LoadTrustStore(e.pki.TrustDir, certs.TrustOptions{})
				if err != nil {
					t.Fatal(err)
				}
				verifier := verify.New(trust, verify.Options{})
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()

				// 三.5: the seal control starts the operation; the app scans.
				tok, guid, qr := e.start(phone.TypeSeal, "f7c54891-adad-4f32-9994-83d70a7204a2", 1)
				appDone := make(chan error, 1)
				go func() {
					_, err := e.app(tc.leaf, phone.Options{SealCompanyCode: "anhui-seal"}).Scan(ctx, qr)
					appDone <- err
				}()
				first := waitStatus(t, e, tok, guid, phone.StatusConfirmed)
				var ext struct{ CASerialID string }
				if first.ExtMessage == nil || json.Unmarshal([]byte(*first.ExtMessage), &ext) != nil || ext.CASerialID != e.serial(tc.leaf) {
					t.Fatalf("the app's first save: %+v", first)
				}
				if err := e.c.SaveCaMessageResult(ctx, tok, client.SaveRequest{GUID: guid, Status: phone.StatusSealCert}); err != nil {
					t.Fatal(err)
				}
				// Step 9 through the PDF API: prepare with the guid stores the
				// hash and what to sign in the operation (status 4) through the
				// relay's sink, as the phone expects to find them.
				certPEM, err := os.ReadFile(e.leafChain(tc.leaf))
				if err != nil {
					t.Fatal(err)
				}
				p, err := e.c.PDFPrepare(ctx, client.Token(tok), client.PDFPrepareRequest{
					PDF: original, SealImg: base64.StdEncoding.EncodeToString(sealPNG), Width: 4, Height: 4, SignName: "合同专用章",
					Page: 1, X: 12, Y: 20, Shape: string(tc.shape), Cert: string(certPEM), GUID: guid,
				})
				if err != nil {
					t.Fatal(err)
				}
				if p.GUID != guid {
					t.Fatalf("prepare stored the hash into %q", p.GUID)
				}
				prepared := bytes.NewBuffer(p.PDF)
				signedAttrs, _ := base64.StdEncoding.DecodeString(p.SignedAttributes)
				if err := <-appDone; err != nil {
					t.Fatalf("app: %v", err)
				}
				final := waitStatus(t, e, tok, guid, phone.StatusConfirmed)
				var answer struct{ SignStr, SignatureCompanyCode, PubCert string }
				if err := json.Unmarshal([]byte(*final.Value), &answer); err != nil || answer.SignatureCompanyCode != "anhui-seal" {
					t.Fatalf("the app's answer: %q", *final.Value)
				}
				if o := e.result(tok, guid).Outcome; o == nil || !o.Valid || o.Signer.Serial != e.serial(tc.leaf) {
					t.Fatalf("results: %+v", o)
				}

				// 三.5 step 12: merge the answer into the PDF.
				sig, _ := base64.StdEncoding.DecodeString(answer.SignStr)
				var sealed bytes.Buffer
				done, err := pdfsign.Complete(ctx, bytes.NewReader(prepared.Bytes()), int64(prepared.Len()),
					pdfsign.Answer{Signature: sig, Cert: []byte(answer.PubCert), SignedAttributes: signedAttrs},
					pdfsign.CompleteOptions{Verifier: verifier, CertType: certs.CertTypeOrganisation}, &sealed)
				if err != nil {
					t.Fatalf("complete: %v", err)
				}
				if done.Verification.Signer.Serial != e.serial(tc.leaf) {
					t.Fatalf("completed by %+v", done.Verification.Signer)
				}
				report, err := pdfsign.Verify(ctx, bytes.NewReader(sealed.Bytes()), int64(sealed.Len()), pdfsign.VerifyOptions{Verifier: verifier})
				if err != nil || !report.Valid || len(report.Signatures) != 1 || !report.Signatures[0].CoversDocument {
					t.Fatalf("verify: %v %+v", err, report)
				}
				path := filepath.Join(t.TempDir(), "sealed.pdf")
				os.WriteFile(path, sealed.Bytes(), 0o600)
				checkWithPoppler(t, path, tc.shape == pdfsign.ShapeCMS && strings.HasPrefix(tc.leaf, "rsa"))

				// 三.6: take the seal back with the app's signature over its hash.
				seal := report.Signatures[0]
				rtok, rguid, rqr := e.start(phone.TypeRevoke, seal.Hash, 1)
				if _, err := e.app(tc.leaf, phone.Options{}).Scan(ctx, rqr); err != nil {
					t.Fatalf("app, revoke: %v", err)
				}
				res := e.result(rtok, rguid)
				if o := res.Outcome; o == nil || !o.Valid || !o.Verification.ContentChecked {
					t.Fatalf("results, revoke: %+v", res.Outcome)
				}
				revokeSig, _ := base64.StdEncoding.DecodeString(*res.Value)
				var back bytes.Buffer
				if _, err := pdfsign.Revoke(ctx, bytes.NewReader(sealed.Bytes()), int64(sealed.Len()),
					pdfsign.RevokeRequest{Signature: revokeSig}, pdfsign.RevokeOptions{Verifier: verifier}, &back); err != nil {
					t.Fatalf("revoke: %v", err)
				}
				if !bytes.Equal(back.Bytes(), original) {
					t.Fatal("the revoked PDF is not the original")
				}
			})
		}
	})
}

// waitStatus polls getCaMessageResult as a trading system does (faster).
func waitStatus(t *testing.T, e *env, tok, guid string, status int) client.Result {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := e.poll(tok, guid)
		if int(r.Status) == status {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("status stayed %d, want %d", r.Status, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkWithPoppler runs qpdf --check and, for signatures NSS can check
// (RSA; NSS has no SM2), pdfsig's signature validation.
func checkWithPoppler(t *testing.T, path string, pdfsigCanCheck bool) {
	t.Helper()
	testtool.Need(t, "qpdf")
	if out, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil || strings.Contains(string(out), "WARNING") {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	if !pdfsigCanCheck {
		return
	}
	testtool.Need(t, "pdfsig")
	out, _ := exec.Command("pdfsig", "-nocert", "-no-ocsp", path).CombinedOutput()
	if !strings.Contains(string(out), "Signature is Valid") {
		t.Fatalf("pdfsig:\n%s", out)
	}
}
