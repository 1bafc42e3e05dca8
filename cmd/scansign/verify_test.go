package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scansign/scansign/certs/devpki"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/internal/testtool"
	sealstore "github.com/scansign/scansign/seal/store"
	"github.com/scansign/scansign/sign"
)

func vrun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestPKIInitAndIssue runs `pki init` (with --dev-seals) and `pki issue`
// in a directory of its own, so it passes however often it runs.
func TestPKIInitAndIssue(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	code, out, stderr := vrun("pki", "init", "--dir", dir, "--dev-seals", "--data", data)
	if code != exitOK {
		t.Fatalf("pki init: %d %s", code, stderr)
	}
	m, err := devpki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Leaves) != 10 || len(m.CAs) != 6 {
		t.Fatalf("manifest: %d leaves, %d CAs", len(m.Leaves), len(m.CAs))
	}
	// Every leaf has dev seals (organisations two, persons one).
	if !strings.Contains(out, "12 dev seals registered in "+filepath.Join(data, "seals.db")) {
		t.Fatalf("pki init --dev-seals said:\n%s", out)
	}
	st, err := sealstore.Open(context.Background(), sealstore.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Leaves {
		e, err := st.Lookup(context.Background(), l.Serial)
		want := 1
		if l.Kind == devpki.Organisation {
			want = 2
		}
		if err != nil || len(e.Seals) != want || e.User == nil || e.User.Name != l.CommonName {
			t.Errorf("%s: %d seals, user %+v, %v", l.Name, len(e.Seals), e.User, err)
		}
	}
	st.Close()
	for _, l := range m.Leaves {
		for _, p := range []string{l.CertPath, l.ChainPath, l.KeyPath, l.EncKeyPath, l.PFXPath} {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: %v", l.Name, err)
			}
		}
	}
	code, out, stderr = vrun("pki", "issue", "--dir", dir, "--name", "extra-org", "--alg", "rsa", "--kind", "organisation", "--cn", "示例公司", "--json")
	if code != exitOK {
		t.Fatalf("pki issue: %d %s", code, stderr)
	}
	var leaf devpki.Leaf
	if err := json.Unmarshal([]byte(out), &leaf); err != nil || leaf.Serial == "" || leaf.CreditCode == "" || !leaf.Trusted {
		t.Fatalf("pki issue output %s: %v", out, err)
	}
	code, out, _ = vrun("verify", "cert", "--in", leaf.CertPath, "--trust", m.TrustDir, "--cert-type", "1")
	if code != exitOK || !strings.Contains(out, "VALID") || !strings.Contains(out, leaf.CreditCode) {
		t.Errorf("verify cert on the issued leaf: %d\n%s", code, out)
	}
	if code, _, _ := vrun("pki", "issue", "--dir", dir, "--name", "extra-org"); code != exitUsage {
		t.Errorf("duplicate name: exit %d", code)
	}
	for _, args := range [][]string{{"pki"}, {"pki", "init"}, {"pki", "bogus"}, {"pki", "issue", "--dir", dir}, {"pki", "issue", "--dir", dir, "--name", "x", "--alg", "dsa"}} {
		if code, _, _ := vrun(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestVerifySigCLI(t *testing.T) {
	m := testpki.Manifest(t)
	dir := t.TempDir()
	nonce := "f7c54891-adad-4f32-9994-83d70a7204a2"
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	load := func(name string) *devpki.Leaf { l, _ := m.Leaf(name); return l }
	person := load("sm2-person")
	id, err := person.Identity()
	if err != nil {
		t.Fatal(err)
	}
	attached, _ := sign.PKCS7([]byte(nonce), id.Signer, id.Certificate, sign.Options{})
	detached, _ := sign.PKCS7([]byte(nonce), id.Signer, id.Certificate, sign.Options{Detached: true})
	raw, _ := sign.SM2(id.Signer, []byte(nonce), sign.RawOptions{})
	exp, _ := load("sm2-expired").Identity()
	expired, _ := sign.PKCS7([]byte(nonce), exp.Signer, exp.Certificate, sign.Options{})
	content := write("content.txt", []byte(nonce))
	trust := m.TrustDir
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"attached", []string{"--in", write("a.p7s", attached)}, exitOK, "VALID"},
		{"attached base64", []string{"--in", write("a.b64", []byte(vb64(attached))), "--content-text", nonce}, exitOK, "matched as bytes"},
		{"detached", []string{"--in", write("d.p7s", detached), "--content-file", content}, exitOK, "pkcs7-detached"},
		{"detached wrong content", []string{"--in", write("d2.p7s", detached), "--content-text", "other"}, exitInvalid, "content-mismatch"},
		{"raw", []string{"--in", write("r.sig", raw), "--content-file", content, "--cert", person.CertPath}, exitOK, "raw-sm2"},
		{"raw without cert", []string{"--in", write("r2.sig", raw), "--content-file", content}, exitInvalid, "no-signer-cert"},
		{"expired", []string{"--in", write("e.p7s", expired)}, exitInvalid, "expired"},
		{"expired at a past time", []string{"--in", write("e2.p7s", expired), "--at", exp.Certificate.NotAfter.Add(-3600e9).Format("2006-01-02T15:04:05Z07:00")}, exitOK, "VALID"},
		{"wrong cert type", []string{"--in", write("w.p7s", attached), "--cert-type", "1"}, exitInvalid, "wrong-cert-type"},
		{"garbage", []string{"--in", write("g.bin", []byte("not a signature at all"))}, exitInvalid, "malformed"},
		{"SHA-1 refused", []string{"--in", filepath.Join("..", "..", "testdata", "interop", "fixtures", "openssl-rsa-person-attached-sha1.p7s")}, exitInvalid, "INVALID [weak-algorithm]  签名算法强度不足"},
		{"SHA-1 allowed", []string{"--in", filepath.Join("..", "..", "testdata", "interop", "fixtures", "openssl-rsa-person-attached-sha1.p7s"), "--allow-sha1"}, exitOK, "digest:     RSA SHA-1"},
		{"empty file", []string{"--in", write("empty.bin", nil)}, exitInvalid, "INVALID [malformed]  签名数据格式错误"},
		{"blank file", []string{"--in", write("blank.txt", []byte(" \n\t\n"))}, exitInvalid, "INVALID [malformed]"},
		{"broken PEM", []string{"--in", write("broken.pem", []byte("-----BEGIN PKCS7-----\nAAAA\n"))}, exitInvalid, "INVALID [malformed]"},
		{"raw with a garbage certificate", []string{"--in", write("r3.sig", raw), "--content-file", content, "--cert", write("bad.pem", []byte("not a certificate"))}, exitInvalid, "INVALID [malformed]  证书格式错误，无法解析 (the certificate is malformed)"},
	} {
		args := append([]string{"verify", "sig", "--trust", trust}, tc.args...)
		code, out, stderr := vrun(args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d (want %d)\n%s%s", tc.name, code, tc.code, out, stderr)
		}
	}
	// --json carries at least valid, reason, signer.serial/subject/certType.
	code, out, _ := vrun("verify", "sig", "--trust", trust, "--in", filepath.Join(dir, "a.p7s"), "--json")
	var res struct {
		Valid  bool   `json:"valid"`
		Reason string `json:"reason"`
		Signer struct {
			Serial   string `json:"serial"`
			Subject  string `json:"subject"`
			CertType int    `json:"certType"`
		} `json:"signer"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitOK || !res.Valid || res.Reason != "" ||
		res.Signer.Serial != person.Serial || !strings.Contains(res.Signer.Subject, "CN=张三") || res.Signer.CertType != 2 {
		t.Errorf("--json: %d %s %v", code, out, err)
	}
	// Usage and I/O errors exit 2.
	for _, args := range [][]string{
		{"verify"}, {"verify", "sig"}, {"verify", "sig", "--in", content},
		{"verify", "sig", "--in", "/nonexistent", "--trust", trust},
		{"verify", "sig", "--in", content, "--trust", "/nonexistent"},
		{"verify", "sig", "--in", content, "--trust", trust, "--content-text", "a", "--content-hex", "ab"},
		{"verify", "sig", "--in", content, "--trust", trust, "--at", "yesterday"},
		{"verify", "sig", "--in", content, "--trust", trust, "--content-hex", "xyz"},
		{"verify", "cert", "--trust", trust},
		{"verify", "nope"},
	} {
		if code, _, _ := vrun(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code, out, _ := vrun("verify", "cert", "--in", load("rsa-revoked").CertPath, "--trust", trust); code != exitInvalid || !strings.Contains(out, "revoked") {
		t.Errorf("verify cert revoked: %d %s", code, out)
	}
	// A signature given as the certificate: the certificate is what is malformed.
	if code, out, _ := vrun("verify", "cert", "--in", filepath.Join(dir, "a.p7s"), "--trust", trust); code != exitInvalid ||
		!strings.Contains(out, "INVALID [malformed]  证书格式错误，无法解析 (the certificate is malformed)") {
		t.Errorf("verify cert on a .p7s: %d %s", code, out)
	}
}

// TestVerifySM2UserIDAndRules: verify sig takes serve's --sm2-user-id (the
// OpenSSL fixture signed with distid alice@example.com verifies only with
// it, and the default-ID one still does) and verify sig/cert take
// --cert-type-rules.
func TestVerifySM2UserIDAndRules(t *testing.T) {
	m := testpki.Manifest(t)
	fixtures := filepath.Join("..", "..", "testdata", "interop", "fixtures")
	l, _ := m.Leaf("sm2-person")
	raw := func(fixture string, extra ...string) (int, string) {
		args := append([]string{"verify", "sig", "--trust", m.TrustDir, "--in", filepath.Join(fixtures, fixture),
			"--cert", l.CertPath, "--content-file", filepath.Join(fixtures, "content.txt")}, extra...)
		code, out, stderr := vrun(args...)
		return code, out + stderr
	}
	if code, out := raw("openssl-sm2-raw-other-distid.sig"); code != exitInvalid || !strings.Contains(out, "bad-signature") {
		t.Errorf("other distid, default ID: exit %d\n%s", code, out)
	}
	if code, out := raw("openssl-sm2-raw-other-distid.sig", "--sm2-user-id", "alice@example.com"); code != exitOK || !strings.Contains(out, "user ID:    alice@example.com (SM2)") {
		t.Errorf("other distid, --sm2-user-id: exit %d\n%s", code, out)
	}
	if code, out := raw("openssl-sm2-raw.sig", "--sm2-user-id", "alice@example.com"); code != exitOK || !strings.Contains(out, "user ID:    1234567812345678 (SM2)") {
		t.Errorf("default distid, --sm2-user-id: exit %d\n%s", code, out)
	}
	// PKCS#7 keeps the default whatever --sm2-user-id says.
	if code, out, _ := vrun("verify", "sig", "--trust", m.TrustDir, "--in", filepath.Join(fixtures, "bc-sm2-person-std-attached.p7s"), "--sm2-user-id", "alice@example.com"); code != exitOK {
		t.Errorf("BouncyCastle PKCS#7 with --sm2-user-id: exit %d\n%s", code, out)
	}

	rules := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(rules, []byte("- {field: CN, match: '^张三$', certType: 1}\n"), 0o600)
	if code, out, _ := vrun("verify", "cert", "--trust", m.TrustDir, "--in", l.CertPath, "--cert-type", "1"); code != exitInvalid || !strings.Contains(out, "wrong-cert-type") {
		t.Errorf("verify cert without rules: exit %d\n%s", code, out)
	}
	if code, out, _ := vrun("verify", "cert", "--trust", m.TrustDir, "--in", l.CertPath, "--cert-type", "1", "--cert-type-rules", rules); code != exitOK || !strings.Contains(out, "certType:   1 organisation") {
		t.Errorf("verify cert with rules: exit %d\n%s", code, out)
	}
	if code, out, _ := vrun("verify", "sig", "--trust", m.TrustDir, "--in", filepath.Join(fixtures, "bc-sm2-person-gm-attached.p7s"), "--cert-type", "1", "--cert-type-rules", rules); code != exitOK {
		t.Errorf("verify sig with rules: exit %d\n%s", code, out)
	}
	if code, _, stderr := vrun("verify", "cert", "--trust", m.TrustDir, "--in", l.CertPath, "--cert-type-rules", "/nonexistent.yaml"); code != exitUsage || !strings.Contains(stderr, "cert type rules") {
		t.Errorf("missing rules file: exit %d %s", code, stderr)
	}
}

// TestVerifyCRLWarnings: in a copy of the trust directory whose SM2 CRL has
// a flipped byte, the revoked leaf passes `verify cert` only with a
// crl-invalid warning (text and JSON), and fails with --require-fresh-crl.
func TestVerifyCRLWarnings(t *testing.T) {
	m := testpki.Manifest(t)
	trust := testpki.TrustDirWithFlippedCRL(t, m.TrustDir, "sm2-issuing.crl")
	l, _ := m.Leaf("sm2-revoked")
	code, out, stderr := vrun("verify", "cert", "--in", l.CertPath, "--trust", trust)
	if code != exitOK || !strings.Contains(out, "warning:    crl-invalid: the CRL of CN=scansign Dev SM2 Issuing CA") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = vrun("verify", "cert", "--in", l.CertPath, "--trust", trust, "--json")
	var res struct {
		Valid    bool     `json:"valid"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitOK || len(res.Warnings) == 0 || !strings.HasPrefix(res.Warnings[0], "crl-invalid: ") {
		t.Fatalf("--json: %d %s %v", code, out, err)
	}
	code, out, _ = vrun("verify", "cert", "--in", l.CertPath, "--trust", trust, "--require-fresh-crl")
	if code != exitInvalid || !strings.Contains(out, "INVALID [untrusted]") || !strings.Contains(out, "crl-invalid") {
		t.Fatalf("--require-fresh-crl: exit %d\n%s", code, out)
	}
	// With the CRL intact the revoked leaf is revoked.
	if code, out, _ := vrun("verify", "cert", "--in", l.CertPath, "--trust", m.TrustDir); code != exitInvalid || !strings.Contains(out, "revoked") {
		t.Fatalf("intact CRL: exit %d\n%s", code, out)
	}
}

// asCLIEnv makes the test binary act as the scansign command (TestMain), so
// README blocks that say `go run ./cmd/scansign …` run without a build.
const asCLIEnv = "SCANSIGN_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLIEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// goRunPrelude defines a shell function go that runs `go run
// ./cmd/scansign ARGS` as this test binary, the command itself, so a
// README block runs verbatim in a directory of its own; any other go
// command is the real one.
func goRunPrelude(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("export %s=1\ngo() { if [ \"$1\" = run ] && [ \"$2\" = ./cmd/scansign ]; then shift 2; %q \"$@\"; else command go \"$@\"; fi; }\n", asCLIEnv, self)
}

// TestREADMEExample runs the README's verification block verbatim — `pki
// init`, signatures made by the OpenSSL CLI, `verify sig` and `verify
// cert` — in a directory of its own, and compares what it prints with the
// block's #> lines.
func TestREADMEExample(t *testing.T) {
	testtool.Need(t, "bash", "openssl", "jq")
	readme := readREADME(t)
	section := regexp.MustCompile("(?s)\n## Verification\n(.*?)\n## ").FindSubmatch(readme)
	if section == nil {
		t.Fatal("README has no verification section")
	}
	block := regexp.MustCompile("(?s)<!-- The next block is run verbatim by TestREADMEExample.*?-->\\s*```sh\n(.*?)```").FindSubmatch(section[1])
	if block == nil {
		t.Fatal("the verification section lacks its marked block")
	}
	script := string(block[1])
	for _, want := range []string{"go run ./cmd/scansign pki init ", "go run ./cmd/scansign verify sig ", "go run ./cmd/scansign verify cert "} {
		if !strings.Contains(script, want) {
			t.Fatalf("the block lacks %q", want)
		}
	}
	var want strings.Builder
	for _, line := range strings.Split(script, "\n") {
		if out, ok := strings.CutPrefix(line, "#> "); ok {
			want.WriteString(out + "\n")
		}
	}
	cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", goRunPrelude(t)+script)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s", err, out)
	}
	if string(out) != want.String() {
		t.Fatalf("the README's commands printed\n%s\nbut the README shows\n%s", out, want.String())
	}
}

func vb64(b []byte) string {
	return base64.StdEncoding.EncodeToString(b)
}
