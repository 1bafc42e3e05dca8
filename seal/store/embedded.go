package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"go.etcd.io/bbolt"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/seal"
)

// EmbeddedFile is the file name of the embedded store inside the data directory.
const EmbeddedFile = "seals.db"

// Buckets of the embedded store. A seal's key is its serial, a zero byte,
// then a big-endian sequence number, so one prefix scan finds a
// certificate's seals oldest first and a full scan lists them by serial.
var (
	bucketSeals  = []byte("seals")       // key → sealRecord JSON (no image)
	bucketImages = []byte("seal_images") // key → image bytes
	bucketIDs    = []byte("seal_ids")    // id → key
	bucketUsers  = []byte("users")       // serial → userRecord JSON
)

// Embedded is the bbolt backend.
type Embedded struct {
	db  *bbolt.DB
	now func() time.Time
}

// OpenEmbedded opens (creating if needed) DIR/seals.db. It waits at most
// two seconds for the file lock, then says who likely holds it.
func OpenEmbedded(ctx context.Context, dir string) (*Embedded, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("seal store: create data directory: %w", err)
	}
	path := filepath.Join(dir, EmbeddedFile)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fmt.Errorf("seal store: %s is locked by another process (a running seal service?); stop it or use PostgreSQL: %w", path, err)
		}
		return nil, fmt.Errorf("seal store: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketSeals, bucketImages, bucketIDs, bucketUsers} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("seal store: initialise %s: %w", path, err)
	}
	return &Embedded{db: db, now: time.Now}, nil
}

// sealRecord is a seal as the embedded store keeps it, image apart.
type sealRecord struct {
	ID          string    `json:"id"`
	Serial      string    `json:"serial"`
	Name        string    `json:"name"`
	WidthCM     float64   `json:"widthCm"`
	HeightCM    float64   `json:"heightCm"`
	Type        string    `json:"type"`
	Description string    `json:"description"`
	Ext         string    `json:"ext"`
	ImageSize   int       `json:"imageSize"`
	ValidFrom   time.Time `json:"validFrom"`
	ValidTo     time.Time `json:"validTo"`
	Created     time.Time `json:"created"`
}

func (r sealRecord) seal() seal.Seal {
	return seal.Seal{ID: r.ID, Serial: r.Serial, Name: r.Name, WidthCM: r.WidthCM, HeightCM: r.HeightCM, Type: r.Type,
		Description: r.Description, Ext: r.Ext, ImageSize: r.ImageSize, ValidFrom: r.ValidFrom, ValidTo: r.ValidTo, Created: r.Created}
}

type userRecord struct {
	Serial    string    `json:"serial"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Phone     string    `json:"phone"`
	ValidFrom time.Time `json:"validFrom"`
	ValidTo   time.Time `json:"validTo"`
	Updated   time.Time `json:"updated"`
}

func (r userRecord) user() seal.User {
	return seal.User{Serial: r.Serial, ID: r.ID, Name: r.Name, Phone: r.Phone, ValidFrom: r.ValidFrom, ValidTo: r.ValidTo, Updated: r.Updated}
}

func serialPrefix(serial string) []byte { return append([]byte(serial), 0) }

// stamp is the store's clock at the precision PostgreSQL keeps, so both
// backends give back the same times.
func stamp(now func() time.Time) time.Time { return now().UTC().Truncate(time.Microsecond) }

// AddSeal implements seal.Store.
func (e *Embedded) AddSeal(ctx context.Context, s seal.Seal) (seal.Seal, error) {
	s, err := s.Prepare()
	if err != nil {
		return seal.Seal{}, err
	}
	if err := ctx.Err(); err != nil {
		return seal.Seal{}, err
	}
	s.ID = uuid.NewString()
	s.Created = stamp(e.now)
	rec, err := json.Marshal(sealRecord{ID: s.ID, Serial: s.Serial, Name: s.Name, WidthCM: s.WidthCM, HeightCM: s.HeightCM, Type: s.Type,
		Description: s.Description, Ext: s.Ext, ImageSize: s.ImageSize, ValidFrom: s.ValidFrom, ValidTo: s.ValidTo, Created: s.Created})
	if err != nil {
		return seal.Seal{}, fmt.Errorf("seal store: encode: %w", err)
	}
	err = e.db.Update(func(tx *bbolt.Tx) error {
		seals := tx.Bucket(bucketSeals)
		seq, err := seals.NextSequence()
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64(serialPrefix(s.Serial), seq)
		if err := seals.Put(key, rec); err != nil {
			return err
		}
		if err := tx.Bucket(bucketImages).Put(key, s.Image); err != nil {
			return err
		}
		return tx.Bucket(bucketIDs).Put([]byte(s.ID), key)
	})
	if err != nil {
		return seal.Seal{}, fmt.Errorf("seal store: add seal: %w", err)
	}
	return s, nil
}

// RemoveSeal implements seal.Store.
func (e *Embedded) RemoveSeal(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := e.db.Update(func(tx *bbolt.Tx) error {
		ids := tx.Bucket(bucketIDs)
		key := ids.Get([]byte(id))
		if key == nil {
			return seal.ErrNotFound
		}
		key = bytes.Clone(key)
		if err := tx.Bucket(bucketSeals).Delete(key); err != nil {
			return err
		}
		if err := tx.Bucket(bucketImages).Delete(key); err != nil {
			return err
		}
		return ids.Delete([]byte(id))
	})
	if err != nil && !errors.Is(err, seal.ErrNotFound) {
		return fmt.Errorf("seal store: remove seal: %w", err)
	}
	return err
}

// RemoveSerial implements seal.Store.
func (e *Embedded) RemoveSerial(ctx context.Context, serial string) (int, error) {
	serial, err := normalize(serial)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err = e.db.Update(func(tx *bbolt.Tx) error {
		seals, images, ids := tx.Bucket(bucketSeals), tx.Bucket(bucketImages), tx.Bucket(bucketIDs)
		prefix := serialPrefix(serial)
		var keys [][]byte
		var sealIDs []string
		c := seals.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r sealRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("corrupt seal record: %w", err)
			}
			keys, sealIDs = append(keys, bytes.Clone(k)), append(sealIDs, r.ID)
		}
		for i, k := range keys {
			if err := seals.Delete(k); err != nil {
				return err
			}
			if err := images.Delete(k); err != nil {
				return err
			}
			if err := ids.Delete([]byte(sealIDs[i])); err != nil {
				return err
			}
		}
		n = len(keys)
		users := tx.Bucket(bucketUsers)
		hadUser := users.Get([]byte(serial)) != nil
		if hadUser {
			if err := users.Delete([]byte(serial)); err != nil {
				return err
			}
		}
		if n == 0 && !hadUser {
			return seal.ErrNotFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, seal.ErrNotFound) {
		return 0, fmt.Errorf("seal store: remove serial: %w", err)
	}
	return n, err
}

// PutUser implements seal.Store.
func (e *Embedded) PutUser(ctx context.Context, u seal.User) (seal.User, error) {
	u, err := u.Prepare()
	if err != nil {
		return seal.User{}, err
	}
	if err := ctx.Err(); err != nil {
		return seal.User{}, err
	}
	u.Updated = stamp(e.now)
	rec, err := json.Marshal(userRecord{Serial: u.Serial, ID: u.ID, Name: u.Name, Phone: u.Phone, ValidFrom: u.ValidFrom, ValidTo: u.ValidTo, Updated: u.Updated})
	if err != nil {
		return seal.User{}, fmt.Errorf("seal store: encode: %w", err)
	}
	if err := e.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketUsers).Put([]byte(u.Serial), rec) }); err != nil {
		return seal.User{}, fmt.Errorf("seal store: put user: %w", err)
	}
	return u, nil
}

// Lookup implements seal.Store.
func (e *Embedded) Lookup(ctx context.Context, serial string) (seal.Entry, error) {
	serial, err := normalize(serial)
	if err != nil {
		return seal.Entry{}, err
	}
	if err := ctx.Err(); err != nil {
		return seal.Entry{}, err
	}
	var entry seal.Entry
	err = e.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketUsers).Get([]byte(serial)); v != nil {
			var r userRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("corrupt user record: %w", err)
			}
			u := r.user()
			entry.User = &u
		}
		images := tx.Bucket(bucketImages)
		prefix := serialPrefix(serial)
		c := tx.Bucket(bucketSeals).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r sealRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("corrupt seal record: %w", err)
			}
			s := r.seal()
			s.Image = bytes.Clone(images.Get(k)) // bbolt's bytes live only for the transaction
			entry.Seals = append(entry.Seals, s)
		}
		return nil
	})
	if err != nil {
		return seal.Entry{}, fmt.Errorf("seal store: lookup: %w", err)
	}
	return entry, nil
}

// List implements seal.Store.
func (e *Embedded) List(ctx context.Context, serial string) ([]seal.Seal, []seal.User, error) {
	var prefix []byte
	if serial != "" {
		s, err := normalize(serial)
		if err != nil {
			return nil, nil, err
		}
		prefix = serialPrefix(s)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var seals []seal.Seal
	var users []seal.User
	err := e.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketSeals).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r sealRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("corrupt seal record: %w", err)
			}
			seals = append(seals, r.seal())
		}
		appendUser := func(v []byte) error {
			var r userRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("corrupt user record: %w", err)
			}
			users = append(users, r.user())
			return nil
		}
		if prefix != nil {
			if v := tx.Bucket(bucketUsers).Get(prefix[:len(prefix)-1]); v != nil {
				return appendUser(v)
			}
			return nil
		}
		return tx.Bucket(bucketUsers).ForEach(func(_, v []byte) error { return appendUser(v) })
	})
	if err != nil {
		return nil, nil, fmt.Errorf("seal store: list: %w", err)
	}
	return seals, users, nil
}

// Ping implements seal.Store.
func (e *Embedded) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return e.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketSeals) == nil {
			return errors.New("seal store: buckets missing")
		}
		return nil
	})
}

// Close implements seal.Store.
func (e *Embedded) Close() error { return e.db.Close() }

func normalize(serial string) (string, error) {
	s, err := certs.NormalizeSerial(serial)
	if err != nil {
		return "", fmt.Errorf("%w: %w", seal.ErrInvalid, err)
	}
	return s, nil
}
