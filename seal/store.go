package seal

import (
	"context"
	"errors"
)

// ErrNotFound is returned by a Store for an ID or serial it does not hold.
var ErrNotFound = errors.New("seal: not found")

// Entry is everything a seal company holds for one certificate.
type Entry struct {
	User  *User  // nil when no user data is registered
	Seals []Seal // every seal, valid or not, oldest first, with images
}

// Store holds the seals and user data of certificates. Serials given to it
// in any form certs.NormalizeSerial accepts find the same records. The
// implementations are in seal/store and pass one conformance suite.
type Store interface {
	// AddSeal checks s (Seal.Prepare), assigns its ID and Created, stores it
	// and returns what was stored.
	AddSeal(ctx context.Context, s Seal) (Seal, error)
	// RemoveSeal deletes one seal by ID; ErrNotFound if there is none.
	RemoveSeal(ctx context.Context, id string) error
	// RemoveSerial deletes every seal and the user data of a certificate and
	// says how many seals went; ErrNotFound if it held neither.
	RemoveSerial(ctx context.Context, serial string) (int, error)
	// PutUser creates or replaces the user data of a certificate.
	PutUser(ctx context.Context, u User) (User, error)
	// Lookup returns a certificate's user data and seals (with images); an
	// unknown serial gives an empty Entry, not an error.
	Lookup(ctx context.Context, serial string) (Entry, error)
	// List returns the seals of one certificate, or of all when serial is "",
	// ordered by serial then age, without their image bytes (ImageSize says
	// how big each is), and the user data of the certificates listed.
	List(ctx context.Context, serial string) ([]Seal, []User, error)
	// Ping checks the store is reachable (readiness).
	Ping(ctx context.Context) error
	Close() error
}
