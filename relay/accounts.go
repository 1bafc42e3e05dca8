package relay

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Account is one configured account. SecretHash is "sha256:" and 64 hex
// digits of the SHA-256 of the secret (see the package doc for why SHA-256).
type Account struct {
	Name       string
	Role       Role
	SecretHash string
}

// MaxAccountNameLen bounds an account name.
const MaxAccountNameLen = 64

const secretHashPrefix = "sha256:"

// NewSecret draws a new account secret: 256 random bits, base64url.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("relay: draw secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashSecret gives the SecretHash to configure for secret.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return secretHashPrefix + hex.EncodeToString(h[:])
}

// parseSecretHash reads a SecretHash.
func parseSecretHash(s string) ([sha256.Size]byte, error) {
	var h [sha256.Size]byte
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), secretHashPrefix)
	if !ok {
		return h, fmt.Errorf("secret hash must start with %q (make one with: scansign account add)", secretHashPrefix)
	}
	b, err := hex.DecodeString(rest)
	if err != nil || len(b) != sha256.Size {
		return h, fmt.Errorf("secret hash must be %q and 64 hex digits", secretHashPrefix)
	}
	copy(h[:], b)
	return h, nil
}

// ValidateAccountName checks a name is usable as accountName on the wire
// and as a config key: 1–64 letters, digits, '-', '_', '.', '@'.
func ValidateAccountName(name string) error {
	if name == "" || len(name) > MaxAccountNameLen {
		return fmt.Errorf("account name must be 1 to %d characters", MaxAccountNameLen)
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.@", c)
		if !ok {
			return fmt.Errorf("account name %q: only letters, digits and - _ . @ are allowed", name)
		}
	}
	return nil
}

type account struct {
	name string
	role Role
	hash [sha256.Size]byte
}

type accounts struct {
	byName map[string]account
	// decoy is compared against when the name is unknown, so an unknown
	// name takes as long as a wrong secret.
	decoy [sha256.Size]byte
}

func newAccounts(list []Account) (accounts, error) {
	a := accounts{byName: make(map[string]account, len(list))}
	for _, acc := range list {
		if err := ValidateAccountName(acc.Name); err != nil {
			return a, err
		}
		if !acc.Role.Valid() {
			return a, fmt.Errorf("account %q: role must be %q or %q, not %q", acc.Name, RoleSystem, RoleApp, acc.Role)
		}
		h, err := parseSecretHash(acc.SecretHash)
		if err != nil {
			return a, fmt.Errorf("account %q: %w", acc.Name, err)
		}
		if _, dup := a.byName[acc.Name]; dup {
			return a, fmt.Errorf("account %q is configured twice", acc.Name)
		}
		a.byName[acc.Name] = account{name: acc.Name, role: acc.Role, hash: h}
	}
	if _, err := rand.Read(a.decoy[:]); err != nil {
		return a, err
	}
	return a, nil
}

// check returns the account if secret is its secret. It does the same work
// whether or not the name exists.
func (a accounts) check(name, secret string) (account, bool) {
	presented := sha256.Sum256([]byte(secret))
	acc, known := a.byName[name]
	want := a.decoy
	if known {
		want = acc.hash
	}
	match := subtle.ConstantTimeCompare(presented[:], want[:]) == 1
	return acc, known && match
}
