package throttle

import (
	"sync"
	"time"
)

// Throttle counts failures per key in fixed windows. Memory is bounded: at
// most maxKeys keys are tracked; when full, keys whose window has ended are
// dropped first, then arbitrary ones. Under a flood of made-up keys,
// forgetting one attacker's count beats growing without bound — and beats
// refusing every caller, which a shared overflow count would.
type Throttle struct {
	max     int
	window  time.Duration
	maxKeys int

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	count int
	start time.Time
}

// New returns a Throttle that refuses a key after max failures within
// window, tracking at most maxKeys keys.
func New(max int, window time.Duration, maxKeys int) *Throttle {
	return &Throttle{max: max, window: window, maxKeys: maxKeys, keys: make(map[string]*failures)}
}

// Blocked reports whether any of keys has used up its failures at now.
func (t *Throttle) Blocked(now time.Time, keys ...string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
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

// Fail records one failure at now against each of keys.
func (t *Throttle) Fail(now time.Time, keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		f := t.keys[k]
		if f == nil || now.Sub(f.start) >= t.window {
			if f == nil && len(t.keys) >= t.maxKeys {
				t.evict(now)
			}
			f = &failures{start: now}
			t.keys[k] = f
		}
		f.count++
	}
}

// Forget drops key's failures (after a success).
func (t *Throttle) Forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// evict makes room for one key: it drops every key whose window has ended,
// and if none has, arbitrary keys.
func (t *Throttle) evict(now time.Time) {
	for k, f := range t.keys {
		if now.Sub(f.start) >= t.window {
			delete(t.keys, k)
		}
	}
	for k := range t.keys {
		if len(t.keys) < t.maxKeys {
			return
		}
		delete(t.keys, k)
	}
}
