package throttle

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"
)

var day = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func TestThrottleWindow(t *testing.T) {
	th := New(3, time.Minute, 100)
	for i := range 3 {
		if th.Blocked(day, "a") {
			t.Fatalf("blocked after %d failures", i)
		}
		th.Fail(day, "a")
	}
	if !th.Blocked(day.Add(59*time.Second), "a") {
		t.Fatal("not blocked after 3 failures")
	}
	if th.Blocked(day, "b") {
		t.Fatal("another key blocked")
	}
	if th.Blocked(day.Add(time.Minute), "a") {
		t.Fatal("still blocked after the window")
	}
	// A new window counts from zero.
	th.Fail(day.Add(2*time.Minute), "a")
	if th.Blocked(day.Add(2*time.Minute), "a") {
		t.Fatal("blocked after one failure in a new window")
	}
}

func TestThrottleBounded(t *testing.T) {
	th := New(2, time.Minute, 10)
	for i := range 100 {
		th.Fail(day, fmt.Sprint("k", i))
	}
	if len(th.keys) > th.maxKeys {
		t.Fatalf("%d keys tracked, limit %d", len(th.keys), th.maxKeys)
	}
	th.Fail(day, "a")
	th.Fail(day, "a")
	if !th.Blocked(day, "x", "a") {
		t.Fatal("a not blocked after 2 failures")
	}
	th.Forget("a")
	if th.Blocked(day, "a") {
		t.Fatal("a blocked after Forget")
	}
}

func TestClientAddr(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.7:51234"
	if got := ClientAddr(r); got != "10.0.0.7" {
		t.Fatalf("peer: %q", got)
	}
	// Behind a trusted proxy, the address chi's middleware found.
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	var got string
	middleware.ClientIPFromXFF("10.0.0.0/8")(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = ClientAddr(r)
	})).ServeHTTP(httptest.NewRecorder(), r)
	if got != "203.0.113.9" {
		t.Fatalf("behind a proxy: %q", got)
	}
}
