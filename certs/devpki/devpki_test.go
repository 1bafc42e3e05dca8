package devpki_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/certs/devpki"
)

func TestGenerateMoveLoadIssue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a")
	m, err := devpki.Generate(dir, devpki.Options{Password: "pw-123"})
	if err != nil {
		t.Fatal(err)
	}
	// The manifest on disk uses relative paths, so the directory can move.
	raw, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if strings.Contains(string(raw), dir) {
		t.Fatal("manifest.json holds absolute paths")
	}
	var onDisk devpki.Manifest
	if err := json.Unmarshal(raw, &onDisk); err != nil || len(onDisk.Leaves) != 10 {
		t.Fatalf("manifest.json: %v", err)
	}
	moved := filepath.Join(t.TempDir(), "b")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	m2, err := devpki.Load(moved)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]bool{} // trusted, expired, revoked
	for _, l := range m.Leaves {
		want[l.Name] = [3]bool{l.Trusted, l.Expired, l.Revoked}
	}
	for _, l := range m2.Leaves {
		if want[l.Name] != [3]bool{l.Trusted, l.Expired, l.Revoked} || !strings.HasPrefix(l.CertPath, moved) || l.PFXPass != "pw-123" {
			t.Errorf("%s: %+v", l.Name, l)
		}
		pfx, err := os.ReadFile(l.PFXPath)
		if err != nil {
			t.Fatal(err)
		}
		id, err := certs.ParsePFX(pfx, []byte("pw-123"))
		if err != nil || certs.SerialHex(id.Certificate.SerialNumber) != l.Serial {
			t.Errorf("%s pfx: %v", l.Name, err)
		}
	}
	leaf, err := devpki.Issue(moved, devpki.IssueRequest{Name: "bidder-7", Algorithm: devpki.SM2, Kind: devpki.Organisation, CommonName: "投标人七"})
	if err != nil {
		t.Fatal(err)
	}
	if !certs.ValidCreditCode(leaf.CreditCode) || !leaf.Trusted {
		t.Errorf("issued leaf %+v", leaf)
	}
	m3, _ := devpki.Load(moved)
	if l, ok := m3.Leaf("bidder-7"); !ok || l.Serial != leaf.Serial {
		t.Error("issued leaf not in the manifest")
	}
	for _, bad := range []devpki.IssueRequest{
		{Name: "bidder-7", Algorithm: devpki.SM2},
		{Name: "../escape", Algorithm: devpki.SM2},
		{Name: "x", Algorithm: "dsa"},
		{Name: "y", Algorithm: devpki.RSA, Kind: "robot"},
		{Name: "z", Algorithm: devpki.RSA, Kind: devpki.Organisation, CreditCode: "91340100XXXXXXXXXX"},
	} {
		if _, err := devpki.Issue(moved, bad); err == nil {
			t.Errorf("Issue(%+v) accepted", bad)
		}
	}
}
