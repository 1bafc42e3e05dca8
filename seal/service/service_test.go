package service

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/internal/pgtest"
	"github.com/scansign/scansign/internal/testclock"
	"github.com/scansign/scansign/internal/testtool"
	"github.com/scansign/scansign/seal"
	"github.com/scansign/scansign/seal/store"
)

const (
	testAccount  = "relay"
	testPassword = "relay-secret-密码"
)

// cheapHash is a valid hash at the lowest accepted cost, so tests stay fast.
func cheapHash(t testing.TB, password string) string {
	t.Helper()
	salt := []byte("0123456789abcdef")
	key, err := pbkdf2.Key(sha256.New, password, salt, minIterations, keyLen)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s$%d$%s$%s", hashScheme, minIterations, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "seals", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixture is a seal service on a loopback HTTP server over a real store
// holding: serial 0ABC123 with a company seal, a finance seal and an expired
// seal, and its user; serial DEAD with only a not-yet-valid seal.
type fixture struct {
	url   string
	clock *testclock.Clock
	store seal.Store
	round []byte
	oval  []byte
}

var day = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, st seal.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{clock: testclock.New(day), store: st, round: readSample(t, "round-company.png"), oval: readSample(t, "oval-finance.png")}
	add := func(s seal.Seal) {
		if _, err := st.AddSeal(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	add(seal.Seal{Serial: "0abc123", Name: "某某公司公章", WidthCM: 4.2, HeightCM: 4.2, Type: "公章", Description: "单位公章", Image: f.round,
		ValidFrom: day.AddDate(-1, 0, 0), ValidTo: day.AddDate(1, 0, 0)})
	add(seal.Seal{Serial: "ABC123", Name: "财务专用章", WidthCM: 4, HeightCM: 3, Type: "财务章", Image: f.oval})
	add(seal.Seal{Serial: "ABC123", Name: "旧公章", WidthCM: 4, HeightCM: 4, Type: "公章", Image: f.round, ValidTo: day.Add(-time.Second)})
	add(seal.Seal{Serial: "DEAD", Name: "未启用", WidthCM: 4, HeightCM: 4, Image: f.round, ValidFrom: day.Add(time.Hour)})
	if _, err := st.PutUser(ctx, seal.User{Serial: "ABC123", ID: "user-1", Name: "某某公司", Phone: "0551-1234567", ValidFrom: day.AddDate(-1, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	svc, err := New(Config{
		Accounts:      []Account{{Name: testAccount, PasswordHash: cheapHash(t, testPassword)}},
		MaxBodyBytes:  4096,
		MaxFailures:   3,
		FailureWindow: time.Minute,
		Logger:        slog.New(slog.DiscardHandler),
		Now:           f.clock.Now,
	}, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	f.url = srv.URL + Path
	return f
}

func embedded(t *testing.T) seal.Store {
	st, err := store.OpenEmbedded(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func postgres(t *testing.T) seal.Store {
	st, err := store.OpenPostgres(context.Background(), pgtest.FreshDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func creds(serial string) url.Values {
	return url.Values{"caSerialId": {serial}, "accountName": {testAccount}, "password": {testPassword}}
}

// call sends one request and decodes the answer, checking the HTTP envelope.
func call(t *testing.T, req *http.Request, wantStatus int) seal.GetSealAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != wantStatus {
		t.Fatalf("HTTP %d, want %d", resp.StatusCode, wantStatus)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json;charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	var a seal.GetSealAnswer
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

func post(t *testing.T, u, contentType string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func TestGetSealAnswer(t *testing.T) {
	for name, open := range map[string]func(*testing.T) seal.Store{"embedded": embedded, "postgres": postgres} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, open(t))
			a := call(t, post(t, f.url, "application/x-www-form-urlencoded", strings.NewReader(creds("0abc123").Encode())), 200)
			if a.Code != "0" || a.Message != "正常" {
				t.Fatalf("answer %+v", a)
			}
			wantUser := seal.UserInfo{UserID: "user-1", APPLYDate: "2024-06-01 20:00:00", OverDate: "", UserName: "某某公司", Phone: "0551-1234567"}
			if a.UserInfo == nil || *a.UserInfo != wantUser {
				t.Fatalf("userInfo %+v, want %+v", a.UserInfo, wantUser)
			}
			// The expired seal is left out; the others come oldest first.
			if len(a.SignInfos) != 2 {
				t.Fatalf("%d signInfos, want 2", len(a.SignInfos))
			}
			want := []seal.SignInfo{
				{SignName: "某某公司公章", SignWidth: "4.2", SignHeight: "4.2", SignExt: "png", Description: "单位公章",
					APPLYDate: "2024-06-01 20:00:00", OverDate: "2026-06-01 20:00:00", SignType: "公章"},
				{SignName: "财务专用章", SignWidth: "4", SignHeight: "3", SignExt: "png", SignType: "财务章"},
			}
			for i, got := range a.SignInfos {
				img, err := base64.StdEncoding.DecodeString(got.SignData)
				if err != nil {
					t.Fatal(err)
				}
				if wantImg := [][]byte{f.round, f.oval}[i]; !bytes.Equal(img, wantImg) {
					t.Errorf("signInfos[%d] image is not the registered file", i)
				}
				got.SignData = ""
				if got != want[i] {
					t.Errorf("signInfos[%d] = %+v\nwant %+v", i, got, want[i])
				}
			}
			// The seal with a future APPLYDate is not returned yet, then is.
			if a := call(t, post(t, f.url, "application/x-www-form-urlencoded", strings.NewReader(creds("DEAD").Encode())), 200); a.Code != seal.CodeNoSeals || a.SignInfos != nil {
				t.Fatalf("not yet valid: %+v", a)
			}
			f.clock.Advance(time.Hour)
			if a := call(t, post(t, f.url, "application/x-www-form-urlencoded", strings.NewReader(creds("dead").Encode())), 200); a.Code != "0" || len(a.SignInfos) != 1 || *a.UserInfo != (seal.UserInfo{}) {
				t.Fatalf("now valid: %+v", a)
			}
		})
	}
}

// TestRequestShapes: every encoding a caller may use reaches the same answer.
func TestRequestShapes(t *testing.T) {
	f := newFixture(t, embedded(t))
	form := creds("00:0A:BC:12:3").Encode()
	jsonBody := fmt.Sprintf(`{"caSerialId":"abc123","accountName":%q,"password":%q,"extra":{"x":[1]}}`, testAccount, testPassword)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	for k, v := range creds("ABC123") {
		mw.WriteField(k, v[0])
	}
	mw.Close()

	get, _ := http.NewRequest(http.MethodGet, f.url+"?"+form, nil)
	tests := []struct {
		name string
		req  *http.Request
	}{
		{"form", post(t, f.url, "application/x-www-form-urlencoded", strings.NewReader(form))},
		{"form, guide's capitalisation", post(t, f.url, "Application/x-www-form-urlencoded", strings.NewReader(form))},
		{"form with charset", post(t, f.url, "application/x-www-form-urlencoded;charset=utf-8", strings.NewReader(form))},
		{"form with the ;utf-8 suffix the relay's callers send", post(t, f.url, "Application/x-www-form-urlencoded;utf-8", strings.NewReader(form))},
		{"form with GBK charset, upper case", post(t, f.url, "APPLICATION/X-WWW-FORM-URLENCODED; Charset=GBK", strings.NewReader(form))},
		{"form without content type", post(t, f.url, "", strings.NewReader(form))},
		{"json", post(t, f.url, "application/json", strings.NewReader(jsonBody))},
		{"json with charset", post(t, f.url, "application/json;charset=UTF-8", strings.NewReader(jsonBody))},
		{"json without content type", post(t, f.url, "", strings.NewReader(jsonBody))},
		{"json serial as a number", post(t, f.url, "application/json", strings.NewReader(fmt.Sprintf(`{"caSerialId":123,"accountName":%q,"password":%q}`, testAccount, testPassword)))},
		{"multipart", post(t, f.url, mw.FormDataContentType(), &mp)},
		{"query on POST", post(t, f.url+"?"+form, "", nil)},
		{"GET query", get},
		{"body wins over query", post(t, f.url+"?caSerialId=FFFF&password=wrong", "application/x-www-form-urlencoded", strings.NewReader(form))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, tt.req, 200)
			if tt.name == "json serial as a number" {
				if a.Code != seal.CodeNoSeals { // serial 123 exists nowhere: authenticated, looked up, none
					t.Fatalf("answer %s %s", a.Code, a.Message)
				}
				return
			}
			if a.Code != "0" || len(a.SignInfos) != 2 {
				t.Fatalf("answer %s %s with %d seals", a.Code, a.Message, len(a.SignInfos))
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t, embedded(t))
	form := func(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }
	without := func(k string) url.Values { v := creds("ABC123"); v.Del(k); return v }
	with := func(k, val string) url.Values { v := creds("ABC123"); v.Set(k, val); return v }
	put, _ := http.NewRequest(http.MethodPut, f.url, form(creds("ABC123")))
	tests := []struct {
		name     string
		req      *http.Request
		status   int
		code     string
		msgPart  string
		noDetail bool
	}{
		{"no serial", post(t, f.url, "application/x-www-form-urlencoded", form(without("caSerialId"))), 200, "400", "caSerialId", false},
		{"no account", post(t, f.url, "application/x-www-form-urlencoded", form(without("accountName"))), 200, "400", "accountName", false},
		{"no password", post(t, f.url, "application/x-www-form-urlencoded", form(without("password"))), 200, "400", "password", false},
		{"bad serial", post(t, f.url, "application/x-www-form-urlencoded", form(with("caSerialId", "XYZ"))), 200, "400", "十六进制", false},
		{"serial too long", post(t, f.url, "application/x-www-form-urlencoded", form(with("caSerialId", strings.Repeat("A", 300)))), 200, "400", "过长", false},
		{"unknown serial", post(t, f.url, "application/x-www-form-urlencoded", form(with("caSerialId", "1234"))), 200, "404", "印章", false},
		{"bad json", post(t, f.url, "application/json", strings.NewReader(`{"caSerialId":`)), 200, "400", "JSON", false},
		{"json array", post(t, f.url, "application/json", strings.NewReader(`[1,2]`)), 200, "400", "JSON", false},
		{"json trailing data", post(t, f.url, "application/json", strings.NewReader(`{"caSerialId":"A"} {}`)), 200, "400", "JSON", false},
		{"json object field", post(t, f.url, "application/json", strings.NewReader(`{"caSerialId":{"a":1}}`)), 200, "400", "字符串", false},
		{"xml", post(t, f.url, "text/xml", strings.NewReader(`<a/>`)), 200, "400", "不支持", false},
		{"bad form escape", post(t, f.url, "application/x-www-form-urlencoded", strings.NewReader(`caSerialId=%zz`)), 200, "400", "表单", false},
		{"too large", post(t, f.url, "application/x-www-form-urlencoded", strings.NewReader(creds("ABC123").Encode()+"&pad="+strings.Repeat("x", 5000))), 200, "413", "过大", false},
		{"PUT", put, 405, "400", "POST", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, tt.req, tt.status)
			if a.Code != tt.code || !strings.Contains(a.Message, tt.msgPart) || a.UserInfo != nil || a.SignInfos != nil {
				t.Fatalf("answer %+v, want code %s mentioning %q", a, tt.code, tt.msgPart)
			}
		})
	}
}

// clientFrom is an HTTP client whose connections come from ip (any of
// 127.0.0.0/8 on the loopback interface), so a test can be several callers.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestAuthenticationAndThrottling(t *testing.T) {
	f := newFixture(t, embedded(t)) // 3 failures per (account, address), 6 per address
	send := func(from, account, password string) seal.GetSealAnswer {
		t.Helper()
		v := url.Values{"caSerialId": {"ABC123"}, "accountName": {account}, "password": {password}}
		resp, err := clientFrom(t, from).Post(f.url, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a seal.GetSealAnswer
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
			t.Fatalf("HTTP %d: %v", resp.StatusCode, err)
		}
		return a
	}
	const relay, attacker, sprayer = "127.0.0.1", "127.0.0.2", "127.0.0.3"
	if a := send(relay, testAccount, testPassword); a.Code != "0" {
		t.Fatalf("good credentials: %+v", a)
	}
	// Wrong password and unknown account look alike.
	for _, c := range [][2]string{{testAccount, "wrong"}, {"nobody", testPassword}, {testAccount, testPassword + " "}} {
		if a := send(relay, c[0], c[1]); a.Code != "401" || a.Message != seal.MsgUnauthorized || a.SignInfos != nil {
			t.Fatalf("%v: %+v", c, a)
		}
	}
	// Two failures of the account from this address, one of another: the
	// good password still works, and clears the account's count here.
	if a := send(relay, testAccount, testPassword); a.Code != "0" {
		t.Fatalf("after 2 failures: %+v", a)
	}

	// The attack of the audit: someone fails the relay's account on purpose
	// from another address. That address is refused, even with the right
	// password; the relay is not.
	for range 3 {
		if a := send(attacker, testAccount, "guess"); a.Code != "401" {
			t.Fatalf("guess: %+v", a)
		}
	}
	if a := send(attacker, testAccount, testPassword); a.Code != "429" || a.Message != seal.MsgThrottled {
		t.Fatalf("the guesser after 3 failures: %+v", a)
	}
	if a := send(relay, testAccount, testPassword); a.Code != "0" {
		t.Fatalf("the relay after someone else's failures: %+v", a)
	}

	// One address trying account after account is stopped by the count of
	// its address (6), though no account failed 3 times from it.
	for i := range 6 {
		if a := send(sprayer, fmt.Sprintf("account-%d", i), "guess"); a.Code != "401" {
			t.Fatalf("spray %d: %+v", i, a)
		}
	}
	if a := send(sprayer, testAccount, testPassword); a.Code != "429" {
		t.Fatalf("the sprayer after 6 failures: %+v", a)
	}
	if a := send(relay, testAccount, testPassword); a.Code != "0" {
		t.Fatalf("the relay after the spray: %+v", a)
	}

	// The window ends for everyone.
	f.clock.Advance(time.Minute)
	for _, from := range []string{attacker, sprayer} {
		if a := send(from, testAccount, testPassword); a.Code != "0" {
			t.Fatalf("%s after the window: %+v", from, a)
		}
	}
}

// TestCurlGuideExample runs the request the way the guide's examples do,
// with curl, and checks the answer with jq: independent client and parser.
func TestCurlGuideExample(t *testing.T) {
	testtool.Need(t, "curl", "jq") // skipped where missing, failed under CI
	f := newFixture(t, embedded(t))
	out, err := exec.Command("curl", "-sS", "-X", "POST", "-H", "Content-Type: Application/x-www-form-urlencoded", f.url,
		"--data", "caSerialId=abc123&accountName="+testAccount+"&password="+url.QueryEscape(testPassword)).Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	cmd := exec.Command("jq", "-r", `[.code, .message, .userInfo.userName, (.signInfos|length|tostring), .signInfos[0].signWidth, .signInfos[0].signExt, .signInfos[1].signName] | join("|")`)
	cmd.Stdin = bytes.NewReader(out)
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("jq: %v on %s", err, out)
	}
	if want := "0|正常|某某公司|2|4.2|png|财务专用章\n"; string(got) != want {
		t.Fatalf("jq read %q, want %q", got, want)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	st := embedded(t)
	good := cheapHash(t, "x")
	for name, cfg := range map[string]Config{
		"no accounts":       {},
		"empty name":        {Accounts: []Account{{Name: "", PasswordHash: good}}},
		"duplicate":         {Accounts: []Account{{Name: "a", PasswordHash: good}, {Name: "a", PasswordHash: good}}},
		"plain password":    {Accounts: []Account{{Name: "a", PasswordHash: "secret"}}},
		"too few rounds":    {Accounts: []Account{{Name: "a", PasswordHash: "pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg$" + b64.EncodeToString(make([]byte, 32))}}},
		"short key":         {Accounts: []Account{{Name: "a", PasswordHash: "pbkdf2-sha256$10000$MDEyMzQ1Njc4OWFiY2RlZg$AAAA"}}},
		"bad salt encoding": {Accounts: []Account{{Name: "a", PasswordHash: "pbkdf2-sha256$10000$!!!$" + b64.EncodeToString(make([]byte, 32))}}},
	} {
		if _, err := New(cfg, st); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := New(Config{Accounts: []Account{{Name: "a", PasswordHash: good}}}, nil); err == nil {
		t.Error("New accepted a nil store")
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, fmt.Sprintf("pbkdf2-sha256$%d$", DefaultIterations)) || strings.Contains(h, "s3cret") {
		t.Fatalf("hash %q", h)
	}
	if _, err := parsePasswordHash(h); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", strings.Repeat("x", maxPasswordLen+1)} {
		if _, err := HashPassword(p); err == nil {
			t.Errorf("HashPassword(%d bytes) accepted", len(p))
		}
	}
}

func TestAccountsCheck(t *testing.T) {
	h1, _ := HashPasswordIterations("s3cret", minIterations)
	h2, _ := HashPasswordIterations("s3cret", minIterations)
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: no salt?")
	}
	acc, err := newAccounts([]Account{{Name: "a", PasswordHash: h1}, {Name: "b", PasswordHash: cheapHash(t, "other")}})
	if err != nil {
		t.Fatal(err)
	}
	if acc.dummy.iterations != minIterations {
		t.Fatalf("decoy costs %d iterations, the accounts %d", acc.dummy.iterations, minIterations)
	}
	for _, tt := range []struct {
		name, password string
		want           bool
	}{
		{"a", "s3cret", true}, {"a", "s3cret!", false}, {"a", "", false}, {"b", "other", true}, {"b", "s3cret", false}, {"c", "s3cret", false},
	} {
		if got := acc.check(tt.name, tt.password); got != tt.want {
			t.Errorf("check(%q, %q) = %v", tt.name, tt.password, got)
		}
	}
	// After a success the account is answered from the cache: spoil the
	// stored hash and the same password still passes, another still fails.
	acc.byName["a"] = passwordHash{iterations: minIterations, salt: []byte("xxxxxxxx"), key: make([]byte, 32)}
	if !acc.check("a", "s3cret") {
		t.Fatal("a cached success was not used")
	}
	if acc.check("a", "other") || acc.check("b", "s3cret") {
		t.Fatal("the cache let a wrong password through")
	}
}

func TestHashPasswordIterations(t *testing.T) {
	h, err := HashPasswordIterations("dev", minIterations)
	if err != nil || !strings.HasPrefix(h, "pbkdf2-sha256$10000$") {
		t.Fatalf("%q, %v", h, err)
	}
	if _, err := newAccounts([]Account{{Name: "d", PasswordHash: h}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{minIterations - 1, maxIterations + 1} {
		if _, err := HashPasswordIterations("dev", n); err == nil {
			t.Errorf("accepted %d iterations", n)
		}
	}
}
