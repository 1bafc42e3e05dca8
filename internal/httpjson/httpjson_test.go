package httpjson

import (
	"math"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		exact bool
		want  string
	}{{false, `{"v":"<a&b>"}` + "\n"}, {true, `{"v":"<a&b>"}`}} {
		rec := httptest.NewRecorder()
		write := Write
		if tc.exact {
			write = WriteExact
		}
		if err := write(rec, 418, map[string]string{"v": "<a&b>"}); err != nil {
			t.Fatal(err)
		}
		h := rec.Header()
		if rec.Code != 418 || rec.Body.String() != tc.want || h.Get("Content-Type") != ContentType ||
			h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Length") != strconv.Itoa(len(tc.want)) {
			t.Errorf("exact %v: %d %q %v", tc.exact, rec.Code, rec.Body.String(), h)
		}
	}
	rec := httptest.NewRecorder()
	if err := Write(rec, 200, math.NaN()); err == nil || rec.Code != 500 || rec.Body.String() != fallback+"\n" {
		t.Errorf("unencodable: %v %d %q", err, rec.Code, rec.Body.String())
	}
}
