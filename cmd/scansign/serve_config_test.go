package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/pdfsign"
)

// TestServeConfigSections: the trust, pdf, seal and seal_companies
// sections read from the file, the environment and flags like the rest.
func TestServeConfigSections(t *testing.T) {
	file := writeFile(t, "c.yaml", `
relay:
  accounts:
    - {name: jyxt, role: system, secret_hash: "`+testHash+`"}
trust:
  dir: /etc/scansign/trust
  sm2_user_id: "31323334"
  allow_sha1: true
  cert_type_rules: /etc/scansign/rules.yaml
pdf:
  max_bytes: 20MiB
  temp_dir: /var/tmp
seal:
  enabled: true
  accounts: [{name: relay, password_hash: "pbkdf2-sha256$10000$x$y"}]
seal_companies:
  - {code: ACME, url: "https://seal.acme.cn/p", account: relay, password: "p@ss", timeout: 3s}
`)
	env := map[string]string{
		"SCANSIGN_CONFIG":         file,
		"SCANSIGN_PDF_TIMEOUT":    "30m",
		"SCANSIGN_SEAL_COMPANIES": "A=https://u:p%2Cw@a.example.cn?timeout=2s, B=http://v:q@b.example.cn:8090/seal",
	}
	cfg, err := loadConfig([]string{"--trust", "/flag/trust", "--require-fresh-crl"}, envMap(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tr := cfg.Trust
	if tr.Dir != "/flag/trust" || tr.SM2UserID != "31323334" || !tr.AllowSHA1 || tr.CertTypeRules != "/etc/scansign/rules.yaml" || !tr.RequireFreshCRL {
		t.Errorf("trust %+v", tr)
	}
	if cfg.PDF.MaxBytes != 20<<20 || cfg.PDF.Timeout != 30*time.Minute || cfg.PDF.TempDir != "/var/tmp" {
		t.Errorf("pdf %+v", cfg.PDF)
	}
	if !cfg.Seal.Enabled || len(cfg.Seal.Accounts) != 1 {
		t.Errorf("seal %+v", cfg.Seal)
	}
	// The environment's list replaces the file's.
	cs := cfg.SealCompanies
	if len(cs) != 2 || cs[0].Code != "A" || cs[0].URL != "https://a.example.cn" || cs[0].Account != "u" || cs[0].Password != "p,w" ||
		cs[0].Timeout != 2*time.Second || cs[1].URL != "http://b.example.cn:8090/seal" || cs[1].Timeout != 0 {
		t.Errorf("seal companies %+v", cs)
	}

	// Defaults: no trust, 100 MiB PDFs, 15 minutes, no seal service.
	cfg, err = loadConfig([]string{"--account", "jyxt:system:" + testHash}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Trust.Dir != "" || cfg.PDF.MaxBytes != pdfsign.DefaultMaxPDFBytes || cfg.PDF.Timeout != DefaultPDFTimeout || cfg.Seal.Enabled || cfg.SealCompanies != nil {
		t.Errorf("defaults: trust %+v pdf %+v seal %v companies %v", cfg.Trust, cfg.PDF, cfg.Seal.Enabled, cfg.SealCompanies)
	}

	// --dev turns the seal service on with the dev account.
	cfg, err = loadConfig([]string{"--dev"}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Seal.Enabled || len(cfg.Seal.Accounts) != 1 || cfg.Seal.Accounts[0].Name != devSealAccount {
		t.Errorf("dev seal section %+v", cfg.Seal)
	}
}

// TestServeConfigSectionRefusals: what cannot work is refused, and a seal
// company entry's password never appears in the error.
func TestServeConfigSectionRefusals(t *testing.T) {
	acct := []string{"--account", "jyxt:system:" + testHash}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--seal-enabled"}, "seal.enabled needs a seal service account"},
		{[]string{"--pdf-max-bytes", "0"}, "--pdf-max-bytes"},
		{[]string{"--pdf-timeout", "0s"}, "--pdf-timeout must be positive"},
		{[]string{"--seal-company", "https://u:TOPSECRET@x.cn"}, "want CODE=https://ACCOUNT:PASSWORD@host"},
		{[]string{"--seal-company", "X=https://x.cn"}, `seal company "X": want CODE=`},
		{[]string{"--seal-company", "X=https://u:TOPSECRET@x.cn?timeout=soon"}, `seal company "X": timeout "soon"`},
		{[]string{"--seal-company", "X=https://u:TOPSECRET@x.cn?retries=3"}, "only query parameter may be timeout"},
	} {
		_, err := loadConfig(append(append([]string{}, acct...), tc.args...), envMap(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("%v: the error shows the password: %v", tc.args, err)
		}
	}
}
