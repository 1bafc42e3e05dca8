package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestIntReadsBothShapes(t *testing.T) {
	for in, want := range map[string]Int{`4`: 4, `"4"`: 4, `0`: 0, `""`: 0, `null`: 0} {
		var n Int
		if err := json.Unmarshal([]byte(in), &n); err != nil || n != want {
			t.Errorf("%s: %d, %v", in, n, err)
		}
	}
	var n Int
	if err := json.Unmarshal([]byte(`"four"`), &n); err == nil {
		t.Error(`"four" accepted`)
	}
}

// Answers that are not the guide's JSON (a proxy's error page, a wrong
// URL) are errors that say so, not zero values.
func TestNotARelayAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/grantToken":
			w.WriteHeader(502)
			w.Write([]byte("<html>Bad Gateway</html>"))
		case "/getInitMessage":
			w.Write([]byte(`{"invokeCode":404,"failMessage":"操作不存在"}`))
		}
	}))
	defer srv.Close()
	c := New(srv.URL+"/", nil)
	if _, err := c.GrantToken(context.Background(), "a", "b", ""); err == nil || Code(err) != 0 || !strings.Contains(err.Error(), "not a relay answer") {
		t.Fatalf("HTML answer: %v", err)
	}
	_, err := c.GetInitMessage(context.Background(), "t", "g")
	if e, ok := err.(*Error); !ok || e.InvokeCode != 404 || e.FailMessage != "操作不存在" {
		t.Fatalf("refusal: %v", err)
	}
}

func TestParsePayload(t *testing.T) {
	p, err := ParsePayload(`{"guid":"bf1af3f2-97b0-4b04-a054-ad7ba824eb70","url":"https://relay.example.cn","city":"P3401000001"}`)
	if err != nil || p.City != "P3401000001" || p.URL != "https://relay.example.cn" {
		t.Fatalf("%+v, %v", p, err)
	}
	for _, bad := range []string{`{}`, `not json`, `{"guid":"x"}`} {
		if _, err := ParsePayload(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// Credentials reach the server as the header it reads: Basic as
// base64(account:secret), a token as Bearer, the zero value as nothing.
func TestCredentialsAuthorize(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, secret, basic := r.BasicAuth()
		got = append(got, r.Header.Get("Authorization")+"|"+name+"|"+secret+"|"+strconv.FormatBool(basic))
		w.Write([]byte(`{"invokeCode":1,"valid":true}`))
	}))
	defer srv.Close()
	c := New(srv.URL, nil)
	for _, auth := range []Credentials{Basic("jyxt-1", "s:e:cret"), Token("tok-1"), {}} {
		if _, err := c.PDFVerify(context.Background(), auth, []byte("%PDF-1.7")); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"Basic anl4dC0xOnM6ZTpjcmV0|jyxt-1|s:e:cret|true", "Bearer tok-1|||false", "|||false"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("headers:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
