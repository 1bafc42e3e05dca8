package relay

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/scansign/scansign/relay/store/boltstore"
)

// call sends one request the way curl does and returns the body, checking
// HTTP 200 and the guide's content type.
func call(t *testing.T, method, u, contentType, body string) string {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: HTTP %d %s", method, u, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != ContentTypeJSON {
		t.Fatalf("%s %s: Content-Type %q, want %q", method, u, ct, ContentTypeJSON)
	}
	return string(b)
}

const uuidRE = `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`

// match checks body against pattern (a literal answer with (UUID) holes)
// and returns the holes.
func match(t *testing.T, body, pattern string) []string {
	t.Helper()
	re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), "\\(UUID\\)", "("+uuidRE+")") + "$")
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("answer\n  %s\ndoes not match the guide's\n  %s", body, pattern)
	}
	return m[1:]
}

// TestGuideLoginFlowVerbatim replays section 三.1 of the guide with its own
// request bodies and content type (including the stray spaces its curl
// examples carry) and compares every answer with the guide's example byte
// for byte, JSON types included.
func TestGuideLoginFlowVerbatim(t *testing.T) {
	st, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st)
	base := h.srv.URL
	const form = "Application/x-www-form-urlencoded"

	// 1. The trading system: token, then initMessage.
	tok := match(t, call(t, "POST", base+"/grantToken", form, "accountName="+sysName+"&password="+sysSecret),
		`{"token":"(UUID)","invokeCode":1}`)[0]
	guid := match(t, call(t, "POST", base+"/initMessage", form,
		"type=4&message=f7c54891-adad-4f32-9994-83d70a7204a2&title=xx 系统登录 &certType=0&token="+tok),
		`{"guid":"(UUID)","invokeCode":1}`)[0]

	// 2. It polls (GET with a query string).
	match(t, call(t, "GET", base+"/getCaMessageResult?guid="+guid+"&token="+tok, form, ""),
		`{"status":0,"invokeCode":1,"value":null,"extMessage":null}`)

	// 3. The app scans, gets its own token for the guid, fetches the message.
	appTok := match(t, call(t, "POST", base+"/grantToken", form, "accountName="+appName+"&password="+appSecret+"&guid="+guid),
		`{"token":"(UUID)","invokeCode":1}`)[0]
	match(t, call(t, "POST", base+"/getInitMessage", form, "guid="+guid+"&token="+appTok),
		`{"message":"f7c54891-adad-4f32-9994-83d70a7204a2","title":"xx 系统登录 ","invokeCode":1,"certType":0,"type":"4"}`)
	match(t, call(t, "GET", base+"/getCaMessageResult?guid="+guid+"&token="+tok, form, ""),
		`{"status":1,"invokeCode":1,"value":null,"extMessage":null}`)

	// 4. The app saves its signature (the guide's body, leading and trailing
	// spaces and unescaped Chinese included).
	match(t, call(t, "POST", base+"/saveCaMessageResult", form,
		" guid="+guid+"&value= 签 名 值 &extMessage= 扩 展 值 &status=2&token="+appTok+" "),
		`{"invokeCode":1}`)

	// 5. The trading system's poll sees it.
	match(t, call(t, "GET", base+"/getCaMessageResult?guid="+guid+"&token="+tok, form, ""),
		`{"status":2,"invokeCode":1,"value":" 签 名 值 ","extMessage":" 扩 展 值 "}`)
}

// The same endpoints accept JSON bodies, query strings on POST, and any
// spelling of the form content type.
func TestEncodingsAccepted(t *testing.T) {
	st, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st)
	base := h.srv.URL
	grant := `{"token":"(UUID)","invokeCode":1}`
	for _, tc := range []struct {
		name, method, path, ct, body string
	}{
		{"form lower", "POST", "/grantToken", "application/x-www-form-urlencoded", "accountName=dev-system&password=dev-system-secret"},
		{"form guide charset", "POST", "/grantToken", "Application/x-www-form-urlencoded;utf-8", "accountName=dev-system&password=dev-system-secret"},
		{"form charset param", "POST", "/grantToken", "APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8", "accountName=dev-system&password=dev-system-secret"},
		{"form no content type", "POST", "/grantToken", "", "accountName=dev-system&password=dev-system-secret"},
		{"json", "POST", "/grantToken", "application/json", `{"accountName":"dev-system","password":"dev-system-secret"}`},
		{"json charset", "POST", "/grantToken", "application/json;charset=utf-8", `{"accountName":"dev-system","password":"dev-system-secret"}`},
		{"json sniffed", "POST", "/grantToken", "", ` {"accountName":"dev-system","password":"dev-system-secret"}`},
		{"query on POST", "POST", "/grantToken?accountName=dev-system&password=dev-system-secret", "", ""},
		{"query on GET", "GET", "/grantToken?accountName=dev-system&password=dev-system-secret", "", ""},
		{"split query and body", "POST", "/grantToken?accountName=dev-system", "application/x-www-form-urlencoded", "password=dev-system-secret"},
		{"escaped form", "POST", "/grantToken", "application/x-www-form-urlencoded", "accountName=dev%2Dsystem&password=dev-system-secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			match(t, call(t, tc.method, base+tc.path, tc.ct, tc.body), grant)
		})
	}

	// JSON numbers for type/certType, nested JSON for extMessage.
	tok := match(t, call(t, "POST", base+"/grantToken", "", "accountName=dev-system&password=dev-system-secret"), grant)[0]
	guid := match(t, call(t, "POST", base+"/initMessage", "application/json",
		`{"type":4,"message":"n-1","title":"登录","certType":2,"token":"`+tok+`","extMessage":{"a":[1, 2]}}`),
		`{"guid":"(UUID)","invokeCode":1}`)[0]
	appTok := match(t, call(t, "POST", base+"/grantToken", "", "accountName=dev-app&password=dev-app-secret&guid="+guid), grant)[0]
	match(t, call(t, "POST", base+"/getInitMessage", "application/json", `{"guid":"`+guid+`","token":"`+appTok+`"}`),
		`{"message":"n-1","title":"登录","invokeCode":1,"certType":2,"type":"4","extMessage":"{\"a\":[1,2]}"}`)
	// A value with '+', '&', '%' and '=' survives a properly escaped form.
	v := `{"signStr":"MIIB+a/b==","pubCert":"x&y%z"}`
	match(t, call(t, "POST", base+"/saveCaMessageResult", "application/x-www-form-urlencoded",
		"guid="+guid+"&status=2&token="+appTok+"&value="+url.QueryEscape(v)), `{"invokeCode":1}`)
	match(t, call(t, "POST", base+"/getCaMessageResult", "application/json", `{"guid":"`+guid+`","token":"`+tok+`"}`),
		`{"status":2,"invokeCode":1,"value":"{\"signStr\":\"MIIB+a/b==\",\"pubCert\":\"x&y%z\"}","extMessage":null}`)
}
