package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scansign/scansign/relay/store"
)

// Opener opens a fresh, empty store for one test and returns it with a
// function that opens the same data again (after the caller closed the
// first), as a restarted process would.
type Opener func(t *testing.T) (s store.Store, reopen func(t *testing.T) store.Store)

// Run runs the whole suite against the stores open makes.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"TokenRoundTrip", testTokenRoundTrip},
		{"CreateBindsTokenAtomically", testCreateBindsToken},
		{"TokenWithOperation", testTokenWithOperation},
		{"OperationRoundTrip", testOperationRoundTrip},
		{"UpdateIsCompareAndSwap", testUpdateCAS},
		{"ConcurrentUpdatesLoseNothing", testConcurrentUpdates},
		{"Wait", testWait},
		{"Purge", testPurge},
		{"SurvivesReopen", testReopen},
		{"ClosedStoreRefuses", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// base is a fixed instant with sub-second digits, to catch precision loss.
var base = time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)

func newHash(t *testing.T) store.TokenHash {
	var h store.TokenHash
	if _, err := rand.Read(h[:]); err != nil {
		t.Fatal(err)
	}
	return h
}

func newToken(t *testing.T, role string) store.Token {
	return store.Token{Hash: newHash(t), Account: "acct-" + role, Role: role,
		CreatedAt: base, ExpiresAt: base.Add(30 * time.Minute)}
}

func ptr(s string) *string { return &s }

func newOp(creator string) store.Operation {
	return store.Operation{
		GUID: uuid.NewString(), Type: 4, Message: "f7c54891-adad-4f32-9994-83d70a7204a2",
		Title: "xx 系统登录", CertType: 0, Status: 0, Stage: "pending",
		Creator: creator, CreatedAt: base, UpdatedAt: base, ExpiresAt: base.Add(5 * time.Minute), Version: 1,
	}
}

// created stores a system token and a login operation made with it.
func created(t *testing.T, s store.Store) (store.Token, store.Operation) {
	t.Helper()
	ctx := context.Background()
	tok := newToken(t, "system")
	if err := s.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	op := newOp(tok.Account)
	if err := s.CreateOperation(ctx, op, tok.Hash); err != nil {
		t.Fatal(err)
	}
	return tok, op
}

func mustOpen(t *testing.T, open Opener) (store.Store, func(t *testing.T) store.Store) {
	s, reopen := open(t)
	t.Cleanup(func() { s.Close() })
	return s, reopen
}

func sameTime(a, b time.Time) bool { return a.Equal(b) }

func equalOps(t *testing.T, got, want store.Operation) {
	t.Helper()
	strp := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return fmt.Sprintf("%q", *p)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"GUID", got.GUID, want.GUID}, {"Type", got.Type, want.Type}, {"Message", got.Message, want.Message},
		{"Title", got.Title, want.Title}, {"CertType", got.CertType, want.CertType},
		{"InitExtMessage", strp(got.InitExtMessage), strp(want.InitExtMessage)},
		{"Status", got.Status, want.Status}, {"Stage", got.Stage, want.Stage},
		{"Value", strp(got.Value), strp(want.Value)}, {"ExtMessage", strp(got.ExtMessage), strp(want.ExtMessage)},
		{"SealCompanyCode", got.SealCompanyCode, want.SealCompanyCode},
		{"SealCASerialID", got.SealCASerialID, want.SealCASerialID},
		{"SealHash", got.SealHash, want.SealHash}, {"SealHashExt", got.SealHashExt, want.SealHashExt},
		{"Creator", got.Creator, want.Creator}, {"Version", got.Version, want.Version},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{{"CreatedAt", got.CreatedAt, want.CreatedAt}, {"UpdatedAt", got.UpdatedAt, want.UpdatedAt}, {"ExpiresAt", got.ExpiresAt, want.ExpiresAt}} {
		if !sameTime(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func testTokenRoundTrip(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := mustOpen(t, open)
	tok := newToken(t, "system")
	if err := s.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.Token(ctx, tok.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash != tok.Hash || got.Account != tok.Account || got.Role != tok.Role || got.GUID != "" ||
		!sameTime(got.CreatedAt, tok.CreatedAt) || !sameTime(got.ExpiresAt, tok.ExpiresAt) {
		t.Fatalf("token = %+v, want %+v", got, tok)
	}
	if err := s.PutToken(ctx, tok); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second PutToken with the same hash: %v, want ErrExists", err)
	}
	if _, err := s.Token(ctx, newHash(t)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v, want ErrNotFound", err)
	}
	// A token granted for an operation carries its GUID.
	bound := newToken(t, "app")
	bound.GUID = uuid.NewString()
	if err := s.PutToken(ctx, bound); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Token(ctx, bound.Hash); got.GUID != bound.GUID {
		t.Fatalf("bound token GUID = %q, want %q", got.GUID, bound.GUID)
	}
}

func testCreateBindsToken(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := mustOpen(t, open)
	tok, op := created(t, s)
	got, _ := s.Token(ctx, tok.Hash)
	if got.GUID != op.GUID {
		t.Fatalf("token bound to %q, want %q", got.GUID, op.GUID)
	}
	// The bound token cannot create a second operation, and nothing of the
	// second is stored.
	second := newOp(tok.Account)
	if err := s.CreateOperation(ctx, second, tok.Hash); !errors.Is(err, store.ErrTokenBound) {
		t.Fatalf("second create with a bound token: %v, want ErrTokenBound", err)
	}
	if _, err := s.Operation(ctx, second.GUID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused operation was stored: %v", err)
	}
	// Unknown token.
	if err := s.CreateOperation(ctx, newOp("x"), newHash(t)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("create with unknown token: %v, want ErrNotFound", err)
	}
	// A taken GUID is refused and leaves the other token unbound.
	tok2 := newToken(t, "system")
	if err := s.PutToken(ctx, tok2); err != nil {
		t.Fatal(err)
	}
	dup := newOp(tok2.Account)
	dup.GUID = op.GUID
	if err := s.CreateOperation(ctx, dup, tok2.Hash); !errors.Is(err, store.ErrExists) {
		t.Fatalf("create with a taken GUID: %v, want ErrExists", err)
	}
	if got, _ := s.Token(ctx, tok2.Hash); got.GUID != "" {
		t.Fatalf("refused create bound the token to %q", got.GUID)
	}
	if got, _ := s.Operation(ctx, op.GUID); got.Creator != tok.Account {
		t.Fatalf("refused create overwrote the operation: creator %q", got.Creator)
	}
	// Many goroutines racing to create with one token: exactly one wins.
	racer := newToken(t, "system")
	if err := s.PutToken(ctx, racer); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, bound := 0, 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.CreateOperation(ctx, newOp(racer.Account), racer.Hash)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrTokenBound):
				bound++
			default:
				t.Errorf("racing create: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || bound != 15 {
		t.Fatalf("racing creates: %d won, %d refused; want 1 and 15", wins, bound)
	}
}

func testOperationRoundTrip(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := mustOpen(t, open)
	tok := newToken(t, "system")
	if err := s.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	op := newOp(tok.Account)
	op.Type, op.CertType = 5, 2
	op.InitExtMessage = ptr(`{"k":"签章 ext"}`)
	op.Message = "文件 hash 值 " + string(make([]byte, 0)) + "\u00e9\U0001F600"
	if err := s.CreateOperation(ctx, op, tok.Hash); err != nil {
		t.Fatal(err)
	}
	got, err := s.Operation(ctx, op.GUID)
	if err != nil {
		t.Fatal(err)
	}
	equalOps(t, got, op)
	if got.Value != nil || got.ExtMessage != nil {
		t.Fatalf("unset value/extMessage read back as %v/%v, want nil", got.Value, got.ExtMessage)
	}
	// An empty string is not nil.
	op2 := newOp(tok.Account)
	op2.InitExtMessage = ptr("")
	tok2 := newToken(t, "system")
	if err := s.PutToken(ctx, tok2); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOperation(ctx, op2, tok2.Hash); err != nil {
		t.Fatal(err)
	}
	got2, _ := s.Operation(ctx, op2.GUID)
	if got2.InitExtMessage == nil || *got2.InitExtMessage != "" {
		t.Fatalf("empty InitExtMessage read back as %v", got2.InitExtMessage)
	}
	if _, err := s.Operation(ctx, uuid.NewString()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown operation: %v, want ErrNotFound", err)
	}
}

func testUpdateCAS(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := mustOpen(t, open)
	tok, op := created(t, s)
	upd := op
	upd.Status, upd.Stage, upd.Value, upd.ExtMessage = 2, "seal-company-chosen", ptr(`{"signatureCompanyCode":"xx"}`), ptr(`{"caSerialId":"0A1B"}`)
	upd.SealCompanyCode, upd.SealCASerialID = "xx", "0A1B"
	upd.UpdatedAt = base.Add(time.Minute)
	// Fields fixed at creation are not changed by an update.
	upd.Message, upd.Title, upd.Creator, upd.Type = "changed", "changed", "intruder", 1
	stored, err := s.UpdateOperation(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	want := op
	want.Status, want.Stage, want.Value, want.ExtMessage = upd.Status, upd.Stage, upd.Value, upd.ExtMessage
	want.SealCompanyCode, want.SealCASerialID, want.UpdatedAt, want.Version = "xx", "0A1B", upd.UpdatedAt, 2
	equalOps(t, stored, want)
	got, _ := s.Operation(ctx, op.GUID)
	equalOps(t, got, want)

	// The seal hash fields are written by an update and kept by the next
	// one that carries them on (the app's final answer overwrites Value,
	// not these), as every field not fixed at creation.
	hashed := got
	hashed.Status, hashed.Stage, hashed.Value = 4, "seal-hash-ready", ptr("ab12")
	hashed.SealHash, hashed.SealHashExt = "ab12", `{"shape":"cms","digestAlgorithm":"SM3","toSign":"MYIB签"}`
	if got, err = s.UpdateOperation(ctx, hashed); err != nil || got.SealHash != "ab12" || got.SealHashExt != hashed.SealHashExt || got.Version != 3 {
		t.Fatalf("storing the seal hash: %+v, %v", got, err)
	}
	signed := got
	signed.Status, signed.Stage, signed.Value = 2, "confirmed", ptr(`{"signStr":"…"}`)
	if got, err = s.UpdateOperation(ctx, signed); err != nil {
		t.Fatal(err)
	}
	want = signed
	want.Version, want.UpdatedAt = 4, signed.UpdatedAt
	equalOps(t, got, want)
	if got, _ = s.Operation(ctx, op.GUID); got.SealHash != "ab12" || got.SealHashExt != hashed.SealHashExt {
		t.Fatalf("seal hash read back as %q / %q", got.SealHash, got.SealHashExt)
	}
	if _, withTok, err := s.TokenWithOperation(ctx, tok.Hash, op.GUID); err != nil || withTok == nil {
		t.Fatalf("TokenWithOperation: %v, %v", withTok, err)
	} else {
		equalOps(t, *withTok, want)
	}
	want = got

	// A write based on the old version loses and changes nothing.
	stale := op
	stale.Status = 3
	if _, err := s.UpdateOperation(ctx, stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
	got, _ = s.Operation(ctx, op.GUID)
	equalOps(t, got, want)

	// Clearing a value back to nil is stored as nil.
	clear := got
	clear.Value = nil
	if stored, err = s.UpdateOperation(ctx, clear); err != nil || stored.Value != nil || stored.Version != 5 {
		t.Fatalf("clearing value: %+v, %v", stored, err)
	}
	if got, _ = s.Operation(ctx, op.GUID); got.Value != nil {
		t.Fatalf("cleared value read back as %q", *got.Value)
	}
	missing := newOp("x")
	if _, err := s.UpdateOperation(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of unknown operation: %v, want ErrNotFound", err)
	}
}

func testConcurrentUpdates(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := mustOpen(t, open)
	_, op := created(t, s)
	// Each goroutine appends its mark with read-modify-CAS; every mark must
	// survive, which a lost update would break.
	const n = 24
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cur, err := s.Operation(ctx, op.GUID)
				if err != nil {
					t.Error(err)
					return
				}
				v := ""
				if cur.Value != nil {
					v = *cur.Value
				}
				cur.Value = ptr(v + fmt.Sprintf("[%d]", i))
				if _, err := s.UpdateOperation(ctx, cur); err == nil {
					return
				} else if !errors.Is(err, store.ErrConflict) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, _ := s.Operation(ctx, op.GUID)
	if got.Version != n+1 {
		t.Fatalf("version %d after %d updates, want %d", got.Version, n, n+1)
	}
	for i := range n {
		if !containsMark(*got.Value, i) {
			t.Fatalf("update %d lost: value %q", i, *got.Value)
		}
	}
}

func containsMark(v string, i int) bool {
	m := fmt.Sprintf("[%d]", i)
	for j := 0; j+len(m) <= len(v); j++ {
		if v[j:j+len(m)] == m {
			return true
		}
	}
	return false
}

func testWait(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := mustOpen(t, open)
	_, op := created(t, s)
	// Already past: returns at once.
	got, err := s.Wait(ctx, op.GUID, 0)
	if err != nil || got.Version != 1 {
		t.Fatalf("Wait(after 0) = v%d, %v", got.Version, err)
	}
	// Not yet: wakes when a change is written.
	type result struct {
		op  store.Operation
		err error
	}
	done := make(chan result, 1)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	go func() {
		op, err := s.Wait(wctx, op.GUID, 1)
		done <- result{op, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("Wait returned before any change: v%d, %v", r.op.Version, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	upd := op
	upd.Status, upd.Stage = 1, "scanned"
	start := time.Now()
	if _, err := s.UpdateOperation(ctx, upd); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.op.Version != 2 || r.op.Status != 1 {
		t.Fatalf("Wait after change = %+v, %v", r.op, r.err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Wait woke %v after the change; it should be woken, not poll", d)
	}
	// Ends with its context.
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := s.Wait(short, op.GUID, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait past deadline: %v, want DeadlineExceeded", err)
	}
	if _, err := s.Wait(ctx, uuid.NewString(), 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Wait on unknown operation: %v, want ErrNotFound", err)
	}
}

func testPurge(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := mustOpen(t, open)
	mk := func(expires time.Time) (store.Token, store.Operation) {
		tok := newToken(t, "system")
		tok.ExpiresAt = expires
		if err := s.PutToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		op := newOp(tok.Account)
		op.ExpiresAt = expires
		if err := s.CreateOperation(ctx, op, tok.Hash); err != nil {
			t.Fatal(err)
		}
		return tok, op
	}
	oldTok, oldOp := mk(base.Add(-2 * time.Hour))
	midTok, midOp := mk(base.Add(-30 * time.Minute))
	newTok, newOp := mk(base.Add(time.Hour))
	// Tokens expired before base go; operations only if expired an hour
	// before base (the grace period in which late calls still hear "expired").
	res, err := s.Purge(ctx, base, base.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens != 2 || res.Operations != 1 {
		t.Fatalf("purged %+v, want 2 tokens and 1 operation", res)
	}
	for _, h := range []store.TokenHash{oldTok.Hash, midTok.Hash} {
		if _, err := s.Token(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired token survived purge: %v", err)
		}
	}
	if _, err := s.Token(ctx, newTok.Hash); err != nil {
		t.Fatalf("live token purged: %v", err)
	}
	if _, err := s.Operation(ctx, oldOp.GUID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old operation survived purge: %v", err)
	}
	for _, g := range []string{midOp.GUID, newOp.GUID} {
		if _, err := s.Operation(ctx, g); err != nil {
			t.Fatalf("operation within grace purged: %v", err)
		}
	}
	// Purging again finds nothing more.
	if res, err := s.Purge(ctx, base, base.Add(-time.Hour)); err != nil || res != (store.PurgeResult{}) {
		t.Fatalf("second purge = %+v, %v", res, err)
	}
}

func testReopen(t *testing.T, open Opener) {
	ctx := context.Background()
	s, reopen := open(t)
	tok, op := created(t, s)
	upd := op
	upd.Status, upd.Stage, upd.Value = 2, "confirmed", ptr("签名值")
	upd.SealHash, upd.SealHashExt = "ab12", `{"shape":"p7hash"}`
	want, err := s.UpdateOperation(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := reopen(t)
	defer s2.Close()
	got, err := s2.Operation(ctx, op.GUID)
	if err != nil {
		t.Fatal(err)
	}
	equalOps(t, got, want)
	gotTok, err := s2.Token(ctx, tok.Hash)
	if err != nil || gotTok.GUID != op.GUID {
		t.Fatalf("token after reopen = %+v, %v", gotTok, err)
	}
	// And it keeps working.
	next := got
	next.Status = 3
	if _, err := s2.UpdateOperation(ctx, next); err != nil {
		t.Fatal(err)
	}
}

func testClosed(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.PutToken(ctx, newToken(t, "app")); err == nil {
		t.Fatal("PutToken after Close succeeded")
	}
	if _, err := s.Operation(ctx, uuid.NewString()); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Operation after Close: %v, want an error other than not found", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
}

// RunCrossInstance checks two stores on the same data (two instances on one
// database) share operations and wake each other's waiters.
func RunCrossInstance(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	tok := newToken(t, "system")
	if err := a.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	op := newOp(tok.Account)
	if err := a.CreateOperation(ctx, op, tok.Hash); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Token(ctx, tok.Hash); err != nil || got.GUID != op.GUID {
		t.Fatalf("token through the other instance = %+v, %v", got, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		got, err := b.Wait(wctx, op.GUID, 1)
		if err == nil && got.Status != 1 {
			err = fmt.Errorf("woke with status %d", got.Status)
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	upd := op
	upd.Status, upd.Stage = 1, "scanned"
	if _, err := a.UpdateOperation(ctx, upd); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("waiter on the other instance woke after %v: notification not delivered", d)
	}
}

func testTokenWithOperation(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := mustOpen(t, open)
	tok := newToken(t, "system")
	if err := s.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	op := newOp(tok.Account)
	op.InitExtMessage, op.CertType = ptr("ext"), 1
	if err := s.CreateOperation(ctx, op, tok.Hash); err != nil {
		t.Fatal(err)
	}
	gotTok, gotOp, err := s.TokenWithOperation(ctx, tok.Hash, op.GUID)
	if err != nil || gotOp == nil {
		t.Fatalf("TokenWithOperation = %+v, %v, %v", gotTok, gotOp, err)
	}
	if gotTok.GUID != op.GUID || gotTok.Account != tok.Account || !sameTime(gotTok.ExpiresAt, tok.ExpiresAt) {
		t.Fatalf("token = %+v", gotTok)
	}
	equalOps(t, *gotOp, op)
	// The token exists, the operation does not (or the GUID is not a UUID).
	for _, g := range []string{uuid.NewString(), "not-a-uuid", ""} {
		gotTok, gotOp, err = s.TokenWithOperation(ctx, tok.Hash, g)
		if err != nil || gotOp != nil || gotTok.Account != tok.Account {
			t.Fatalf("guid %q: %+v, %v, %v", g, gotTok, gotOp, err)
		}
	}
	if _, _, err := s.TokenWithOperation(ctx, newHash(t), op.GUID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v, want ErrNotFound", err)
	}
}
