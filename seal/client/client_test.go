package client

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scansign/scansign/seal"
	"github.com/scansign/scansign/seal/service"
	"github.com/scansign/scansign/seal/store"
)

const (
	account  = "relay"
	password = "relay-secret"
)

// cheapHash is a seal service password hash at the lowest cost the service
// accepts, so the tests do not wait on PBKDF2.
func cheapHash(t testing.TB, password string) string {
	t.Helper()
	salt := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha256.New, password, salt, 10_000, 32)
	if err != nil {
		t.Fatal(err)
	}
	return "pbkdf2-sha256$10000$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(key)
}

// sealCompany runs the real seal service (seal/service over the embedded
// store) on loopback, holding seals for serial 0A1B2C: one valid, one expired.
func sealCompany(t testing.TB) (url string, round []byte) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenEmbedded(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	round = sample(t, "round-company.png")
	if _, err := st.AddSeal(ctx, seal.Seal{Serial: "0A1B2C", Name: "某某公司公章", WidthCM: 4.2, HeightCM: 4.2, Type: "公章", Description: "单位公章", Image: round}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddSeal(ctx, seal.Seal{Serial: "0A1B2C", Name: "过期章", WidthCM: 4, HeightCM: 4, Image: round, ValidTo: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutUser(ctx, seal.User{Serial: "A1B2C", ID: "u-9", Name: "某某公司"}); err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Config{Accounts: []service.Account{{Name: account, PasswordHash: cheapHash(t, password)}}, Logger: slog.New(slog.DiscardHandler)}, st)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(service.Path, svc)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, round
}

// counting wraps a handler and counts the requests that reached it.
func counting(t *testing.T, h http.HandlerFunc) (url string, hits *atomic.Int32) {
	hits = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hits
}

// hanging is a company that accepts the request and never answers.
func hanging(t *testing.T) (url string, hits *atomic.Int32) {
	release := make(chan struct{})
	url, hits = counting(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	return url, hits
}

// downAddr is a loopback address where nothing listens: connection refused.
func downAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func registry(t *testing.T, cfg Config) *Registry {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGetSealsFromTheSealService(t *testing.T) {
	url, round := sealCompany(t)
	r := registry(t, Config{Companies: []Company{
		{Code: "ACME", URL: url, Account: account, Password: password, Timeout: 5 * time.Second},
		{Code: "ACME-PREFIXED", URL: url + "/api/getSeal/", Account: account, Password: password},
		{Code: "WRONG-PW", URL: url, Account: account, Password: "guess"},
	}})
	for _, code := range []string{"ACME", "ACME-PREFIXED"} {
		// Any spelling of the serial the app may send.
		for _, serial := range []string{"0A1B2C", "a1b2c", "0a:1b:2c"} {
			res, err := r.GetSeals(context.Background(), code, serial)
			if err != nil {
				t.Fatalf("%s %s: %v", code, serial, err)
			}
			if res.Company != code || len(res.Seals) != 1 || res.User.UserID != "u-9" || res.User.UserName != "某某公司" {
				t.Fatalf("result %+v", res)
			}
			imgs := res.SealImgs()
			want := seal.SealImg{SignName: "某某公司公章", SignWidth: "4.2", SignHeight: "4.2", Img: base64.StdEncoding.EncodeToString(round), Description: "单位公章"}
			if len(imgs) != 1 || imgs[0] != want {
				t.Fatalf("2.8 shape %+v", imgs)
			}
		}
	}

	for _, tt := range []struct {
		name, code, serial string
		kind               error
		msg                string
	}{
		{"unknown serial", "ACME", "FFFF", ErrNoSeals, "该证书没有可用的印章"},
		{"wrong password", "WRONG-PW", "0A1B2C", ErrCompanyError, "签章服务返回错误：授权账号或密码错误"},
		{"unknown company", "NOPE", "0A1B2C", ErrUnknownCompany, "未配置的签章公司编码：NOPE"},
		{"bad serial", "ACME", "not hex", ErrBadSerial, "证书序列号格式不正确"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.GetSeals(context.Background(), tt.code, tt.serial)
			if !errors.Is(err, tt.kind) || res != nil {
				t.Fatalf("GetSeals = %+v, %v; want %v", res, err, tt.kind)
			}
			if got := FailMessage(err); got != tt.msg {
				t.Fatalf("FailMessage = %q, want %q", got, tt.msg)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "guess") {
				t.Fatalf("error text carries a password: %v", err)
			}
		})
	}
}

// TestHangingCompany: a company that never answers costs the caller its
// timeout and no more, is asked once (the request went out: no retry), and
// does not hold up calls to another company made at the same time.
func TestHangingCompany(t *testing.T) {
	goodURL, _ := sealCompany(t)
	hangURL, hits := hanging(t)
	const timeout = 400 * time.Millisecond
	r := registry(t, Config{Companies: []Company{
		{Code: "HANG", URL: hangURL, Account: account, Password: password, Timeout: timeout},
		{Code: "GOOD", URL: goodURL, Account: account, Password: password, Timeout: 5 * time.Second},
	}})

	type outcome struct {
		err     error
		elapsed time.Duration
	}
	done := make(chan outcome, 1)
	go func() {
		start := time.Now()
		_, err := r.GetSeals(context.Background(), "HANG", "0A1B2C")
		done <- outcome{err, time.Since(start)}
	}()
	// Meanwhile the other company answers promptly.
	if _, err := r.GetSeals(context.Background(), "GOOD", "0A1B2C"); err != nil {
		t.Fatalf("good company while the other hangs: %v", err)
	}
	o := <-done
	err, elapsed := o.err, o.elapsed
	if !errors.Is(err, ErrTimeout) || FailMessage(err) != "签章服务响应超时，请稍后重试" {
		t.Fatalf("hanging company: %v", err)
	}
	if elapsed < timeout || elapsed > timeout+300*time.Millisecond {
		t.Fatalf("returned after %v; the timeout is %v", elapsed, timeout)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("hanging company asked %d times; a timeout after sending is not retried", n)
	}
}

// TestStalledBody: headers arrive, the body never finishes: still bounded.
func TestStalledBody(t *testing.T) {
	url, _ := counting(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"code":"0","signInfos":[`))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	const timeout = 300 * time.Millisecond
	r := registry(t, Config{Companies: []Company{{Code: "C", URL: url, Account: account, Password: password, Timeout: timeout}}})
	start := time.Now()
	_, err := r.GetSeals(context.Background(), "C", "01")
	if !errors.Is(err, ErrTimeout) || time.Since(start) > timeout+300*time.Millisecond {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
}

func TestDownCompany(t *testing.T) {
	addr := downAddr(t)
	r := registry(t, Config{Retries: 2, RetryBackoff: 20 * time.Millisecond,
		Companies: []Company{{Code: "DOWN", URL: "http://" + addr, Account: account, Password: password, Timeout: 2 * time.Second}}})
	start := time.Now()
	_, err := r.GetSeals(context.Background(), "DOWN", "0A1B2C")
	if !errors.Is(err, ErrUnreachable) || FailMessage(err) != "无法连接签章服务，请稍后重试" {
		t.Fatalf("down company: %v", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("cause not kept: %v", err)
	}
	// Two retries with 20 ms and 40 ms pauses: refused quickly, not after the timeout.
	if el := time.Since(start); el < 60*time.Millisecond || el > time.Second {
		t.Fatalf("gave up after %v", el)
	}
}

// TestDownCompanyComesBack: connection refused is retried, so a company
// restarting during the call is reached on a later attempt.
func TestDownCompanyComesBack(t *testing.T) {
	addr := downAddr(t)
	goodURL, _ := sealCompany(t)
	r := registry(t, Config{Retries: 5, RetryBackoff: 50 * time.Millisecond,
		Companies: []Company{{Code: "BACK", URL: "http://" + addr, Account: account, Password: password, Timeout: 5 * time.Second}}})
	// A proxy on the refused address that starts after the first attempt
	// and forwards to the real seal service.
	go func() {
		time.Sleep(120 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return // port taken meanwhile: the test then fails below, visibly
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			resp, err := http.Post(goodURL+req.URL.Path, req.Header.Get("Content-Type"), req.Body)
			if err != nil {
				http.Error(w, err.Error(), 502)
				return
			}
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			buf := make([]byte, 32<<10)
			for {
				n, err := resp.Body.Read(buf)
				w.Write(buf[:n])
				if err != nil {
					return
				}
			}
		})}
		t.Cleanup(func() { srv.Close() })
		srv.Serve(l)
	}()
	res, err := r.GetSeals(context.Background(), "BACK", "0A1B2C")
	if err != nil || len(res.Seals) != 1 {
		t.Fatalf("after the company came back: %+v, %v", res, err)
	}
}

// TestAnswersAreNotRetried: an error status, garbage or an oversized answer
// is final after one request.
func TestAnswersAreNotRetried(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		kind    error
	}{
		{"503", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down for maintenance", 503) }, ErrUnreachable},
		{"404 (wrong URL)", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, ErrBadAnswer},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, ErrBadAnswer},
		{"garbage", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>hello</html>")) }, ErrBadAnswer},
		{"too much", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"code":"0","message":"`))
			w.Write([]byte(strings.Repeat("x", 200<<10)))
			w.Write([]byte(`"}`))
		}, ErrBadAnswer},
		{"error code", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"code":"500","message":"签章服务内部错误"}`))
		}, ErrCompanyError},
		{"connection dropped mid-answer", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"code\""))
				conn.Close()
			}
		}, ErrUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, hits := counting(t, tt.handler)
			r := registry(t, Config{MaxAnswerBytes: 64 << 10, Companies: []Company{{Code: "C", URL: url, Account: account, Password: password, Timeout: 2 * time.Second}}})
			_, err := r.GetSeals(context.Background(), "C", "0A1B2C")
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			if n := hits.Load(); n != 1 {
				t.Fatalf("company asked %d times, want 1", n)
			}
		})
	}
}

// TestCallerCancels: the relay's own request going away ends the call with
// the caller's context error, not a company failure.
func TestCallerCancels(t *testing.T) {
	url, _ := hanging(t)
	r := registry(t, Config{Companies: []Company{{Code: "HANG", URL: url, Account: account, Password: password, Timeout: 10 * time.Second}}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := r.GetSeals(ctx, "HANG", "01")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
}

// TestRequestOnTheWire: what a company receives is the guide's form, the
// serial normalised as CAs print it.
func TestRequestOnTheWire(t *testing.T) {
	got := make(chan *http.Request, 1)
	url, _ := counting(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got <- r
		w.Write([]byte(`{"code":"404","message":"无"}`))
	})
	r := registry(t, Config{Companies: []Company{{Code: "C", URL: url + "/prefix/", Account: "acc", Password: "p&w=d"}}})
	if _, err := r.GetSeals(context.Background(), "C", " 0a1b "); !errors.Is(err, ErrNoSeals) {
		t.Fatal(err)
	}
	req := <-got
	if req.Method != "POST" || req.URL.Path != "/prefix/api/getSeal" || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		t.Fatalf("%s %s %s", req.Method, req.URL.Path, req.Header.Get("Content-Type"))
	}
	if req.PostForm.Get("caSerialId") != "A1B" || req.PostForm.Get("accountName") != "acc" || req.PostForm.Get("password") != "p&w=d" {
		t.Fatalf("form %v", req.PostForm)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	ok := Company{Code: "A", URL: "https://seal.example.com", Account: "a", Password: "p"}
	with := func(f func(*Company)) []Company { c := ok; f(&c); return []Company{c} }
	for name, cs := range map[string][]Company{
		"no code":          with(func(c *Company) { c.Code = "" }),
		"duplicate":        {ok, ok},
		"ftp":              with(func(c *Company) { c.URL = "ftp://x" }),
		"no host":          with(func(c *Company) { c.URL = "http://" }),
		"relative":         with(func(c *Company) { c.URL = "/api" }),
		"credentials":      with(func(c *Company) { c.URL = "https://u:p@x" }),
		"query":            with(func(c *Company) { c.URL = "https://x/?a=1" }),
		"no password":      with(func(c *Company) { c.Password = "" }),
		"negative timeout": with(func(c *Company) { c.Timeout = -1 }),
	} {
		if _, err := New(Config{Companies: cs}); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	r := registry(t, Config{Companies: []Company{ok}})
	if !r.Has("A") || r.Has("B") {
		t.Fatal("Has")
	}
	if c, _ := r.Company("A"); c.Timeout != DefaultTimeout {
		t.Fatalf("default timeout %v", c.Timeout)
	}
	if s := ok.String(); strings.Contains(s, "p}") || strings.Contains(s, "password") {
		t.Fatalf("String shows the password: %s", s)
	}
}

// TestCompanyYAML: the registry's configuration reads from YAML as the
// relay's config file will hold it.
func TestCompanyYAML(t *testing.T) {
	var cfg struct {
		Companies []Company `yaml:"seal_companies"`
	}
	err := yaml.Unmarshal([]byte(`
seal_companies:
  - {code: ACME, url: "https://seal.acme.cn/prefix", account: relay, password: "p@ss", timeout: 3s}
  - {code: DEV, url: "http://127.0.0.1:8090", account: dev-seal, password: dev-seal-secret}
`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := registry(t, Config{Companies: cfg.Companies})
	acme, _ := r.Company("ACME")
	dev, _ := r.Company("DEV")
	if acme.Timeout != 3*time.Second || acme.Password != "p@ss" || dev.Timeout != DefaultTimeout || r.companies["ACME"].endpoint != "https://seal.acme.cn/prefix/api/getSeal" {
		t.Fatalf("companies %+v", cfg.Companies)
	}
}
