package main

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/internal/testtool"
)

func corpusPDF(name string) string { return filepath.Join("..", "..", "testdata", "pdf", name) }

func sealPNG(t *testing.T) string {
	p := filepath.Join("..", "..", "testdata", "seals", "round-company.png")
	if _, err := os.Stat(p); err != nil {
		t.Skip("no sample seal image")
	}
	return p
}

// TestPDFSignVerifyRevoke: sign twice (SM2 key+cert, RSA .pfx), verify
// with exit 0 and extracted seals, qpdf --check, take the last seal back
// with a PKCS#7 that OpenSSL makes, and get the first signed file back.
func TestPDFSignVerifyRevoke(t *testing.T) {
	testtool.Need(t, "qpdf", "openssl")
	m := testpki.Manifest(t)
	dir := t.TempDir()
	sm2, _ := m.Leaf("sm2-person")
	rsa, _ := m.Leaf("rsa-org")
	one, two := filepath.Join(dir, "one.pdf"), filepath.Join(dir, "two.pdf")
	seal := sealPNG(t)
	if code, _, errs := vrun("pdf", "sign", "--in", corpusPDF("qpdf-rotated.pdf"), "--out", one, "--key", sm2.KeyPath, "--cert", sm2.ChainPath,
		"--trust", m.TrustDir, "--seal", seal, "--page", "2", "--x", "2", "--y", "2", "--width", "4", "--height", "4"); code != exitOK {
		t.Fatalf("sign sm2: %d %s", code, errs)
	}
	if code, _, errs := vrun("pdf", "sign", "--in", one, "--out", two, "--pfx", rsa.PFXPath, "--password", rsa.PFXPass,
		"--seal", seal, "--page", "1", "--x", "7", "--y", "2", "--seal-width", "4", "--seal-height", "4"); code != exitOK {
		t.Fatalf("sign rsa: %d %s", code, errs)
	}
	if out, err := exec.Command("qpdf", "--check", two).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	seals := filepath.Join(dir, "seals")
	code, out, errs := vrun("pdf", "verify", "--in", two, "--trust", m.TrustDir, "--json", "--extract-seals", seals)
	if code != exitOK {
		t.Fatalf("verify: %d %s %s", code, out, errs)
	}
	var rep struct {
		Valid      bool
		Signatures []struct {
			FieldName string
			Page      int
			Hash      string
			Valid     bool
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.Valid || len(rep.Signatures) != 2 || rep.Signatures[0].Page != 2 {
		t.Fatalf("report: %v %s", err, out)
	}
	if files, _ := os.ReadDir(seals); len(files) != 2 {
		t.Fatalf("extracted %d seal images", len(files))
	}
	// 撤章 with a PKCS#7 made by OpenSSL over the last seal's hash.
	hashFile, p7 := filepath.Join(dir, "hash.txt"), filepath.Join(dir, "revoke.p7")
	os.WriteFile(hashFile, []byte(rep.Signatures[1].Hash), 0o644)
	if out, err := exec.Command("openssl", "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-md", "sha256",
		"-in", hashFile, "-signer", rsa.CertPath, "-inkey", rsa.KeyPath, "-out", p7).CombinedOutput(); err != nil {
		t.Fatalf("openssl cms -sign: %v\n%s", err, out)
	}
	back := filepath.Join(dir, "back.pdf")
	if code, _, errs := vrun("pdf", "revoke", "--in", two, "--out", back, "--sig", p7, "--trust", m.TrustDir); code != exitOK {
		t.Fatalf("revoke: %d %s", code, errs)
	}
	a, _ := os.ReadFile(back)
	b, _ := os.ReadFile(one)
	if !bytes.Equal(a, b) {
		t.Fatal("revoke did not give back the file before the seal")
	}
	// Revoking with the SM2 seal's signer is refused, exit 1, nothing written.
	if code, _, errs := vrun("pdf", "revoke", "--in", two, "--out", filepath.Join(dir, "x.pdf"), "--sig", p7, "--field", rep.Signatures[0].FieldName, "--trust", m.TrustDir); code != exitInvalid || !strings.Contains(errs, "not-latest") {
		t.Fatalf("revoke not latest: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.pdf")); err == nil {
		t.Fatal("a refused revoke wrote its output")
	}
}

// TestPDFPrepareCompleteWithOpenSSL: the raw signature over the signed
// attributes is made by OpenSSL, not by us.
func TestPDFPrepareCompleteWithOpenSSL(t *testing.T) {
	testtool.Need(t, "openssl")
	m := testpki.Manifest(t)
	dir := t.TempDir()
	rsa, _ := m.Leaf("rsa-person")
	prepared, attrs, sig, signed := filepath.Join(dir, "p.pdf"), filepath.Join(dir, "attrs.der"), filepath.Join(dir, "sig.bin"), filepath.Join(dir, "s.pdf")
	code, out, errs := vrun("pdf", "prepare", "--in", corpusPDF("qpdf-xref-stream.pdf"), "--out", prepared, "--cert", rsa.CertPath,
		"--seal", sealPNG(t), "--page", "1", "--x", "1", "--y", "1", "--width", "3", "--height", "3", "--attrs-out", attrs, "--json")
	if code != exitOK {
		t.Fatalf("prepare: %d %s", code, errs)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(out), &p); err != nil || p["digestAlgorithm"] != "SHA-256" {
		t.Fatalf("prepare output: %v %s", err, out)
	}
	if out, err := exec.Command("openssl", "dgst", "-sha256", "-sign", rsa.KeyPath, "-out", sig, attrs).CombinedOutput(); err != nil {
		t.Fatalf("openssl dgst -sign: %v\n%s", err, out)
	}
	if code, _, errs := vrun("pdf", "complete", "--in", prepared, "--out", signed, "--sig", sig, "--cert", rsa.ChainPath, "--trust", m.TrustDir); code != exitOK {
		t.Fatalf("complete: %d %s", code, errs)
	}
	if code, out, _ := vrun("pdf", "verify", "--in", signed, "--trust", m.TrustDir); code != exitOK || !strings.Contains(out, "VALID") {
		t.Fatalf("verify: %d %s", code, out)
	}
	// Completing with the signature of other data is refused (exit 1).
	os.WriteFile(sig, bytes.Repeat([]byte{7}, 256), 0o644)
	if code, _, errs := vrun("pdf", "complete", "--in", prepared, "--out", filepath.Join(dir, "bad.pdf"), "--sig", sig, "--cert", rsa.CertPath, "--trust", m.TrustDir); code != exitInvalid {
		t.Fatalf("bad signature: %d %s", code, errs)
	}
}

func TestPDFVerifyExitCodes(t *testing.T) {
	m := testpki.Manifest(t)
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"pdf", "verify", "--in", corpusPDF("gs-basic.pdf"), "--trust", m.TrustDir}, exitInvalid},       // no signature
		{[]string{"pdf", "verify", "--in", corpusPDF("poppler-signed.pdf"), "--trust", m.TrustDir}, exitInvalid}, // untrusted signer
		{[]string{"pdf", "verify", "--in", corpusPDF("broken-not-pdf.pdf"), "--trust", m.TrustDir}, exitUsage},   // not a PDF
		{[]string{"pdf", "verify", "--in", filepath.Join(t.TempDir(), "missing.pdf"), "--trust", m.TrustDir}, exitUsage},
		{[]string{"pdf", "verify", "--in", corpusPDF("gs-basic.pdf")}, exitUsage}, // no --trust
		{[]string{"pdf", "frobnicate"}, exitUsage},
		{[]string{"pdf", "prepare", "--in", corpusPDF("qpdf-encrypted.pdf"), "--out", filepath.Join(t.TempDir(), "o.pdf"), "--seal", sealPNG(t)}, exitInvalid},
	}
	for _, c := range cases {
		if code, out, errs := vrun(c.args...); code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", c.args, code, c.code, out, errs)
		}
	}
}

// lastSignature cuts the latest signature out of a PDF's /Contents, as
// anyone holding the sealed file can.
func lastSignature(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndex(b, []byte("/Contents <"))
	if i < 0 {
		t.Fatal("no /Contents")
	}
	rest := b[i+len("/Contents <"):]
	raw, err := hex.DecodeString(string(rest[:bytes.IndexByte(rest, '>')]))
	if err != nil {
		t.Fatal(err)
	}
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v.FullBytes
}

// TestPDFRevokeRefusesReplay is the audit's case: the latest seal's own
// signature, cut out of /Contents, given as the revocation — refused with
// exit 1 and nothing written, for both shapes.
func TestPDFRevokeRefusesReplay(t *testing.T) {
	m := testpki.Manifest(t)
	dir := t.TempDir()
	rsa, _ := m.Leaf("rsa-org")
	for _, shape := range []string{"cms", "p7hash"} {
		sealed, replay, out := filepath.Join(dir, shape+".pdf"), filepath.Join(dir, shape+".p7"), filepath.Join(dir, shape+"-back.pdf")
		if code, _, errs := vrun("pdf", "sign", "--in", corpusPDF("gs-basic.pdf"), "--out", sealed, "--pfx", rsa.PFXPath, "--password", rsa.PFXPass,
			"--trust", m.TrustDir, "--shape", shape, "--seal", sealPNG(t), "--page", "1", "--x", "2", "--y", "2", "--width", "4", "--height", "4"); code != exitOK {
			t.Fatalf("sign %s: %d %s", shape, code, errs)
		}
		os.WriteFile(replay, lastSignature(t, sealed), 0o644)
		code, _, errs := vrun("pdf", "revoke", "--in", sealed, "--out", out, "--sig", replay, "--trust", m.TrustDir)
		if code != exitInvalid || !strings.Contains(errs, "not-fresh") {
			t.Fatalf("%s replay: exit %d %s", shape, code, errs)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: a refused revoke wrote its output", shape)
		}
	}
}

// appendObject appends a hand-made incremental update to the PDF at path
// (a classic table, as gs-basic.pdf and our seals on it have): object num
// redefined as body.
func appendObject(t *testing.T, path string, num int, body string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	last := func(re string) string {
		m := regexp.MustCompile(re).FindAllSubmatch(b, -1)
		if len(m) == 0 {
			t.Fatalf("no %s in %s", re, path)
		}
		return string(m[len(m)-1][1])
	}
	prev, size, root := last(`startxref\s+(\d+)`), last(`/Size (\d+)`), last(`/Root (\d+ \d+ R)`)
	off := len(b)
	obj := fmt.Sprintf("%d 0 obj\n%s\nendobj\n", num, body)
	update := obj + fmt.Sprintf("xref\n%d 1\n%010d 00000 n\r\ntrailer\n<< /Size %s /Root %s /Prev %s >>\nstartxref\n%d\n%%%%EOF\n",
		num, off, size, root, prev, off+len(obj))
	if err := os.WriteFile(path, append(b, update...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPDFVerifyModifiedAfterSigning: a seal followed by a hand-made update
// that rewrites page 2's content is intact and its signature valid, but
// the document is not: verify says so and exits 1.
func TestPDFVerifyModifiedAfterSigning(t *testing.T) {
	testtool.Need(t, "qpdf")
	m := testpki.Manifest(t)
	rsa, _ := m.Leaf("rsa-org")
	signed := filepath.Join(t.TempDir(), "s.pdf")
	if code, _, errs := vrun("pdf", "sign", "--in", corpusPDF("gs-basic.pdf"), "--out", signed, "--pfx", rsa.PFXPath, "--password", rsa.PFXPass,
		"--trust", m.TrustDir, "--seal", sealPNG(t), "--page", "1", "--x", "2", "--y", "2", "--width", "4", "--height", "4"); code != exitOK {
		t.Fatalf("sign: %d %s", code, errs)
	}
	// gs-basic.pdf: object 10 is page 2's content stream.
	content := "BT /F1 24 Tf 72 700 Td (pay 1000000) Tj ET"
	appendObject(t, signed, 10, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	if out, err := exec.Command("qpdf", "--check", signed).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	code, out, errs := vrun("pdf", "verify", "--in", signed, "--trust", m.TrustDir, "--json")
	var rep struct {
		Valid      bool
		Signatures []struct {
			Valid, Intact, SignatureValid, Trusted, LaterChangesOnlySignatures bool
			Reason                                                             string
			LaterChanges                                                       []string
		}
	}
	if code != exitInvalid || json.Unmarshal([]byte(out), &rep) != nil || rep.Valid || len(rep.Signatures) != 1 {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}
	s := rep.Signatures[0]
	if s.Valid || !s.Intact || !s.SignatureValid || !s.Trusted || s.LaterChangesOnlySignatures || s.Reason != "modified-after-signing" ||
		!strings.Contains(strings.Join(s.LaterChanges, ";"), "object 10") {
		t.Fatalf("%+v", s)
	}
	if code, out, _ := vrun("pdf", "verify", "--in", signed, "--trust", m.TrustDir); code != exitInvalid || !strings.Contains(out, "CHANGED after it") {
		t.Fatalf("verify text: %d\n%s", code, out)
	}
}

// TestPDFPreparePlaceholderCountsTheChain is the audit's case: a 3100-byte
// placeholder for rsa-person.pem was accepted (the estimate left out the
// chain complete adds from the trust store) and complete then refused a
// 3414-byte CMS. Prepare now refuses it, with or without --trust; the
// smallest size it accepts with --trust takes the completed signature.
func TestPDFPreparePlaceholderCountsTheChain(t *testing.T) {
	testtool.Need(t, "openssl")
	m := testpki.Manifest(t)
	dir := t.TempDir()
	rsa, _ := m.Leaf("rsa-person")
	prepared, attrs, sig, signed := filepath.Join(dir, "p.pdf"), filepath.Join(dir, "attrs.der"), filepath.Join(dir, "sig.bin"), filepath.Join(dir, "s.pdf")
	prepare := func(size int, extra ...string) (int, string) {
		args := append([]string{"pdf", "prepare", "--in", corpusPDF("gs-basic.pdf"), "--out", prepared, "--cert", rsa.CertPath, "--placeholder", fmt.Sprint(size),
			"--seal", sealPNG(t), "--page", "1", "--x", "1", "--y", "1", "--width", "3", "--height", "3", "--attrs-out", attrs}, extra...)
		code, _, errs := vrun(args...)
		return code, errs
	}
	need := regexp.MustCompile(`needs about (\d+)`)
	var smallest int
	for _, extra := range [][]string{nil, {"--trust", m.TrustDir}} {
		code, errs := prepare(3100, extra...)
		if code != exitInvalid || !strings.Contains(errs, "placeholder-too-small") {
			t.Fatalf("prepare --placeholder 3100 %v: exit %d %s", extra, code, errs)
		}
		fmt.Sscan(need.FindStringSubmatch(errs)[1], &smallest)
	}
	if code, errs := prepare(smallest, "--trust", m.TrustDir); code != exitOK {
		t.Fatalf("prepare --placeholder %d: exit %d %s", smallest, code, errs)
	}
	if out, err := exec.Command("openssl", "dgst", "-sha256", "-sign", rsa.KeyPath, "-out", sig, attrs).CombinedOutput(); err != nil {
		t.Fatalf("openssl dgst -sign: %v\n%s", err, out)
	}
	if code, _, errs := vrun("pdf", "complete", "--in", prepared, "--out", signed, "--sig", sig, "--cert", rsa.CertPath, "--trust", m.TrustDir); code != exitOK {
		t.Fatalf("complete into %d bytes: %d %s", smallest, code, errs)
	}
	if code, out, _ := vrun("pdf", "verify", "--in", signed, "--trust", m.TrustDir); code != exitOK {
		t.Fatalf("verify: %d %s", code, out)
	}
}

// TestPDFPrepareToSign: pdf prepare --json answers the HTTP API's fields,
// toSign as the app receives it — the signed attributes in base64 for cms
// (the bytes --attrs-out wrote), the hash's hex text for p7hash — and the
// cms shape without --cert is refused, --digest or not: its signed
// attributes must name the certificate (signing-certificate-v2).
func TestPDFPrepareToSign(t *testing.T) {
	m := testpki.Manifest(t)
	dir := t.TempDir()
	sm2, _ := m.Leaf("sm2-org")
	prepare := func(extra ...string) (int, map[string]any, string) {
		args := append([]string{"pdf", "prepare", "--in", corpusPDF("gs-basic.pdf"), "--out", filepath.Join(dir, "p.pdf"),
			"--seal", sealPNG(t), "--page", "1", "--x", "1", "--y", "1", "--width", "3", "--height", "3", "--json"}, extra...)
		code, out, errs := vrun(args...)
		var res map[string]any
		if code == exitOK {
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%v: %v\n%s", extra, err, out)
			}
		}
		return code, res, errs
	}
	attrs := filepath.Join(dir, "attrs.der")
	code, cms, errs := prepare("--cert", sm2.CertPath, "--attrs-out", attrs)
	der, _ := os.ReadFile(attrs)
	if code != exitOK || cms["shape"] != "cms" || cms["toSign"] != base64.StdEncoding.EncodeToString(der) || cms["signedAttributes"] != cms["toSign"] || cms["signingTime"] == nil {
		t.Fatalf("cms: %d %v %s", code, cms, errs)
	}
	code, p7, errs := prepare("--shape", "p7hash")
	if code != exitOK || p7["shape"] != "p7hash" || p7["toSign"] != p7["hash"] || p7["signedAttributes"] != nil || len(p7["hash"].(string)) != 64 {
		t.Fatalf("p7hash: %d %v %s", code, p7, errs)
	}
	for _, extra := range [][]string{nil, {"--digest", "SM3"}} {
		if code, _, errs := prepare(extra...); code != exitUsage || !strings.Contains(errs, "signing-certificate-v2") || !strings.Contains(errs, "p7hash") {
			t.Errorf("cms without --cert %v: exit %d %s", extra, code, errs)
		}
	}
}
