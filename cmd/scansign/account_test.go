package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"testing"

	"github.com/scansign/scansign/relay"
	"github.com/scansign/scansign/relay/client"
)

// The printed secret works against a server configured with the printed
// line, and the hash is the secret's SHA-256, never the secret.
func TestAccountAdd(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runAccount(context.Background(), []string{"add", "jyxt-1", "--role", "system"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	secret := regexp.MustCompile(`\n    ([A-Za-z0-9_-]{43})\n`).FindStringSubmatch(out.String())
	flagLine := regexp.MustCompile(`--account (jyxt-1:system:sha256:[0-9a-f]{64})`).FindStringSubmatch(out.String())
	yamlLine := regexp.MustCompile(`- \{name: jyxt-1, role: system, secret_hash: "(sha256:[0-9a-f]{64})"\}`).FindStringSubmatch(out.String())
	if secret == nil || flagLine == nil || yamlLine == nil {
		t.Fatalf("output:\n%s", out.String())
	}
	if relay.HashSecret(secret[1]) != yamlLine[1] {
		t.Fatal("printed hash is not the secret's")
	}
	file := writeFile(t, "c.yaml", "relay:\n  accounts:\n    "+yamlLine[0]+"\n")
	srv := startServe(t, "--config", file, "--data", t.TempDir())
	c := client.New(srv.url, nil)
	if _, err := c.GrantToken(context.Background(), "jyxt-1", secret[1], ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GrantToken(context.Background(), "jyxt-1", yamlLine[1], ""); client.Code(err) != 401 {
		t.Fatalf("the hash itself worked as a password: %v", err)
	}
	// Two runs draw different secrets.
	var out2 bytes.Buffer
	runAccount(context.Background(), []string{"add", "--role", "app", "x"}, &out2, io.Discard)
	if bytes.Contains(out2.Bytes(), []byte(secret[1])) {
		t.Fatal("same secret twice")
	}
}

func TestAccountAddRefusals(t *testing.T) {
	for _, args := range [][]string{nil, {"add"}, {"add", "x"}, {"add", "x", "--role", "admin"}, {"add", "bad name", "--role", "app"}, {"remove", "x"}} {
		if code := runAccount(context.Background(), args, io.Discard, io.Discard); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}
