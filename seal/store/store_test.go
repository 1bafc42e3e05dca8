package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scansign/scansign/internal/pgtest"
	"github.com/scansign/scansign/seal"
)

// backend opens a store; reopen opens the same data again after Close.
type backend struct {
	name string
	open func(t *testing.T) (open func() seal.Store)
}

func backends() []backend {
	return []backend{
		{"embedded", func(t *testing.T) func() seal.Store {
			dir := t.TempDir()
			return func() seal.Store {
				s, err := OpenEmbedded(context.Background(), dir)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		}},
		{"postgres", func(t *testing.T) func() seal.Store {
			url := pgtest.FreshDatabase(t)
			return func() seal.Store {
				s, err := OpenPostgres(context.Background(), url)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		}},
	}
}

// forEachBackend runs the conformance test f against a fresh store of each backend.
func forEachBackend(t *testing.T, f func(t *testing.T, open func() seal.Store)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { f(t, b.open(t)) })
	}
}

func image(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "seals", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newSeal(t testing.TB, serial, name string) seal.Seal {
	return seal.Seal{Serial: serial, Name: name, WidthCM: 4.2, HeightCM: 4.2, Type: "公章", Description: "测试", Image: image(t, "round-company.png")}
}

func TestAddLookup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() seal.Store) {
		ctx := context.Background()
		st := open()
		defer st.Close()
		from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		in := newSeal(t, "00:ab:CD:ef", "某某公司公章")
		in.ValidFrom, in.ValidTo = from, from.AddDate(2, 0, 0)
		added, err := st.AddSeal(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if added.ID == "" || added.Created.IsZero() || added.Serial != "ABCDEF" || added.Ext != "png" {
			t.Fatalf("added = %+v", added)
		}
		second, err := st.AddSeal(ctx, seal.Seal{Serial: "abcdef", Name: "财务专用章", WidthCM: 4, HeightCM: 3, Image: image(t, "oval-finance.png")})
		if err != nil {
			t.Fatal(err)
		}
		// Any spelling of the serial finds both seals, oldest first, with the original image bytes.
		for _, serial := range []string{"ABCDEF", "abcdef", "0x00abcdef", "ab:cd:ef", " AB CD EF "} {
			e, err := st.Lookup(ctx, serial)
			if err != nil {
				t.Fatalf("Lookup(%q): %v", serial, err)
			}
			if len(e.Seals) != 2 || e.Seals[0].ID != added.ID || e.Seals[1].ID != second.ID {
				t.Fatalf("Lookup(%q) = %d seals", serial, len(e.Seals))
			}
			got := e.Seals[0]
			if !bytes.Equal(got.Image, in.Image) || got.ImageSize != len(in.Image) {
				t.Fatalf("image changed: %d bytes, want %d", len(got.Image), len(in.Image))
			}
			got.Image = nil
			want := added
			want.Image = nil
			if !equalSeal(got, want) {
				t.Fatalf("Lookup = %+v\nwant     %+v", got, want)
			}
			if e.User != nil {
				t.Fatalf("user = %+v, want none", e.User)
			}
		}
		e, err := st.Lookup(ctx, "1234")
		if err != nil || len(e.Seals) != 0 || e.User != nil {
			t.Fatalf("unknown serial: %+v, %v", e, err)
		}
		if _, err := st.Lookup(ctx, "not-hex"); !errors.Is(err, seal.ErrInvalid) {
			t.Fatalf("bad serial: %v", err)
		}
	})
}

func equalSeal(a, b seal.Seal) bool {
	return a.ID == b.ID && a.Serial == b.Serial && a.Name == b.Name && a.WidthCM == b.WidthCM && a.HeightCM == b.HeightCM &&
		a.Type == b.Type && a.Description == b.Description && a.Ext == b.Ext && a.ImageSize == b.ImageSize &&
		a.ValidFrom.Equal(b.ValidFrom) && a.ValidTo.Equal(b.ValidTo) && a.Created.Equal(b.Created) && bytes.Equal(a.Image, b.Image)
}

func TestAddRefusesAndStoresNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() seal.Store) {
		ctx := context.Background()
		st := open()
		defer st.Close()
		for name, s := range map[string]seal.Seal{
			"garbage image": {Serial: "A1", Name: "x", WidthCM: 4, HeightCM: 4, Image: []byte("<svg/>")},
			"no name":       {Serial: "A1", WidthCM: 4, HeightCM: 4, Image: image(t, "round-company.png")},
			"bad serial":    {Serial: "A1Z", Name: "x", WidthCM: 4, HeightCM: 4, Image: image(t, "round-company.png")},
			"zero size":     {Serial: "A1", Name: "x", Image: image(t, "round-company.png")},
		} {
			if _, err := st.AddSeal(ctx, s); !errors.Is(err, seal.ErrInvalid) {
				t.Errorf("%s: AddSeal err = %v, want ErrInvalid", name, err)
			}
		}
		if _, err := st.PutUser(ctx, seal.User{Serial: "A1", Phone: string(make([]byte, 100))}); !errors.Is(err, seal.ErrInvalid) {
			t.Errorf("PutUser long phone: %v", err)
		}
		seals, users, err := st.List(ctx, "")
		if err != nil || len(seals) != 0 || len(users) != 0 {
			t.Fatalf("after refusals: %d seals, %d users, %v", len(seals), len(users), err)
		}
	})
}

func TestUsers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() seal.Store) {
		ctx := context.Background()
		st := open()
		defer st.Close()
		u := seal.User{Serial: "0a0b", ID: "u-1", Name: "张三", Phone: "13800000000",
			ValidFrom: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC), ValidTo: time.Date(2027, 5, 1, 8, 0, 0, 0, time.UTC)}
		put, err := st.PutUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		e, err := st.Lookup(ctx, "A0B")
		if err != nil || e.User == nil {
			t.Fatalf("Lookup = %+v, %v", e, err)
		}
		if got := *e.User; got.Serial != "A0B" || got.ID != put.ID || got.Name != put.Name || got.Phone != put.Phone ||
			!got.ValidFrom.Equal(put.ValidFrom) || !got.ValidTo.Equal(put.ValidTo) || !got.Updated.Equal(put.Updated) {
			t.Fatalf("user = %+v, want %+v", *e.User, put)
		}
		// Replaced, not duplicated; open dates stay open.
		if _, err := st.PutUser(ctx, seal.User{Serial: "a0b", ID: "u-2", Name: "李四"}); err != nil {
			t.Fatal(err)
		}
		_, users, err := st.List(ctx, "")
		if err != nil || len(users) != 1 || users[0].ID != "u-2" || !users[0].ValidFrom.IsZero() || !users[0].ValidTo.IsZero() {
			t.Fatalf("List users = %+v, %v", users, err)
		}
	})
}

func TestListAndRemove(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() seal.Store) {
		ctx := context.Background()
		st := open()
		defer st.Close()
		var ids []string
		for _, serial := range []string{"BB", "AA", "BB", "AA01"} {
			s, err := st.AddSeal(ctx, newSeal(t, serial, "seal "+serial))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, s.ID)
		}
		for _, serial := range []string{"BB", "AA"} {
			if _, err := st.PutUser(ctx, seal.User{Serial: serial, Name: "user " + serial}); err != nil {
				t.Fatal(err)
			}
		}
		seals, users, err := st.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		// By serial, then oldest first; images left out.
		wantOrder := []string{ids[1], ids[3], ids[0], ids[2]}
		if len(seals) != 4 {
			t.Fatalf("List = %d seals", len(seals))
		}
		for i, s := range seals {
			if s.ID != wantOrder[i] || s.Image != nil || s.ImageSize == 0 {
				t.Fatalf("List[%d] = %s (image %d bytes, size %d), want %s", i, s.ID, len(s.Image), s.ImageSize, wantOrder[i])
			}
		}
		if len(users) != 2 || users[0].Serial != "AA" || users[1].Serial != "BB" {
			t.Fatalf("List users = %+v", users)
		}
		seals, users, err = st.List(ctx, "00bb")
		if err != nil || len(seals) != 2 || seals[0].ID != ids[0] || len(users) != 1 || users[0].Serial != "BB" {
			t.Fatalf("List(00bb) = %d seals %d users, %v", len(seals), len(users), err)
		}

		if err := st.RemoveSeal(ctx, ids[0]); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{ids[0], "not-a-uuid", "00000000-0000-0000-0000-000000000000", ""} {
			if err := st.RemoveSeal(ctx, id); !errors.Is(err, seal.ErrNotFound) {
				t.Fatalf("RemoveSeal(%q) = %v, want ErrNotFound", id, err)
			}
		}
		n, err := st.RemoveSerial(ctx, "aa")
		if err != nil || n != 1 {
			t.Fatalf("RemoveSerial(aa) = %d, %v", n, err)
		}
		if _, err := st.RemoveSerial(ctx, "AA"); !errors.Is(err, seal.ErrNotFound) {
			t.Fatalf("second RemoveSerial = %v", err)
		}
		if _, err := st.RemoveSerial(ctx, "zz"); !errors.Is(err, seal.ErrInvalid) {
			t.Fatalf("RemoveSerial(bad) = %v", err)
		}
		e, err := st.Lookup(ctx, "AA")
		if err != nil || len(e.Seals) != 0 || e.User != nil {
			t.Fatalf("AA after removal: %+v, %v", e, err)
		}
		e, err = st.Lookup(ctx, "BB")
		if err != nil || len(e.Seals) != 1 || e.Seals[0].ID != ids[2] || e.User == nil {
			t.Fatalf("BB after removals: %+v, %v", e, err)
		}
		// A serial with only a user is removable too.
		if err := st.RemoveSeal(ctx, ids[2]); err != nil {
			t.Fatal(err)
		}
		if n, err := st.RemoveSerial(ctx, "BB"); err != nil || n != 0 {
			t.Fatalf("RemoveSerial(BB, user only) = %d, %v", n, err)
		}
	})
}

func TestSurvivesReopen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() seal.Store) {
		ctx := context.Background()
		st := open()
		s, err := st.AddSeal(ctx, newSeal(t, "C0FFEE", "persisted"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.PutUser(ctx, seal.User{Serial: "C0FFEE", Name: "kept"}); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		st = open() // the PostgreSQL store re-runs its migrations: must be a no-op
		defer st.Close()
		e, err := st.Lookup(ctx, "c0ffee")
		if err != nil || len(e.Seals) != 1 || e.Seals[0].ID != s.ID || e.User == nil || e.User.Name != "kept" {
			t.Fatalf("after reopen: %+v, %v", e, err)
		}
		if err := st.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestConcurrentAdds(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() seal.Store) {
		ctx := context.Background()
		st := open()
		defer st.Close()
		const n = 24
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := st.AddSeal(ctx, newSeal(t, fmt.Sprintf("%X", i%3+1), fmt.Sprintf("seal %d", i)))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		seals, _, err := st.List(ctx, "")
		if err != nil || len(seals) != n {
			t.Fatalf("List = %d, %v", len(seals), err)
		}
		ids := map[string]bool{}
		for _, s := range seals {
			ids[s.ID] = true
		}
		if len(ids) != n {
			t.Fatalf("%d distinct IDs for %d seals", len(ids), n)
		}
	})
}

func TestCancelledContext(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() seal.Store) {
		st := open()
		defer st.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := st.AddSeal(ctx, newSeal(t, "AB", "x")); err == nil {
			t.Error("AddSeal with a cancelled context succeeded")
		}
		if _, err := st.Lookup(ctx, "AB"); err == nil {
			t.Error("Lookup with a cancelled context succeeded")
		}
		seals, _, err := st.List(context.Background(), "")
		if err != nil || len(seals) != 0 {
			t.Fatalf("List = %d, %v", len(seals), err)
		}
	})
}

// TestPostgresSharesDatabase: the relay keeps its tables (and its own
// migration bookkeeping) in the same database; the seal store must neither
// read nor touch them, and two instances starting at once must both come up.
func TestPostgresSharesDatabase(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY); INSERT INTO schema_migrations VALUES (42);
		CREATE TABLE relay_operations (guid text PRIMARY KEY); INSERT INTO relay_operations VALUES ('g1')`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stores := make([]*Postgres, 4)
	errs := make([]error, 4)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = OpenPostgres(ctx, url)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var v, n int
	if err := conn.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil || v != 42 {
		t.Fatalf("relay's schema_migrations = %d, %v", v, err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM seal_schema_migrations`).Scan(&n); err != nil || n != len(migrations)-1 {
		t.Fatalf("seal_schema_migrations rows = %d, %v", n, err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM relay_operations`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("relay_operations = %d, %v", n, err)
	}
	// A database migrated by a newer program is refused, not silently used.
	if _, err := conn.Exec(ctx, `INSERT INTO seal_schema_migrations (version) VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	if s, err := OpenPostgres(ctx, url); err == nil {
		s.Close()
		t.Fatal("opened a database with a newer schema")
	}
}

func TestEmbeddedLockedFile(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := OpenEmbedded(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := os.Stat(filepath.Join(dir, "seals.db")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if b, err := OpenEmbedded(ctx, dir); err == nil {
		b.Close()
		t.Fatal("opened a locked store twice")
	} else if time.Since(start) > 5*time.Second {
		t.Fatalf("waited %v for the lock", time.Since(start))
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, Config{}); err == nil {
		t.Fatal("Open with nothing configured succeeded")
	}
	s, err := Open(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, ok := s.(*Embedded); !ok {
		t.Fatalf("Open(DataDir) = %T", s)
	}
	s, err = Open(ctx, Config{DataDir: t.TempDir(), DatabaseURL: pgtest.FreshDatabase(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, ok := s.(*Postgres); !ok {
		t.Fatalf("Open(DatabaseURL) = %T", s)
	}
}
