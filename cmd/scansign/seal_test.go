package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scansign/scansign/internal/pgtest"
	"github.com/scansign/scansign/internal/testtool"
	"github.com/scansign/scansign/seal"
	"github.com/scansign/scansign/seal/client"
	"github.com/scansign/scansign/seal/sealimg"
	"github.com/scansign/scansign/seal/service"
)

// sealRun runs `scansign seal ARGS…` in-process.
func sealRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runSeal(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func sampleSeal(name string) string {
	return filepath.Join("..", "..", "testdata", "seals", name)
}

// TestSealStoreCommands runs add, list and remove against both stores.
func TestSealStoreCommands(t *testing.T) {
	for _, backend := range []struct {
		name  string
		flags func(t *testing.T) []string
	}{
		{"embedded", func(t *testing.T) []string { return []string{"--data", t.TempDir()} }},
		{"postgres", func(t *testing.T) []string { return []string{"--database-url", pgtest.FreshDatabase(t)} }},
	} {
		t.Run(backend.name, func(t *testing.T) {
			store := backend.flags(t)
			with := func(args ...string) []string { return append(args, store...) }

			code, out, errOut := sealRun(t, with("add", "--serial", "00:0a:bc", "--name", "某某公司公章", "--image", sampleSeal("round-company.png"),
				"--width-cm", "4.2", "--height-cm", "4.2", "--type", "公章", "--from", "2024-01-01", "--to", "2099-12-31",
				"--user-id", "u-1", "--user-name", "某某公司", "--phone", "0551-1")...)
			if code != exitOK || !strings.Contains(out, "for serial ABC") || errOut != "" {
				t.Fatalf("add: %d %q %q", code, out, errOut)
			}
			id := regexp.MustCompile(`added seal (\S+)`).FindStringSubmatch(out)[1]
			code, _, _ = sealRun(t, with("add", "--serial", "ABC", "--name", "过期章", "--image", sampleSeal("oval-finance.png"), "--width-cm", "4", "--height-cm", "3", "--to", "2020-01-01")...)
			if code != exitOK {
				t.Fatal("second add failed")
			}

			// Refusals change nothing.
			jpegless := filepath.Join(t.TempDir(), "seal.gif")
			os.WriteFile(jpegless, []byte("GIF89a not really"), 0o644)
			for _, tt := range []struct {
				args []string
				code int
				msg  string
			}{
				{[]string{"add", "--serial", "ABC", "--name", "x", "--image", jpegless, "--width-cm", "4", "--height-cm", "4"}, exitInvalid, "not a PNG or JPEG"},
				{[]string{"add", "--serial", "XYZ", "--name", "x", "--image", sampleSeal("round-company.png"), "--width-cm", "4", "--height-cm", "4"}, exitInvalid, "hexadecimal"},
				{[]string{"add", "--serial", "ABC", "--name", "x", "--image", sampleSeal("round-company.png"), "--width-cm", "400", "--height-cm", "4"}, exitInvalid, "width"},
				{[]string{"add", "--serial", "ABC", "--name", "x", "--image", sampleSeal("round-company.png"), "--width-cm", "four", "--height-cm", "4"}, exitUsage, "not a number"},
				{[]string{"add", "--serial", "ABC", "--name", "x", "--image", sampleSeal("round-company.png"), "--width-cm", "4", "--height-cm", "4", "--to", "someday"}, exitUsage, "--to"},
				{[]string{"add", "--serial", "ABC", "--image", sampleSeal("round-company.png")}, exitUsage, "required"},
				{[]string{"add", "--serial", "ABC", "--name", "x", "--image", "/nonexistent.png", "--width-cm", "4", "--height-cm", "4"}, exitUsage, "no such file"},
				{[]string{"remove", "00000000-0000-0000-0000-000000000000"}, exitInvalid, "no seal"},
				{[]string{"remove", "--serial", "00ffff"}, exitInvalid, "nothing registered for serial FFFF\n"},
				{[]string{"remove", "--serial", "xyz"}, exitUsage, "--serial"},
				{[]string{"remove"}, exitUsage, "usage"},
			} {
				code, _, errOut := sealRun(t, with(tt.args...)...)
				if code != tt.code || !strings.Contains(errOut, tt.msg) {
					t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", tt.args, code, errOut, tt.code, tt.msg)
				}
			}

			code, out, _ = sealRun(t, with("list", "--json", "--serial", "abc")...)
			if code != exitOK {
				t.Fatalf("list: %d", code)
			}
			var listing sealListing
			if err := json.Unmarshal([]byte(out), &listing); err != nil {
				t.Fatal(err)
			}
			if len(listing.Seals) != 2 || listing.Seals[0].ID != id || listing.Seals[0].Status != "valid" || listing.Seals[1].Status != "expired" ||
				listing.Seals[0].From != "2024-01-01 00:00:00" || listing.Seals[0].To != "2099-12-31 23:59:59" {
				t.Fatalf("listing %+v", listing.Seals)
			}
			if len(listing.Users) != 1 || listing.Users[0].Name != "某某公司" || listing.Users[0].Phone != "0551-1" {
				t.Fatalf("users %+v", listing.Users)
			}
			if code, out, _ := sealRun(t, with("list")...); code != exitOK || !strings.Contains(out, id) || !strings.Contains(out, "expired") {
				t.Fatalf("list table: %d %s", code, out)
			}

			if code, out, _ := sealRun(t, with("remove", id)...); code != exitOK || !strings.Contains(out, "removed seal "+id) {
				t.Fatalf("remove: %d %s", code, out)
			}
			if code, out, _ := sealRun(t, with("remove", "--serial", "0x0abc")...); code != exitOK || out != "removed 1 seal(s) and the user data of serial ABC\n" {
				t.Fatalf("remove --serial: %d %s", code, out)
			}
			if code, out, _ := sealRun(t, with("list", "--json")...); code != exitOK || !strings.Contains(out, `"seals": []`) {
				t.Fatalf("list after removal: %s", out)
			}
		})
	}
}

func TestSealAccountCommand(t *testing.T) {
	code, out, _ := sealRun(t, "account", "relay")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	password := strings.TrimSpace(regexp.MustCompile(`(?m)^    (\S+)$`).FindStringSubmatch(out)[1])
	hash := regexp.MustCompile(`password_hash: "([^"]+)"`).FindStringSubmatch(out)[1]
	if strings.Contains(hash, password) || len(password) < 30 {
		t.Fatalf("password %q, hash %q", password, hash)
	}
	// The printed entry configures a working service.
	if _, err := service.New(service.Config{Accounts: []service.Account{{Name: "relay", PasswordHash: hash}}}, nopStore{}); err != nil {
		t.Fatal(err)
	}

	var out2, errb bytes.Buffer
	if code := runSealAccount([]string{"relay2", "--password-stdin"}, strings.NewReader("chosen secret\n"), &out2, &errb); code != exitOK {
		t.Fatalf("--password-stdin: %d %s", code, errb.String())
	}
	if strings.Contains(out2.String(), "chosen secret") || !strings.Contains(out2.String(), "pbkdf2-sha256$") {
		t.Fatalf("--password-stdin printed %q", out2.String())
	}
	for _, args := range [][]string{{"account"}, {"account", "a:b"}, {"account", "a", "b"}} {
		if code, _, _ := sealRun(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

// nopStore satisfies seal.Store for configuration checks that never reach it.
type nopStore struct{ seal.Store }

func TestSealDrawCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dev.png")
	if code, _, errOut := sealRun(t, "draw", "--name", "Test Org", "--shape", "oval", "--out", out); code != exitOK {
		t.Fatalf("draw: %d %s", code, errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := sealimg.Check(b); err != nil || !info.Transparent || info.Width != 440 {
		t.Fatalf("drawn image %+v, %v", info, err)
	}
	if code, _, _ := sealRun(t, "draw", "--name", "x", "--shape", "square", "--out", out); code != exitUsage {
		t.Fatal("accepted shape square")
	}
}

func TestSealServeConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "seal.yaml")
	os.WriteFile(file, []byte(`
listen: 127.0.0.1:9001
data: /from/file
max_failures: 9
max_failures_per_addr: 11
body_limit: 32KiB
accounts:
  - {name: file-account, password_hash: "h1"}
`), 0o600)
	env := map[string]string{"SCANSIGN_SEAL_CONFIG": file, "SCANSIGN_SEAL_DATA": "/from/env", "SCANSIGN_SEAL_MAX_FAILURES": "7"}
	getenv := func(k string) string { return env[k] }
	cfg, err := loadSealServeConfig([]string{"--max-failures", "3", "--account", "flag-account:h2", "--path-prefix", "seal/"}, getenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	// flag > env > file > default
	if cfg.Listen != "127.0.0.1:9001" || cfg.Data != "/from/env" || cfg.MaxFailures != 3 || cfg.BodyLimit != 32<<10 ||
		cfg.PathPrefix != "/seal" || len(cfg.Accounts) != 1 || cfg.Accounts[0].Name != "flag-account" || cfg.FailureWindow != time.Minute ||
		cfg.MaxFailuresPerAddr != 11 {
		t.Fatalf("config %+v", cfg)
	}
	for name, tt := range map[string]struct {
		args []string
		env  map[string]string
		msg  string
	}{
		"no accounts":       {nil, nil, "scansign seal account NAME"},
		"dev not loopback":  {[]string{"--dev", "--listen", "0.0.0.0:8090"}, nil, "loopback"},
		"bad account flag":  {[]string{"--account", "nohash"}, nil, "NAME:PASSWORD_HASH"},
		"tls half":          {[]string{"--account", "a:b", "--tls-cert", "c.pem"}, nil, "together"},
		"misspelt yaml key": {nil, map[string]string{"SCANSIGN_SEAL_CONFIG": sealWriteFile(t, "acounts: []\n")}, "acounts"},
		"bad env":           {[]string{"--account", "a:b"}, map[string]string{"SCANSIGN_SEAL_MAX_FAILURES": "many"}, "SCANSIGN_SEAL_MAX_FAILURES"},
	} {
		_, err := loadSealServeConfig(tt.args, func(k string) string { return tt.env[k] }, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: err %v, want it to mention %q", name, err, tt.msg)
		}
	}
}

func sealWriteFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "f.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sealLog collects a running service's log.
type sealLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *sealLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *sealLog) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// TestSealServe runs `scansign seal serve --dev` over a registered seal and
// asks it the guide's way, with curl, then with the client the relay uses.
func TestSealServe(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := sealRun(t, "add", "--data", data, "--serial", "1A2B", "--name", "测试公章", "--image", sampleSeal("round-company.png"),
		"--width-cm", "4.2", "--height-cm", "4.2", "--type", "公章", "--user-name", "测试单位"); code != exitOK {
		t.Fatalf("add: %s", errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &sealLog{}
	exit := make(chan int, 1)
	go func() {
		exit <- runSeal(ctx, []string{"serve", "--dev", "--listen", "127.0.0.1:0", "--data", data, "--path-prefix", "/seal"}, &bytes.Buffer{}, logs)
	}()
	addrRE := regexp.MustCompile(`msg="seal service listening" addr=(\S+)`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			base = "http://" + m[1]
			break
		}
		select {
		case code := <-exit:
			t.Fatalf("serve exited %d: %s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	if curl, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command(curl, "-sS", "-X", "POST", "-H", "Content-Type: Application/x-www-form-urlencoded",
			base+"/seal/api/getSeal", "--data", "caSerialId=1a2b&accountName="+devSealAccount+"&password="+devSealPassword).Output()
		if err != nil {
			t.Fatalf("curl: %v", err)
		}
		var a seal.GetSealAnswer
		if err := json.Unmarshal(out, &a); err != nil || a.Code != "0" || len(a.SignInfos) != 1 || a.SignInfos[0].SignName != "测试公章" || a.UserInfo.UserName != "测试单位" {
			t.Fatalf("curl answer %s (%v)", out, err)
		}
		out, _ = exec.Command(curl, "-sS", base+"/readyz").Output()
		if string(out) != "ready\n" {
			t.Fatalf("readyz %q", out)
		}
	}

	reg, err := client.New(client.Config{Companies: []client.Company{{Code: "DEV", URL: base + "/seal", Account: devSealAccount, Password: devSealPassword, Timeout: 5 * time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := reg.GetSeals(ctx, "DEV", "001A2B")
	if err != nil || len(res.Seals) != 1 || res.SealImgs()[0].SignWidth != "4.2" {
		t.Fatalf("client: %+v, %v", res, err)
	}
	if strings.Contains(logs.String(), devSealPassword+"&") || strings.Contains(logs.String(), "password=") {
		t.Fatalf("the log shows a password: %s", logs.String())
	}

	cancel()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Fatalf("serve exited %d: %s", code, logs.String())
		}
	case <-time.After(25 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestREADMESealExample runs the README's seal service example: its `seal
// add` commands, `seal serve --dev`, then the marked curl block verbatim,
// comparing what it prints with the README's #> lines.
func TestREADMESealExample(t *testing.T) {
	testtool.Need(t, "curl")
	readme := readREADME(t)
	section := regexp.MustCompile("(?s)\n## Seal company service\n(.*?)\n## ").FindSubmatch(readme)
	if section == nil {
		t.Fatal("README has no seal company service section")
	}
	setup := regexp.MustCompile("(?s)### Try it\\s*```sh\n(.*?)```").FindSubmatch(section[1])
	block := regexp.MustCompile("(?s)<!-- The next block is run verbatim by TestREADMESealExample.*?-->\\s*```sh\n(.*?)```").FindSubmatch(section[1])
	if setup == nil || block == nil {
		t.Fatal("README's seal section lacks its setup or its marked curl block")
	}
	data := t.TempDir()
	adds := 0
	for _, line := range strings.Split(string(setup[1]), "\n") {
		if cmd, ok := strings.CutPrefix(line, "go run ./cmd/scansign seal add "); ok {
			args := []string{"add"}
			for _, f := range strings.Fields(cmd) {
				f = strings.Replace(f, "./sealdata", data, 1)
				if strings.HasPrefix(f, "testdata/") {
					f = filepath.Join("..", "..", f)
				}
				args = append(args, f)
			}
			if code, _, errOut := sealRun(t, args...); code != exitOK {
				t.Fatalf("README's %q: %s", line, errOut)
			}
			adds++
		} else if strings.HasPrefix(line, "go run ./cmd/scansign seal serve") && !strings.Contains(line, "--dev --data ./sealdata") {
			t.Fatalf("README's serve line changed: %q", line)
		}
	}
	if adds == 0 {
		t.Fatal("README's setup adds no seals")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &sealLog{}
	exit := make(chan int, 1)
	go func() {
		exit <- runSeal(ctx, []string{"serve", "--dev", "--listen", "127.0.0.1:0", "--data", data}, &bytes.Buffer{}, logs)
	}()
	addrRE := regexp.MustCompile(`msg="seal service listening" addr=(\S+)`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			base = "http://" + m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", logs.String())
		}
	}
	script := string(block[1])
	if !strings.Contains(script, "http://127.0.0.1:8090") {
		t.Fatal("the README's block should talk to the default address")
	}
	var want strings.Builder
	for _, line := range strings.Split(script, "\n") {
		if out, ok := strings.CutPrefix(line, "#> "); ok {
			want.WriteString(out + "\n")
		}
	}
	cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", strings.ReplaceAll(script, "http://127.0.0.1:8090", base))
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s", err, out)
	}
	if string(out) != want.String() {
		t.Fatalf("the README's commands printed\n%s\nbut the README shows\n%s", out, want.String())
	}
	cancel()
	<-exit
}

// TestSealServeTLS: with --tls-cert/--tls-key the service speaks HTTPS (the
// guide's transport) and the relay's client reaches it with the CA it trusts.
func TestSealServeTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSignedLoopback(t)
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)
	data := t.TempDir()
	if code, _, errOut := sealRun(t, "add", "--data", data, "--serial", "77", "--name", "TLS", "--image", sampleSeal("oval-personal.png"), "--width-cm", "3", "--height-cm", "2"); code != exitOK {
		t.Fatal(errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &sealLog{}
	exit := make(chan int, 1)
	go func() {
		exit <- runSeal(ctx, []string{"serve", "--dev", "--listen", "127.0.0.1:0", "--data", data, "--tls-cert", certFile, "--tls-key", keyFile}, &bytes.Buffer{}, logs)
	}()
	addrRE := regexp.MustCompile(`msg="seal service listening" addr=(\S+)`)
	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == ""; time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", logs.String())
		}
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	reg, err := client.New(client.Config{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		Companies: []client.Company{{Code: "TLS", URL: "https://" + addr, Account: devSealAccount, Password: devSealPassword}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := reg.GetSeals(ctx, "TLS", "77"); err != nil || len(res.Seals) != 1 {
		t.Fatalf("over TLS: %+v, %v", res, err)
	}
	// Plain HTTP to the TLS port is an answer the client refuses, not a hang.
	plain, _ := client.New(client.Config{Companies: []client.Company{{Code: "P", URL: "http://" + addr, Account: "a", Password: "b", Timeout: 2 * time.Second}}})
	if _, err := plain.GetSeals(ctx, "P", "77"); !errors.Is(err, client.ErrBadAnswer) {
		t.Fatalf("plain HTTP to TLS: %v", err)
	}
	cancel()
	<-exit
}

// TestSealSectionSettings: the settings that mount the seal service in
// `serve` are serve's (flags --seal-…, variables SCANSIGN_SEAL_…), and no
// flag or variable of serve's is defined twice.
func TestSealSectionSettings(t *testing.T) {
	sec := DefaultSealSection()
	var serveCfg Config
	flags, envs := map[string]int{}, map[string]int{}
	for _, s := range serveCfg.settings() {
		flags[s.flag]++
		envs[s.env()]++
	}
	for name, n := range flags {
		if n > 1 {
			t.Errorf("serve defines --%s %d times", name, n)
		}
	}
	for name, n := range envs {
		if n > 1 {
			t.Errorf("serve reads %s for %d settings", name, n)
		}
	}
	byFlag := map[string]setting{}
	for _, s := range sec.settings() {
		if !strings.HasPrefix(s.flag, "seal-") || !strings.HasPrefix(s.env(), "SCANSIGN_SEAL_") {
			t.Errorf("setting %s / %s is not in the seal namespace", s.flag, s.env())
		}
		if flags[s.flag] != 1 || envs[s.env()] != 1 {
			t.Errorf("setting %s / %s is not one of serve's", s.flag, s.env())
		}
		byFlag[s.flag] = s
	}
	if err := byFlag["seal-enabled"].set("true"); err != nil || !sec.Enabled {
		t.Fatal("seal-enabled")
	}
	if err := byFlag["seal-account"].list([]string{"relay:pbkdf2-sha256$10000$x$y"}); err != nil || len(sec.Accounts) != 1 || sec.Accounts[0].Name != "relay" {
		t.Fatalf("seal-account: %v %+v", err, sec.Accounts)
	}
	if byFlag["seal-account"].env() != "SCANSIGN_SEAL_ACCOUNTS" || byFlag["seal-body-limit"].env() != "SCANSIGN_SEAL_BODY_LIMIT" {
		t.Fatal("environment names")
	}
	var y struct {
		Seal SealSection `yaml:"seal"`
	}
	y.Seal = DefaultSealSection()
	if err := yaml.Unmarshal([]byte("seal: {enabled: true, accounts: [{name: r, password_hash: h}], max_failures: 3}\n"), &y); err != nil {
		t.Fatal(err)
	}
	if !y.Seal.Enabled || y.Seal.MaxFailures != 3 || y.Seal.BodyLimit != service.DefaultMaxBodyBytes || y.Seal.Accounts[0].PasswordHash != "h" {
		t.Fatalf("yaml section %+v", y.Seal)
	}
}
