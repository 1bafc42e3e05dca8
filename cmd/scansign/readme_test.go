package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMECurlExamples runs the README's relay curl session verbatim
// (only the port differs) against `serve --dev` and compares what it prints
// with the answers the README shows.
func TestREADMECurlExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is needed to check the README's examples")
		}
		t.Skip("no curl")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
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
