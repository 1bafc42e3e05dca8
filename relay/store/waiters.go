package store

import (
	"context"
	"sync"
	"time"
)

// Waiters is the in-process half of Wait that both stores share: callers
// subscribe to a GUID and a writer notifies it after a change is durable.
// The zero value is ready to use.
type Waiters struct {
	mu   sync.Mutex
	subs map[string]*subscribers
}

type subscribers struct{ chans map[chan struct{}]struct{} }

// Subscribe returns a channel that receives (at most one pending value) each
// time guid is notified, and a function to unsubscribe.
func (w *Waiters) Subscribe(guid string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.subs == nil {
		w.subs = make(map[string]*subscribers)
	}
	set := w.subs[guid]
	if set == nil {
		set = &subscribers{chans: make(map[chan struct{}]struct{})}
		w.subs[guid] = set
	}
	set.chans[ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(set.chans, ch)
		if len(set.chans) == 0 && w.subs[guid] == set {
			delete(w.subs, guid)
		}
		w.mu.Unlock()
	}
}

// Notify wakes everyone subscribed to guid. It never blocks.
func (w *Waiters) Notify(guid string) {
	w.mu.Lock()
	set := w.subs[guid]
	if set == nil {
		w.mu.Unlock()
		return
	}
	for ch := range set.chans {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
	w.mu.Unlock()
}

// HasWaiters reports whether anyone waits on guid (lets a store skip work).
func (w *Waiters) HasWaiters(guid string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.subs[guid] != nil
}

// WaitFor implements Store.Wait on top of Waiters: read, and if the version
// is not past afterVersion, sleep until notified (or until recheck passes,
// a safety net for a notification lost between instances) and read again.
func WaitFor(ctx context.Context, w *Waiters, guid string, afterVersion int64, recheck time.Duration,
	read func(context.Context, string) (Operation, error)) (Operation, error) {
	ch, cancel := w.Subscribe(guid)
	defer cancel()
	timer := time.NewTimer(recheck)
	defer timer.Stop()
	for {
		op, err := read(ctx, guid)
		if err != nil || op.Version > afterVersion {
			return op, err
		}
		select {
		case <-ch:
		case <-timer.C:
		case <-ctx.Done():
			return Operation{}, ctx.Err()
		}
		timer.Reset(recheck)
	}
}
