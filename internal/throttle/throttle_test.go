package throttle

import (
	"fmt"
	"testing"
	"time"
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
