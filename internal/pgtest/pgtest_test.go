package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestFreshDatabaseIsEmptyAndUsable(t *testing.T) {
	u := FreshDatabase(t)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("fresh database has %d tables", n)
	}
}
