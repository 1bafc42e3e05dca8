package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/relay/client"
)

// apiCall sends body to an /api/v1 route with auth and returns the HTTP
// status and the JSON answer.
func apiCall(t *testing.T, url string, auth client.Credentials, contentType string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, body)
	auth.Authorize(req)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// systemBasic is how the dev system account calls the /api/v1 routes on
// no operation (verify, certs/inspect, envelope/encrypt, the PDF API).
var systemBasic = client.Basic(devSystemAccount, devSystemSecret)

// systemToken is a dev system token for initMessage (bound to no
// operation until then).
func systemToken(t *testing.T, base string) string {
	t.Helper()
	tok, err := client.New(base, nil).GrantToken(context.Background(), devSystemAccount, devSystemSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// multipartPDF is a PDF API request body: the PDF as the part "pdf".
func multipartPDF(t *testing.T, pdf []byte, fields map[string]string) (string, *bytes.Buffer) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, _ := mw.CreateFormFile("pdf", "a.pdf")
	w.Write(pdf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	return mw.FormDataContentType(), &b
}

// TestServeWithoutTrust: serve starts without --trust, says so, serves the
// guide's endpoints (with /getSealImg and, in dev, /api/getSeal), and
// answers every verifying route 503 with what to configure, after the
// usual authentication: Basic or a bound token on the routes on no
// operation, the operation's own token on its routes.
func TestServeWithoutTrust(t *testing.T) {
	srv := startServe(t, "--dev", "--data", t.TempDir())
	if !strings.Contains(srv.log.String(), "no trust directory (--trust)") {
		t.Fatalf("no warning in the log:\n%s", srv.log.String())
	}
	tok := systemToken(t, srv.url)
	guid, err := client.New(srv.url, nil).InitMessage(context.Background(), tok, client.InitMessageRequest{Type: 4, Message: "n", Title: "登录"})
	if err != nil {
		t.Fatal(err)
	}
	unbound := systemToken(t, srv.url)
	for _, c := range []struct {
		path string
		auth client.Credentials
	}{
		{"/api/v1/verify", systemBasic},
		{"/api/v1/certs/inspect", systemBasic},
		{"/api/v1/envelope/encrypt", client.Token(tok)},
		{"/api/v1/pdf/prepare", systemBasic},
		{"/api/v1/operations/" + guid, client.Token(tok)},
		{"/api/v1/operations/" + guid + "/encrypt", client.Token(tok)},
	} {
		code, m := apiCall(t, srv.url+c.path, c.auth, "application/json", strings.NewReader("{}"))
		if code != http.StatusServiceUnavailable || m["invokeCode"] != float64(503) || m["code"] != "unavailable" ||
			!strings.Contains(m["failMessage"].(string), "--trust") || m["message"] != m["failMessage"] {
			t.Errorf("%s: %d %v", c.path, code, m)
		}
		if code, m := apiCall(t, srv.url+c.path, client.Credentials{}, "application/json", strings.NewReader("{}")); code != http.StatusUnauthorized || m["code"] != "unauthorized" {
			t.Errorf("%s without credentials: %d %v", c.path, code, m)
		}
		if code, m := apiCall(t, srv.url+c.path, client.Token(unbound), "application/json", strings.NewReader("{}")); code != http.StatusUnauthorized ||
			m["failMessage"] != "授权码尚未绑定操作，只能用于调用 initMessage" {
			t.Errorf("%s with a token bound to no operation: %d %v", c.path, code, m)
		}
	}
	if code, m := apiCall(t, srv.url+"/api/v1/operations/"+guid, systemBasic, "application/json", nil); code != http.StatusUnauthorized ||
		!strings.Contains(m["failMessage"].(string), "绑定该操作") {
		t.Errorf("Basic on an operation: %d %v", code, m)
	}
	code, m, _ := getJSON(t, srv.url+"/getSealImg?guid=nope&token="+tok)
	if code != 200 || m["invokeCode"] != float64(400) {
		t.Errorf("/getSealImg: %d %v", code, m)
	}
	resp, err := http.Post(srv.url+"/api/getSeal", "application/x-www-form-urlencoded",
		strings.NewReader("caSerialId=FFFF&accountName="+devSealAccount+"&password="+devSealPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var seal map[string]any
	json.NewDecoder(resp.Body).Decode(&seal)
	if seal["code"] != "404" || seal["message"] != "该证书没有有效的印章" {
		t.Errorf("/api/getSeal: %v", seal)
	}
}

// TestServeTrustReloadOnSIGHUP: SIGHUP re-reads the trust directory; a
// reload that fails (no root left) keeps the old set and says so; one that
// works takes effect at once.
func TestServeTrustReloadOnSIGHUP(t *testing.T) {
	m := testpki.Manifest(t)
	trust := t.TempDir()
	for _, f := range []string{"rsa-root.pem", "rsa-issuing.pem", "sm2-root.pem", "sm2-issuing.pem"} {
		copyFile(t, filepath.Join(m.TrustDir, f), filepath.Join(trust, f))
	}
	srv := startServe(t, "--dev", "--data", t.TempDir(), "--trust", trust)
	leaf, _ := m.Leaf("rsa-org")
	pem, _ := os.ReadFile(leaf.CertPath)
	inspect := func() map[string]any {
		body, _ := json.Marshal(map[string]string{"cert": string(pem)})
		code, res := apiCall(t, srv.url+"/api/v1/certs/inspect", systemBasic, "application/json", bytes.NewReader(body))
		if code != 200 {
			t.Fatalf("inspect: %d %v", code, res)
		}
		return res
	}
	if r := inspect(); r["valid"] != true {
		t.Fatalf("before: %v", r)
	}
	hup := func(wantLog string) {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(srv.log.String(), wantLog); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", wantLog, srv.log.String())
			}
		}
	}
	// Roots gone: the reload fails and the old set stays.
	for _, f := range []string{"rsa-root.pem", "sm2-root.pem"} {
		os.Rename(filepath.Join(trust, f), filepath.Join(trust, f+".off"))
	}
	hup(`"msg":"trust store reload failed: keeping the previous set"`)
	if r := inspect(); r["valid"] != true {
		t.Fatalf("after a failed reload: %v", r)
	}
	// Only the SM2 root back: the RSA certificate is no longer trusted.
	os.Rename(filepath.Join(trust, "sm2-root.pem.off"), filepath.Join(trust, "sm2-root.pem"))
	hup(`"msg":"trust store reloaded"`)
	if r := inspect(); r["valid"] != false || r["reason"] != "untrusted" {
		t.Fatalf("after reloading without the RSA root: %v", r)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestServePDFLimits: the PDF API has its own body limit, neither bound by
// the guide endpoints' (far smaller) one nor above its own.
func TestServePDFLimits(t *testing.T) {
	m := testpki.Manifest(t)
	pdf, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pdf", "gs-many-pages.pdf")) // 19 KB
	if err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, "--dev", "--data", t.TempDir(), "--trust", m.TrustDir, "--body-limit", "4KiB", "--pdf-max-bytes", "64KiB")
	ct, body := multipartPDF(t, pdf, nil)
	if code, res := apiCall(t, srv.url+"/api/v1/pdf/seals", systemBasic, ct, body); code != 200 || res["invokeCode"] != float64(1) {
		t.Fatalf("a 19 KB PDF with a 4 KiB relay body limit: %d %v", code, res)
	}
	big := append(append([]byte{}, pdf...), bytes.Repeat([]byte("%"), 70<<10)...)
	ct, body = multipartPDF(t, big, nil)
	if code, res := apiCall(t, srv.url+"/api/v1/pdf/seals", systemBasic, ct, body); code != http.StatusRequestEntityTooLarge || res["invokeCode"] != float64(413) {
		t.Fatalf("an 89 KB PDF with a 64 KiB PDF limit: %d %v", code, res)
	}
	// The guide's endpoints keep their own limit.
	resp, err := http.Post(srv.url+"/grantToken", "application/x-www-form-urlencoded", strings.NewReader("accountName=x&password="+strings.Repeat("y", 8<<10)))
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]any
	json.NewDecoder(resp.Body).Decode(&g)
	resp.Body.Close()
	if g["invokeCode"] != float64(413) {
		t.Fatalf("an 8 KiB grantToken with a 4 KiB limit: %v", g)
	}
}

// TestWithDeadlines: a request given its own deadlines outlives the
// server's read timeout while its body trickles in; without them it is
// cut off.
func TestWithDeadlines(t *testing.T) {
	read := func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
			return
		}
		io.WriteString(w, strings.Repeat("x", int(n)))
	}
	mux := http.NewServeMux()
	mux.Handle("/long", withDeadlines(10*time.Second)(http.HandlerFunc(read)))
	mux.HandleFunc("/short", read)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	srv.Start()
	defer srv.Close()
	slowly := func(path string) (int, error) {
		pr, pw := io.Pipe()
		go func() {
			for i := 0; i < 8; i++ {
				pw.Write([]byte("0123456789"))
				time.Sleep(100 * time.Millisecond)
			}
			pw.Close()
		}()
		resp, err := http.Post(srv.URL+path, "application/octet-stream", pr)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return len(b), err
	}
	if n, err := slowly("/long"); err != nil || n != 80 {
		t.Fatalf("with its own deadlines: %d bytes, %v", n, err)
	}
	if n, err := slowly("/short"); err == nil && n == 80 {
		t.Fatal("the server's read timeout did not cut the slow request off; the test proves nothing")
	}
}

// TestServePathPrefixAPIs: under --path-prefix the /api/v1 routes that
// route on their full paths (verification, PDF) and /getSealImg answer
// there.
func TestServePathPrefixAPIs(t *testing.T) {
	m := testpki.Manifest(t)
	srv := startServe(t, "--dev", "--data", t.TempDir(), "--trust", m.TrustDir, "--path-prefix", "/scan")
	tok := systemToken(t, srv.url+"/scan")
	leaf, _ := m.Leaf("sm2-person")
	pem, _ := os.ReadFile(leaf.CertPath)
	body, _ := json.Marshal(map[string]string{"cert": string(pem)})
	if code, r := apiCall(t, srv.url+"/scan/api/v1/certs/inspect", systemBasic, "application/json", bytes.NewReader(body)); code != 200 || r["valid"] != true {
		t.Fatalf("inspect under the prefix: %d %v", code, r)
	}
	pdf, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "pdf", "gs-basic.pdf"))
	ct, mb := multipartPDF(t, pdf, nil)
	if code, r := apiCall(t, srv.url+"/scan/api/v1/pdf/verify", systemBasic, ct, mb); code != 200 || r["invokeCode"] != float64(1) {
		t.Fatalf("pdf verify under the prefix: %d %v", code, r)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.url+"/scan/api/v1/operations/9b2f1a44-7c1e-4d55-8a5e-2f0c7a1b3d9e", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	json.NewDecoder(resp.Body).Decode(&r)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || r["failMessage"] != "授权码尚未绑定操作，只能用于调用 initMessage" {
		t.Fatalf("results under the prefix (token bound to no operation): %d %v", resp.StatusCode, r)
	}
	code, r, _ := getJSON(t, srv.url+"/scan/getSealImg?guid=nope&token="+tok)
	if code != 200 || r["invokeCode"] != float64(400) {
		t.Fatalf("/scan/getSealImg: %d %v", code, r)
	}
	if code, _ := apiCall(t, srv.url+"/api/v1/certs/inspect", systemBasic, "application/json", bytes.NewReader(body)); code != http.StatusNotFound {
		t.Fatalf("outside the prefix: %d", code)
	}
}

// TestServeWrongMethod: a wrong method on a REST route (or /qrcode) is 405
// with the Allow header and the APIFailure body every /api/v1 refusal has,
// whichever handler owns the path; an unknown /api/v1 path is a JSON 404.
func TestServeWrongMethod(t *testing.T) {
	m := testpki.Manifest(t)
	srv := startServe(t, "--dev", "--data", t.TempDir(), "--trust", m.TrustDir)
	const op = "/api/v1/operations/9b2f1a44-7c1e-4d55-8a5e-2f0c7a1b3d9e"
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "/api/v1/verify", 405, "POST"},
		{http.MethodPut, "/api/v1/certs/inspect", 405, "POST"},
		{http.MethodGet, "/api/v1/envelope/encrypt", 405, "POST"},
		{http.MethodGet, "/api/v1/pdf/verify", 405, "POST"},
		{http.MethodDelete, op, 405, "GET"},
		{http.MethodGet, op + "/encrypt", 405, "POST"},
		{http.MethodDelete, "/qrcode", 405, "GET"},
		{http.MethodPut, "/grantToken", 405, "GET, POST"},
		{http.MethodGet, "/api/v1/nothing", 404, ""},
	} {
		req, _ := http.NewRequest(c.method, srv.url+c.path, nil)
		systemBasic.Authorize(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var f map[string]any
		err = json.NewDecoder(resp.Body).Decode(&f)
		resp.Body.Close()
		wantCode := map[int]string{405: "method-not-allowed", 404: "not-found"}[c.status]
		if err != nil || resp.StatusCode != c.status || f["invokeCode"] != float64(c.status) || f["code"] != wantCode ||
			f["message"] == "" || f["message"] != f["failMessage"] || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: HTTP %d Allow %q %v (%v)", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), f, err)
		}
	}
}
