package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/phone"
	"github.com/scansign/scansign/relay/client"
)

// TestDemoOnce is the README's first command: every flow runs and
// verifies, and the output tells a newcomer what happened.
func TestDemoOnce(t *testing.T) {
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), []string{"demo", "--once", "--listen", "127.0.0.1:0"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	s := out.String()
	for _, want := range []string{
		"━━ 1/7 登录 login", "━━ 2/7 签名 sign", "━━ 3/7 加密 encrypt", "━━ 4/7 解密 decrypt",
		"━━ 5/7 签章 seal (cms)", "━━ 6/7 签章 seal (p7hash)", "━━ 7/7 撤章 revoke",
		"█▀", // the QR code, drawn
		`{"guid":"`, "张三's SM2 certificate scans it",
		"✓ logged in as 张三 (个人证书 person)",
		"✓ signed by 合肥示例招标代理有限公司 (机构证书 organisation)", "统一社会信用代码 91",
		"over exactly the message the trading system asked to sign",
		"✓ certificate of 张三", "envelope of",
		`plaintext: "投标报价 1,234,567.00 元（开标前保密）"`,
		// 签章: the seal company's seals through getSealImg, prepare moving
		// the operation to 4, the phone signing, complete and verify.
		`getSealImg → the relay asked seal company "dev": 合肥示例招标代理有限公司公章 4.2×4.2 cm`,
		"stored in the operation (status 4): the app signs the prepared signed attributes, raw",
		"stored in the operation (status 4): the app signs a PKCS#7 over the hash",
		"✓ sealed by 合肥示例招标代理有限公司 (机构证书 organisation)", "✓ sealed by 张三 (个人证书 person)",
		"✓ Seal1 on page 1 by 合肥示例招标代理有限公司 (adbe.pkcs7.detached, SHA-256): intact, signature verified, signer trusted; covers its revision; later changes only add signatures",
		"✓ Seal2 on page 1 by 张三 (scansign.pkcs7.hash, SM3): intact, signature verified, signer trusted; covers the whole document",
		// 撤章: the latest seal back, byte for byte.
		"the latest, Seal2 by 张三, can be taken back", "✓ take-back signed by 张三",
		"Seal2 removed; the PDF is byte for byte the one before it",
		"Every flow verified.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(s, "✗") || errb.Len() != 0 {
		t.Errorf("demo reported a failure or wrote to stderr:\n%s\n%s", s, errb.String())
	}
	// Without --keep the temporary directory goes, and the demo says so.
	if m := regexp.MustCompile(`\nremoved (\S+) \(store, dev PKI and sealed PDFs\); --keep keeps it\n$`).FindStringSubmatch(s); m == nil {
		t.Errorf("the demo does not end saying it removed its directory")
	} else if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", m[1], err)
	}
	if t.Failed() {
		t.Log(s)
	}
}

// TestDemoKeepsServing: without --once the relay stays up with the
// commands to try, which work (the PDF API with the account's Basic
// credentials on the sealed contract) and name a README section that
// exists; Ctrl-C (the context) stops it cleanly, --keep keeping the
// directory.
func TestDemoKeepsServing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- dispatch(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--keep"}, out, errb) }()
	var url string
	for deadline := time.Now().Add(60 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := regexp.MustCompile(`keeps running at (http://[0-9.:]+)`).FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("the demo did not get to serving:\n%s\n%s", out.String(), errb.String())
	}
	for _, want := range []string{"curl -s -X POST '" + url + "/grantToken'", "scansign app --qr-image qr.png", "Authorization: Bearer TOKEN",
		"curl -s -u '" + devSystemAccount + ":" + devSystemSecret + "' '" + url + "/api/v1/pdf/verify'", "--keep keeps them after the demo stops"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the commands to try lack %q", want)
		}
	}
	if !strings.Contains(string(readREADME(t)), "\n### "+readmeSealSection+"\n") {
		t.Errorf("README has no section %q, which the demo points to", readmeSealSection)
	}
	m := regexp.MustCompile(`-F 'pdf=@(\S+)/contract-revoked\.pdf'`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no sealed contract to verify in:\n%s", out.String())
	}
	dir := m[1]
	t.Cleanup(func() { os.RemoveAll(dir) })
	contract, err := os.ReadFile(filepath.Join(dir, "contract-revoked.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := client.New(url, nil).PDFVerify(ctx, client.Basic(devSystemAccount, devSystemSecret), contract); err != nil || !rep.Valid || len(rep.Signatures) != 1 {
		t.Errorf("pdf/verify with Basic on the sealed contract: %+v %v", rep, err)
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the demo did not stop")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("still serving after stop")
	}
	if !strings.Contains(out.String(), "\nkept "+dir+" (store, dev PKI and sealed PDFs)\n") {
		t.Errorf("no word of the kept directory:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "contract-revoked.pdf")); err != nil {
		t.Errorf("--keep: %v", err)
	}
}

func TestDemoRefusesNonLoopback(t *testing.T) {
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"demo", "--listen", "0.0.0.0:8080"}, &out, &errb); code != exitUsage {
		t.Fatalf("exit %d", code)
	}
}

// TestDemoFlowAlongside: a flow whose trading-system side acts while the
// phone waits (the seal flow's seal control) is one more demoFlow entry.
func TestDemoFlowAlongside(t *testing.T) {
	var out bytes.Buffer
	d, err := startDemo(context.Background(), demoOptions{listen: "127.0.0.1:0", pki: testpki.Manifest(t)}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.stop(); os.RemoveAll(d.dir) }()
	seal := demoFlow{
		title: "签章 seal", story: "a company seals a PDF", typ: phone.TypeSeal, certType: 1, leaf: "sm2-org",
		message: func(context.Context, *demo) (string, error) { return "f7c54891-adad-4f32-9994-83d70a7204a2", nil },
		alongside: func(ctx context.Context, d *demo, tok, guid string) error {
			for {
				r, err := d.c.GetCaMessageResult(ctx, tok, guid)
				if err != nil {
					return err
				}
				if r.Status == phone.StatusConfirmed {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := d.c.SaveCaMessageResult(ctx, tok, client.SaveRequest{GUID: guid, Status: phone.StatusSealCert}); err != nil {
				return err
			}
			hash := strings.Repeat("5e", 32)
			return d.c.SaveCaMessageResult(ctx, tok, client.SaveRequest{GUID: guid, Status: phone.StatusSealHash, Value: &hash})
		},
		verified: func(_ context.Context, _ *demo, _, _ string, res *client.OperationResult) ([]string, error) {
			return signerLines(res, "sealed by")
		},
	}
	if failed := d.runFlows(context.Background(), []demoFlow{seal}); failed != 0 {
		t.Fatalf("the seal flow failed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "✓ sealed by 安徽示例建设工程有限公司") || !strings.Contains(out.String(), "status 4") {
		t.Fatalf("output:\n%s", out.String())
	}
}
