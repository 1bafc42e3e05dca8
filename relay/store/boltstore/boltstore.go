package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/scansign/scansign/relay/store"
)

// FileName is the database file inside the data directory.
const FileName = "relay.db"

var (
	bucketTokens      = []byte("tokens")
	bucketTokenExpiry = []byte("token_expiry") // expiry(8) ‖ hash → nil
	bucketOps         = []byte("operations")
	bucketOpExpiry    = []byte("operation_expiry") // expiry(8) ‖ guid → nil
)

// maxBatch bounds how many writes share one transaction, so one commit never
// holds every caller for long.
const maxBatch = 512

// purgeChunk bounds how many records one purge transaction deletes.
const purgeChunk = 2000

// Options tune the store; the zero value is the production setting.
type Options struct {
	// UseBoltBatch makes writes go through bbolt's DB.Batch instead of the
	// committer (kept to measure the two side by side).
	UseBoltBatch bool
	// BoltBatchDelay is DB.MaxBatchDelay when UseBoltBatch is set.
	BoltBatchDelay time.Duration
}

// Store is the bbolt implementation of store.Store.
type Store struct {
	db      *bolt.DB
	opts    Options
	waiters store.Waiters

	writes    chan *write
	closing   chan struct{}
	committer sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

type write struct {
	fn     func(*bolt.Tx) error
	notify string // GUID to wake waiters on after commit, if any
	err    error
	done   chan struct{}
}

// Open opens (creating if needed) DIR/relay.db. It fails at once, rather
// than hang, if another process holds the file.
func Open(dir string) (*Store, error) { return OpenWith(dir, Options{}) }

// OpenWith is Open with options.
func OpenWith(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("boltstore: create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: 2 * time.Second,
		// Map address space up front: growing the map later waits for every
		// open read transaction, a stall under load.
		InitialMmapSize: 256 << 20,
		// The freelist is rebuilt on open instead of written on every
		// commit: one page less per fsync; the file is small, so the scan
		// on open is quick.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("boltstore: %s is in use by another process (is another scansign running on this data directory?)", path)
		}
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	if opts.UseBoltBatch && opts.BoltBatchDelay > 0 {
		db.MaxBatchDelay = opts.BoltBatchDelay
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTokens, bucketTokenExpiry, bucketOps, bucketOpExpiry} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: create buckets: %w", err)
	}
	s := &Store{db: db, opts: opts, writes: make(chan *write), closing: make(chan struct{})}
	s.committer.Add(1)
	go s.commitLoop()
	return s, nil
}

// Close stops accepting writes, finishes those queued, and closes the file.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.committer.Wait()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// isRefusal reports whether err is a business refusal, which a write
// function returns before writing anything.
func isRefusal(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) ||
		errors.Is(err, store.ErrTokenBound) || errors.Is(err, store.ErrExists)
}

// submit queues fn for the committer and waits until it is durable.
func (s *Store) submit(ctx context.Context, notify string, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.opts.UseBoltBatch {
		select {
		case <-s.closing:
			return store.ErrClosed
		default:
		}
		var refusal error
		err := s.db.Batch(func(tx *bolt.Tx) error {
			refusal = fn(tx)
			if isRefusal(refusal) {
				return nil
			}
			return refusal
		})
		if err == nil {
			err = refusal
		}
		if err == nil && notify != "" {
			s.waiters.Notify(notify)
		}
		return err
	}
	w := &write{fn: fn, notify: notify, done: make(chan struct{})}
	select {
	case s.writes <- w:
	case <-s.closing:
		return store.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the write will be committed or refused; wait for the
	// outcome even if ctx ends, so the caller never mistakes a durable
	// write for a failed one.
	<-w.done
	return w.err
}

func (s *Store) commitLoop() {
	defer s.committer.Done()
	batch := make([]*write, 0, maxBatch)
	lastSize, lastTook := 0, time.Duration(0)
	for {
		var first *write
		select {
		case first = <-s.writes:
		case <-s.closing:
			return
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxBatch {
			select {
			case w := <-s.writes:
				batch = append(batch, w)
			default:
				break drain
			}
		}
		// The callers of a large commit all come back at about the same
		// time; without a pause the first of them would commit alone (a whole
		// fsync for one write) while the rest queue behind it. So when the
		// last commit was large and this one is still small, wait a little
		// (a fraction of a commit's time) for the rest. An idle store
		// (last commit of one) never waits.
		if lastSize > 1 && len(batch) < lastSize/2 {
			linger := time.NewTimer(min(lastTook/4, maxLinger))
		gather:
			for len(batch) < lastSize && len(batch) < maxBatch {
				select {
				case w := <-s.writes:
					batch = append(batch, w)
				case <-linger.C:
					break gather
				}
			}
			linger.Stop()
		}
		start := time.Now()
		s.commit(batch)
		lastSize, lastTook = len(batch), time.Since(start)
	}
}

// maxLinger caps how long the committer waits to fill a batch.
const maxLinger = 2 * time.Millisecond

// commit runs a batch in one transaction; if the transaction fails, each
// write is retried alone so one bad write cannot fail the others.
func (s *Store) commit(batch []*write) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, w := range batch {
			w.err = w.fn(tx)
			if w.err != nil && !isRefusal(w.err) {
				return w.err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		for _, w := range batch {
			s.commit([]*write{w})
		}
		return
	}
	for _, w := range batch {
		if err != nil {
			w.err = fmt.Errorf("boltstore: commit: %w", err)
		}
		if w.err == nil && w.notify != "" {
			s.waiters.Notify(w.notify)
		}
		close(w.done)
	}
}

// --- records ---------------------------------------------------------------

// Records are a small binary format: a format byte, then fields in a fixed
// order (strings and optional strings length-prefixed, integers as varints,
// times as Unix nanoseconds). JSON was the costliest part of every read;
// this is several times cheaper and just as easy to extend: a new format
// byte for a new layout, with the old one still decoded.
//
// Operations: format 1 ends with the version; format 2 (written since the
// seal flow keeps its status-4 hash) appends SealHash and SealHashExt. A
// format 1 record reads with both empty. Tokens are format 1.
const (
	recordFormat   = 1
	opRecordFormat = 2
)

var errBadRecord = errors.New("boltstore: damaged record")

type recordWriter struct{ b []byte }

func (w *recordWriter) int(v int64)      { w.b = binary.AppendVarint(w.b, v) }
func (w *recordWriter) time(t time.Time) { w.int(t.UnixNano()) }
func (w *recordWriter) str(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *recordWriter) optStr(p *string) {
	if p == nil {
		w.b = append(w.b, 0)
		return
	}
	w.b = append(w.b, 1)
	w.str(*p)
}

type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBadRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}
func (r *recordReader) time() time.Time { return time.Unix(0, r.int()).UTC() }
func (r *recordReader) str() string {
	l, n := binary.Uvarint(r.b)
	if n <= 0 || uint64(len(r.b)-n) < l {
		r.err = errBadRecord
		return ""
	}
	s := string(r.b[n : n+int(l)])
	r.b = r.b[n+int(l):]
	return s
}
func (r *recordReader) optStr() *string {
	if len(r.b) == 0 {
		r.err = errBadRecord
		return nil
	}
	present := r.b[0]
	r.b = r.b[1:]
	if present == 0 {
		return nil
	}
	s := r.str()
	return &s
}

// open checks the format byte is one of formats and returns it.
func (r *recordReader) open(formats ...byte) byte {
	if len(r.b) == 0 {
		r.err = errBadRecord
		return 0
	}
	f := r.b[0]
	for _, want := range formats {
		if f == want {
			r.b = r.b[1:]
			return f
		}
	}
	r.err = errBadRecord
	return 0
}

// done refuses bytes left over after the last field.
func (r *recordReader) done() {
	if r.err == nil && len(r.b) != 0 {
		r.err = errBadRecord
	}
}

func encodeOp(op store.Operation) ([]byte, error) {
	w := recordWriter{b: make([]byte, 0, 128+len(op.Message)+len(op.Title))}
	w.b = append(w.b, opRecordFormat)
	w.int(int64(op.Type))
	w.str(op.Message)
	w.str(op.Title)
	w.int(int64(op.CertType))
	w.optStr(op.InitExtMessage)
	w.int(int64(op.Status))
	w.str(op.Stage)
	w.optStr(op.Value)
	w.optStr(op.ExtMessage)
	w.str(op.SealCompanyCode)
	w.str(op.SealCASerialID)
	w.str(op.Creator)
	w.time(op.CreatedAt)
	w.time(op.UpdatedAt)
	w.time(op.ExpiresAt)
	w.int(op.Version)
	w.str(op.SealHash)
	w.str(op.SealHashExt)
	return w.b, nil
}

func decodeOp(guid string, b []byte) (store.Operation, error) {
	r := recordReader{b: b}
	format := r.open(recordFormat, opRecordFormat)
	op := store.Operation{GUID: guid}
	op.Type = int(r.int())
	op.Message = r.str()
	op.Title = r.str()
	op.CertType = int(r.int())
	op.InitExtMessage = r.optStr()
	op.Status = int(r.int())
	op.Stage = r.str()
	op.Value = r.optStr()
	op.ExtMessage = r.optStr()
	op.SealCompanyCode = r.str()
	op.SealCASerialID = r.str()
	op.Creator = r.str()
	op.CreatedAt = r.time()
	op.UpdatedAt = r.time()
	op.ExpiresAt = r.time()
	op.Version = r.int()
	if format >= 2 {
		op.SealHash = r.str()
		op.SealHashExt = r.str()
	}
	r.done()
	if r.err != nil {
		return store.Operation{}, fmt.Errorf("operation %s: %w", guid, r.err)
	}
	return op, nil
}

func encodeToken(t store.Token) ([]byte, error) {
	w := recordWriter{b: make([]byte, 0, 96)}
	w.b = append(w.b, recordFormat)
	w.str(t.Account)
	w.str(t.Role)
	w.str(t.GUID)
	w.time(t.CreatedAt)
	w.time(t.ExpiresAt)
	return w.b, nil
}

func decodeToken(h store.TokenHash, b []byte) (store.Token, error) {
	r := recordReader{b: b}
	r.open(recordFormat)
	t := store.Token{Hash: h}
	t.Account = r.str()
	t.Role = r.str()
	t.GUID = r.str()
	t.CreatedAt = r.time()
	t.ExpiresAt = r.time()
	if r.err != nil {
		return store.Token{}, fmt.Errorf("token: %w", r.err)
	}
	return t, nil
}

// expiryKey orders index entries by expiry so a purge is a prefix scan.
func expiryKey(t time.Time, id []byte) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(max(t.UnixNano(), 0)))
	return append(k, id...)
}

// --- tokens ----------------------------------------------------------------

// PutToken implements store.Store.
func (s *Store) PutToken(ctx context.Context, t store.Token) error {
	rec, err := encodeToken(t)
	if err != nil {
		return err
	}
	return s.submit(ctx, "", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b.Get(t.Hash[:]) != nil {
			return store.ErrExists
		}
		if err := b.Put(t.Hash[:], rec); err != nil {
			return err
		}
		return tx.Bucket(bucketTokenExpiry).Put(expiryKey(t.ExpiresAt, t.Hash[:]), nil)
	})
}

// Token implements store.Store.
func (s *Store) Token(ctx context.Context, h store.TokenHash) (store.Token, error) {
	if err := ctx.Err(); err != nil {
		return store.Token{}, err
	}
	var t store.Token
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTokens).Get(h[:])
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		t, err = decodeToken(h, v)
		return err
	})
	return t, s.viewErr(err)
}

// TokenWithOperation implements store.Store in one read transaction.
func (s *Store) TokenWithOperation(ctx context.Context, h store.TokenHash, guid string) (store.Token, *store.Operation, error) {
	if err := ctx.Err(); err != nil {
		return store.Token{}, nil, err
	}
	var t store.Token
	var op *store.Operation
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTokens).Get(h[:])
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		if t, err = decodeToken(h, v); err != nil {
			return err
		}
		if ov := tx.Bucket(bucketOps).Get([]byte(guid)); ov != nil {
			o, err := decodeOp(guid, ov)
			if err != nil {
				return err
			}
			op = &o
		}
		return nil
	})
	if err != nil {
		return store.Token{}, nil, s.viewErr(err)
	}
	return t, op, nil
}

// --- operations ------------------------------------------------------------

// CreateOperation implements store.Store.
func (s *Store) CreateOperation(ctx context.Context, op store.Operation, bindTo store.TokenHash) error {
	if op.Version != 1 {
		return fmt.Errorf("boltstore: a new operation has version 1, not %d", op.Version)
	}
	rec, err := encodeOp(op)
	if err != nil {
		return err
	}
	return s.submit(ctx, op.GUID, func(tx *bolt.Tx) error {
		tokens, ops := tx.Bucket(bucketTokens), tx.Bucket(bucketOps)
		tv := tokens.Get(bindTo[:])
		if tv == nil {
			return fmt.Errorf("token: %w", store.ErrNotFound)
		}
		tok, err := decodeToken(bindTo, tv)
		if err != nil {
			return err
		}
		if tok.GUID != "" {
			return store.ErrTokenBound
		}
		if ops.Get([]byte(op.GUID)) != nil {
			return store.ErrExists
		}
		tok.GUID = op.GUID
		newTok, err := encodeToken(tok)
		if err != nil {
			return err
		}
		if err := ops.Put([]byte(op.GUID), rec); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOpExpiry).Put(expiryKey(op.ExpiresAt, []byte(op.GUID)), nil); err != nil {
			return err
		}
		return tokens.Put(bindTo[:], newTok)
	})
}

// Operation implements store.Store.
func (s *Store) Operation(ctx context.Context, guid string) (store.Operation, error) {
	if err := ctx.Err(); err != nil {
		return store.Operation{}, err
	}
	var op store.Operation
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketOps).Get([]byte(guid))
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		op, err = decodeOp(guid, v)
		return err
	})
	return op, s.viewErr(err)
}

// UpdateOperation implements store.Store.
func (s *Store) UpdateOperation(ctx context.Context, op store.Operation) (store.Operation, error) {
	var stored store.Operation
	err := s.submit(ctx, op.GUID, func(tx *bolt.Tx) error {
		ops := tx.Bucket(bucketOps)
		v := ops.Get([]byte(op.GUID))
		if v == nil {
			return store.ErrNotFound
		}
		cur, err := decodeOp(op.GUID, v)
		if err != nil {
			return err
		}
		if cur.Version != op.Version {
			return store.ErrConflict
		}
		next := cur // the fields fixed at creation come from what is stored
		next.Status, next.Stage = op.Status, op.Stage
		next.Value, next.ExtMessage = op.Value, op.ExtMessage
		next.SealCompanyCode, next.SealCASerialID = op.SealCompanyCode, op.SealCASerialID
		next.SealHash, next.SealHashExt = op.SealHash, op.SealHashExt
		next.UpdatedAt = op.UpdatedAt
		next.Version = cur.Version + 1
		rec, err := encodeOp(next)
		if err != nil {
			return err
		}
		if err := ops.Put([]byte(op.GUID), rec); err != nil {
			return err
		}
		stored = next
		return nil
	})
	if err != nil {
		return store.Operation{}, err
	}
	return stored, nil
}

// Wait implements store.Store. Every write goes through this process, so
// the in-process notification is complete; the recheck is only a backstop.
func (s *Store) Wait(ctx context.Context, guid string, afterVersion int64) (store.Operation, error) {
	return store.WaitFor(ctx, &s.waiters, guid, afterVersion, time.Minute, s.Operation)
}

// --- housekeeping ----------------------------------------------------------

// Purge implements store.Store, a chunk per transaction so it never holds
// the committer for long.
func (s *Store) Purge(ctx context.Context, tokensBefore, operationsBefore time.Time) (store.PurgeResult, error) {
	var res store.PurgeResult
	for _, p := range []struct {
		index, primary []byte
		before         time.Time
		count          *int
	}{
		{bucketTokenExpiry, bucketTokens, tokensBefore, &res.Tokens},
		{bucketOpExpiry, bucketOps, operationsBefore, &res.Operations},
	} {
		limit := expiryKey(p.before, nil)
		for {
			n := 0
			err := s.submit(ctx, "", func(tx *bolt.Tx) error {
				n = 0
				idx, prim := tx.Bucket(p.index), tx.Bucket(p.primary)
				var keys [][]byte
				c := idx.Cursor()
				for k, _ := c.First(); k != nil && len(keys) < purgeChunk && string(k[:8]) < string(limit); k, _ = c.Next() {
					keys = append(keys, append([]byte(nil), k...))
				}
				for _, k := range keys {
					if err := idx.Delete(k); err != nil {
						return err
					}
					if err := prim.Delete(k[8:]); err != nil {
						return err
					}
				}
				n = len(keys)
				return nil
			})
			if err != nil {
				return res, err
			}
			*p.count += n
			if n < purgeChunk {
				break
			}
		}
	}
	return res, nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.viewErr(s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOps) == nil {
			return errors.New("boltstore: operations bucket missing")
		}
		return nil
	}))
}

func (s *Store) viewErr(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return err
}

var _ store.Store = (*Store)(nil)
