package service

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scansign/scansign/internal/pgtest"
	"github.com/scansign/scansign/seal"
	"github.com/scansign/scansign/seal/store"
)

// BenchmarkGetSeal measures /api/getSeal over loopback HTTP with 16
// concurrent callers, for each store, answering two seals (≈ 80 KB of JSON);
// "bare" is a handler writing the same bytes, the ceiling of HTTP alone.
func BenchmarkGetSeal(b *testing.B) {
	round, err := os.ReadFile(filepath.Join("..", "..", "testdata", "seals", "round-company.png"))
	if err != nil {
		b.Fatal(err)
	}
	oval, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "seals", "oval-finance.png"))
	form := url.Values{"caSerialId": {"0A1B2C"}, "accountName": {testAccount}, "password": {testPassword}}.Encode()

	open := map[string]func(b *testing.B) seal.Store{
		"embedded": func(b *testing.B) seal.Store {
			s, err := store.OpenEmbedded(context.Background(), b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
		"postgres": func(b *testing.B) seal.Store {
			s, err := store.OpenPostgres(context.Background(), pgtest.FreshDatabase(b))
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	}
	var answer []byte
	run := func(b *testing.B, h http.Handler) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		b.SetParallelism(8) // 8 × GOMAXPROCS(2) = 16 callers
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := c.Post(srv.URL+Path, "application/x-www-form-urlencoded", strings.NewReader(form))
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || n < 50_000 {
					b.Fatalf("HTTP %d, %d bytes", resp.StatusCode, n)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	for _, name := range []string{"embedded", "postgres"} {
		b.Run(name, func(b *testing.B) {
			st := open[name](b)
			defer st.Close()
			ctx := context.Background()
			for _, img := range [][]byte{round, oval} {
				if _, err := st.AddSeal(ctx, seal.Seal{Serial: "0A1B2C", Name: "公章", WidthCM: 4, HeightCM: 4, Image: img}); err != nil {
					b.Fatal(err)
				}
			}
			svc, err := New(Config{Accounts: []Account{{Name: testAccount, PasswordHash: cheapHash(b, testPassword)}}, Logger: slog.New(slog.DiscardHandler)}, st)
			if err != nil {
				b.Fatal(err)
			}
			rec := httptest.NewRecorder()
			svc.ServeHTTP(rec, httptest.NewRequest("POST", Path+"?"+form, nil))
			answer = rec.Body.Bytes()
			run(b, svc)
		})
	}
	b.Run("bare", func(b *testing.B) {
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json;charset=utf-8")
			w.Write(answer)
		}))
	})
}

// BenchmarkPasswordCheck compares a check answered from the success cache
// with a full PBKDF2 derivation at the default cost.
func BenchmarkPasswordCheck(b *testing.B) {
	h, err := HashPassword("s3cret")
	if err != nil {
		b.Fatal(err)
	}
	acc, err := newAccounts([]Account{{Name: "a", PasswordHash: h}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		acc.check("a", "s3cret")
		for b.Loop() {
			if !acc.check("a", "s3cret") {
				b.Fatal("no")
			}
		}
	})
	b.Run("pbkdf2", func(b *testing.B) {
		ph := acc.byName["a"]
		for b.Loop() {
			if !ph.matches("s3cret") {
				b.Fatal("no")
			}
		}
	})
}
