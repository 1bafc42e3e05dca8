package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/certs/devpki"
	"github.com/scansign/scansign/internal/pgtest"
	"github.com/scansign/scansign/internal/testclock"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/pdfsign"
	"github.com/scansign/scansign/phone"
	"github.com/scansign/scansign/relay"
	"github.com/scansign/scansign/relay/client"
	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/relay/store/boltstore"
	"github.com/scansign/scansign/relay/store/pgstore"
	"github.com/scansign/scansign/verify"
)

// Accounts of the test relay.
const (
	sysName, sysSecret   = "trading-system", "trading-system-secret"
	sys2Name, sys2Secret = "other-system", "other-system-secret"
	appName, appSecret   = "ca-app", "ca-app-secret"
	city                 = "P3401000001" // 合肥市公共资源交易平台
)

// env is a relay with the results API behind a real HTTP listener, on one
// store, and the dev PKI its verifier trusts.
type env struct {
	t     testing.TB
	clock *testclock.Clock
	svc   *relay.Service
	srv   *httptest.Server
	c     *client.Client
	pki   *devpki.Manifest
}

type storeKind struct {
	name string
	open func(t testing.TB) store.Store
}

func storeKinds() []storeKind {
	return []storeKind{
		{"bolt", func(t testing.TB) store.Store {
			s, err := boltstore.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"postgres", func(t testing.TB) store.Store {
			s, err := pgstore.Open(context.Background(), pgtest.FreshDatabase(t), pgstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
}

// forEachStore runs fn with a fresh env on each store.
func forEachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) { fn(t, newEnv(t, k.open(t))) })
	}
}

func newEnv(t testing.TB, st store.Store) *env {
	t.Helper()
	m := testpki.Manifest(t)
	clk := testclock.New(time.Now())
	svc, err := relay.New(relay.Config{
		Store: st,
		Accounts: []relay.Account{
			{Name: sysName, Role: relay.RoleSystem, SecretHash: relay.HashSecret(sysSecret)},
			{Name: sys2Name, Role: relay.RoleSystem, SecretHash: relay.HashSecret(sys2Secret)},
			{Name: appName, Role: relay.RoleApp, SecretHash: relay.HashSecret(appSecret)},
		},
		PublicURL: "https://relay.example.cn/scan", // what QR codes carry; the app is pointed at the test server
		Now:       clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	trust, err := certs.LoadTrustStore(m.TrustDir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	verifier := verify.New(trust, verify.Options{Now: clk.Now})
	results, err := relay.NewResults(svc, verifier)
	if err != nil {
		t.Fatal(err)
	}
	// The routes as `scansign serve` mounts them: the guide's endpoints,
	// the results API, and the PDF seal API storing hashes through the
	// relay's sink.
	r := chi.NewRouter()
	svc.Mount(r)
	r.Route("/api/v1", func(api chi.Router) {
		api.Use(svc.RequireSystem)
		results.Mount(api)
	})
	r.With(svc.RequireSystem).Handle("/api/v1/pdf/*", pdfsign.NewHandler(pdfsign.HandlerOptions{Verifier: verifier, Sink: svc.PDFHashSink()}))
	srv := httptest.NewServer(r)
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &env{t: t, clock: clk, svc: svc, srv: srv, c: client.New(srv.URL, srv.Client()), pki: m}
}

// identity loads a dev PKI leaf.
func (e *env) identity(leaf string) *certs.Identity {
	e.t.Helper()
	l, ok := e.pki.Leaf(leaf)
	if !ok {
		e.t.Fatalf("no leaf %s", leaf)
	}
	id, err := l.Identity()
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// leafChain is the PEM file of a leaf with its issuing CA.
func (e *env) leafChain(leaf string) string {
	l, _ := e.pki.Leaf(leaf)
	return l.ChainPath
}

func (e *env) serial(leaf string) string {
	l, _ := e.pki.Leaf(leaf)
	return l.Serial
}

// app is the phone simulator holding leaf, pointed at the test server.
func (e *env) app(leaf string, opts phone.Options) *phone.App {
	if opts.PollInterval == 0 {
		opts.PollInterval = 10 * time.Millisecond
	}
	return &phone.App{Account: appName, Secret: appSecret, Identity: e.identity(leaf),
		HTTP: e.srv.Client(), RelayURL: e.srv.URL, Options: opts}
}

// start is the trading system's first steps: a token, initMessage, and
// the QR payload to show.
func (e *env) start(typ int, message string, certType int) (sysTok, guid, qr string) {
	e.t.Helper()
	ctx := context.Background()
	tok, err := e.c.GrantToken(ctx, sysName, sysSecret, "")
	if err != nil {
		e.t.Fatal(err)
	}
	guid, err = e.c.InitMessage(ctx, tok, client.InitMessageRequest{Type: typ, Message: message, Title: "xx 系统" + phone.TypeName(typ), CertType: certType})
	if err != nil {
		e.t.Fatal(err)
	}
	payload, err := e.svc.Payload(guid, city)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok, guid, string(payload)
}

func (e *env) poll(tok, guid string) client.Result {
	e.t.Helper()
	r, err := e.c.GetCaMessageResult(context.Background(), tok, guid)
	if err != nil {
		e.t.Fatalf("getCaMessageResult: %v", err)
	}
	return r
}

func (e *env) result(tok, guid string) *client.OperationResult {
	e.t.Helper()
	r, err := e.c.OperationResult(context.Background(), tok, guid)
	if err != nil {
		e.t.Fatalf("GET /api/v1/operations/%s: %v", guid, err)
	}
	return r
}

// sealControl plays the seal control of 三.5 steps 7–9 on the guide's
// endpoints: once the app has named its seal company (status 2), it says
// it fetched the seals (5) and stores the PDF hash (4) with ext as
// extMessage. It returns when done, when the app declines (status 3), or
// when ctx ends.
func (e *env) sealControl(ctx context.Context, tok, guid, hash string, ext *string) error {
	for {
		r, err := e.c.GetCaMessageResult(ctx, tok, guid)
		if err != nil {
			return err
		}
		switch int(r.Status) {
		case phone.StatusConfirmed:
			if err := e.c.SaveCaMessageResult(ctx, tok, client.SaveRequest{GUID: guid, Status: phone.StatusSealCert}); err != nil {
				return err
			}
			return e.c.SaveCaMessageResult(ctx, tok, client.SaveRequest{GUID: guid, Status: phone.StatusSealHash, Value: &hash, ExtMessage: ext})
		case phone.StatusCancelled:
			return nil // the app declined: nothing to seal
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// fileHash is a "file hash" as seal controls send it: lowercase hex.
func fileHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func ptr(s string) *string { return &s }

func wantCode(t testing.TB, err error, code int) {
	t.Helper()
	if got := client.Code(err); got != code {
		t.Fatalf("got %v (invokeCode %d), want invokeCode %d", err, got, code)
	}
}
