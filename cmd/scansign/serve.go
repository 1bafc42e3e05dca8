package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/httpjson"
	"github.com/scansign/scansign/pdfsign"
	"github.com/scansign/scansign/relay"
	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/relay/store/boltstore"
	"github.com/scansign/scansign/relay/store/pgstore"
	"github.com/scansign/scansign/seal/service"
	"github.com/scansign/scansign/verify"
)

// runServe is `scansign serve`: the relay and the HTTP APIs on one router.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(args, os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "scansign serve: %v\n", err)
		return exitUsage
	}
	log := newLogger(&cfg.ServerConfig, stderr)
	// Listen first: with a port of 0 the bound address is what QR codes and
	// the dev seal company must name.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "scansign serve: %v\n", err)
		return exitUsage
	}
	cfg.bound(ln.Addr())
	srv, err := newServer(ctx, cfg, log)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "scansign serve: %v\n", err)
		return exitUsage
	}
	defer srv.close()
	if err := srv.serve(ctx, ln); err != nil {
		log.Error("server stopped", "err", err)
		return exitUsage
	}
	return exitOK
}

// server holds what `serve` runs: the relay on its store, the trust store
// and verifier, the results API and the seal parts. newServer builds them;
// routes mounts them on one router.
type server struct {
	cfg   *Config
	log   *slog.Logger
	store store.Store
	relay *relay.Service
	// trust and verifier are nil without a trust directory; the routes that
	// verify then answer 503 (unconfiguredTrust).
	trust    *certs.TrustStore
	verifier *verify.Verifier
	results  *relay.Results
	seal     *sealParts
}

// newServer opens the stores and builds the services. cfg.Listen must be
// the address actually bound (Config.bound) when it matters: the dev seal
// company is this server at that address.
func newServer(ctx context.Context, cfg *Config, log *slog.Logger) (*server, error) {
	if cfg.Dev {
		log.Warn("DEVELOPMENT MODE: the accounts dev-system (system) and dev-app (app) with their documented secrets " +
			"are enabled and public, and so is the seal service account dev-seal; listening on loopback only. " +
			"Never run --dev where others can reach it.")
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: log, store: st}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	accounts := make([]relay.Account, 0, len(cfg.Relay.Accounts))
	for _, a := range cfg.Relay.Accounts {
		accounts = append(accounts, relay.Account{Name: a.Name, Role: relay.Role(a.Role), SecretHash: a.SecretHash})
	}
	s.relay, err = relay.New(relay.Config{
		Store: st, Accounts: accounts, PublicURL: cfg.PublicURL, Cities: cfg.Relay.Cities,
		OperationTTL: cfg.Relay.OpTTL, TokenTTL: cfg.Relay.TokenTTL, ExpiredGrace: cfg.Relay.ExpiredGrace,
		Limits:      relay.Limits{BodyBytes: int64(cfg.Relay.BodyLimit)},
		MaxFailures: cfg.Relay.MaxFailures, MaxFailuresPerAddr: cfg.Relay.MaxFailuresPerAddr, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	if s.trust, s.verifier, err = loadTrust(cfg.Trust, log); err != nil {
		return nil, err
	}
	if s.verifier != nil {
		if s.results, err = relay.NewResults(s.relay, s.verifier); err != nil {
			return nil, err
		}
	} else {
		log.Warn("no trust directory (--trust): /api/v1/operations/…, /api/v1/verify, /api/v1/certs/inspect, " +
			"/api/v1/envelope/encrypt and /api/v1/pdf/… answer 503 until one is configured; the guide's endpoints work")
	}
	if s.seal, err = newSealParts(ctx, cfg, s.relay, log); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

func openStore(ctx context.Context, cfg *Config, log *slog.Logger) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		st, err := pgstore.Open(octx, cfg.DatabaseURL, pgstore.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		log.Info("store: PostgreSQL")
		return st, nil
	}
	st, err := boltstore.Open(cfg.Data)
	if err != nil {
		return nil, err
	}
	log.Info("store: embedded", "file", filepath.Join(cfg.Data, boltstore.FileName))
	return st, nil
}

func (s *server) close() {
	if s.seal != nil {
		if err := s.seal.close(); err != nil {
			s.log.Error("closing the seal store", "err", err)
		}
	}
	if err := s.store.Close(); err != nil {
		s.log.Error("closing the store", "err", err)
	}
}

// routes builds the one router every HTTP surface hangs on.
func (s *server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(withRequestID, accessLog(s.log), s.recoverer)
	r.MethodNotAllowed(s.relay.MethodNotAllowed) // JSON, not chi's empty 405; the groups below inherit it
	if len(s.cfg.TrustedProxies) > 0 {
		r.Use(middleware.ClientIPFromXFF(s.cfg.TrustedProxies...))
	}
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteExact(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := s.relay.Ready(ctx); err != nil {
			s.log.ErrorContext(r.Context(), "not ready: store unreachable", "err", err)
			httpjson.WriteExact(w, http.StatusServiceUnavailable, map[string]string{"status": "store unreachable"})
			return
		}
		if s.seal.store != nil {
			if err := s.seal.store.Ping(ctx); err != nil {
				s.log.ErrorContext(r.Context(), "not ready: seal store unreachable", "err", err)
				httpjson.WriteExact(w, http.StatusServiceUnavailable, map[string]string{"status": "seal store unreachable"})
				return
			}
		}
		httpjson.WriteExact(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mount := func(r chi.Router) {
		s.relay.Mount(r)       // /grantToken … /saveCaMessageResult, /qrcode
		s.seal.images.Mount(r) // /getSealImg
		if s.seal.service != nil {
			r.Handle(service.Path, s.seal.service) // /api/getSeal, its own accounts and body limit
		}
		s.mountFullPath(r)
		r.Route("/api/v1", func(api chi.Router) {
			api.Use(s.relay.RequireSystem)
			api.NotFound(s.relay.NotFound)
			s.mountAPIv1(api)
		})
	}
	if s.cfg.PathPrefix != "" {
		r.Route(s.cfg.PathPrefix, mount)
	} else {
		mount(r)
	}
	return r
}

// mountAPIv1 is where the REST API for trading systems goes (/api/v1/…):
// every route here has a system account's Principal in its context
// (relay.PrincipalFrom: a bound token or Basic credentials); routes on one
// operation add s.relay.RequireBound("guid"), which wants the token bound
// to it.
func (s *server) mountAPIv1(api chi.Router) {
	if s.results == nil {
		// Refused as the real routes refuse (a token bound elsewhere or
		// Basic credentials get 401) before the 503.
		bound := api.With(s.relay.RequireBound("guid"))
		bound.Handle("/operations/{guid}", unconfiguredTrust())
		bound.Handle("/operations/{guid}/*", unconfiguredTrust())
		return
	}
	s.results.Mount(api) // /operations/{guid}, /operations/{guid}/encrypt
}

// mountFullPath mounts the /api/v1 handlers that route on their full paths
// (verify's and pdfsign's own routers) on r itself, the root or the prefix
// group: inside the /api/v1 group chi would hand them the path without
// /api/v1. They sit behind the same check (RequireSystem: Basic or a bound
// system token; these routes are on no operation).
func (s *server) mountFullPath(r chi.Router) {
	sys := r.With(s.relay.RequireSystem)
	pdf := sys.With(withDeadlines(s.cfg.PDF.Timeout))
	if s.verifier == nil {
		for _, p := range []string{"/api/v1/verify", "/api/v1/certs/inspect", "/api/v1/envelope/encrypt"} {
			sys.Handle(p, unconfiguredTrust())
		}
		pdf.Handle("/api/v1/pdf/*", unconfiguredTrust())
		return
	}
	v := verify.NewHandler(s.verifier, verify.HandlerOptions{Logger: s.log})
	for _, p := range []string{"/api/v1/verify", "/api/v1/certs/inspect", "/api/v1/envelope/encrypt"} {
		sys.Handle(p, v)
	}
	// The PDF API: uploads up to pdf.max_bytes (the guide endpoints' 1 MiB
	// limit is theirs alone) with pdf.timeout to arrive and be answered.
	pdf.Handle("/api/v1/pdf/*", pdfsign.NewHandler(pdfsign.HandlerOptions{
		Verifier: s.verifier, Sink: s.relay.PDFHashSink(), MaxPDFBytes: int64(s.cfg.PDF.MaxBytes),
		TempDir: s.cfg.PDF.TempDir, Logger: s.log,
	}))
}

// unconfiguredTrust answers the verifying routes of a server started
// without a trust directory: 503, saying what to configure.
func unconfiguredTrust() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.WriteExact(w, http.StatusServiceUnavailable, relay.NewAPIFailure(http.StatusServiceUnavailable,
			"服务未配置信任的 CA 证书目录（--trust），验签相关接口不可用"))
	})
}

// serve runs the HTTP server on ln until ctx ends, then lets in-flight
// requests finish (up to the shutdown timeout).
func (s *server) serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	purgeCtx, stopPurge := context.WithCancel(context.Background())
	defer stopPurge()
	go s.relay.RunPurge(purgeCtx, 0)
	// SIGHUP re-reads the trust directory (new CAs, fresh CRLs) in place.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				s.reloadTrust()
			case <-purgeCtx.Done():
				return
			}
		}
	}()

	s.log.Info("listening", "addr", ln.Addr().String(), "tls", s.cfg.TLSCert != "", "public_url", s.cfg.PublicURL, "path_prefix", s.cfg.PathPrefix)
	return runHTTP(ctx, hs, ln, &s.cfg.ServerConfig, s.log)
}

// recoverer turns a panic into a logged 500 with the guide's JSON body.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				httpjson.WriteExact(w, http.StatusInternalServerError, relay.Failure{InvokeCode: relay.CodeInternal, FailMessage: "服务内部错误，请稍后重试"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
