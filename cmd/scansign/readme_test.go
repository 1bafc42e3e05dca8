package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scansign/scansign/internal/testtool"
)

// TestREADMECurlExamples runs the README's relay curl session verbatim
// (only the port differs) against `serve --dev` and compares what it prints
// with the answers the README shows.
func TestREADMECurlExamples(t *testing.T) {
	testtool.Need(t, "curl")
	readme := readREADME(t)
	m := regexp.MustCompile("(?s)<!-- The next block is run verbatim by TestREADMECurlExamples.*?-->\\s*```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no relay curl block marked for this test")
	}
	script := string(m[1])
	var want strings.Builder
	for _, line := range strings.Split(script, "\n") {
		if strings.HasPrefix(line, "# {") {
			want.WriteString(strings.TrimPrefix(line, "# "))
		}
	}
	if !strings.Contains(script, "http://127.0.0.1:8080") {
		t.Fatal("the README's block should talk to the dev default address")
	}
	srv := startServe(t, "--dev", "--data", t.TempDir())
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", srv.url)

	dir := t.TempDir()
	cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s", err, out)
	}
	if string(out) != want.String() {
		t.Fatalf("the README's commands printed\n%s\nbut the README shows\n%s", out, want.String())
	}
	png, err := os.ReadFile(filepath.Join(dir, "qr.png"))
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Fatalf("qr.png is not a PNG (%v)", err)
	}
}

// TestREADMESealFlow runs the README's seal flow: its two setup commands
// (in-process, in a directory of its own), then the marked block verbatim
// (only the port differs), comparing its output with the "# {" lines.
func TestREADMESealFlow(t *testing.T) {
	testtool.Need(t, "curl", "jq", "openssl", "base64")
	readme := readREADME(t)
	section := regexp.MustCompile("(?s)\n### Try it: the seal flow .*?\n(.*?)\n### ").FindSubmatch(readme)
	if section == nil {
		t.Fatal("README has no seal flow section")
	}
	setup := regexp.MustCompile("(?s)```sh\n(.*?)```").FindSubmatch(section[1])
	block := regexp.MustCompile("(?s)<!-- The next block is run verbatim by TestREADMESealFlow.*?-->\\s*```sh\n(.*?)```").FindSubmatch(section[1])
	if setup == nil || block == nil {
		t.Fatal("the seal flow section lacks its setup or its marked block")
	}
	for _, want := range []string{"go run ./cmd/scansign pki init --dir ./pki --dev-seals ", "go run ./cmd/scansign serve --dev --trust ./pki/trust\n"} {
		if !strings.Contains(string(setup[1]), want) {
			t.Fatalf("the setup changed: it lacks %q\n%s", want, setup[1])
		}
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data") // ./data, serve's and pki init's default
	if code, _, stderr := vrun("pki", "init", "--dir", filepath.Join(dir, "pki"), "--dev-seals", "--data", data); code != exitOK {
		t.Fatalf("pki init: %s", stderr)
	}
	testdata, err := filepath.Abs(filepath.Join("..", "..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(testdata, filepath.Join(dir, "testdata")); err != nil { // run "from the repository"
		t.Fatal(err)
	}
	srv := startServe(t, "--dev", "--data", data, "--trust", filepath.Join(dir, "pki", "trust"))

	script := string(block[1])
	var want strings.Builder
	for _, line := range strings.Split(script, "\n") {
		if out, ok := strings.CutPrefix(line, "# {"); ok {
			want.WriteString("{" + out + "\n")
		}
	}
	if !strings.Contains(script, "RELAY=http://127.0.0.1:8080\n") {
		t.Fatal("the README's block should talk to the dev default address")
	}
	cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", strings.Replace(script, "http://127.0.0.1:8080", srv.url, 1))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s", err, out)
	}
	if string(out) != want.String() {
		t.Fatalf("the README's commands printed\n%s\nbut the README shows\n%s", out, want.String())
	}
	// What it left is a sealed PDF qpdf finds sound.
	if _, err := exec.LookPath("qpdf"); err == nil {
		if out, err := exec.Command("qpdf", "--check", filepath.Join(dir, "sealed.pdf")).CombinedOutput(); err != nil {
			t.Fatalf("qpdf --check sealed.pdf: %v\n%s", err, out)
		}
	}
}

// readREADME is the repository's README, whose examples these tests run.
func readREADME(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
