package relay

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/relay/store/boltstore"
)

func fuzzSeeds(f *testing.F) {
	for _, s := range []struct{ ct, query, body string }{
		{"Application/x-www-form-urlencoded;utf-8", "", "accountName=xxx&password=xxx"},
		{"application/x-www-form-urlencoded", "guid=bf1af3f2-97b0-4b04-a054-ad7ba824eb70", "value= 签 名 值 &status=2"},
		{"application/json", "", `{"type":4,"message":"m","extMessage":{"a":[1,{"b":null}]},"x":null}`},
		{"", "a=1;b=2", `{"k":"v"}`},
		{"text/plain", "%zz", "a=%e4%b8%ad&a=%E4%B8%AD"},
		{"application/json", "", `{"a":"\ud800"}`},
		{"application/json", "", `{"a":1}{"b":2}`},
		{"multipart/form-data", "", "--x"},
	} {
		f.Add(s.ct, s.query, s.body)
	}
}

// FuzzDecodeParams: any content type, query and body decode without panic,
// and whatever is accepted is valid UTF-8, NUL-free and within the limits.
func FuzzDecodeParams(f *testing.F) {
	fuzzSeeds(f)
	limits := Limits{BodyBytes: 4096, OtherBytes: 64, ValueBytes: 512, MaxParams: 8}.withDefaults()
	f.Fuzz(func(t *testing.T, ct, query, body string) {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", ct)
		p, err := DecodeParams(r, limits)
		if err != nil {
			code, msg := InvokeCode(err)
			if code != CodeBadRequest && code != CodeTooLarge || msg == "" {
				t.Fatalf("refusal %d %q", code, msg)
			}
			return
		}
		if p.Len() > limits.MaxParams {
			t.Fatalf("%d params accepted", p.Len())
		}
		for k, v := range p.m {
			if !utf8.ValidString(k) || !utf8.ValidString(v) || strings.ContainsRune(k+v, 0) {
				t.Fatalf("accepted %q=%q", k, v)
			}
			if len(v) > limits.field(k) {
				t.Fatalf("%s: %d bytes over its limit", k, len(v))
			}
		}
	})
}

// FuzzEndpoints throws arbitrary requests at every guide endpoint of a real
// service: it never panics and always answers the guide's JSON. Besides the
// generic seeds it is seeded with real credentials — an account's secret, a
// system token for initMessage, a system and an app token bound to a live
// operation — so inputs grown from them reach past authentication into the
// status machine and the parameter checks behind it.
func FuzzEndpoints(f *testing.F) {
	fuzzSeeds(f)
	st, err := boltstore.Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	svc := newService(f, st, newClock(), func(c *Config) {
		c.Limits.BodyBytes = 8192
		// Fuzzed grantTokens fail by the thousand from one address; throttled,
		// every later one would stop at 429 before the secret is checked.
		c.MaxFailures, c.MaxFailuresPerAddr = 1<<30, 1<<30
	})
	ctx := context.Background()
	grant := func(name, secret, guid string) string {
		tok, err := svc.GrantToken(ctx, GrantRequest{AccountName: name, Password: secret, GUID: guid})
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	forInit, sysTok := grant(sysName, sysSecret, ""), grant(sysName, sysSecret, "")
	sys, err := svc.Authenticate(ctx, sysTok)
	if err != nil {
		f.Fatal(err)
	}
	op, err := svc.InitMessage(ctx, sys, InitRequest{Type: TypeSign, Message: "待签名原文", Title: "签名"}) // binds sysTok to op
	if err != nil {
		f.Fatal(err)
	}
	appTok := grant(appName, appSecret, op.GUID)
	form := "application/x-www-form-urlencoded;charset=utf-8"
	for _, s := range []struct{ ct, query, body string }{
		{form, "", "accountName=" + sysName + "&password=" + sysSecret},
		{form, "", "accountName=" + appName + "&password=" + appSecret + "&guid=" + op.GUID},
		{form, "", "type=4&message=f7c54891-adad-4f32-9994-83d70a7204a2&title=xx 系统登录&certType=0&token=" + forInit},
		{"application/json", "", `{"type":"5","message":"m","title":"t","certType":"1","extMessage":"{}","token":"` + forInit + `"}`},
		{form, "guid=" + op.GUID + "&token=" + appTok, ""},
		{form, "", "guid=" + op.GUID + "&token=" + sysTok},
		{form, "", "guid=" + op.GUID + "&status=2&value=签名值&extMessage=扩展值&token=" + appTok},
		{"application/json", "token=" + appTok, `{"guid":"` + op.GUID + `","status":"3","value":null}`},
		{form, "", "guid=" + op.GUID + "&status=4&value=00&token=" + sysTok},
	} {
		f.Add(s.ct, s.query, s.body)
	}
	r := chi.NewRouter()
	svc.Mount(r)
	paths := []string{"/grantToken", "/initMessage", "/getInitMessage", "/getCaMessageResult", "/saveCaMessageResult"}
	f.Fuzz(func(t *testing.T, ct, query, body string) {
		for _, p := range paths {
			req := httptest.NewRequest("POST", p, strings.NewReader(body))
			req.URL.RawQuery = query
			req.Header.Set("Content-Type", ct)
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != ContentTypeJSON {
				t.Fatalf("%s: HTTP %d %q", p, w.Code, w.Header().Get("Content-Type"))
			}
			var ans struct {
				InvokeCode  *int   `json:"invokeCode"`
				FailMessage string `json:"failMessage"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil || ans.InvokeCode == nil {
				t.Fatalf("%s: answer %q", p, w.Body.String())
			}
			if *ans.InvokeCode != CodeOK && ans.FailMessage == "" || *ans.InvokeCode == CodeInternal {
				t.Fatalf("%s: answer %q", p, w.Body.String())
			}
		}
	})
}
