package pdfsign

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/sign"
)

// sealOps is a small real operation store for the sink: a seal operation
// takes the hash only when it exists and is at status 5, as in the relay.
type sealOps struct {
	mu  sync.Mutex
	ops map[string]*sealOp
}

type sealOp struct {
	status  int
	message string
}

func (s *sealOps) SetSealHash(_ context.Context, h SealHash) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.ops[h.GUID]
	if !ok {
		return fmt.Errorf("unknown guid %s", h.GUID)
	}
	if op.status != 5 {
		// As the relay's sink answers it: its invokeCode as the status.
		return &Error{Code: "conflict", Status: http.StatusConflict, Message: fmt.Sprintf("签章操作 %s 不能存入 hash：状态为 %d", h.GUID, op.status),
			English: fmt.Sprintf("operation %s is at status %d, not 5", h.GUID, op.status)}
	}
	op.status, op.message = 4, h.ToSign
	return nil
}

type part struct {
	name, file string
	data       []byte
}

func post(t *testing.T, srv *httptest.Server, path string, parts ...part) (int, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.file != "" {
			w, err = mw.CreateFormFile(p.name, p.file)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	resp, err := http.Post(srv.URL+path, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: answer is not JSON: %v", path, err)
	}
	return resp.StatusCode, out
}

func field(name, v string) part { return part{name: name, data: []byte(v)} }

func pdfOf(t *testing.T, resp map[string]any) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(resp["pdf"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHTTPSealFlow runs prepare (writing the hash into a seal operation),
// complete, verify, seals and revoke over HTTP.
func TestHTTPSealFlow(t *testing.T) {
	pki := thePKI(t)
	ops := &sealOps{ops: map[string]*sealOp{"op-1": {status: 5}}}
	srv := httptest.NewServer(NewHandler(HandlerOptions{Verifier: pki.verifier, Sink: ops}))
	defer srv.Close()
	original := corpus(t, "qpdf-xref-stream.pdf")
	id, _ := pki.identity(t, "sm2-org")
	certPEM := string(certs.EncodePEM(id.Certificate))

	// Two seals: the raw (cms) shape through the operation, then p7hash.
	code, prep := post(t, srv, "/api/v1/pdf/prepare",
		part{name: "pdf", file: "a.pdf", data: original}, part{name: "seal", file: "s.png", data: redSeal(t)},
		field("page", "1"), field("x", "2"), field("y", "3"), field("signWidth", "4"), field("signHeight", "4"),
		field("cert", certPEM), field("guid", "op-1"), field("reason", "同意"))
	if code != 200 || prep["invokeCode"] != float64(1) {
		t.Fatalf("prepare: %d %v", code, prep)
	}
	if op := ops.ops["op-1"]; op.status != 4 || op.message != prep["toSign"] || prep["guid"] != "op-1" {
		t.Fatalf("operation not at status 4 with the data to sign: %+v", op)
	}
	attrs, _ := base64.StdEncoding.DecodeString(prep["toSign"].(string))
	raw, err := sign.SM2(id.Signer, attrs, sign.RawOptions{RS: true}) // some apps send r||s
	if err != nil {
		t.Fatal(err)
	}
	code, comp := post(t, srv, "/api/v1/pdf/complete", part{name: "pdf", file: "p.pdf", data: pdfOf(t, prep)},
		field("signStr", base64.StdEncoding.EncodeToString(raw)), field("pubCert", certPEM))
	if code != 200 {
		t.Fatalf("complete: %d %v", code, comp)
	}
	once := pdfOf(t, comp)
	// The PDF may also be sent as base64 text.
	code, prep2 := post(t, srv, "/api/v1/pdf/prepare",
		field("pdf", base64.StdEncoding.EncodeToString(once)), field("sealImg", base64.StdEncoding.EncodeToString(redSeal(t))),
		field("x", "8"), field("y", "3"), field("width", "4"), field("shape", "p7hash"), field("digest", "SM3")) // page: 1 by default
	if code != 200 {
		t.Fatalf("prepare 2: %d %v", code, prep2)
	}
	// toSign is what the app gets at status 4: the signed attributes
	// (base64) for cms, the hash's hex text for p7hash.
	if prep["toSign"] != prep["signedAttributes"] || prep2["toSign"] != prep2["hash"] || prep2["signedAttributes"] != nil {
		t.Fatalf("toSign: cms %v, p7hash %v", prep["toSign"], prep2["toSign"])
	}
	p7, err := sign.PKCS7([]byte(prep2["hash"].(string)), id.Signer, id.Certificate, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	code, comp2 := post(t, srv, "/api/v1/pdf/complete", part{name: "pdf", file: "p.pdf", data: pdfOf(t, prep2)},
		field("signStr", base64.StdEncoding.EncodeToString(p7)))
	if code != 200 {
		t.Fatalf("complete 2: %d %v", code, comp2)
	}
	twice := pdfOf(t, comp2)
	qpdfCheck(t, writeTemp(t, "twice.pdf", twice))

	code, ver := post(t, srv, "/api/v1/pdf/verify", part{name: "pdf", file: "t.pdf", data: twice}, field("extractSeals", "true"))
	sigs, _ := ver["signatures"].([]any)
	if code != 200 || ver["valid"] != true || len(sigs) != 2 || sigs[0].(map[string]any)["sealImage"] == nil || sigs[1].(map[string]any)["page"] != float64(1) {
		t.Fatalf("verify: %d %v", code, ver)
	}
	code, seals := post(t, srv, "/api/v1/pdf/seals", part{name: "pdf", file: "t.pdf", data: twice})
	list, _ := seals["seals"].([]any)
	if code != 200 || len(list) != 2 || list[1].(map[string]any)["revocable"] != true || list[0].(map[string]any)["revocable"] != false {
		t.Fatalf("seals: %d %v", code, seals)
	}
	hash := list[1].(map[string]any)["hash"].(string)
	rp7, _ := sign.PKCS7([]byte(hash), id.Signer, id.Certificate, sign.Options{})
	code, rev := post(t, srv, "/api/v1/pdf/revoke", part{name: "pdf", file: "t.pdf", data: twice}, field("signStr", base64.StdEncoding.EncodeToString(rp7)))
	if code != 200 || !bytes.Equal(pdfOf(t, rev), once) {
		t.Fatalf("revoke: %d %v", code, rev["fieldName"])
	}
	// Revoking the first seal while the second is there is refused.
	first := list[0].(map[string]any)
	rp7b, _ := sign.PKCS7([]byte(first["hash"].(string)), id.Signer, id.Certificate, sign.Options{})
	code, rev = post(t, srv, "/api/v1/pdf/revoke", part{name: "pdf", file: "t.pdf", data: twice},
		field("fieldName", first["fieldName"].(string)), field("signStr", base64.StdEncoding.EncodeToString(rp7b)))
	if code != http.StatusConflict || rev["code"] != string(CodeNotLatest) || rev["message"] == "" {
		t.Fatalf("revoke not latest: %d %v", code, rev)
	}
}

// tooManyObjects is a small PDF whose table names object 2,000,000, one
// past the default limit of the object numbers a document may use.
var tooManyObjects = []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\nxref\n0 2\n0000000000 65535 f \n0000000009 00000 n \n2000000 1\n0000000009 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n45\n%%EOF\n")

func TestHTTPRefusals(t *testing.T) {
	pki := thePKI(t)
	ops := &sealOps{ops: map[string]*sealOp{"at-0": {status: 0}}}
	srv := httptest.NewServer(NewHandler(HandlerOptions{Verifier: pki.verifier, Sink: ops, MaxPDFBytes: 10 << 10}))
	defer srv.Close()
	small := corpus(t, "gs-basic.pdf")
	seal := part{name: "seal", file: "s.png", data: redSeal(t)}
	cases := []struct {
		name   string
		path   string
		parts  []part
		status int
		code   string
	}{
		{"no pdf", "/api/v1/pdf/prepare", []part{seal, field("page", "1")}, 400, "bad-request"},
		{"too large", "/api/v1/pdf/verify", []part{{name: "pdf", file: "big.pdf", data: corpus(t, "gs-many-pages.pdf")}}, 413, "too-large"},
		{"encrypted", "/api/v1/pdf/prepare", []part{{name: "pdf", file: "e.pdf", data: corpus(t, "qpdf-encrypted.pdf")}, seal, field("page", "1")}, 422, "encrypted"},
		{"bad page", "/api/v1/pdf/prepare", []part{{name: "pdf", file: "a.pdf", data: small}, seal, field("page", "9"), field("shape", "p7hash")}, 422, "page-out-of-range"},
		{"not a number", "/api/v1/pdf/prepare", []part{{name: "pdf", file: "a.pdf", data: small}, seal, field("page", "1"), field("x", "left"), field("shape", "p7hash")}, 400, "bad-request"},
		{"cms without cert", "/api/v1/pdf/prepare", []part{{name: "pdf", file: "a.pdf", data: small}, seal, field("page", "1")}, 400, "bad-request"},
		{"cms with a digest but no cert", "/api/v1/pdf/prepare", []part{{name: "pdf", file: "a.pdf", data: small}, seal, field("page", "1"), field("digest", "SM3")}, 400, "bad-request"},
		{"no seal", "/api/v1/pdf/prepare", []part{{name: "pdf", file: "a.pdf", data: small}, field("page", "1")}, 400, "bad-request"},
		{"unknown guid", "/api/v1/pdf/prepare", []part{{name: "pdf", file: "a.pdf", data: small}, seal, field("page", "1"), field("guid", "nope"), field("shape", "p7hash")}, 400, "bad-request"},
		{"guid at status 0", "/api/v1/pdf/prepare", []part{{name: "pdf", file: "a.pdf", data: small}, seal, field("page", "1"), field("guid", "at-0"), field("shape", "p7hash")}, 409, "conflict"},
		{"complete unprepared", "/api/v1/pdf/complete", []part{{name: "pdf", file: "a.pdf", data: small}, field("signStr", "AAAA")}, 422, "not-prepared"},
		{"garbage pdf", "/api/v1/pdf/verify", []part{{name: "pdf", file: "a.pdf", data: []byte("%PDF-1.4 garbage")}}, 422, "malformed"},
		{"too many objects to verify", "/api/v1/pdf/verify", []part{{name: "pdf", file: "a.pdf", data: tooManyObjects}}, 413, "too-large"},
		{"too many objects to seal", "/api/v1/pdf/prepare", []part{{name: "pdf", file: "a.pdf", data: tooManyObjects}, seal, field("page", "1"), field("shape", "p7hash")}, 413, "too-large"},
		{"page not a whole number", "/api/v1/pdf/prepare", []part{{name: "pdf", file: "a.pdf", data: small}, seal, field("page", "1.5"), field("shape", "p7hash")}, 400, "bad-request"},
		{"one field over 2 MiB", "/api/v1/pdf/verify", []part{{name: "pdf", file: "a.pdf", data: small}, field("cert", strings.Repeat("A", 2<<20+1))}, 413, "too-large"},
		{"fields over 8 MiB together", "/api/v1/pdf/verify", append([]part{{name: "pdf", file: "a.pdf", data: small}},
			field("a", strings.Repeat("A", 2<<20)), field("b", strings.Repeat("B", 2<<20)), field("c", strings.Repeat("C", 2<<20)),
			field("d", strings.Repeat("D", 2<<20)), field("e", "E")), 413, "too-large"},
		{"seal over 8 MiB", "/api/v1/pdf/prepare", []part{{name: "pdf", file: "a.pdf", data: small}, {name: "seal", file: "s.png", data: make([]byte, 8<<20+1)}}, 413, "too-large"},
	}
	wantMessage := map[string]string{
		"too many objects to verify": "PDF 对象过多：最多支持 2000000 个对象",
		"too many objects to seal":   "PDF 对象过多：最多支持 2000000 个对象",
		"one field over 2 MiB":       "字段 cert 超过 2 MiB 的限制",
		"fields over 8 MiB together": "表单字段合计超过 8 MiB 的限制（PDF 请放在字段 pdf，签章图片放在字段 seal）",
		"seal over 8 MiB":            "签章图片（字段 seal）超过 8 MiB 的限制",
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out := post(t, srv, c.path, c.parts...)
			if status != c.status || out["code"] != c.code || out["message"] == "" || out["failMessage"] != out["message"] || out["invokeCode"] != float64(c.status) {
				t.Fatalf("got %d %v, want %d %s", status, out, c.status, c.code)
			}
			if want, ok := wantMessage[c.name]; ok && out["message"] != want {
				t.Fatalf("message %q, want %q", out["message"], want)
			}
		})
	}
	if ops.ops["at-0"].status != 0 {
		t.Fatal("a refused prepare changed the operation")
	}
	// Not multipart at all.
	resp, err := http.Post(srv.URL+"/api/v1/pdf/verify", "application/json", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("json body: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/api/v1/pdf/verify")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}
