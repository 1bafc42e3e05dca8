package service

import (
	"sync"
	"time"
)

// throttle counts authentication failures per key (an account name or a
// client address) in fixed windows: once a key has max failures in its
// window, it is refused until the window ends. The map is bounded so a flood
// of made-up names cannot grow it without end.
type throttle struct {
	max    int
	window time.Duration
	now    func() time.Time
	limit  int // most keys tracked at once

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	count int
	start time.Time
}

func newThrottle(max int, window time.Duration, now func() time.Time) *throttle {
	return &throttle{max: max, window: window, now: now, limit: 100_000, keys: make(map[string]*failures)}
}

// blocked reports whether any of keys has used up its failures.
func (t *throttle) blocked(keys ...string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		if f := t.keys[k]; f != nil {
			if now.Sub(f.start) >= t.window {
				delete(t.keys, k)
			} else if f.count >= t.max {
				return true
			}
		}
	}
	return false
}

// fail records one failure against each key.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		f := t.keys[k]
		if f == nil || now.Sub(f.start) >= t.window {
			if f == nil && len(t.keys) >= t.limit {
				t.evict(now)
			}
			f = &failures{start: now}
			t.keys[k] = f
		}
		f.count++
	}
}

// reset forgets a key's failures (after a success).
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// evict drops expired entries, and if none has expired, one arbitrary entry:
// under a flood, forgetting one attacker's count beats growing without bound.
func (t *throttle) evict(now time.Time) {
	for k, f := range t.keys {
		if now.Sub(f.start) >= t.window {
			delete(t.keys, k)
		}
	}
	for k := range t.keys {
		if len(t.keys) < t.limit {
			return
		}
		delete(t.keys, k)
	}
}
