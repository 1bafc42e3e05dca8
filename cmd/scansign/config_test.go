package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/relay"
)

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var testHash = relay.HashSecret("s3cret-for-tests")

// Precedence: flag > env > file > default, setting by setting.
func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "c.yaml", `
listen: 127.0.0.1:9001
public_url: https://file.example.cn
data: /file/data
relay:
  op_ttl: 2m
  token_ttl: 10m
  body_limit: 2MiB
  accounts:
    - {name: jyxt, role: system, secret_hash: "`+testHash+`"}
  cities:
    - {code: P3401000001, name: 合肥}
`)
	env := map[string]string{
		"SCANSIGN_CONFIG":    file,
		"SCANSIGN_LISTEN":    "127.0.0.1:9002",
		"SCANSIGN_OP_TTL":    "3m",
		"SCANSIGN_ACCOUNTS":  "a1:system:" + testHash + ", a2:app:" + testHash,
		"SCANSIGN_LOG_LEVEL": "debug",
	}
	cfg, err := loadConfig([]string{"--listen", "127.0.0.1:9003", "--token-ttl=20m", "--city", "X1=甲", "--city", "X2=乙"}, envMap(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"listen (flag over env over file)", cfg.Listen, "127.0.0.1:9003"},
		{"public_url (file)", cfg.PublicURL, "https://file.example.cn"},
		{"data (file over default)", cfg.Data, "/file/data"},
		{"log level (env)", cfg.LogLevel, "debug"},
		{"log format (default)", cfg.LogFormat, "text"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if cfg.Relay.OpTTL != 3*time.Minute || cfg.Relay.TokenTTL != 20*time.Minute || cfg.Relay.BodyLimit != 2<<20 {
		t.Errorf("op_ttl %v token_ttl %v body %d", cfg.Relay.OpTTL, cfg.Relay.TokenTTL, cfg.Relay.BodyLimit)
	}
	if len(cfg.Relay.Accounts) != 2 || cfg.Relay.Accounts[1].Name != "a2" || cfg.Relay.Accounts[1].Role != "app" {
		t.Errorf("accounts from env should replace the file's: %+v", cfg.Relay.Accounts)
	}
	if len(cfg.Relay.Cities) != 2 || cfg.Relay.Cities[1] != (relay.City{Code: "X2", Name: "乙"}) {
		t.Errorf("cities from repeated flags: %+v", cfg.Relay.Cities)
	}
	// Defaults when nothing is given but an account.
	cfg, err = loadConfig([]string{"--account", "jyxt:system:" + testHash}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.Data != "./data" || cfg.Relay.OpTTL != 5*time.Minute ||
		cfg.Relay.TokenTTL != 30*time.Minute || cfg.Relay.BodyLimit != 1<<20 || cfg.PublicURL != "http://127.0.0.1:8080" || cfg.Relay.Cities != nil {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestConfigRefusals(t *testing.T) {
	acct := "--account=jyxt:system:" + testHash
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		file string
		want string
	}{
		{"no accounts", nil, nil, "", "scansign account add"},
		{"dev on all interfaces", []string{"--dev", "--listen", ":8080"}, nil, "", "loopback"},
		{"dev on a public address", []string{"--dev", "--listen", "192.0.2.10:8080"}, nil, "", "loopback"},
		{"misspelt key", nil, nil, "relay:\n  op_tl: 5m\n", "op_tl"},
		{"bad duration", []string{acct, "--op-ttl", "five"}, nil, "", "duration"},
		{"bad env duration", []string{acct}, map[string]string{"SCANSIGN_TOKEN_TTL": "x"}, "", "SCANSIGN_TOKEN_TTL"},
		{"bad account flag", []string{"--account", "jyxt"}, nil, "", "NAME:ROLE:SECRET_HASH"},
		{"tls half", []string{acct, "--tls-cert", "c.pem"}, nil, "", "go together"},
		{"public url needed", []string{acct, "--listen", ":8080"}, nil, "", "--public-url"},
		{"bad proxy", []string{acct, "--trusted-proxies", "10.0.0.1"}, nil, "", "CIDR"},
		{"bad body limit", []string{acct, "--body-limit", "lots"}, nil, "", "size"},
		{"stray argument", []string{acct, "extra"}, nil, "", "unexpected argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if c.file != "" {
				args = append([]string{"--config", writeFile(t, "c.yaml", c.file)}, args...)
			}
			_, err := loadConfig(args, envMap(c.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestDevConfig(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", "localhost:8080", "[::1]:8080"} {
		cfg, err := loadConfig([]string{"--dev", "--listen", listen}, envMap(nil), io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", listen, err)
		}
		if len(cfg.Relay.Accounts) != 2 || cfg.Relay.Accounts[0].SecretHash != relay.HashSecret("dev-system-secret") {
			t.Fatalf("dev accounts: %+v", cfg.Relay.Accounts)
		}
	}
	// SCANSIGN_DEV=true works like --dev.
	if _, err := loadConfig(nil, envMap(map[string]string{"SCANSIGN_DEV": "true"}), io.Discard); err != nil {
		t.Fatal(err)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"1048576": 1 << 20, "1MiB": 1 << 20, "512KiB": 512 << 10, "2 MB": 2e6} {
		var b ByteSize
		if err := b.parse(in); err != nil || b != want {
			t.Errorf("%q = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1TiB", "x"} {
		var b ByteSize
		if err := b.parse(in); err == nil {
			t.Errorf("%q accepted as %d", in, b)
		}
	}
}
