package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
)

// ServerConfig is what the two servers, `serve` and `seal serve`, share:
// where they listen and with which TLS pair, under which path, over which
// store, how they log, how long in-flight requests may finish on SIGTERM,
// and the dev switch. Each embeds it at the top of its YAML file.
type ServerConfig struct {
	Listen          string        `yaml:"listen"`
	TLSCert         string        `yaml:"tls_cert"`
	TLSKey          string        `yaml:"tls_key"`
	PathPrefix      string        `yaml:"path_prefix"`
	Data            string        `yaml:"data"`
	DatabaseURL     string        `yaml:"database_url"`
	Dev             bool          `yaml:"dev"`
	LogLevel        string        `yaml:"log_level"`
	LogFormat       string        `yaml:"log_format"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

func defaultServerConfig(listen string) ServerConfig {
	return ServerConfig{Listen: listen, Data: "./data", LogLevel: "info", LogFormat: "text", ShutdownTimeout: 20 * time.Second}
}

// serverWords are what the shared settings' help says differently per
// server.
type serverWords struct {
	storeFile     string // the embedded store's file in DATA
	served        string // what --path-prefix moves
	prefixExample string
	dev           string // what --dev turns on
}

func (c *ServerConfig) settings(w serverWords) []setting {
	return []setting{
		str("listen", "address to listen on, host:port", &c.Listen),
		str("tls-cert", "TLS certificate chain (PEM); with --tls-key serves HTTPS as the guide asks", &c.TLSCert),
		str("tls-key", "TLS private key (PEM)", &c.TLSKey),
		str("path-prefix", "serve "+w.served+" under this path, e.g. "+w.prefixExample, &c.PathPrefix),
		str("data", "data directory of the embedded store (DATA/"+w.storeFile+")", &c.Data),
		str("database-url", "PostgreSQL URL (postgres://…); when set, used instead of --data", &c.DatabaseURL),
		boolean("dev", "development mode: "+w.dev+"; loopback only", &c.Dev),
		str("log-level", "debug, info, warn or error", &c.LogLevel),
		str("log-format", "text or json", &c.LogFormat),
		duration("shutdown-timeout", "how long to let in-flight requests finish on SIGTERM", &c.ShutdownTimeout),
	}
}

// check normalises the path prefix and refuses what cannot work.
func (c *ServerConfig) check() error {
	if c.PathPrefix != "" {
		c.PathPrefix = "/" + strings.Trim(c.PathPrefix, "/")
		if c.PathPrefix == "/" {
			c.PathPrefix = ""
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if _, err := c.level(); err != nil {
		return err
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log format %q: want text or json", c.LogFormat)
	}
	if c.Dev && !isLoopback(c.Listen) {
		return fmt.Errorf("--dev listens on loopback only (its accounts are public); %q is not a loopback address", c.Listen)
	}
	return nil
}

func (c *ServerConfig) level() (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return level, fmt.Errorf("log level %q: want debug, info, warn or error", c.LogLevel)
	}
	return level, nil
}

// selfURL is this server's base URL as seen from this machine.
func (c *ServerConfig) selfURL() string {
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + c.Listen + c.PathPrefix
}

// isLoopback reports whether a listen address can only be reached from
// this machine.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// runHTTP serves hs on ln, over TLS when the configuration names a pair,
// until ctx ends; then it lets in-flight requests finish within the
// shutdown timeout.
func runHTTP(ctx context.Context, hs *http.Server, ln net.Listener, c *ServerConfig, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() {
		if c.TLSCert != "" {
			errc <- hs.ServeTLS(ln, c.TLSCert, c.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", c.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// --- logging ---------------------------------------------------------------

// newLogger logs at the configured level and format (check has vetted
// both), adding each record's request id.
func newLogger(c *ServerConfig, w io.Writer) *slog.Logger {
	level, _ := c.level()
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(requestIDHandler{h})
}

type requestIDKey struct{}

// requestIDHandler adds the request id of the context to every record, so
// a service's log lines tie to the access log line.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(a)}
}

func (h requestIDHandler) WithGroup(n string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(n)}
}

// withRequestID takes a well-formed X-Request-Id from the caller or makes
// one, puts it in the context and echoes it.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// accessLog logs one line per request: method, path (never the query
// string or body: they carry tokens, secrets, passwords, messages and
// values), status, size, duration.
func accessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			log.InfoContext(r.Context(), "http", "method", r.Method, "path", r.URL.Path, "status", ww.Status(),
				"bytes", ww.BytesWritten(), "ms", float64(time.Since(start).Microseconds())/1000, "remote", r.RemoteAddr)
		})
	}
}
