package pgstore

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scansign/scansign/internal/pgtest"
	"github.com/scansign/scansign/relay/store"
)

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func token(t *testing.T) store.Token {
	t.Helper()
	var h store.TokenHash
	if _, err := rand.Read(h[:]); err != nil {
		t.Fatal(err)
	}
	return store.Token{Hash: h, Account: "sys", Role: "system", CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute)}
}

func operation(guid string) store.Operation {
	return store.Operation{GUID: guid, Type: 4, Message: "m", Stage: "pending", Creator: "sys",
		CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute), Version: 1}
}

// holdWriter keeps the store's only write worker busy at the server for d,
// so the writes queued meanwhile all go into its next batch.
func holdWriter(t *testing.T, s *Store, d time.Duration) (released <-chan error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := s.writes.exec(context.Background(), `SELECT pg_sleep($1)`, d.Seconds())
		done <- err
	}()
	waitFor(t, func() bool { return len(s.writes.queue) == 0 }) // the worker took it
	time.Sleep(50 * time.Millisecond)                           // and sent it
	return done
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
	}
}

// One batch holds many writes and one that the server refuses (a taken
// GUID): the refusal rolls the batch back, each write is run again alone,
// and only the faulty one fails, binding nothing.
func TestBatchFaultFailsOnlyItsCall(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.FreshDatabase(t))
	defer s.Close()
	taken := uuid.NewString()
	first := token(t)
	if err := s.PutToken(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOperation(ctx, operation(taken), first.Hash); err != nil {
		t.Fatal(err)
	}
	binders := make([]store.Token, 8)
	for i := range binders {
		binders[i] = token(t)
		if err := s.PutToken(ctx, binders[i]); err != nil {
			t.Fatal(err)
		}
	}

	released := holdWriter(t, s, 500*time.Millisecond)
	var wg sync.WaitGroup
	grants := make([]store.Token, 8)
	grantErrs := make([]error, len(grants))
	for i := range grants {
		grants[i] = token(t)
		wg.Go(func() { grantErrs[i] = s.PutToken(ctx, grants[i]) })
	}
	guids := make([]string, len(binders))
	createErrs := make([]error, len(binders))
	for i := range binders {
		guids[i] = uuid.NewString()
		if i == 3 {
			guids[i] = taken
		}
		wg.Go(func() { createErrs[i] = s.CreateOperation(ctx, operation(guids[i]), binders[i].Hash) })
	}
	waitFor(t, func() bool { return len(s.writes.queue) == len(grants)+len(binders) })
	wg.Wait()
	if err := <-released; err != nil {
		t.Fatal(err)
	}

	for i, err := range grantErrs {
		if err != nil {
			t.Errorf("grant %d: %v", i, err)
		} else if _, err := s.Token(ctx, grants[i].Hash); err != nil {
			t.Errorf("grant %d not stored: %v", i, err)
		}
	}
	for i, err := range createErrs {
		got, terr := s.Token(ctx, binders[i].Hash)
		if terr != nil {
			t.Fatal(terr)
		}
		switch {
		case i == 3:
			if !errors.Is(err, store.ErrExists) || got.GUID != "" {
				t.Errorf("create with a taken GUID: %v, token bound to %q; want ErrExists, unbound", err, got.GUID)
			}
		case err != nil:
			t.Errorf("create %d: %v", i, err)
		case got.GUID != guids[i]:
			t.Errorf("create %d bound its token to %q, want %q", i, got.GUID, guids[i])
		}
	}
}

// Two compare-and-swaps of one version in one batch (one transaction): the
// second sees the first's write and loses, as it would one by one.
func TestBatchCASInOneBatch(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.FreshDatabase(t))
	defer s.Close()
	tok := token(t)
	op := operation(uuid.NewString())
	if err := s.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOperation(ctx, op, tok.Hash); err != nil {
		t.Fatal(err)
	}
	released := holdWriter(t, s, 300*time.Millisecond)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			next := op
			next.Status, next.Stage = 1+i, "s"
			_, errs[i] = s.UpdateOperation(ctx, next)
		})
	}
	waitFor(t, func() bool { return len(s.writes.queue) == 2 })
	wg.Wait()
	<-released
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("losing update: %v, want ErrConflict", err)
		}
	}
	if got, err := s.Operation(ctx, op.GUID); won != 1 || err != nil || got.Version != 2 {
		t.Fatalf("%d updates won, stored version %d (%v); want 1 and 2", won, got.Version, err)
	}
}

// A caller whose context ends while its write waits in the queue gets its
// context's error at once, and the write is never made.
func TestBatchCallerGivesUpWhileQueued(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.FreshDatabase(t))
	defer s.Close()
	released := holdWriter(t, s, 500*time.Millisecond)
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	tok := token(t)
	start := time.Now()
	if err := s.PutToken(cctx, tok); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PutToken with an expiring context: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Fatalf("gave up after %v, not when its context ended", d)
	}
	<-released
	if _, err := s.Token(ctx, tok.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("abandoned write was made: %v", err)
	}
}

// Close while writes wait: every caller gets an answer (done or
// ErrClosed), none hangs.
func TestBatchCloseAnswersQueued(t *testing.T) {
	s := open(t, pgtest.FreshDatabase(t))
	holdWriter(t, s, 300*time.Millisecond)
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() { errs <- s.PutToken(context.Background(), token(t)) }()
	}
	waitFor(t, func() bool { return len(s.writes.queue) == cap(errs) })
	s.Close()
	for range cap(errs) {
		select {
		case err := <-errs:
			if err != nil && !errors.Is(err, store.ErrClosed) {
				t.Errorf("queued write at Close: %v, want nil or ErrClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a queued write hangs after Close")
		}
	}
}

// Every write is durable when its call returns: the WAL is flushed past
// where it stood before the call (an asynchronous commit would leave the
// flush behind for up to three wal_writer_delay).
func TestWritesAreDurableOnReturn(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.FreshDatabase(t))
	defer s.Close()
	for i := range 20 {
		var before string
		if err := s.pool.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&before); err != nil {
			t.Fatal(err)
		}
		tok := token(t)
		op := operation(uuid.NewString())
		for _, w := range []struct {
			name  string
			write func() error
		}{
			{"PutToken", func() error { return s.PutToken(ctx, tok) }},
			{"CreateOperation", func() error { return s.CreateOperation(ctx, op, tok.Hash) }},
			{"UpdateOperation", func() error {
				next := op
				next.Status, next.Stage = 1, "scanned"
				_, err := s.UpdateOperation(ctx, next)
				return err
			}},
		} {
			if err := w.write(); err != nil {
				t.Fatal(err)
			}
			var flushed bool
			if err := s.pool.QueryRow(ctx, `SELECT pg_current_wal_flush_lsn() > $1::pg_lsn`, before).Scan(&flushed); err != nil {
				t.Fatal(err)
			}
			if !flushed {
				t.Fatalf("round %d: %s returned before its commit was flushed", i, w.name)
			}
			if err := s.pool.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&before); err != nil {
				t.Fatal(err)
			}
		}
	}
}
