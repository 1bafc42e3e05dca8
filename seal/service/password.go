package service

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Parameters of new password hashes: PBKDF2-HMAC-SHA256 at OWASP's 2023
// iteration count, a 16-byte salt and a 32-byte key.
const (
	DefaultIterations = 600_000
	minIterations     = 10_000 // refuse hashes too cheap to slow a guesser at all
	maxIterations     = 10_000_000
	saltLen, keyLen   = 16, 32
	hashScheme        = "pbkdf2-sha256"
	maxPasswordLen    = 256
)

var b64 = base64.RawStdEncoding

// HashPassword returns the hash to put in the configuration for password:
// "pbkdf2-sha256$ITERATIONS$SALT$KEY" (base64 without padding).
func HashPassword(password string) (string, error) {
	return HashPasswordIterations(password, DefaultIterations)
}

// HashPasswordIterations is HashPassword at another cost. Lower costs suit
// only passwords that are public anyway (the documented dev account) or
// random ones of 128 bits and more.
func HashPasswordIterations(password string, iterations int) (string, error) {
	if password == "" || len(password) > maxPasswordLen {
		return "", fmt.Errorf("password must be 1–%d bytes", maxPasswordLen)
	}
	if iterations < minIterations || iterations > maxIterations {
		return "", fmt.Errorf("iterations must be %d–%d", minIterations, maxIterations)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, keyLen)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s$%d$%s$%s", hashScheme, iterations, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// passwordHash is a parsed configuration hash.
type passwordHash struct {
	iterations int
	salt, key  []byte
}

func parsePasswordHash(s string) (passwordHash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 || parts[0] != hashScheme {
		return passwordHash{}, errors.New(`not a "pbkdf2-sha256$ITERATIONS$SALT$KEY" hash (make one with: scansign seal account NAME)`)
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < minIterations || iter > maxIterations {
		return passwordHash{}, fmt.Errorf("iteration count %q must be %d–%d", parts[1], minIterations, maxIterations)
	}
	salt, err := b64.DecodeString(parts[2])
	if err != nil || len(salt) < 8 {
		return passwordHash{}, errors.New("bad salt")
	}
	key, err := b64.DecodeString(parts[3])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return passwordHash{}, errors.New("bad key")
	}
	return passwordHash{iterations: iter, salt: salt, key: key}, nil
}

func (h passwordHash) matches(password string) bool {
	got, err := pbkdf2.Key(sha256.New, password, h.salt, h.iterations, len(h.key))
	return err == nil && subtle.ConstantTimeCompare(got, h.key) == 1
}

// accounts checks account credentials. It is safe for concurrent use.
type accounts struct {
	byName   map[string]passwordHash
	dummy    passwordHash // checked for unknown names, so they cost the same
	cacheKey []byte       // random per process: cached MACs are useless elsewhere

	mu       sync.Mutex
	verified map[string][]byte // account → HMAC of the password that last matched
}

func newAccounts(list []Account) (*accounts, error) {
	a := &accounts{byName: make(map[string]passwordHash, len(list)), verified: make(map[string][]byte), cacheKey: make([]byte, 32)}
	if _, err := rand.Read(a.cacheKey); err != nil {
		return nil, err
	}
	maxIter := minIterations // the decoy costs what the dearest real account costs
	for _, acc := range list {
		if acc.Name == "" || len(acc.Name) > maxFieldLen {
			return nil, fmt.Errorf("seal service account name %q: must be 1–%d bytes", acc.Name, maxFieldLen)
		}
		if _, dup := a.byName[acc.Name]; dup {
			return nil, fmt.Errorf("seal service account %q configured twice", acc.Name)
		}
		h, err := parsePasswordHash(acc.PasswordHash)
		if err != nil {
			return nil, fmt.Errorf("seal service account %q: password hash: %w", acc.Name, err)
		}
		a.byName[acc.Name] = h
		maxIter = max(maxIter, h.iterations)
	}
	a.dummy = passwordHash{iterations: maxIter, salt: make([]byte, saltLen), key: make([]byte, keyLen)}
	if _, err := rand.Read(a.dummy.salt); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *accounts) mac(name, password string) []byte {
	m := hmac.New(sha256.New, a.cacheKey)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(password))
	return m.Sum(nil)
}

// check reports whether password is the account's password.
func (a *accounts) check(name, password string) bool {
	h, known := a.byName[name]
	if !known {
		a.dummy.matches(password) // same cost as a real check; the answer is no
		return false
	}
	mac := a.mac(name, password)
	a.mu.Lock()
	cached := a.verified[name]
	a.mu.Unlock()
	if cached != nil && hmac.Equal(mac, cached) {
		return true
	}
	if !h.matches(password) {
		return false
	}
	a.mu.Lock()
	a.verified[name] = mac
	a.mu.Unlock()
	return true
}
