package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/certs/devpki"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/internal/testtool"
	"github.com/scansign/scansign/relay/client"
	"github.com/scansign/scansign/seal"
	sealstore "github.com/scansign/scansign/seal/store"
)

// sealCompany is `scansign seal serve --dev` running in-process on its own
// loopback port: the seal company of the guide's 三.5 step 8, apart from
// the relay.
type sealCompany struct {
	url string
	log *syncBuffer
}

func startSealCompany(t *testing.T, data string) *sealCompany {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	exit := make(chan int, 1)
	go func() {
		exit <- runSeal(ctx, []string{"serve", "--dev", "--listen", "127.0.0.1:0", "--data", data}, io.Discard, logs)
	}()
	t.Cleanup(func() { cancel(); <-exit })
	addrRE := regexp.MustCompile(`msg="seal service listening" addr=(\S+)`)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			return &sealCompany{url: "http://" + m[1], log: logs}
		}
		if time.Now().After(deadline) {
			t.Fatalf("seal serve did not start: %s", logs.String())
		}
	}
}

// sealSetup is a dev PKI whose leaves have seals at a separate seal
// company, and `serve --dev` trusting the PKI with that company configured
// under code.
type sealSetup struct {
	pki     *devpki.Manifest
	company *sealCompany
	relay   *running
}

func newSealSetup(t *testing.T, code string) *sealSetup {
	t.Helper()
	// The two organisations get their dev seals (drawing all of them is
	// slow under -race; `pki init --dev-seals` is tested on its own).
	m, sealData := testpki.Manifest(t), t.TempDir()
	st, err := sealstore.Open(context.Background(), sealstore.Config{DataDir: sealData})
	if err != nil {
		t.Fatal(err)
	}
	var holders []seal.DevHolder
	for _, h := range seal.DevHoldersFromManifest(m) {
		if h.Label == "SM2-ORG" || h.Label == "RSA-ORG" {
			holders = append(holders, h)
		}
	}
	if added, err := seal.RegisterDevSeals(context.Background(), st, holders); err != nil || len(added) != 4 {
		t.Fatalf("dev seals: %d, %v", len(added), err)
	}
	st.Close()
	company := startSealCompany(t, sealData)
	companyURL := strings.Replace(company.url, "http://", "http://"+devSealAccount+":"+devSealPassword+"@", 1) + "?timeout=3s"
	relay := startServe(t, "--dev", "--data", t.TempDir(), "--trust", m.TrustDir, "--seal-company", code+"="+companyURL)
	return &sealSetup{pki: m, company: company, relay: relay}
}

// transitions reads the relay's log: the (from, to) status changes of guid
// in order.
func transitions(t *testing.T, log, guid string) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Msg      string `json:"msg"`
			GUID     string `json:"guid"`
			From, To int
			Via      string `json:"via"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "operation status changed" && rec.GUID == guid {
			out = append(out, fmt.Sprintf("%d→%d", rec.From, rec.To))
		}
	}
	return out
}

// TestSealFlowWithApp is the guide's 三.5 and 三.6 end to end over two real
// servers — the relay (`serve --dev`) and a seal company (`seal serve
// --dev`) it calls by the code the app names — with `scansign app` as the
// phone and this test as the seal control, in both shapes: the operation
// goes 0→1→2→5→4→2, the seals come from the company, the hash goes in
// through the PDF API, the completed PDF verifies, and a revoke operation
// signed by the app takes the seal back to the original bytes.
func TestSealFlowWithApp(t *testing.T) {
	s := newSealSetup(t, "anhui-seal")
	for _, tc := range []struct {
		leaf, shape string
		certType    int
	}{
		{"sm2-org", "cms", 1},    // the app signs prepared signed attributes raw
		{"rsa-org", "p7hash", 0}, // the guide's PKCS#7 over the hash
	} {
		t.Run(tc.leaf+" "+tc.shape, func(t *testing.T) {
			leaf, _ := s.pki.Leaf(tc.leaf)
			original := demoPDF()
			sealed := s.sealWithApp(t, leaf, tc.shape, tc.certType, original)
			back := s.revokeWithApp(t, leaf, sealed)
			if !bytes.Equal(back, original) {
				t.Fatal("the revoked PDF is not the original")
			}
		})
	}
}

// app runs `scansign app` on an operation in the background.
func (s *sealSetup) app(leaf *devpki.Leaf, guid string) <-chan appResult {
	qr := fmt.Sprintf(`{"guid":%q,"url":%q,"city":"P3401000001"}`, guid, s.relay.url)
	done := make(chan appResult, 1)
	go func() {
		code, out, errOut := appRun("--qr", qr, "--seal-company", "anhui-seal", "--account", devAppAccount, "--secret", devAppSecret,
			"--pfx", leaf.PFXPath, "--pfx-password", leaf.PFXPass, "--timeout", "1m")
		done <- appResult{code, out, errOut}
	}()
	return done
}

type appResult struct {
	code     int
	out, err string
}

func (s *sealSetup) sealWithApp(t *testing.T, leaf *devpki.Leaf, shape string, certType int, original []byte) []byte {
	t.Helper()
	ctx := context.Background()
	c := client.New(s.relay.url, nil)
	tok := systemToken(t, s.relay.url)
	guid, err := c.InitMessage(ctx, tok, client.InitMessageRequest{Type: 5, Message: fileHash(original), Title: "xx 系统签章", CertType: certType})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.GetCaMessageResult(ctx, tok, guid); err != nil || r.Status != 0 {
		t.Fatalf("before the scan: %+v %v", r, err)
	}
	done := s.app(leaf, guid)

	// The seal control waits for the app's seal company (status 2) …
	var r client.Result
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if r, err = c.GetCaMessageResult(ctx, tok, guid); err != nil {
			t.Fatal(err)
		}
		if r.Status == 2 || time.Now().After(deadline) {
			break
		}
	}
	if r.Status != 2 || *r.Value != `{"signatureCompanyCode":"anhui-seal"}` || *r.ExtMessage != `{"caSerialId":"`+leaf.Serial+`"}` {
		t.Fatalf("the app's first save: %+v", r)
	}
	// … gets the seals through the relay from the seal company (5) …
	seals, err := c.GetSealImg(ctx, tok, guid)
	if err != nil || len(seals) != 2 || seals[0].SignName != leaf.CommonName+"公章" || seals[0].SignWidth != "4.2" {
		t.Fatalf("getSealImg: %+v %v", seals, err)
	}
	if !strings.Contains(s.company.log.String(), `path=/api/getSeal status=200`) {
		t.Fatalf("the seal company saw no getSeal:\n%s", s.company.log.String())
	}
	// … places one on the PDF and hands the hash to the app (4) …
	req := client.PDFPrepareRequest{PDF: original, SealImg: seals[0].Img, SignWidth: seals[0].SignWidth,
		SignHeight: seals[0].SignHeight, Page: 1, X: 3, Y: 12, Shape: shape, GUID: guid}
	if shape == "cms" {
		chain, _ := os.ReadFile(leaf.ChainPath)
		req.Cert = string(chain)
	}
	// The account's Basic credentials reach no operation: prepare refuses
	// to store the hash with them, and the operation stays at 5.
	if _, err := c.PDFPrepare(ctx, systemBasic, req); client.Code(err) != 401 || !strings.Contains(err.Error(), "账号密码只能调用不涉及具体操作的接口") {
		t.Fatalf("prepare with the guid and Basic credentials: %v", err)
	}
	if r, err := c.GetCaMessageResult(ctx, tok, guid); err != nil || r.Status != 5 {
		t.Fatalf("after the refused prepare: %+v %v", r, err)
	}
	p, err := c.PDFPrepare(ctx, client.Token(tok), req)
	if err != nil || p.GUID != guid || p.Shape != shape {
		t.Fatalf("prepare: %+v %v", p, err)
	}
	// … the app signs and saves (2) …
	res := <-done
	if res.code != exitOK || !strings.Contains(res.out, "status 4: the seal control put the PDF hash in") {
		t.Fatalf("app: exit %d\n%s%s", res.code, res.out, res.err)
	}
	final, err := c.OperationResult(ctx, tok, guid)
	if err != nil || final.Status != 2 || !final.Final || final.Outcome == nil || !final.Outcome.Valid || final.Outcome.SignatureCompanyCode != "anhui-seal" {
		t.Fatalf("results: %+v %v", final, err)
	}
	// … and the control merges the signature into the PDF.
	var v struct{ SignStr, PubCert string }
	json.Unmarshal([]byte(*final.Value), &v)
	done2, err := c.PDFComplete(ctx, client.Token(tok), client.PDFCompleteRequest{PDF: p.PDF, SignStr: v.SignStr, PubCert: v.PubCert, SignedAttributes: p.SignedAttributes})
	if err != nil || done2.Signer == nil || done2.Signer.Serial != leaf.Serial {
		t.Fatalf("complete: %+v %v", done2, err)
	}
	rep, err := c.PDFVerify(ctx, client.Token(tok), done2.PDF)
	if err != nil || !rep.Valid || len(rep.Signatures) != 1 || !rep.Signatures[0].CoversDocument || string(rep.Signatures[0].Shape) != shape {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if got := strings.Join(transitions(t, s.relay.log.String(), guid), " "); got != "0→1 1→2 2→5 5→4 4→2" {
		t.Fatalf("the operation went %s", got)
	}
	return done2.PDF
}

// revokeWithApp is 三.6: the control lists the seals (before any
// operation, with the system account's Basic credentials), starts a revoke
// operation on the latest one's hash, the app signs it, and the PDF API
// takes the seal back (with the token bound to the revoke operation).
func (s *sealSetup) revokeWithApp(t *testing.T, leaf *devpki.Leaf, sealed []byte) []byte {
	t.Helper()
	ctx := context.Background()
	c := client.New(s.relay.url, nil)
	tok := systemToken(t, s.relay.url)
	// An RSA app signing the same hash text with a signing time in the same
	// second as its seal makes the seal's very signature again (PKCS #1
	// v1.5 is deterministic), which revoke refuses as a replay: a person
	// takes longer than a second, this test waits for the next one.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	list, err := c.PDFSeals(ctx, systemBasic, sealed)
	if err != nil || len(list) != 1 || !list[0].Revocable {
		t.Fatalf("seals: %+v %v", list, err)
	}
	guid, err := c.InitMessage(ctx, tok, client.InitMessageRequest{Type: 6, Message: list[0].Hash, Title: "xx 系统撤章"})
	if err != nil {
		t.Fatal(err)
	}
	if res := <-s.app(leaf, guid); res.code != exitOK {
		t.Fatalf("app, revoke: exit %d\n%s%s", res.code, res.out, res.err)
	}
	final, err := c.OperationResult(ctx, tok, guid)
	if err != nil || final.Outcome == nil || !final.Outcome.Valid || !final.Outcome.Verification.ContentChecked {
		t.Fatalf("results, revoke: %+v %v", final, err)
	}
	back, err := c.PDFRevoke(ctx, client.Token(tok), sealed, *final.Value, "")
	if err != nil || back.FieldName != list[0].FieldName {
		t.Fatalf("revoke: %+v %v", back, err)
	}
	return back.PDF
}

// TestGuideSealCurlExamples runs the guide's 三.5 curl examples for steps
// 6–10 (with -i, as the guide writes them) against `serve --dev` with a
// seal company configured under the guide's code "xx", comparing every
// answer field for field.
func TestGuideSealCurlExamples(t *testing.T) {
	testtool.Need(t, "curl")
	s := newSealSetup(t, "xx")
	leaf, _ := s.pki.Leaf("rsa-org")
	relay := s.relay.url
	curl := func(args ...string) (headers string, body map[string]any, raw string) {
		t.Helper()
		out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "10"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		head, rawBody, _ := strings.Cut(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n\n")
		if !strings.HasPrefix(head, "HTTP/1.1 200") || !strings.Contains(head, "Content-Type: application/json;charset=utf-8") {
			t.Fatalf("curl %v: headers\n%s", args, head)
		}
		if err := json.Unmarshal([]byte(rawBody), &body); err != nil {
			t.Fatalf("curl %v: body %s", args, rawBody)
		}
		return head, body, rawBody
	}
	form := func(path, data string) (map[string]any, string) {
		_, b, raw := curl("-X", "POST", "-H", "Content-Type: Application/x-www-form-urlencoded", "-i", relay+path, "--data", data)
		return b, raw
	}

	// Steps 2–5, to get there.
	b, _ := form("/grantToken", "accountName="+devSystemAccount+"&password="+devSystemSecret)
	tok := b["token"].(string)
	b, _ = form("/initMessage", "type=5&message=f7c54891-adad-4f32-9994-83d70a7204a2&title=xx 系统签章 &certType=0&token="+tok)
	guid := b["guid"].(string)
	b, _ = form("/grantToken", "accountName="+devAppAccount+"&password="+devAppSecret+"&guid="+guid)
	appTok := b["token"].(string)
	if _, raw := form("/getInitMessage", "guid="+guid+"&token="+appTok); raw != `{"message":"f7c54891-adad-4f32-9994-83d70a7204a2","title":"xx 系统签章 ","invokeCode":1,"certType":0,"type":"5"}` {
		t.Fatalf("step 5: %s", raw)
	}

	// 6. The app saves its seal company's code and its certificate serial.
	if _, raw := form("/saveCaMessageResult", "guid="+guid+`&value={"signatureCompanyCode": "xx"}&extMessage={"caSerialId": "`+leaf.Serial+`"}&status=2&token=`+appTok+" "); raw != `{"invokeCode":1}` {
		t.Fatalf("step 6: %s", raw)
	}
	// 7–8. The seal control asks for the seal images; the relay asks seal
	// company xx for the certificate's seals.
	_, raw := form("/getSealImg", "guid="+guid+"&token="+tok)
	var answer struct {
		InvokeCode int `json:"invokeCode"`
		SignInfos  []struct {
			SignName, SignWidth, SignHeight, Img, Description string
		} `json:"signInfos"`
	}
	json.Unmarshal([]byte(raw), &answer)
	keys := regexp.MustCompile(`"(\w+)":`).FindAllStringSubmatch(raw, -1)
	var names []string
	for _, k := range keys {
		names = append(names, k[1])
	}
	fields := "signName,signWidth,signHeight,img,description"
	if strings.Join(names, ",") != "invokeCode,signInfos,"+fields+","+fields || answer.InvokeCode != 1 || len(answer.SignInfos) != 2 {
		t.Fatalf("step 7: keys %v in %.300s", names, raw)
	}
	// The images are the company's, byte for byte.
	getSeal, _ := exec.Command("curl", "-sS", s.company.url+"/api/getSeal", "--data", "caSerialId="+leaf.Serial+"&accountName="+devSealAccount+"&password="+devSealPassword).Output()
	var company struct {
		SignInfos []struct{ SignName, SignWidth, SignHeight, SignData, Description string }
	}
	if err := json.Unmarshal(getSeal, &company); err != nil || len(company.SignInfos) != 2 {
		t.Fatalf("the company's own answer: %s", getSeal)
	}
	for i, si := range answer.SignInfos {
		ci := company.SignInfos[i]
		if si.SignName != ci.SignName || si.SignWidth != ci.SignWidth || si.SignHeight != ci.SignHeight || si.Img != ci.SignData || si.Description != ci.Description {
			t.Fatalf("seal %d: relay %+v, company %+v", i, si, ci)
		}
	}
	if _, raw := form("/getCaMessageResult", "guid="+guid+"&token="+tok); !strings.HasPrefix(raw, `{"status":5,"invokeCode":1,`) {
		t.Fatalf("after step 7: %s", raw)
	}
	// 9. The control places the seal and stores the file hash (the PDF
	// API with the guid: status 4, the hash in value).
	pdfPath := filepath.Join(t.TempDir(), "contract.pdf")
	os.WriteFile(pdfPath, demoPDF(), 0o600)
	imgPath := filepath.Join(t.TempDir(), "seal.b64")
	os.WriteFile(imgPath, []byte(answer.SignInfos[0].Img), 0o600)
	_, prep, _ := curl("-i", "-H", "Authorization: Bearer "+tok, relay+"/api/v1/pdf/prepare", "-F", "pdf=@"+pdfPath, "-F", "sealImg=<"+imgPath,
		"-F", "page=1", "-F", "x=3", "-F", "y=12", "-F", "shape=p7hash", "-F", "guid="+guid)
	hash, _ := prep["hash"].(string)
	if prep["invokeCode"] != float64(1) || prep["guid"] != guid || len(hash) != 64 {
		t.Fatalf("step 9: %v", prep["hash"])
	}
	if _, raw := form("/getCaMessageResult", "guid="+guid+"&token="+appTok); raw != `{"status":4,"invokeCode":1,"value":"`+hash+`","extMessage":"{\"shape\":\"p7hash\",\"digestAlgorithm\":\"SM3\",\"toSign\":\"`+hash+`\"}"}` {
		t.Fatalf("the app at status 4: %s", raw)
	}
	// 10. The app saves its signature of the hash (the guide's example
	// values), and the control sees them.
	if _, raw := form("/saveCaMessageResult", "guid="+guid+"&value=hash&extMessage=xxx&status=2&token="+appTok+" "); raw != `{"invokeCode":1}` {
		t.Fatalf("step 10: %s", raw)
	}
	if _, raw := form("/getCaMessageResult", "guid="+guid+"&token="+tok); raw != `{"status":2,"invokeCode":1,"value":"hash","extMessage":"xxx"}` {
		t.Fatalf("after step 10: %s", raw)
	}
	if got := strings.Join(transitions(t, s.relay.log.String(), guid), " "); got != "0→1 1→2 2→5 5→4 4→2" {
		t.Fatalf("the operation went %s", got)
	}
}
