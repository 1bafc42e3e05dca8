package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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

// TestMigrateFromVersion1: a database made by the first schema, with an
// operation in it, is brought up to date on Open and the operation reads
// as it was, its seal hash fields empty; they are written from then on.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	url := pgtest.FreshDatabase(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	guid := uuid.NewString()
	for _, q := range []string{
		`CREATE TABLE relay_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
		migrations[0],
		`INSERT INTO relay_schema_migrations (version) VALUES (1)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := conn.Exec(ctx, `INSERT INTO relay_operations (guid, type, message, title, cert_type, status, stage,
		value, seal_company_code, seal_ca_serial, creator, created_at, updated_at, expires_at, version)
		VALUES ($1, 5, 'm', 't', 0, 4, 'seal-hash-ready', 'abcd', 'xx', '0A1B', 'sys', $2, $2, $3, 4)`,
		guid, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	s := open(t, url)
	defer s.Close()
	op, err := s.Operation(ctx, guid)
	if err != nil {
		t.Fatal(err)
	}
	if op.SealCASerialID != "0A1B" || *op.Value != "abcd" || op.Version != 4 || op.SealHash != "" || op.SealHashExt != "" {
		t.Fatalf("migrated operation reads %+v", op)
	}
	op.SealHash, op.SealHashExt = "abcd", `{"shape":"p7hash"}`
	stored, err := s.UpdateOperation(ctx, op)
	if err != nil || stored.SealHash != "abcd" || stored.SealHashExt != `{"shape":"p7hash"}` {
		t.Fatalf("update after the migration: %+v, %v", stored, err)
	}
}
