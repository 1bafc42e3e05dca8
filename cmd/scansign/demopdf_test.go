package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scansign/scansign/internal/testtool"
)

// TestDemoPDF: the demo's generated document is a sound PDF to qpdf and
// reads back as text to poppler.
func TestDemoPDF(t *testing.T) {
	testtool.Need(t, "qpdf")
	testtool.Need(t, "pdftotext")
	path := filepath.Join(t.TempDir(), "contract.pdf")
	if err := os.WriteFile(path, demoPDF(), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil || strings.Contains(string(out), "WARNING") {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	out, err := exec.Command("pdftotext", path, "-").Output()
	if err != nil || !strings.Contains(string(out), "Construction Contract No. 2026-001") || !strings.Contains(string(out), "CNY 1,234,567.00") {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
}
