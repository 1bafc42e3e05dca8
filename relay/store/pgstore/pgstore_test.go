package pgstore

import (
	"context"
	"testing"

	"github.com/scansign/scansign/internal/pgtest"
	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/relay/store/storetest"
)

func open(t *testing.T, url string) *Store {
	t.Helper()
	return openWith(t, url, Options{})
}

func openWith(t *testing.T, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
		url := pgtest.FreshDatabase(t)
		return open(t, url), func(t *testing.T) store.Store { return open(t, url) }
	})
}

// The unbatched store (a benchmark's baseline) keeps the same promises.
func TestConformanceUnbatched(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
		url := pgtest.FreshDatabase(t)
		reopen := func(t *testing.T) store.Store { return openWith(t, url, Options{Unbatched: true}) }
		return reopen(t), reopen
	})
}

// Two instances on one database see each other's changes, and a waiter on
// one is woken by a change made through the other (LISTEN/NOTIFY).
func TestWaitAcrossInstances(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	a, b := open(t, url), open(t, url)
	defer a.Close()
	defer b.Close()
	storetest.RunCrossInstance(t, a, b)
}

func TestMigrateIsIdempotent(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	for range 3 {
		s := open(t, url)
		s.Close()
	}
	s := open(t, url)
	defer s.Close()
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM relay_schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) {
		t.Fatalf("%d migrations recorded, want %d", n, len(migrations))
	}
}
