package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/internal/testtool"
	"github.com/scansign/scansign/phone"
	"github.com/scansign/scansign/relay/client"
)

// appRelay is a dev relay with the results API and a fresh dev PKI, the
// way the demo starts it, for the app CLI's tests.
func appRelay(t *testing.T) *demo {
	t.Helper()
	d, err := startDemo(context.Background(), demoOptions{listen: "127.0.0.1:0", pki: testpki.Manifest(t)}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.stop(); os.RemoveAll(d.dir) })
	return d
}

// appRun runs `scansign app` with args.
func appRun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), append([]string{"app"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// startOp is the trading system's side: a token and an operation.
func (d *demo) startOp(t *testing.T, typ int, message string, certType int) (tok, guid string) {
	t.Helper()
	ctx := context.Background()
	tok, err := d.c.GrantToken(ctx, devSystemAccount, devSystemSecret, "")
	if err != nil {
		t.Fatal(err)
	}
	guid, err = d.c.InitMessage(ctx, tok, client.InitMessageRequest{Type: typ, Message: message, Title: "xx 系统", CertType: certType})
	if err != nil {
		t.Fatal(err)
	}
	return tok, guid
}

func (d *demo) leafFlags(t *testing.T, name string, pfx bool) []string {
	t.Helper()
	l, ok := d.pki.Leaf(name)
	if !ok {
		t.Fatalf("no leaf %s", name)
	}
	if pfx {
		return []string{"--pfx", l.PFXPath, "--pfx-password", l.PFXPass}
	}
	return []string{"--key", l.EncKeyPath, "--key-password", l.PFXPass, "--cert", l.ChainPath}
}

func appAccountFlags() []string {
	return []string{"--account", devAppAccount, "--secret", devAppSecret}
}

func TestAppCLI(t *testing.T) {
	d := appRelay(t)
	ctx := context.Background()

	t.Run("login from the QR image, pfx", func(t *testing.T) {
		tok, guid := d.startOp(t, phone.TypeLogin, "f7c54891-adad-4f32-9994-83d70a7204a2", 0)
		png, err := d.c.QRCode(ctx, tok, guid, demoCity, 0)
		if err != nil {
			t.Fatal(err)
		}
		img := filepath.Join(t.TempDir(), "qr.png")
		if err := os.WriteFile(img, png, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := appRun(append(append([]string{"--qr-image", img}, appAccountFlags()...), d.leafFlags(t, "sm2-person", true)...)...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		for _, want := range []string{"grantToken", "getInitMessage", "登录 login", "checkCert", "PKCS#7", "gm OIDs", "done: 登录 login answered"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		res, err := d.c.OperationResult(ctx, tok, guid)
		if err != nil || res.Outcome == nil || !res.Outcome.Valid {
			t.Fatalf("results: %+v %v", res, err)
		}
	})

	t.Run("sign with key and cert, standard OIDs, JSON", func(t *testing.T) {
		tok, guid := d.startOp(t, phone.TypeSign, "签名原文", 2)
		qr, _ := d.srv.relay.Payload(guid, demoCity)
		args := append(append([]string{"--qr", string(qr), "--oid-style", "standard", "--json"}, appAccountFlags()...), d.leafFlags(t, "sm2-person", false)...)
		code, out, errOut := appRun(args...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		var doc struct {
			OK     bool         `json:"ok"`
			Status int          `json:"status"`
			Value  string       `json:"value"`
			Steps  []phone.Step `json:"steps"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || !doc.OK || doc.Status != 2 || len(doc.Steps) < 5 {
			t.Fatalf("JSON output %v: %s", err, out)
		}
		res, err := d.c.OperationResult(ctx, tok, guid)
		if err != nil || !res.Outcome.Valid || res.Outcome.Verification.OIDStyle != "standard" {
			t.Fatalf("results: %+v %v", res.Outcome, err)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		tok, guid := d.startOp(t, phone.TypeSign, "x", 0)
		qr, _ := d.srv.relay.Payload(guid, demoCity)
		code, out, _ := appRun(append(append([]string{"--qr", string(qr), "--cancel"}, appAccountFlags()...), d.leafFlags(t, "rsa-person", true)...)...)
		if code != exitOK || !strings.Contains(out, "declined") {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if r, _ := d.c.GetCaMessageResult(ctx, tok, guid); r.Status != 3 {
			t.Fatalf("status %d", r.Status)
		}
	})

	t.Run("refusals exit 1", func(t *testing.T) {
		// The operation wants an organisation; a person's certificate does not fit.
		_, guid := d.startOp(t, phone.TypeLogin, "n", 1)
		qr, _ := d.srv.relay.Payload(guid, demoCity)
		code, out, _ := appRun(append(append([]string{"--qr", string(qr)}, appAccountFlags()...), d.leafFlags(t, "sm2-person", true)...)...)
		if code != exitInvalid || !strings.Contains(out, "refused") {
			t.Fatalf("wrong certType: exit %d\n%s", code, out)
		}
		// The right certificate answers; scanning again after that is refused by the relay.
		args := append(append([]string{"--qr", string(qr)}, appAccountFlags()...), d.leafFlags(t, "sm2-org", true)...)
		if code, out, _ := appRun(args...); code != exitOK {
			t.Fatalf("org: exit %d\n%s", code, out)
		}
		code, out, _ = appRun(append(args, "--json")...)
		var doc struct {
			OK    bool `json:"ok"`
			Error struct {
				InvokeCode int `json:"invokeCode"`
			} `json:"error"`
		}
		if code != exitInvalid || json.Unmarshal([]byte(out), &doc) != nil || doc.OK || doc.Error.InvokeCode != 409 {
			t.Fatalf("second scan: exit %d\n%s", code, out)
		}
		// A wrong app secret.
		code, out, _ = appRun(append([]string{"--qr", string(qr), "--account", devAppAccount, "--secret", "wrong"}, d.leafFlags(t, "sm2-org", true)...)...)
		if code != exitInvalid || !strings.Contains(out, "invokeCode 401") {
			t.Fatalf("wrong secret: exit %d\n%s", code, out)
		}
	})

	t.Run("relay override", func(t *testing.T) {
		tok, guid := d.startOp(t, phone.TypeEncrypt, "to encrypt", 0)
		qr := fmt.Sprintf(`{"guid":%q,"url":"https://relay.unreachable.example/scan","city":%q}`, guid, demoCity)
		code, out, errOut := appRun(append(append([]string{"--qr", qr, "--relay", d.baseURL}, appAccountFlags()...), d.leafFlags(t, "rsa-org", true)...)...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		if res, err := d.c.OperationResult(ctx, tok, guid); err != nil || !res.Outcome.Valid || res.Outcome.Signer.CreditCode == "" {
			t.Fatalf("results: %+v %v", res, err)
		}
	})

	t.Run("usage and I/O errors exit 2", func(t *testing.T) {
		_, guid := d.startOp(t, phone.TypeLogin, "n", 0)
		qr, _ := d.srv.relay.Payload(guid, demoCity)
		good := d.leafFlags(t, "sm2-person", true)
		for _, tc := range []struct {
			name string
			args []string
		}{
			{"no QR", append(appAccountFlags(), good...)},
			{"both QR forms", append(append([]string{"--qr", string(qr), "--qr-image", "x.png"}, appAccountFlags()...), good...)},
			{"no key", append([]string{"--qr", string(qr)}, appAccountFlags()...)},
			{"no secret", append([]string{"--qr", string(qr), "--account", devAppAccount}, good...)},
			{"bad OID style", append(append([]string{"--qr", string(qr), "--oid-style", "x"}, appAccountFlags()...), good...)},
			{"wrong pfx password", append([]string{"--qr", string(qr), "--pfx", good[1], "--pfx-password", "nope"}, appAccountFlags()...)},
			{"not the guide's JSON", append(append([]string{"--qr", "hello"}, appAccountFlags()...), good...)},
			{"not a QR image", append(append([]string{"--qr-image", good[1]}, appAccountFlags()...), good...)},
			{"relay not http", append(append([]string{"--qr", string(qr), "--relay", "file:///etc"}, appAccountFlags()...), good...)},
			{"relay down", append(append([]string{"--qr", string(qr), "--relay", "http://127.0.0.1:1"}, appAccountFlags()...), good...)},
		} {
			if code, out, errOut := appRun(tc.args...); code != exitUsage || errOut == "" {
				t.Errorf("%s: exit %d, want 2\n%s%s", tc.name, code, out, errOut)
			}
		}
	})
}

// TestGuideCurlExamples runs the guide's curl examples of 三.1 (login) and
// 三.5 (seal) — its headers, bodies and GET with a query string — with
// `scansign app` playing the phone.
func TestGuideCurlExamples(t *testing.T) {
	testtool.Need(t, "curl")
	d := appRelay(t)
	curl := func(args ...string) map[string]any {
		t.Helper()
		out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "10"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil || m["invokeCode"] != float64(1) {
			t.Fatalf("curl %v answered %s", args, out)
		}
		return m
	}
	form := []string{"-X", "POST", "-H", "Content-Type: Application/x-www-form-urlencoded"}
	post := func(path, data string) map[string]any {
		return curl(append(form, d.baseURL+path, "--data", data)...)
	}

	t.Run("三.1 login", func(t *testing.T) {
		tok := post("/grantToken", "accountName="+devSystemAccount+"&password="+devSystemSecret)["token"].(string)
		guid := post("/initMessage", "type=4&message=f7c54891-adad-4f32-9994-83d70a7204a2&title=xx 系统登录 &certType=0&token="+tok)["guid"].(string)
		got := curl("-X", "GET", "-H", "Content-Type: Application/x-www-form-urlencoded", d.baseURL+"/getCaMessageResult?guid="+guid+"&token="+tok)
		if got["status"] != float64(0) || got["value"] != nil {
			t.Fatalf("before the scan: %v", got)
		}
		qr, _ := d.srv.relay.Payload(guid, demoCity)
		if code, out, errOut := appRun(append(append([]string{"--qr", string(qr)}, appAccountFlags()...), d.leafFlags(t, "sm2-person", true)...)...); code != exitOK {
			t.Fatalf("app: exit %d\n%s%s", code, out, errOut)
		}
		got = curl("-X", "GET", "-H", "Content-Type: Application/x-www-form-urlencoded", d.baseURL+"/getCaMessageResult?guid="+guid+"&token="+tok)
		var value struct{ SignStr, PubCert string }
		if got["status"] != float64(2) || json.Unmarshal([]byte(got["value"].(string)), &value) != nil || value.SignStr == "" || value.PubCert == "" {
			t.Fatalf("after the scan: %v", got)
		}
		res := curl("-H", "Authorization: Bearer "+tok, d.baseURL+"/api/v1/operations/"+guid)
		if o := res["outcome"].(map[string]any); o["valid"] != true {
			t.Fatalf("results: %v", res)
		}
	})

	t.Run("三.5 seal", func(t *testing.T) {
		tok := post("/grantToken", "accountName="+devSystemAccount+"&password="+devSystemSecret)["token"].(string)
		guid := post("/initMessage", "type=5&message=f7c54891-adad-4f32-9994-83d70a7204a2&title=xx 系统签章 &certType=0&token="+tok)["guid"].(string)
		qr, _ := d.srv.relay.Payload(guid, demoCity)
		type result struct {
			code     int
			out, err string
		}
		done := make(chan result, 1)
		go func() {
			code, out, errOut := appRun(append(append([]string{"--qr", string(qr), "--seal-company", "anhui-seal"}, appAccountFlags()...), d.leafFlags(t, "rsa-org", true)...)...)
			done <- result{code, out, errOut}
		}()
		// The seal control waits for the app's seal company (status 2).
		var got map[string]any
		for deadline := time.Now().Add(10 * time.Second); ; {
			got = post("/getCaMessageResult", "guid="+guid+"&token="+tok)
			if got["status"] == float64(2) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got["value"] != `{"signatureCompanyCode":"anhui-seal"}` || !strings.Contains(fmt.Sprint(got["extMessage"]), `"caSerialId"`) {
			t.Fatalf("the app's first save: %v", got)
		}
		// It fetched the seals (5) and stores the PDF hash to sign (4).
		post("/saveCaMessageResult", "guid="+guid+"&status=5&token="+tok)
		hash := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		post("/saveCaMessageResult", "guid="+guid+"&value="+hash+"&status=4&token="+tok)
		r := <-done
		if r.code != exitOK || !strings.Contains(r.out, "status 4") {
			t.Fatalf("app: exit %d\n%s%s", r.code, r.out, r.err)
		}
		got = post("/getCaMessageResult", "guid="+guid+"&token="+tok)
		var value map[string]string
		if got["status"] != float64(2) || json.Unmarshal([]byte(got["value"].(string)), &value) != nil ||
			value["signatureCompanyCode"] != "anhui-seal" || value["signStr"] == "" || value["pubCert"] == "" {
			t.Fatalf("the app's answer: %v", got)
		}
		res := curl("-H", "Authorization: Bearer "+tok, d.baseURL+"/api/v1/operations/"+guid)
		if o := res["outcome"].(map[string]any); o["valid"] != true {
			t.Fatalf("results: %v", res)
		}
	})
}
