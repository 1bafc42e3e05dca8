package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scansign/scansign/internal/pgtest"
	"github.com/scansign/scansign/relay/client"
)

// syncBuffer collects a server's log while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is a `scansign serve` started in-process by a test.
type running struct {
	url  string
	log  *syncBuffer
	stop func() int // cancels (as SIGTERM does) and returns the exit code
}

// startServe runs runServe with args (plus a free loopback port and JSON
// logs) and waits until it listens.
func startServe(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logBuf := &syncBuffer{}
	code := make(chan int, 1)
	args = append([]string{"--listen", "127.0.0.1:0", "--log-format", "json"}, args...)
	go func() { code <- runServe(ctx, args, io.Discard, logBuf) }()
	addrRE := regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := addrRE.FindStringSubmatch(logBuf.String()); m != nil {
			r := &running{url: "http://" + m[1], log: logBuf}
			var once sync.Once
			exit := -1
			r.stop = func() int {
				once.Do(func() { cancel(); exit = <-code })
				return exit
			}
			t.Cleanup(func() { r.stop() })
			return r
		}
		select {
		case c := <-code:
			cancel()
			t.Fatalf("serve exited with %d before listening:\n%s", c, logBuf.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", logBuf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m, resp.Header
}

// TestServeDevFlowRestartAndShutdown runs `serve --dev` on each store: the
// login flow over HTTP, a restart of the whole server in the middle, health
// endpoints, request ids, logs free of secrets, and a clean shutdown.
func TestServeDevFlowRestartAndShutdown(t *testing.T) {
	for _, kind := range []string{"embedded", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			storeArgs := []string{"--data", t.TempDir()}
			if kind == "postgres" {
				storeArgs = []string{"--database-url", pgtest.FreshDatabase(t)}
			}
			args := append([]string{"--dev"}, storeArgs...)
			srv := startServe(t, args...)
			ctx := context.Background()
			c := client.New(srv.url, nil)

			sysTok, err := c.GrantToken(ctx, devSystemAccount, devSystemSecret, "")
			if err != nil {
				t.Fatal(err)
			}
			const nonce, sig = "nonce-4f32-9994", "SIGNATURE-VALUE-签名"
			guid, err := c.InitMessage(ctx, sysTok, client.InitMessageRequest{Type: 4, Message: nonce, Title: "登录"})
			if err != nil {
				t.Fatal(err)
			}
			appTok, err := c.GrantToken(ctx, devAppAccount, devAppSecret, guid)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetInitMessage(ctx, appTok, guid); err != nil {
				t.Fatal(err)
			}
			if code, m, _ := getJSON(t, srv.url+"/healthz"); code != 200 || m["status"] != "ok" {
				t.Fatalf("healthz %d %v", code, m)
			}
			if code, m, h := getJSON(t, srv.url+"/readyz"); code != 200 || m["status"] != "ready" || h.Get("X-Request-Id") == "" {
				t.Fatalf("readyz %d %v %v", code, m, h)
			}

			if exit := srv.stop(); exit != exitOK {
				t.Fatalf("exit code %d after shutdown", exit)
			}
			first := srv.log.String()
			if !strings.Contains(first, `"msg":"stopped"`) {
				t.Fatalf("no clean stop in the log:\n%s", first)
			}

			// Restart on the same data: the operation and both tokens live on.
			srv = startServe(t, args...)
			c = client.New(srv.url, nil)
			if err := c.SaveCaMessageResult(ctx, appTok, client.SaveRequest{GUID: guid, Status: 2, Value: ptrTo(sig)}); err != nil {
				t.Fatalf("save after restart: %v", err)
			}
			res, err := c.GetCaMessageResult(ctx, sysTok, guid)
			if err != nil || res.Status != 2 || *res.Value != sig {
				t.Fatalf("result after restart: %+v, %v", res, err)
			}
			srv.stop()

			all := first + srv.log.String()
			for _, secret := range []string{sysTok, appTok, devSystemSecret, devAppSecret, nonce, sig} {
				if strings.Contains(all, secret) {
					t.Errorf("log contains %q", secret)
				}
			}
			// Every access line has a request id, and the service's own lines
			// carry the id of the request that caused them.
			sc := bufio.NewScanner(strings.NewReader(all))
			n := 0
			for sc.Scan() {
				var rec map[string]any
				if json.Unmarshal(sc.Bytes(), &rec) != nil {
					t.Fatalf("log line is not JSON: %s", sc.Text())
				}
				if rec["msg"] == "http" || rec["msg"] == "operation status changed" {
					n++
					if id, _ := rec["request_id"].(string); id == "" {
						t.Errorf("log line without request id: %s", sc.Text())
					}
				}
			}
			if n < 8 {
				t.Fatalf("only %d request log lines:\n%s", n, all)
			}
			if !strings.Contains(all, "DEVELOPMENT MODE") {
				t.Error("no dev-mode warning in the log")
			}
		})
	}
}

func ptrTo(s string) *string { return &s }

func TestServeRefusesWithoutAccounts(t *testing.T) {
	var stderr bytes.Buffer
	code := runServe(context.Background(), []string{"--data", t.TempDir()}, io.Discard, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "scansign account add") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

func TestServePathPrefixAndRequestID(t *testing.T) {
	srv := startServe(t, "--dev", "--data", t.TempDir(), "--path-prefix", "/scan/")
	c := client.New(srv.url+"/scan", nil)
	if _, err := c.GrantToken(context.Background(), devSystemAccount, devSystemSecret, ""); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(srv.url+"/grantToken", "application/x-www-form-urlencoded", strings.NewReader("accountName=dev-system&password=dev-system-secret"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("endpoint outside the prefix answered %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", srv.url+"/healthz", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-Id") != "abc-123" {
		t.Fatalf("request id not echoed: %q", resp.Header.Get("X-Request-Id"))
	}
}
