package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scansign/scansign/seal"
)

// migrations are applied in order, each once, recorded in
// seal_schema_migrations. Append only: never edit an applied step.
var migrations = []string{
	1: `
CREATE TABLE seal_users (
	serial     text PRIMARY KEY,
	user_id    text NOT NULL,
	user_name  text NOT NULL,
	phone      text NOT NULL,
	valid_from timestamptz,
	valid_to   timestamptz,
	updated_at timestamptz NOT NULL
);
CREATE TABLE seal_seals (
	id          uuid PRIMARY KEY,
	seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	serial      text NOT NULL,
	name        text NOT NULL,
	width_cm    double precision NOT NULL,
	height_cm   double precision NOT NULL,
	sign_type   text NOT NULL,
	description text NOT NULL,
	ext         text NOT NULL,
	image       bytea NOT NULL,
	valid_from  timestamptz,
	valid_to    timestamptz,
	created_at  timestamptz NOT NULL
);
CREATE INDEX seal_seals_serial_seq ON seal_seals (serial, seq);`,
}

// migrationLock is the advisory lock key serialising migrations between
// instances starting at once ("seal" in ASCII; the relay uses its own key).
const migrationLock = 0x7365616c

// Postgres is the PostgreSQL backend.
type Postgres struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// OpenPostgres connects to url and brings the seal tables up to date.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("seal store: connect to PostgreSQL: %w", err)
	}
	p := &Postgres{pool: pool, now: time.Now}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return p, nil
}

func (p *Postgres) migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS seal_schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM seal_schema_migrations`).Scan(&current); err != nil {
			return err
		}
		if current >= len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this program knows (%d)", current, len(migrations)-1)
		}
		for v := current + 1; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO seal_schema_migrations (version) VALUES ($1)`, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seal store: migrate: %w", err)
	}
	return nil
}

// nullTime maps the zero time (an open bound) to NULL and back.
func nullTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

func fromNull(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// AddSeal implements seal.Store.
func (p *Postgres) AddSeal(ctx context.Context, s seal.Seal) (seal.Seal, error) {
	s, err := s.Prepare()
	if err != nil {
		return seal.Seal{}, err
	}
	s.ID = uuid.NewString()
	s.Created = stamp(p.now)
	_, err = p.pool.Exec(ctx, `INSERT INTO seal_seals
		(id, serial, name, width_cm, height_cm, sign_type, description, ext, image, valid_from, valid_to, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		s.ID, s.Serial, s.Name, s.WidthCM, s.HeightCM, s.Type, s.Description, s.Ext, s.Image,
		nullTime(s.ValidFrom), nullTime(s.ValidTo), s.Created)
	if err != nil {
		return seal.Seal{}, fmt.Errorf("seal store: add seal: %w", err)
	}
	return s, nil
}

// RemoveSeal implements seal.Store.
func (p *Postgres) RemoveSeal(ctx context.Context, id string) error {
	uid, err := uuid.Parse(id)
	if err != nil {
		return seal.ErrNotFound // no seal has an ID that is not a UUID
	}
	tag, err := p.pool.Exec(ctx, `DELETE FROM seal_seals WHERE id = $1`, uid)
	if err != nil {
		return fmt.Errorf("seal store: remove seal: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return seal.ErrNotFound
	}
	return nil
}

// RemoveSerial implements seal.Store.
func (p *Postgres) RemoveSerial(ctx context.Context, serial string) (int, error) {
	serial, err := normalize(serial)
	if err != nil {
		return 0, err
	}
	var seals, users int64
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM seal_seals WHERE serial = $1`, serial)
		if err != nil {
			return err
		}
		seals = tag.RowsAffected()
		if tag, err = tx.Exec(ctx, `DELETE FROM seal_users WHERE serial = $1`, serial); err != nil {
			return err
		}
		users = tag.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("seal store: remove serial: %w", err)
	}
	if seals == 0 && users == 0 {
		return 0, seal.ErrNotFound
	}
	return int(seals), nil
}

// PutUser implements seal.Store.
func (p *Postgres) PutUser(ctx context.Context, u seal.User) (seal.User, error) {
	u, err := u.Prepare()
	if err != nil {
		return seal.User{}, err
	}
	u.Updated = stamp(p.now)
	_, err = p.pool.Exec(ctx, `INSERT INTO seal_users (serial, user_id, user_name, phone, valid_from, valid_to, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (serial) DO UPDATE SET user_id = excluded.user_id, user_name = excluded.user_name,
			phone = excluded.phone, valid_from = excluded.valid_from, valid_to = excluded.valid_to, updated_at = excluded.updated_at`,
		u.Serial, u.ID, u.Name, u.Phone, nullTime(u.ValidFrom), nullTime(u.ValidTo), u.Updated)
	if err != nil {
		return seal.User{}, fmt.Errorf("seal store: put user: %w", err)
	}
	return u, nil
}

const userColumns = `serial, user_id, user_name, phone, valid_from, valid_to, updated_at`

func scanUser(row pgx.Row) (seal.User, error) {
	var u seal.User
	var from, to pgtype.Timestamptz
	if err := row.Scan(&u.Serial, &u.ID, &u.Name, &u.Phone, &from, &to, &u.Updated); err != nil {
		return seal.User{}, err
	}
	u.ValidFrom, u.ValidTo, u.Updated = fromNull(from), fromNull(to), u.Updated.UTC()
	return u, nil
}

// sealColumns lists a seal's columns; image is either the bytes or NULL.
func sealColumns(image string) string {
	return `id, serial, name, width_cm, height_cm, sign_type, description, ext, ` + image + `, octet_length(image), valid_from, valid_to, created_at`
}

func scanSeal(row pgx.Row) (seal.Seal, error) {
	var s seal.Seal
	var id uuid.UUID
	var from, to pgtype.Timestamptz
	if err := row.Scan(&id, &s.Serial, &s.Name, &s.WidthCM, &s.HeightCM, &s.Type, &s.Description, &s.Ext,
		&s.Image, &s.ImageSize, &from, &to, &s.Created); err != nil {
		return seal.Seal{}, err
	}
	s.ID = id.String()
	s.ValidFrom, s.ValidTo, s.Created = fromNull(from), fromNull(to), s.Created.UTC()
	return s, nil
}

// Lookup implements seal.Store. Both queries go in one batch: one round
// trip, and one implicit transaction, so user and seals are one snapshot.
func (p *Postgres) Lookup(ctx context.Context, serial string) (seal.Entry, error) {
	serial, err := normalize(serial)
	if err != nil {
		return seal.Entry{}, err
	}
	var entry seal.Entry
	batch := &pgx.Batch{}
	batch.Queue(`SELECT `+userColumns+` FROM seal_users WHERE serial = $1`, serial).QueryRow(func(row pgx.Row) error {
		u, err := scanUser(row)
		switch {
		case err == nil:
			entry.User = &u
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		return nil
	})
	batch.Queue(`SELECT `+sealColumns("image")+` FROM seal_seals WHERE serial = $1 ORDER BY seq`, serial).Query(func(rows pgx.Rows) error {
		var err error
		entry.Seals, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (seal.Seal, error) { return scanSeal(r) })
		return err
	})
	if err := p.pool.SendBatch(ctx, batch).Close(); err != nil {
		return seal.Entry{}, fmt.Errorf("seal store: lookup: %w", err)
	}
	return entry, nil
}

// List implements seal.Store.
func (p *Postgres) List(ctx context.Context, serial string) ([]seal.Seal, []seal.User, error) {
	if serial != "" {
		var err error
		if serial, err = normalize(serial); err != nil {
			return nil, nil, err
		}
	}
	var seals []seal.Seal
	var users []seal.User
	err := pgx.BeginTxFunc(ctx, p.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// "" matches every serial: ($1 = '' OR serial = $1) keeps one plan-able query.
		rows, err := tx.Query(ctx, `SELECT `+sealColumns("NULL::bytea")+` FROM seal_seals
			WHERE ($1 = '' OR serial = $1) ORDER BY serial COLLATE "C", seq`, serial)
		if err != nil {
			return err
		}
		if seals, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (seal.Seal, error) { return scanSeal(r) }); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT `+userColumns+` FROM seal_users
			WHERE ($1 = '' OR serial = $1) ORDER BY serial COLLATE "C"`, serial)
		if err != nil {
			return err
		}
		users, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (seal.User, error) { return scanUser(r) })
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("seal store: list: %w", err)
	}
	return seals, users, nil
}

// Ping implements seal.Store.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.pool.Ping(ctx); err != nil {
		return fmt.Errorf("seal store: ping: %w", err)
	}
	return nil
}

// Close implements seal.Store.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}
