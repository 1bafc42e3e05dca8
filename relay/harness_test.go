package relay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/internal/httpjson"
	"github.com/scansign/scansign/internal/pgtest"
	"github.com/scansign/scansign/internal/testclock"
	"github.com/scansign/scansign/relay/client"
	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/relay/store/boltstore"
	"github.com/scansign/scansign/relay/store/pgstore"
)

// Test accounts; the secrets are the documented dev ones.
const (
	sysName, sysSecret   = "dev-system", "dev-system-secret"
	sys2Name, sys2Secret = "other-system", "other-system-secret"
	appName, appSecret   = "dev-app", "dev-app-secret"
)

func testAccounts() []Account {
	return []Account{
		{Name: sysName, Role: RoleSystem, SecretHash: HashSecret(sysSecret)},
		{Name: sys2Name, Role: RoleSystem, SecretHash: HashSecret(sys2Secret)},
		{Name: appName, Role: RoleApp, SecretHash: HashSecret(appSecret)},
	}
}

func newClock() *testclock.Clock { return testclock.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) }

// storeKind opens stores of one implementation; reopen opens the same data
// again after the first was closed (a restart).
type storeKind struct {
	name string
	open func(t testing.TB) (store.Store, func(t testing.TB) store.Store)
}

func storeKinds() []storeKind {
	return []storeKind{
		{"bolt", func(t testing.TB) (store.Store, func(t testing.TB) store.Store) {
			dir := t.TempDir()
			open := func(t testing.TB) store.Store {
				s, err := boltstore.Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			return open(t), open
		}},
		{"postgres", func(t testing.TB) (store.Store, func(t testing.TB) store.Store) {
			url := pgtest.FreshDatabase(t)
			open := func(t testing.TB) store.Store {
				s, err := pgstore.Open(context.Background(), url, pgstore.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			return open(t), open
		}},
	}
}

// forEachStore runs fn once per store implementation.
func forEachStore(t *testing.T, fn func(t *testing.T, k storeKind)) {
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) { fn(t, k) })
	}
}

// harness is a Service over a real store behind a real HTTP listener.
type harness struct {
	t     testing.TB
	svc   *Service
	st    store.Store
	srv   *httptest.Server
	c     *client.Client
	clock *testclock.Clock
}

func newService(t testing.TB, st store.Store, clk *testclock.Clock, mod ...func(*Config)) *Service {
	t.Helper()
	cfg := Config{Store: st, Accounts: testAccounts(), PublicURL: "https://relay.example.cn/scan", Now: clk.Now}
	for _, m := range mod {
		m(&cfg)
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func newHarness(t testing.TB, st store.Store, mod ...func(*Config)) *harness {
	t.Helper()
	clk := newClock()
	h := &harness{t: t, st: st, clock: clk}
	h.start(st, mod...)
	t.Cleanup(func() { h.srv.Close(); h.st.Close() })
	return h
}

func (h *harness) start(st store.Store, mod ...func(*Config)) {
	h.st = st
	h.svc = newService(h.t, st, h.clock, mod...)
	r := chi.NewRouter()
	h.svc.Mount(r)
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(h.svc.RequireSystem)
		r.Get("/whoami", func(w http.ResponseWriter, r *http.Request) {
			p, _ := PrincipalFrom(r.Context())
			httpjson.WriteExact(w, 200, map[string]any{"account": p.Account, "basic": p.basic, "guid": p.GUID})
		})
		r.With(h.svc.RequireBound("guid")).Get("/operations/{guid}", func(w http.ResponseWriter, r *http.Request) {
			p, _ := PrincipalFrom(r.Context())
			op, err := h.svc.Operation(r.Context(), p, chi.URLParam(r, "guid"))
			if err != nil {
				h.svc.WriteFailure(w, r, 0, err)
				return
			}
			httpjson.WriteExact(w, 200, map[string]any{"status": op.Status, "stage": op.Stage})
		})
	})
	h.srv = httptest.NewServer(r)
	h.c = client.New(h.srv.URL, h.srv.Client())
}

// restart closes server and store and starts both again on the same data.
func (h *harness) restart(reopen func(t testing.TB) store.Store) {
	h.srv.Close()
	if err := h.st.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.start(reopen(h.t))
}

func ptr(s string) *string { return &s }

// login runs the system half of starting an operation: token, init.
func (h *harness) initOp(typ int, message string) (sysToken, guid string) {
	h.t.Helper()
	ctx := context.Background()
	tok, err := h.c.GrantToken(ctx, sysName, sysSecret, "")
	if err != nil {
		h.t.Fatal(err)
	}
	guid, err = h.c.InitMessage(ctx, tok, client.InitMessageRequest{Type: typ, Message: message, Title: "xx 系统登录"})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok, guid
}

// scan is the app's first two calls: token for the guid, getInitMessage.
func (h *harness) scan(guid string) (appToken string, msg client.InitMessage) {
	h.t.Helper()
	ctx := context.Background()
	tok, err := h.c.GrantToken(ctx, appName, appSecret, guid)
	if err != nil {
		h.t.Fatal(err)
	}
	msg, err = h.c.GetInitMessage(ctx, tok, guid)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok, msg
}

// wantCode checks err is a relay refusal with code.
func wantCode(t testing.TB, err error, code int) {
	t.Helper()
	if got := client.Code(err); got != code {
		t.Fatalf("got %v (invokeCode %d), want invokeCode %d", err, got, code)
	}
}
