package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scansign/scansign/internal/testpki"
)

// TestServeCertTypeRulesReloadOnSIGHUP: SIGHUP re-reads the cert type rules
// file as well as the trust directory; a file that no longer parses keeps
// the rules in force, one that does takes effect at once.
func TestServeCertTypeRulesReloadOnSIGHUP(t *testing.T) {
	m := testpki.Manifest(t)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	// 张三's certificate is a person's by default; this rule says organisation.
	writeRules := func(s string) {
		if err := os.WriteFile(rules, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeRules("- {field: CN, match: '^张三$', certType: 1}\n")
	srv := startServe(t, "--dev", "--data", t.TempDir(), "--trust", m.TrustDir, "--cert-type-rules", rules)
	leaf, _ := m.Leaf("sm2-person")
	pem, _ := os.ReadFile(leaf.CertPath)
	certType := func() float64 {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"cert": string(pem)})
		code, res := apiCall(t, srv.url+"/api/v1/certs/inspect", systemBasic, "application/json", bytes.NewReader(body))
		signer, _ := res["signer"].(map[string]any)
		if code != 200 || signer == nil {
			t.Fatalf("inspect: %d %v", code, res)
		}
		return signer["certType"].(float64)
	}
	hup := func(wantLog string) {
		t.Helper()
		before := strings.Count(srv.log.String(), wantLog)
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); strings.Count(srv.log.String(), wantLog) == before; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no new %q in the log:\n%s", wantLog, srv.log.String())
			}
		}
	}
	if got := certType(); got != 1 {
		t.Fatalf("with the rule: certType %v", got)
	}
	writeRules("- {field: CN, match: '(unclosed', certType: 1}\n")
	hup(`"msg":"cert type rules reload failed: keeping the previous rules"`)
	if got := certType(); got != 1 {
		t.Fatalf("after a failed reload: certType %v", got)
	}
	writeRules("[]\n")
	hup(`"msg":"cert type rules reloaded"`)
	if got := certType(); got != 2 {
		t.Fatalf("after reloading without the rule: certType %v", got)
	}
}
