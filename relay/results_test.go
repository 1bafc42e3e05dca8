package relay_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/certs/devpki"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/relay"
	"github.com/scansign/scansign/relay/client"
	"github.com/scansign/scansign/relay/store/boltstore"
	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify"
	"github.com/scansign/scansign/verify/envelope"
)

// TestResultsAPI runs the results API's tests on the committed test PKI.
func TestResultsAPI(t *testing.T) {
	m := testpki.Manifest(t)
	t.Run("verdicts", func(t *testing.T) { testResultsVerdicts(t, m) })
	t.Run("before the answer", func(t *testing.T) { testResultsBeforeTheAnswer(t, m) })
	t.Run("encrypt", func(t *testing.T) { testResultsEncrypt(t, m) })
}

// resultsEnv is a relay on the embedded store with the results API, the
// way `scansign serve` mounts it (RequireSystem on /api/v1).
type resultsEnv struct {
	t   *testing.T
	c   *client.Client
	url string
	pki *devpki.Manifest
}

func newResultsEnv(t *testing.T, m *devpki.Manifest) *resultsEnv {
	t.Helper()
	st, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := relay.New(relay.Config{Store: st, Accounts: []relay.Account{
		{Name: "sys", Role: relay.RoleSystem, SecretHash: relay.HashSecret("sys-secret")},
		{Name: "app", Role: relay.RoleApp, SecretHash: relay.HashSecret("app-secret")},
	}, Limits: relay.Limits{BodyBytes: 64 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	trust, err := certs.LoadTrustStore(m.TrustDir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := relay.NewResults(svc, nil); err == nil {
		t.Fatal("NewResults without a verifier")
	}
	res, err := relay.NewResults(svc, verify.New(trust, verify.Options{}))
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
	return &resultsEnv{t: t, c: client.New(srv.URL, srv.Client()), url: srv.URL, pki: m}
}

func (e *resultsEnv) id(leaf string) *certs.Identity {
	l, ok := e.pki.Leaf(leaf)
	if !ok {
		e.t.Fatalf("no leaf %s", leaf)
	}
	id, err := l.Identity()
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *resultsEnv) p7(leaf, content string) string {
	id := e.id(leaf)
	sig, err := sign.PKCS7([]byte(content), id.Signer, id.Certificate, sign.Options{Chain: id.Chain})
	if err != nil {
		e.t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func (e *resultsEnv) pubCert(leaf string) string {
	return base64.StdEncoding.EncodeToString(e.id(leaf).Certificate.Raw)
}

// answered starts an operation, has an app save value with status 2 and
// returns the system's token and the guid.
func (e *resultsEnv) answered(typ int, message string, certType int, value string) (string, string) {
	e.t.Helper()
	tok, guid := e.started(typ, message, certType)
	ctx := context.Background()
	appTok, err := e.c.GrantToken(ctx, "app", "app-secret", guid)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.c.GetInitMessage(ctx, appTok, guid); err != nil {
		e.t.Fatal(err)
	}
	if err := e.c.SaveCaMessageResult(ctx, appTok, client.SaveRequest{GUID: guid, Status: 2, Value: &value}); err != nil {
		e.t.Fatal(err)
	}
	return tok, guid
}

func (e *resultsEnv) started(typ int, message string, certType int) (string, string) {
	e.t.Helper()
	ctx := context.Background()
	tok, err := e.c.GrantToken(ctx, "sys", "sys-secret", "")
	if err != nil {
		e.t.Fatal(err)
	}
	guid, err := e.c.InitMessage(ctx, tok, client.InitMessageRequest{Type: typ, Message: message, Title: "t", CertType: certType})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok, guid
}

func testResultsVerdicts(t *testing.T, m *devpki.Manifest) {
	e := newResultsEnv(t, m)
	const nonce = "f7c54891-adad-4f32-9994-83d70a7204a2"
	login := func(sig, cert string) string {
		b, _ := json.Marshal(map[string]string{"signStr": sig, "pubCert": cert})
		return string(b)
	}
	for _, tc := range []struct {
		name     string
		typ      int
		certType int
		message  string
		value    func() string
		valid    bool
		reason   string
	}{
		{"login good", 4, 0, nonce, func() string { return login(e.p7("sm2-person", nonce), e.pubCert("sm2-person")) }, true, ""},
		{"login not JSON", 4, 0, nonce, func() string { return e.p7("sm2-person", nonce) }, false, "malformed-value"},
		{"login without pubCert", 4, 0, nonce, func() string { return `{"signStr":"` + e.p7("sm2-person", nonce) + `"}` }, false, "malformed-value"},
		{"login pubCert of another", 4, 0, nonce, func() string { return login(e.p7("sm2-person", nonce), e.pubCert("rsa-person")) }, false, "cert-mismatch"},
		{"login over another nonce", 4, 0, nonce, func() string { return login(e.p7("sm2-person", "other"), e.pubCert("sm2-person")) }, false, "content-mismatch"},
		{"sign by an untrusted CA", 1, 0, "m", func() string { return e.p7("sm2-untrusted", "m") }, false, "untrusted"},
		{"sign by an expired cert", 1, 0, "m", func() string { return e.p7("rsa-expired", "m") }, false, "expired"},
		{"sign by a revoked cert", 1, 0, "m", func() string { return e.p7("sm2-revoked", "m") }, false, "revoked"},
		{"sign by a person, organisation asked", 1, 1, "m", func() string { return e.p7("sm2-person", "m") }, false, "wrong-cert-type"},
		{"sign garbage", 1, 0, "m", func() string { return "bm90IGEgc2lnbmF0dXJl" }, false, "malformed"},
		{"revoke over the hash text", 6, 0, strings.Repeat("ab", 32), func() string { return e.p7("rsa-org", strings.Repeat("ab", 32)) }, true, ""},
		{"encrypt not a certificate", 2, 0, "m", func() string { return "MIIB" }, false, "malformed"},
		{"encrypt garbage, not base64", 2, 0, "m", func() string { return "这不是证书 ***" }, false, "malformed"},
		{"encrypt untrusted certificate", 2, 0, "m", func() string { return e.pubCert("rsa-untrusted") }, false, "untrusted"},
		{"seal value not the guide's JSON", 5, 0, "m", nil, false, "malformed-value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tok, guid string
			if tc.typ == 5 {
				tok, guid = sealWithFinalValue(t, e, "hash") // the guide's step 10 verbatim: kept, never valid
			} else {
				tok, guid = e.answered(tc.typ, tc.message, tc.certType, tc.value())
			}
			res, err := e.c.OperationResult(context.Background(), tok, guid)
			if err != nil {
				t.Fatal(err)
			}
			o := res.Outcome
			if !res.Final || o == nil || o.Valid != tc.valid || o.Reason != tc.reason {
				t.Fatalf("outcome %+v, want valid %v reason %q", o, tc.valid, tc.reason)
			}
			if !o.Valid && o.Message == "" {
				t.Fatal("an invalid outcome without a message")
			}
			// An encrypt value that is no certificate says so, in Chinese.
			if tc.typ == 2 && tc.reason == "malformed" && o.Message != "证书格式错误，无法解析" {
				t.Fatalf("message %q", o.Message)
			}
		})
	}
}

// sealWithFinalValue runs the seal flow's statuses on the guide's
// endpoints and ends it with value.
func sealWithFinalValue(t *testing.T, e *resultsEnv, value string) (string, string) {
	ctx := context.Background()
	tok, guid := e.started(5, "m", 0)
	appTok, _ := e.c.GrantToken(ctx, "app", "app-secret", guid)
	e.c.GetInitMessage(ctx, appTok, guid)
	steps := []struct {
		tok        string
		status     int
		value, ext *string
	}{
		{appTok, 2, ptrS(`{"signatureCompanyCode":"dev"}`), ptrS(`{"caSerialId":"1A"}`)},
		{tok, 5, nil, nil},
		{tok, 4, ptrS("abcd"), nil},
		{appTok, 2, &value, nil},
	}
	for _, s := range steps {
		if err := e.c.SaveCaMessageResult(ctx, s.tok, client.SaveRequest{GUID: guid, Status: s.status, Value: s.value, ExtMessage: s.ext}); err != nil {
			t.Fatalf("status %d: %v", s.status, err)
		}
	}
	return tok, guid
}

func ptrS(s string) *string { return &s }

func testResultsBeforeTheAnswer(t *testing.T, m *devpki.Manifest) {
	e := newResultsEnv(t, m)
	ctx := context.Background()
	tok, guid := e.started(4, "n", 0)
	res, err := e.c.OperationResult(ctx, tok, guid)
	if err != nil || res.Status != 0 || res.Final || res.Outcome != nil || res.TypeName != "登录" {
		t.Fatalf("%+v %v", res, err)
	}
	// No token, an app's token, a token of another operation.
	_, err = e.c.OperationResult(ctx, "", guid)
	wantInvoke(t, err, 401)
	appTok, _ := e.c.GrantToken(ctx, "app", "app-secret", guid)
	_, err = e.c.OperationResult(ctx, appTok, guid)
	wantInvoke(t, err, 403)
	tok2, _ := e.started(4, "n", 0)
	_, err = e.c.OperationResult(ctx, tok2, guid)
	wantInvoke(t, err, 401)
	resp, err := http.Get(e.url + "/api/v1/operations/not-a-guid?token=" + tok)
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("bad guid: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}

func testResultsEncrypt(t *testing.T, m *devpki.Manifest) {
	e := newResultsEnv(t, m)
	ctx := context.Background()
	sm2Cert := e.pubCert("sm2-person")
	tok, guid := e.answered(2, "需加密的字符串", 0, sm2Cert)
	id := e.id("sm2-person")

	res, err := e.c.Encrypt(ctx, tok, guid, client.EncryptRequest{Format: "sm2", Plaintext: base64.StdEncoding.EncodeToString([]byte{0, 1, 2})})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(res.Envelope)
	if plain, err := envelope.DecryptSM2(raw, id.Signer.(*sm2.PrivateKey)); err != nil || !bytes.Equal(plain, []byte{0, 1, 2}) {
		t.Fatalf("sm2: %v %v", plain, err)
	}

	for _, tc := range []struct {
		name string
		body string
		code int
	}{
		{"unknown field", `{"txt":"x"}`, 400},
		{"text and plaintext", `{"text":"a","plaintext":"YQ=="}`, 400},
		{"bad base64", `{"plaintext":"***"}`, 400},
		{"bad format", `{"format":"zip"}`, 400},
		{"bad oids", `{"oids":"x"}`, 400},
		{"two objects", `{} {}`, 400},
		{"not JSON", `text=x`, 400},
		{"too large", `{"text":"` + strings.Repeat("a", 70<<10) + `"}`, 413},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/api/v1/operations/"+guid+"/encrypt", strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var f relay.Failure
		if resp.StatusCode != tc.code || json.Unmarshal(body, &f) != nil || f.InvokeCode != tc.code || f.FailMessage == "" {
			t.Errorf("%s: HTTP %d %s, want %d", tc.name, resp.StatusCode, body, tc.code)
		}
	}

	// An RSA certificate: no raw SM2 formats.
	tokRSA, guidRSA := e.answered(2, "m", 0, e.pubCert("rsa-person"))
	_, err = e.c.Encrypt(ctx, tokRSA, guidRSA, client.EncryptRequest{Format: "sm2"})
	wantInvoke(t, err, 400)
	// Not an encrypt operation; not answered yet; an untrusted certificate.
	tokSign, guidSign := e.answered(1, "m", 0, e.p7("sm2-person", "m"))
	_, err = e.c.Encrypt(ctx, tokSign, guidSign, client.EncryptRequest{})
	wantInvoke(t, err, 409)
	tokNew, guidNew := e.started(2, "m", 0)
	_, err = e.c.Encrypt(ctx, tokNew, guidNew, client.EncryptRequest{})
	wantInvoke(t, err, 409)
	tokU, guidU := e.answered(2, "m", 0, e.pubCert("sm2-untrusted"))
	_, err = e.c.Encrypt(ctx, tokU, guidU, client.EncryptRequest{})
	wantInvoke(t, err, 409)
}

func wantInvoke(t *testing.T, err error, code int) {
	t.Helper()
	if got := client.Code(err); got != code {
		t.Fatalf("got %v (invokeCode %d), want %d", err, got, code)
	}
}
