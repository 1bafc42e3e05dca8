package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are applied in order, each once; never edit one that shipped,
// add the next.
var migrations = []string{
	// 1: tokens and operations.
	`CREATE TABLE relay_tokens (
		hash       bytea PRIMARY KEY,
		account    text NOT NULL,
		role       text NOT NULL,
		guid       uuid,
		created_at timestamptz NOT NULL,
		expires_at timestamptz NOT NULL
	);
	CREATE INDEX relay_tokens_expires_at ON relay_tokens (expires_at);
	CREATE TABLE relay_operations (
		guid              uuid PRIMARY KEY,
		type              smallint NOT NULL,
		message           text NOT NULL,
		title             text NOT NULL,
		cert_type         smallint NOT NULL,
		init_ext_message  text,
		status            smallint NOT NULL,
		stage             text NOT NULL,
		value             text,
		ext_message       text,
		seal_company_code text NOT NULL DEFAULT '',
		seal_ca_serial    text NOT NULL DEFAULT '',
		creator           text NOT NULL,
		created_at        timestamptz NOT NULL,
		updated_at        timestamptz NOT NULL,
		expires_at        timestamptz NOT NULL,
		version           bigint NOT NULL
	);
	CREATE INDEX relay_operations_expires_at ON relay_operations (expires_at);`,
	// 2: the seal flow keeps the hash (and its extMessage) the seal control
	// stored at status 4, so the app's final answer can be checked against it.
	`ALTER TABLE relay_operations
		ADD COLUMN seal_hash     text NOT NULL DEFAULT '',
		ADD COLUMN seal_hash_ext text NOT NULL DEFAULT '';`,
}

// migrationLock is the advisory lock key serialising migrations across
// instances (an arbitrary constant: "relay" in ASCII).
const migrationLock = 0x72656c6179

// migrate brings the schema up to date in one transaction.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return fmt.Errorf("pgstore: migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS relay_schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("pgstore: create relay_schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM relay_schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("pgstore: read schema version: %w", err)
		}
		if current > len(migrations) {
			return fmt.Errorf("pgstore: database schema version %d is newer than this scansign knows (%d); upgrade scansign", current, len(migrations))
		}
		for v := current + 1; v <= len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("pgstore: migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO relay_schema_migrations (version) VALUES ($1)`, v); err != nil {
				return fmt.Errorf("pgstore: record migration %d: %w", v, err)
			}
		}
		return nil
	})
}
