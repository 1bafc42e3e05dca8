package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scansign/scansign/relay/store"
)

// notifyChannel is the LISTEN/NOTIFY channel operation changes go out on.
const notifyChannel = "relay_operation_changed"

// DefaultMaxConns is the pool size when neither Options nor the URL say:
// the batchers hold three connections at most, the listener and the
// notifier one each, which leaves room for purges and readiness checks.
const DefaultMaxConns = 8

// purgeChunk bounds how many rows one purge statement deletes.
const purgeChunk = 5000

// Options tune the store; the zero value is the production setting.
type Options struct {
	// MaxConns caps the pool (default: the URL's pool_max_conns, else
	// DefaultMaxConns).
	MaxConns int32
	// NoNotify turns off NOTIFY on updates (Wait then only sees changes made
	// through this instance at once, and others after the recheck interval).
	NoNotify bool
	// Recheck is how often Wait re-reads without a notification (default 5 s),
	// a backstop for notifications lost while the listener reconnects.
	Recheck time.Duration
	// Logger gets listener reconnect warnings.
	Logger *slog.Logger
	// Unbatched runs every call alone, one round trip and one transaction
	// each, as the store did before batching; for comparison in benchmarks.
	Unbatched bool
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool    *pgxpool.Pool
	opts    Options
	waiters store.Waiters
	log     *slog.Logger

	// Calls go through two batchers (batch.go), kept apart because a batch
	// is one transaction: reads, which then never wait for a commit, and
	// writes.
	reads, writes *batcher

	// notifyq carries GUIDs of committed changes to the notifier, which
	// NOTIFYs them in batches outside the writers' transactions.
	notifyq chan string

	closed     atomic.Bool
	stopListen context.CancelFunc
	listenDone sync.WaitGroup
	closeOnce  sync.Once
}

// notifyPayloadMax keeps a batch of GUIDs under NOTIFY's 8000-byte payload.
const notifyPayloadMax = 7900

// Workers per batcher: how many batches of a kind may be at the server at
// once. One writer lets a write batch grow while the previous one commits;
// reads take two, as they never wait for a flush.
const (
	readWorkers  = 2
	writeWorkers = 1
)

// notifyLinger is how long the notifier collects changes before one NOTIFY.
const notifyLinger = 5 * time.Millisecond

// Open connects, creates or migrates the schema, and starts listening for
// changes made by other instances.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("pgstore: database URL: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(databaseURL, "pool_max_conns"):
		// pgxpool's default follows the CPU count, which is not what the
		// store needs: it needs the batchers' connections and a few more.
		cfg.MaxConns = DefaultMaxConns
	}
	if opts.Recheck <= 0 {
		opts.Recheck = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, opts: opts, log: opts.Logger, notifyq: make(chan string, 4096),
		reads:  newBatcher(pool, readWorkers, opts.Unbatched),
		writes: newBatcher(pool, writeWorkers, opts.Unbatched),
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.stopListen = cancel
	s.listenDone.Add(2)
	go s.listen(lctx)
	go s.notifier(lctx)
	return s, nil
}

// Close stops the listener and closes the pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.reads.close()
		s.writes.close()
		s.stopListen()
		s.listenDone.Wait()
		s.pool.Close()
	})
	return nil
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// listen holds one connection LISTENing and wakes local waiters; it
// reconnects with backoff until stopped.
func (s *Store) listen(ctx context.Context) {
	defer s.listenDone.Done()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("pgstore: change listener lost its connection; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection stays in LISTEN mode; never hand it back to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.Background())
	if _, err := pc.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		for _, guid := range strings.Split(n.Payload, ",") {
			s.waiters.Notify(guid)
		}
	}
}

// notifier sends the GUIDs of committed changes to every instance's
// listener. Why not NOTIFY inside each update: PostgreSQL serialises the
// commits of transactions that NOTIFY (a global lock held through the WAL
// flush), which defeats group commit; measured, it halved the relay's
// throughput. One notifier per instance batching GUIDs into a NOTIFY-only
// statement (no WAL to flush) costs the writers nothing. A notification lost
// here (queue full, connection error) only delays a waiter until its
// recheck.
func (s *Store) notifier(ctx context.Context) {
	defer s.listenDone.Done()
	var batch strings.Builder
	for {
		var guid string
		select {
		case <-ctx.Done():
			return
		case guid = <-s.notifyq:
		}
		// Linger, so one NOTIFY carries every change of the next few
		// milliseconds: each NOTIFY is a round trip and wakes every
		// listening instance, and a waiter elsewhere hardly notices 5 ms.
		select {
		case <-ctx.Done():
			return
		case <-time.After(notifyLinger):
		}
		for guid != "" { // one NOTIFY per full payload, until the queue is empty
			batch.Reset()
			batch.WriteString(guid)
			guid = ""
		drain:
			for {
				select {
				case g := <-s.notifyq:
					if batch.Len()+1+len(g) > notifyPayloadMax {
						guid = g // starts the next payload
						break drain
					}
					batch.WriteByte(',')
					batch.WriteString(g)
				default:
					break drain
				}
			}
			if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, batch.String()); err != nil && ctx.Err() == nil {
				s.log.Warn("pgstore: NOTIFY failed; waiters elsewhere will recheck", "err", err)
			}
		}
	}
}

// --- tokens ----------------------------------------------------------------

// PutToken implements store.Store.
func (s *Store) PutToken(ctx context.Context, t store.Token) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if t.GUID != "" && !isUUID(t.GUID) { // refused here rather than by the uuid cast, which would fail its whole batch
		return fmt.Errorf("pgstore: token GUID %q is not a UUID", t.GUID)
	}
	tag, err := s.writes.exec(ctx, `INSERT INTO relay_tokens (hash, account, role, guid, created_at, expires_at)
		VALUES ($1, $2, $3, NULLIF($4, '')::uuid, $5, $6) ON CONFLICT (hash) DO NOTHING`,
		t.Hash[:], t.Account, t.Role, t.GUID, t.CreatedAt, t.ExpiresAt)
	if err != nil {
		return fmt.Errorf("pgstore: put token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrExists
	}
	return nil
}

// Token implements store.Store.
func (s *Store) Token(ctx context.Context, h store.TokenHash) (store.Token, error) {
	if err := s.check(ctx); err != nil {
		return store.Token{}, err
	}
	t := store.Token{Hash: h}
	err := s.reads.queryRow(ctx, `SELECT account, role, COALESCE(guid::text, ''), created_at, expires_at
		FROM relay_tokens WHERE hash = $1`, h[:]).Scan(&t.Account, &t.Role, &t.GUID, &t.CreatedAt, &t.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, store.ErrNotFound
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("pgstore: read token: %w", err)
	}
	return t, nil
}

// TokenWithOperation implements store.Store in one statement.
func (s *Store) TokenWithOperation(ctx context.Context, h store.TokenHash, guid string) (store.Token, *store.Operation, error) {
	if err := s.check(ctx); err != nil {
		return store.Token{}, nil, err
	}
	if !isUUID(guid) { // the uuid cast would fail the statement; no such operation can exist
		t, err := s.Token(ctx, h)
		return t, nil, err
	}
	t := store.Token{Hash: h}
	var o store.Operation
	var found *string // the operation's GUID, NULL when there is none
	err := s.reads.queryRow(ctx, `SELECT t.account, t.role, COALESCE(t.guid::text, ''), t.created_at, t.expires_at,
			o.guid::text, COALESCE(o.type, 0), COALESCE(o.message, ''), COALESCE(o.title, ''), COALESCE(o.cert_type, 0),
			o.init_ext_message, COALESCE(o.status, 0), COALESCE(o.stage, ''), o.value, o.ext_message,
			COALESCE(o.seal_company_code, ''), COALESCE(o.seal_ca_serial, ''), COALESCE(o.creator, ''),
			COALESCE(o.created_at, t.created_at), COALESCE(o.updated_at, t.created_at), COALESCE(o.expires_at, t.created_at),
			COALESCE(o.version, 0), COALESCE(o.seal_hash, ''), COALESCE(o.seal_hash_ext, '')
		FROM relay_tokens t LEFT JOIN relay_operations o ON o.guid = $2::uuid
		WHERE t.hash = $1`, h[:], guid).Scan(
		&t.Account, &t.Role, &t.GUID, &t.CreatedAt, &t.ExpiresAt,
		&found, &o.Type, &o.Message, &o.Title, &o.CertType, &o.InitExtMessage, &o.Status, &o.Stage, &o.Value,
		&o.ExtMessage, &o.SealCompanyCode, &o.SealCASerialID, &o.Creator, &o.CreatedAt, &o.UpdatedAt, &o.ExpiresAt, &o.Version,
		&o.SealHash, &o.SealHashExt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, nil, store.ErrNotFound
	}
	if err != nil {
		return store.Token{}, nil, fmt.Errorf("pgstore: read token and operation: %w", err)
	}
	if found == nil {
		return t, nil, nil
	}
	o.GUID = *found
	return t, &o, nil
}

// isUUID reports whether s is UUID text PostgreSQL's uuid type accepts in
// the form we hand out (8-4-4-4-12 hex).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// --- operations ------------------------------------------------------------

const opColumns = `guid::text, type, message, title, cert_type, init_ext_message, status, stage, value,
	ext_message, seal_company_code, seal_ca_serial, creator, created_at, updated_at, expires_at, version,
	seal_hash, seal_hash_ext`

func scanOp(row pgx.Row) (store.Operation, error) {
	var op store.Operation
	err := row.Scan(&op.GUID, &op.Type, &op.Message, &op.Title, &op.CertType, &op.InitExtMessage, &op.Status,
		&op.Stage, &op.Value, &op.ExtMessage, &op.SealCompanyCode, &op.SealCASerialID, &op.Creator,
		&op.CreatedAt, &op.UpdatedAt, &op.ExpiresAt, &op.Version, &op.SealHash, &op.SealHashExt)
	return op, err
}

// CreateOperation implements store.Store in one statement: the token is
// bound only if it is still unbound, and the operation is inserted only if
// the token was bound; a GUID collision fails the whole statement.
func (s *Store) CreateOperation(ctx context.Context, op store.Operation, bindTo store.TokenHash) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if op.Version != 1 {
		return fmt.Errorf("pgstore: a new operation has version 1, not %d", op.Version)
	}
	if !isUUID(op.GUID) { // refused here rather than by the uuid cast, which would fail its whole batch
		return fmt.Errorf("pgstore: operation GUID %q is not a UUID", op.GUID)
	}
	tag, err := s.writes.exec(ctx, `WITH bound AS (
			UPDATE relay_tokens SET guid = $1::uuid WHERE hash = $2 AND guid IS NULL RETURNING hash
		)
		INSERT INTO relay_operations (guid, type, message, title, cert_type, init_ext_message, status, stage,
			value, ext_message, seal_company_code, seal_ca_serial, creator, created_at, updated_at, expires_at, version,
			seal_hash, seal_hash_ext)
		SELECT $1::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1, $18, $19 FROM bound`,
		op.GUID, bindTo[:], op.Type, op.Message, op.Title, op.CertType, op.InitExtMessage, op.Status, op.Stage,
		op.Value, op.ExtMessage, op.SealCompanyCode, op.SealCASerialID, op.Creator, op.CreatedAt, op.UpdatedAt, op.ExpiresAt,
		op.SealHash, op.SealHashExt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation on the GUID
		return store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("pgstore: create operation: %w", err)
	}
	if tag.RowsAffected() == 1 {
		s.notifyLocal(op.GUID)
		return nil
	}
	// Nothing bound: say why.
	if _, err := s.Token(ctx, bindTo); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("token: %w", store.ErrNotFound)
		}
		return err
	}
	return store.ErrTokenBound
}

// Operation implements store.Store.
func (s *Store) Operation(ctx context.Context, guid string) (store.Operation, error) {
	if err := s.check(ctx); err != nil {
		return store.Operation{}, err
	}
	if !isUUID(guid) { // the uuid cast would fail the statement (and its batch); no such operation can exist
		return store.Operation{}, store.ErrNotFound
	}
	op, err := scanOp(s.reads.queryRow(ctx, `SELECT `+opColumns+` FROM relay_operations WHERE guid = $1::uuid`, guid))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Operation{}, store.ErrNotFound
	}
	if err != nil {
		return store.Operation{}, fmt.Errorf("pgstore: read operation: %w", err)
	}
	return op, nil
}

// UpdateOperation implements store.Store: a compare-and-swap on version;
// the change is then announced to waiters here and, through the notifier,
// on other instances.
func (s *Store) UpdateOperation(ctx context.Context, op store.Operation) (store.Operation, error) {
	if err := s.check(ctx); err != nil {
		return store.Operation{}, err
	}
	if !isUUID(op.GUID) { // the uuid cast would fail the statement (and its batch); no such operation can exist
		return store.Operation{}, store.ErrNotFound
	}
	row := s.writes.queryRow(ctx, `UPDATE relay_operations SET status = $3, stage = $4, value = $5, ext_message = $6,
			seal_company_code = $7, seal_ca_serial = $8, updated_at = $9, version = version + 1,
			seal_hash = $10, seal_hash_ext = $11
		WHERE guid = $1::uuid AND version = $2
		RETURNING `+opColumns,
		op.GUID, op.Version, op.Status, op.Stage, op.Value, op.ExtMessage, op.SealCompanyCode, op.SealCASerialID, op.UpdatedAt,
		op.SealHash, op.SealHashExt)
	stored, err := scanOp(row)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := s.Operation(ctx, op.GUID); err != nil {
			return store.Operation{}, err
		}
		return store.Operation{}, store.ErrConflict
	}
	if err != nil {
		return store.Operation{}, fmt.Errorf("pgstore: update operation: %w", err)
	}
	s.notifyLocal(op.GUID)
	if !s.opts.NoNotify {
		select {
		case s.notifyq <- op.GUID:
		default: // queue full: other instances' waiters will recheck
		}
	}
	return stored, nil
}

// notifyLocal wakes this instance's waiters directly when NOTIFY is off or
// not involved.
func (s *Store) notifyLocal(guid string) { s.waiters.Notify(guid) }

// Wait implements store.Store.
func (s *Store) Wait(ctx context.Context, guid string, afterVersion int64) (store.Operation, error) {
	return store.WaitFor(ctx, &s.waiters, guid, afterVersion, s.opts.Recheck, s.Operation)
}

// --- housekeeping ----------------------------------------------------------

// Purge implements store.Store, in chunks so no statement holds many locks.
func (s *Store) Purge(ctx context.Context, tokensBefore, operationsBefore time.Time) (store.PurgeResult, error) {
	var res store.PurgeResult
	if err := s.check(ctx); err != nil {
		return res, err
	}
	for _, p := range []struct {
		sql    string
		before time.Time
		count  *int
	}{
		{`DELETE FROM relay_tokens WHERE hash IN (SELECT hash FROM relay_tokens WHERE expires_at < $1 LIMIT $2)`, tokensBefore, &res.Tokens},
		{`DELETE FROM relay_operations WHERE guid IN (SELECT guid FROM relay_operations WHERE expires_at < $1 LIMIT $2)`, operationsBefore, &res.Operations},
	} {
		for {
			tag, err := s.pool.Exec(ctx, p.sql, p.before, purgeChunk)
			if err != nil {
				return res, fmt.Errorf("pgstore: purge: %w", err)
			}
			*p.count += int(tag.RowsAffected())
			if tag.RowsAffected() < purgeChunk {
				break
			}
		}
	}
	return res, nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT 1 FROM relay_schema_migrations LIMIT 1`).Scan(&n); err != nil {
		return fmt.Errorf("pgstore: ping: %w", err)
	}
	return nil
}

var _ store.Store = (*Store)(nil)
