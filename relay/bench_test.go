package relay

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/internal/pgtest"
	"github.com/scansign/scansign/relay/client"
	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/relay/store/boltstore"
	"github.com/scansign/scansign/relay/store/pgstore"
)

// benchConcurrency is how many flows run at once (the figure).
const benchConcurrency = 64

// benchClient keeps enough idle connections for every concurrent caller,
// so the benchmark measures the server, not TCP handshakes.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}
}

// benchServer starts a real service over st on a loopback listener.
func benchServer(b *testing.B, st store.Store) *client.Client {
	b.Helper()
	svc, err := New(Config{Store: st, Accounts: testAccounts(), PublicURL: "https://relay.example.cn"})
	if err != nil {
		b.Fatal(err)
	}
	r := chi.NewRouter()
	svc.Mount(r)
	srv := httptest.NewServer(r)
	b.Cleanup(func() { srv.Close(); st.Close() })
	return client.New(srv.URL, benchClient())
}

type benchStore struct {
	name string
	open func(b *testing.B) (store.Store, string) // the store and its PostgreSQL database name, if any
}

func benchStores() []benchStore {
	return []benchStore{
		{"embedded", func(b *testing.B) (store.Store, string) {
			s, err := boltstore.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s, ""
		}},
		{"embedded-boltBatch", func(b *testing.B) (store.Store, string) {
			s, err := boltstore.OpenWith(b.TempDir(), boltstore.Options{UseBoltBatch: true})
			if err != nil {
				b.Fatal(err)
			}
			return s, ""
		}},
		{"postgres", func(b *testing.B) (store.Store, string) {
			return openPG(b, "", pgstore.Options{})
		}},
		{"postgres-unbatched", func(b *testing.B) (store.Store, string) {
			// The store as it was before batching: one round trip and one
			// commit per call, on the 24 connections it then defaulted to.
			return openPG(b, "pool_max_conns=24", pgstore.Options{Unbatched: true})
		}},
		{"postgres-noNotify", func(b *testing.B) (store.Store, string) {
			return openPG(b, "", pgstore.Options{NoNotify: true})
		}},
		{"postgres-asyncCommit", func(b *testing.B) (store.Store, string) {
			// synchronous_commit=off through the URL, as an operator would set
			// it: a PostgreSQL crash may lose the last ~0.6 s of commits.
			return openPG(b, "synchronous_commit=off", pgstore.Options{})
		}},
	}
}

// runConcurrent runs fn b.N times spread over benchConcurrency goroutines
// and reports the rate as unit/s, the CPU time per unit (this process, and
// the PostgreSQL backends of database pgDB if not ""), and the rate that CPU time
// allows on two whole cores (unit/s@2cpu), which does not depend on what
// else the machine is doing.
func runConcurrent(b *testing.B, unit, pgDB string, fn func() error) {
	b.SetParallelism((benchConcurrency + 1) / max(1, testingProcs()))
	b.ResetTimer()
	cpu := startCPU(pgDB)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := fn(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), unit+"/s")
	per := cpu.perOp(b.N)
	b.ReportMetric(float64(per.Microseconds()), "cpu-µs/"+unit)
	if pgDB != "" { // the PostgreSQL server's share of it
		b.ReportMetric(float64(((postgresCPU(pgDB) - cpu.pg) / time.Duration(max(b.N, 1))).Microseconds()), "pg-cpu-µs/"+unit)
	}
	if per > 0 {
		b.ReportMetric(2*float64(time.Second)/float64(per), unit+"/s@2cpu")
	}
}

// BenchmarkRelayFlow: the login-shaped flow (system grantToken +
// initMessage, app grantToken + getInitMessage + saveCaMessageResult,
// system getCaMessageResult) over loopback HTTP, 64 flows at once, per
// store; "bare" is a net/http handler answering {"invokeCode":1} to the same
// client, the ceiling of one request.
func BenchmarkRelayFlow(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			w.Header().Set("Content-Type", ContentTypeJSON)
			w.Write([]byte(`{"invokeCode":1}`))
		}))
		defer srv.Close()
		hc := benchClient()
		runConcurrent(b, "req", "", func() error {
			resp, err := hc.Post(srv.URL+"/getCaMessageResult", "application/x-www-form-urlencoded",
				strings.NewReader("guid=bf1af3f2-97b0-4b04-a054-ad7ba824eb70&token=36b6a611-0c97-47f3-a070-7d3d0ffadd4e"))
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body) // drained, so the connection is reused
			resp.Body.Close()
			return err
		})
	})
	for _, bs := range benchStores() {
		b.Run(bs.name, func(b *testing.B) { benchFlowOn(b, bs) })
	}
}

// benchFlowOn runs the login-shaped flow against one store.
func benchFlowOn(b *testing.B, bs benchStore) {
	ctx := context.Background()
	st, db := bs.open(b)
	c := benchServer(b, st)
	runConcurrent(b, "flows", db, func() error {
		sys, err := c.GrantToken(ctx, sysName, sysSecret, "")
		if err != nil {
			return err
		}
		guid, err := c.InitMessage(ctx, sys, client.InitMessageRequest{Type: 4, Message: "f7c54891-adad-4f32-9994-83d70a7204a2", Title: "xx 系统登录"})
		if err != nil {
			return err
		}
		app, err := c.GrantToken(ctx, appName, appSecret, guid)
		if err != nil {
			return err
		}
		if _, err := c.GetInitMessage(ctx, app, guid); err != nil {
			return err
		}
		sig := `{"signStr":"MEUCIQDx…","pubCert":"MIIB…"}`
		if err := c.SaveCaMessageResult(ctx, app, client.SaveRequest{GUID: guid, Status: 2, Value: &sig}); err != nil {
			return err
		}
		_, err = c.GetCaMessageResult(ctx, sys, guid)
		return err
	})
}

// BenchmarkGrantToken: /grantToken over loopback HTTP, 64 callers at once.
func BenchmarkGrantToken(b *testing.B) {
	for _, bs := range benchStores() {
		if strings.Contains(bs.name, "-") && bs.name != "postgres-unbatched" {
			continue // the other variants matter for updates, not token inserts
		}
		b.Run(bs.name, func(b *testing.B) {
			st, db := bs.open(b)
			c := benchServer(b, st)
			runConcurrent(b, "grants", db, func() error {
				_, err := c.GrantToken(context.Background(), sysName, sysSecret, "")
				return err
			})
		})
	}
}

// openPG opens a PostgreSQL store on a fresh database, with an extra
// key=value URL parameter if param is not "", and returns its database name.
func openPG(b *testing.B, param string, opts pgstore.Options) (store.Store, string) {
	u, err := url.Parse(pgtest.FreshDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	if k, v, ok := strings.Cut(param, "="); ok {
		q := u.Query()
		q.Set(k, v)
		u.RawQuery = q.Encode()
	}
	s, err := pgstore.Open(context.Background(), u.String(), opts)
	if err != nil {
		b.Fatal(err)
	}
	return s, strings.TrimPrefix(u.Path, "/")
}
