package relay

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/testclock"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/internal/testtool"
	"github.com/scansign/scansign/relay/client"
	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify"
)

// sealEnv is a relay with the results API on one store, for the seal
// flow's signer checks: the certificate of the final answer must be the
// caSerialId the app chose the seals by, and the signature must be over
// what the seal control stored at status 4.
type sealEnv struct {
	t   *testing.T
	st  store.Store
	svc *Service
	c   *client.Client
}

func newSealEnv(t *testing.T, k storeKind) *sealEnv {
	t.Helper()
	st, _ := k.open(t)
	svc := newService(t, st, testclock.New(time.Now())) // the committed PKI is valid from when it was made
	trust, err := certs.LoadTrustStore(testpki.Manifest(t).TrustDir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := NewResults(svc, verify.New(trust, verify.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	svc.Mount(r)
	r.Route("/api/v1", func(api chi.Router) {
		api.Use(svc.RequireSystem)
		res.Mount(api)
	})
	srv := httptest.NewServer(r)
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &sealEnv{t: t, st: st, svc: svc, c: client.New(srv.URL, srv.Client())}
}

// sealOp is one seal operation brought to status 4.
type sealOp struct {
	sysTok, appTok, guid, hash string
}

// atStatus4 runs 三.5 up to step 9: the app names caSerialID, the control
// fetches the seals (5) and stores hash with ext (4).
func (e *sealEnv) atStatus4(caSerialID, hash string, ext *string) sealOp {
	e.t.Helper()
	ctx := context.Background()
	sysTok, err := e.c.GrantToken(ctx, sysName, sysSecret, "")
	if err != nil {
		e.t.Fatal(err)
	}
	guid, err := e.c.InitMessage(ctx, sysTok, client.InitMessageRequest{Type: 5, Message: "f7c54891-adad-4f32-9994-83d70a7204a2", Title: "xx 系统签章"})
	if err != nil {
		e.t.Fatal(err)
	}
	appTok, err := e.c.GrantToken(ctx, appName, appSecret, guid)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.c.GetInitMessage(ctx, appTok, guid); err != nil {
		e.t.Fatal(err)
	}
	ext1 := `{"caSerialId":"` + caSerialID + `"}`
	for _, s := range []struct {
		tok         string
		status      int
		value, ext1 *string
	}{
		{appTok, 2, ptr(`{"signatureCompanyCode":"xx"}`), &ext1},
		{sysTok, 5, nil, nil},
		{sysTok, 4, &hash, ext},
	} {
		if err := e.c.SaveCaMessageResult(ctx, s.tok, client.SaveRequest{GUID: guid, Status: s.status, Value: s.value, ExtMessage: s.ext1}); err != nil {
			e.t.Fatalf("status %d: %v", s.status, err)
		}
	}
	return sealOp{sysTok: sysTok, appTok: appTok, guid: guid, hash: hash}
}

func (e *sealEnv) answer(op sealOp, value string) error {
	return e.c.SaveCaMessageResult(context.Background(), op.appTok, client.SaveRequest{GUID: op.guid, Status: 2, Value: &value})
}

func (e *sealEnv) outcome(op sealOp) *client.OperationResult {
	e.t.Helper()
	res, err := e.c.OperationResult(context.Background(), op.sysTok, op.guid)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func sealValue(signStr, pubCert string) string {
	b, _ := json.Marshal(map[string]string{"signStr": signStr, "signatureCompanyCode": "xx", "pubCert": pubCert})
	return string(b)
}

func p7(t *testing.T, leaf string, content []byte) string {
	t.Helper()
	id := testpki.Identity(t, leaf)
	sig, err := sign.PKCS7(content, id.Signer, id.Certificate, sign.Options{Chain: id.Chain})
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func pubCert(t *testing.T, leaf string) string {
	return base64.StdEncoding.EncodeToString(testpki.Identity(t, leaf).Certificate.Raw)
}

// opensslP7 is the app's signature made by OpenSSL, not by us: a PKCS#7
// with the hash text attached, as the README's curl seal flow makes it.
func opensslP7(t *testing.T, leaf, content string) string {
	t.Helper()
	testtool.Need(t, "openssl")
	l := testpki.Leaf(t, leaf)
	in := filepath.Join(t.TempDir(), "hash.txt")
	if err := os.WriteFile(in, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "cms", "-sign", "-binary", "-nodetach", "-md", "sha256", "-in", in,
		"-signer", l.CertPath, "-inkey", l.KeyPath, "-outform", "DER").Output()
	if err != nil {
		t.Fatalf("openssl cms -sign: %v", err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

// TestSealSignerMustBeTheChosenCertificate: on both stores, the relay
// refuses a final seal answer whose certificate is not the caSerialId the
// app chose the seals by (a person putting a company's 公章 on a PDF under
// their own signature), accepts the right one however caSerialId was
// written, and the results API checks signer and signed content against
// what the operation kept.
func TestSealSignerMustBeTheChosenCertificate(t *testing.T) {
	company := testpki.Leaf(t, "rsa-org")
	hash := strings.Repeat("5e", 32) // the file hash the control stored (hex)
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newSealEnv(t, k)

		t.Run("another certificate is refused and changes nothing", func(t *testing.T) {
			op := e.atStatus4(company.Serial, hash, nil)
			// 张三's own, perfectly valid signature over the right hash.
			err := e.answer(op, sealValue(p7(t, "rsa-person", []byte(hash)), pubCert(t, "rsa-person")))
			wantCode(t, err, CodeCertMismatch)
			var ce *client.Error
			if !errors.As(err, &ce) || !strings.Contains(ce.FailMessage, company.Serial) || !strings.Contains(ce.FailMessage, "caSerialId") {
				t.Fatalf("failMessage does not say which certificate was expected: %v", err)
			}
			res := e.outcome(op)
			if res.Status != 4 || res.Final || *res.Value != hash || res.Outcome != nil {
				t.Fatalf("after the refusal: %+v", res)
			}
			// The company's holder can still answer.
			if err := e.answer(op, sealValue(opensslP7(t, "rsa-org", hash), pubCert(t, "rsa-org"))); err != nil {
				t.Fatal(err)
			}
			if o := e.outcome(op).Outcome; o == nil || !o.Valid || o.Signer.Serial != company.Serial {
				t.Fatalf("outcome %+v", o)
			}
		})

		t.Run("the chosen certificate is accepted however caSerialId was written", func(t *testing.T) {
			op := e.atStatus4("00"+strings.ToLower(company.Serial), hash, nil)
			if err := e.answer(op, sealValue(opensslP7(t, "rsa-org", hash), pubCert(t, "rsa-org"))); err != nil {
				t.Fatal(err)
			}
			o := e.outcome(op).Outcome
			if o == nil || !o.Valid || o.Signer.Serial != company.Serial || !o.Verification.ContentChecked {
				t.Fatalf("outcome %+v", o)
			}
		})

		t.Run("not the guide's JSON", func(t *testing.T) {
			for _, v := range []string{`{"signStr":"MIIB","signatureCompanyCode":"xx"}`, sealValue("MIIB", "not a certificate"), `{"signStr":`} {
				op := e.atStatus4(company.Serial, hash, nil)
				wantCode(t, e.answer(op, v), CodeBadRequest)
			}
		})

		t.Run("the guide's literal step 10 is kept but never valid", func(t *testing.T) {
			op := e.atStatus4(company.Serial, hash, nil)
			if err := e.answer(op, "hash"); err != nil {
				t.Fatal(err)
			}
			res := e.outcome(op)
			if !res.Final || res.Outcome == nil || res.Outcome.Valid || res.Outcome.Reason != string(ReasonValueMalformed) {
				t.Fatalf("results for value=hash: %+v", res.Outcome)
			}
		})

		t.Run("a PKCS#7 by someone else beside the chosen pubCert", func(t *testing.T) {
			op := e.atStatus4(company.Serial, hash, nil)
			if err := e.answer(op, sealValue(p7(t, "rsa-person", []byte(hash)), pubCert(t, "rsa-org"))); err != nil {
				t.Fatal(err) // the relay sees the right pubCert; the results API looks inside
			}
			if o := e.outcome(op).Outcome; o == nil || o.Valid || o.Reason != string(ReasonCertMismatch) {
				t.Fatalf("outcome %+v", o)
			}
		})

		t.Run("a signature over another hash", func(t *testing.T) {
			op := e.atStatus4(company.Serial, hash, nil)
			if err := e.answer(op, sealValue(opensslP7(t, "rsa-org", strings.Repeat("00", 32)), pubCert(t, "rsa-org"))); err != nil {
				t.Fatal(err)
			}
			if o := e.outcome(op).Outcome; o == nil || o.Valid || o.Reason != string(verify.ReasonContentMismatch) {
				t.Fatalf("outcome %+v", o)
			}
		})

		t.Run("cms shape: the raw signature over toSign", func(t *testing.T) {
			org := testpki.Leaf(t, "sm2-org")
			id := testpki.Identity(t, "sm2-org")
			attrs := []byte("\x31\x0asigned attributes as prepare made them")
			ext, _ := json.Marshal(SealHashExt{Shape: "cms", DigestAlgorithm: "SM3", ToSign: base64.StdEncoding.EncodeToString(attrs)})
			for _, tc := range []struct {
				name   string
				signed []byte
				valid  bool
			}{{"over toSign", attrs, true}, {"over the hash instead", []byte(hash), false}} {
				op := e.atStatus4(org.Serial, hash, ptr(string(ext)))
				raw, err := sign.SM2(id.Signer, tc.signed, sign.RawOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if err := e.answer(op, sealValue(base64.StdEncoding.EncodeToString(raw), pubCert(t, "sm2-org"))); err != nil {
					t.Fatal(err)
				}
				if o := e.outcome(op).Outcome; o == nil || o.Valid != tc.valid {
					t.Fatalf("%s: outcome %+v", tc.name, o)
				}
			}
		})

		// What the relay could not refuse: answers saved by a relay before
		// it checked the certificate and kept the hash (an upgrade with
		// operations in flight), written here straight into the store.
		t.Run("answers saved before the check", func(t *testing.T) {
			for _, tc := range []struct {
				name     string
				keepHash bool
				reason   verify.Reason
			}{{"signed by another certificate", true, ReasonSealCertMismatch}, {"without the status 4 hash", false, ReasonNoSealHash}} {
				op := e.atStatus4(company.Serial, hash, nil)
				stored, err := e.st.Operation(context.Background(), op.guid)
				if err != nil {
					t.Fatal(err)
				}
				v := sealValue(p7(t, "rsa-person", []byte(hash)), pubCert(t, "rsa-person"))
				stored.Status, stored.Stage, stored.Value = int(StatusConfirmed), string(StageConfirmed), &v
				if !tc.keepHash {
					stored.SealHash, stored.SealHashExt = "", ""
				}
				if _, err := e.st.UpdateOperation(context.Background(), stored); err != nil {
					t.Fatal(err)
				}
				o := e.outcome(op).Outcome
				if o == nil || o.Valid || o.Reason != string(tc.reason) || o.Message == "" {
					t.Fatalf("%s: outcome %+v", tc.name, o)
				}
				if tc.keepHash && !strings.Contains(o.Message, company.Serial) {
					t.Fatalf("the mismatch does not name the chosen certificate: %s", o.Message)
				}
			}
		})
	})
}
