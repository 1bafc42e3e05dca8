package verify_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify"
	"github.com/scansign/scansign/verify/envelope"
)

func apiServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(verify.NewHandler(newVerifier(t), verify.HandlerOptions{MaxBodyBytes: 64 << 10}))
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, srv *httptest.Server, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(srv.URL+path, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s: body %q: %v", path, data, err)
	}
	return resp.StatusCode, out
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAPIVerify(t *testing.T) {
	srv := apiServer(t)
	m := testpki.Manifest(t)
	content := readFixture(t, "content.txt")
	l, _ := m.Leaf("sm2-org")
	id, _ := l.Identity()
	certPEM, _ := os.ReadFile(l.CertPath)
	p7, _ := sign.PKCS7([]byte("nonce-1"), id.Signer, id.Certificate, sign.Options{})
	hashHex := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	p7hash, _ := sign.PKCS7([]byte(hashHex), id.Signer, id.Certificate, sign.Options{})
	raw, _ := sign.SM2(id.Signer, []byte("nonce-2"), sign.RawOptions{RS: true})
	b64 := base64.StdEncoding.EncodeToString
	for _, tc := range []struct {
		name   string
		body   any
		valid  bool
		reason string
		form   string
	}{
		{"p7 text", map[string]any{"signature": b64(p7), "content": "nonce-1"}, true, "", "bytes"},
		{"p7 base64 content, certType 1", map[string]any{"signature": b64(p7), "content": b64([]byte("nonce-1")), "contentEncoding": "base64", "certType": 1}, true, "", "bytes"},
		{"p7 certType \"2\"", map[string]any{"signature": b64(p7), "content": "nonce-1", "certType": "2"}, false, "wrong-cert-type", "bytes"},
		{"p7 wrong content", map[string]any{"signature": b64(p7), "content": "nonce-X"}, false, "content-mismatch", ""},
		{"p7 hash hex", map[string]any{"signature": b64(p7hash), "content": hashHex, "contentEncoding": "hex"}, true, "", "hex-text"},
		{"raw r||s with pubCert", map[string]any{"signature": b64(raw), "content": "nonce-2", "cert": b64(id.Certificate.Raw)}, true, "", "bytes"},
		{"raw with PEM cert", map[string]any{"signature": b64(raw), "content": "nonce-2", "cert": string(certPEM)}, true, "", "bytes"},
		{"BouncyCastle fixture", map[string]any{"signature": b64(readFixture(t, "bc-sm2-person-gm-detached.p7s")), "content": string(content)}, true, "", "bytes"},
		{"expired fixture", map[string]any{"signature": b64(readFixture(t, "openssl-rsa-expired-attached.p7s"))}, false, "expired", ""},
		{"garbage", map[string]any{"signature": "aGVsbG8gd29ybGQ="}, false, "malformed", ""},
	} {
		status, out := post(t, srv, "/api/v1/verify", "application/json", jsonBody(tc.body))
		if status != http.StatusOK || out["valid"] != tc.valid || out["reason"] != tc.reason {
			t.Errorf("%s: %d %v", tc.name, status, out)
			continue
		}
		if tc.form != "" && out["contentForm"] != tc.form {
			t.Errorf("%s: contentForm %v", tc.name, out["contentForm"])
		}
		if tc.valid {
			signer, _ := out["signer"].(map[string]any)
			if signer == nil || signer["serial"] == "" || signer["certType"] == nil || out["message"] != "签名有效" {
				t.Errorf("%s: signer %v", tc.name, out)
			}
		}
	}
}

func TestAPIErrors(t *testing.T) {
	srv := apiServer(t)
	for _, tc := range []struct {
		name, path, ct, body string
		status               int
		code                 string
	}{
		{"not JSON", "/api/v1/verify", "application/json", "{", 400, "bad-request"},
		{"unknown field", "/api/v1/verify", "application/json", `{"signature":"AA==","sig":1}`, 400, "bad-request"},
		{"two objects", "/api/v1/verify", "application/json", `{"signature":"AA=="}{}`, 400, "bad-request"},
		{"no signature", "/api/v1/verify", "application/json", `{}`, 400, "bad-request"},
		{"bad certType", "/api/v1/verify", "application/json", `{"signature":"AA==","certType":7}`, 400, "bad-request"},
		{"bad at", "/api/v1/verify", "application/json", `{"signature":"AA==","at":"yesterday"}`, 400, "bad-request"},
		{"bad hex", "/api/v1/verify", "application/json", `{"signature":"AA==","content":"xyz","contentEncoding":"hex"}`, 400, "bad-request"},
		{"form body", "/api/v1/verify", "application/x-www-form-urlencoded", "signature=AA", 415, "unsupported-media-type"},
		{"too large", "/api/v1/verify", "application/json", `{"signature":"` + strings.Repeat("A", 70<<10) + `"}`, 413, "too-large"},
		{"unknown path", "/api/v1/nope", "application/json", `{}`, 404, "not-found"},
		{"bad cert", "/api/v1/certs/inspect", "application/json", `{"cert":"bm90IGEgY2VydA=="}`, 400, "bad-request"},
		{"encrypt bad format", "/api/v1/envelope/encrypt", "application/json", `{"cert":"x","text":"a"}`, 400, "bad-request"},
	} {
		status, out := post(t, srv, tc.path, tc.ct, tc.body)
		if status != tc.status || out["code"] != tc.code || out["message"] == "" ||
			out["invokeCode"] != float64(tc.status) || out["failMessage"] != out["message"] {
			t.Errorf("%s: %d %v", tc.name, status, out)
		}
	}
	resp, err := http.Get(srv.URL + "/api/v1/verify")
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || out["code"] != "method-not-allowed" || out["invokeCode"] != float64(405) ||
		resp.Header.Get("Allow") != http.MethodPost {
		t.Errorf("GET: %d %v", resp.StatusCode, out)
	}
}

func TestAPIInspectAndEncrypt(t *testing.T) {
	srv := apiServer(t)
	m := testpki.Manifest(t)
	for name, want := range map[string]string{"sm2-org": "", "rsa-revoked": "revoked", "sm2-untrusted": "untrusted"} {
		l, _ := m.Leaf(name)
		pemData, _ := os.ReadFile(l.CertPath)
		status, out := post(t, srv, "/api/v1/certs/inspect", "application/json", jsonBody(map[string]any{"cert": string(pemData)}))
		signer, _ := out["signer"].(map[string]any)
		if status != 200 || out["reason"] != want || signer == nil || signer["serial"] != l.Serial {
			t.Errorf("inspect %s: %d %v", name, status, out)
		}
		if name == "sm2-org" && (signer["creditCode"] != l.CreditCode || signer["certType"] != float64(certs.CertTypeOrganisation)) {
			t.Errorf("inspect org facts: %v", signer)
		}
	}
	secret := []byte("需加密的字符串")
	for _, tc := range []struct {
		leaf, format string
		status       int
	}{
		{"sm2-person", "", 200}, {"sm2-person", "sm2", 200}, {"sm2-person", "sm2-asn1", 200}, {"rsa-person", "pkcs7", 200}, {"rsa-person", "sm2", 400},
	} {
		l, _ := m.Leaf(tc.leaf)
		id, _ := l.Identity()
		status, out := post(t, srv, "/api/v1/envelope/encrypt", "application/json", jsonBody(map[string]any{
			"cert": base64.StdEncoding.EncodeToString(id.Certificate.Raw), "plaintext": base64.StdEncoding.EncodeToString(secret), "format": tc.format}))
		if status != tc.status {
			t.Errorf("encrypt %s %s: %d %v", tc.leaf, tc.format, status, out)
			continue
		}
		if status != 200 {
			continue
		}
		env, _ := base64.StdEncoding.DecodeString(out["envelope"].(string))
		var got []byte
		var err error
		if strings.HasPrefix(out["format"].(string), "sm2") {
			got, err = envelope.DecryptSM2(env, id.Signer.(*sm2.PrivateKey))
		} else {
			got, err = envelope.Decrypt(env, id.Signer, id.Certificate)
		}
		if err != nil || !bytes.Equal(got, secret) {
			t.Errorf("encrypt %s %s: decrypts to %q, %v", tc.leaf, tc.format, got, err)
		}
	}
}
