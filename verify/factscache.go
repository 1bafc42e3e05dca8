package verify

import (
	"bytes"
	"container/list"
	"fmt"
	"sync"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
)

// Bounds of a Verifier's caches. They are filled from what callers send
// (every certificate of every signature's bag, every signer), so they are
// bounded in bytes as well as in entries: a certificate in the wild is 1–2
// KiB, and one over maxCachedCertDER is parsed (and its facts read) anew each
// time instead of being kept.
const (
	maxCachedCertDER = 16 << 10
	certCacheEntries = 4096
	certCacheBytes   = 32 << 20
	factsCacheBytes  = 32 << 20
	// parsedCertOverhead estimates what a parsed certificate holds beyond
	// its DER (names, extensions, the public key), for the byte bound.
	parsedCertOverhead = 4 << 10
)

// lru is a least-recently-used map bounded by entries and by bytes (each
// entry's cost, given by the caller), safe for concurrent use.
type lru[V any] struct {
	mu       sync.Mutex
	max      int
	maxBytes int64
	bytes    int64
	order    *list.List
	items    map[string]*list.Element
}

type lruEntry[V any] struct {
	key   string
	value V
	cost  int64
}

func newLRU[V any](max int, maxBytes int64) *lru[V] {
	return &lru[V]{max: max, maxBytes: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

func (c *lru[V]) get(key []byte) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[string(key)]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry[V]).value, true
	}
	var zero V
	return zero, false
}

// put stores v at a cost in bytes (the key's length is added), evicting
// the least recently used entries until both bounds hold. An entry that
// alone is over the byte bound is not stored.
func (c *lru[V]) put(keyBytes []byte, v V, cost int64) {
	cost += int64(len(keyBytes))
	if cost > c.maxBytes {
		return
	}
	key := string(keyBytes)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		ent := e.Value.(*lruEntry[V])
		c.bytes += cost - ent.cost
		ent.value, ent.cost = v, cost
		c.order.MoveToFront(e)
	} else {
		c.items[key] = c.order.PushFront(&lruEntry[V]{key: key, value: v, cost: cost})
		c.bytes += cost
	}
	for c.order.Len() > c.max || c.bytes > c.maxBytes {
		last := c.order.Back()
		ent := last.Value.(*lruEntry[V])
		c.order.Remove(last)
		delete(c.items, ent.key)
		c.bytes -= ent.cost
	}
}

// size reports the entries and bytes held (tests).
func (c *lru[V]) size() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.bytes
}

// certCache keeps parsed certificates by DER, so a repeat signer (and its
// chain) costs no parsing.
type certCache struct {
	certs *lru[*smx509.Certificate]
}

func newCertCache() *certCache {
	return &certCache{certs: newLRU[*smx509.Certificate](certCacheEntries, certCacheBytes)}
}

// parse is smx509.ParseCertificate with a cache. Parsed certificates are
// treated as read-only everywhere in scansign. A cached certificate is
// parsed from a copy of der: the parsed one points into its input, and
// der is usually a slice of a whole signature (up to MaxSignatureSize),
// which the cache must not keep alive.
func (c *certCache) parse(der []byte) (*smx509.Certificate, error) {
	if len(der) > maxCachedCertDER {
		return smx509.ParseCertificate(der)
	}
	if cert, ok := c.certs.get(der); ok {
		return cert, nil
	}
	cert, err := smx509.ParseCertificate(bytes.Clone(der))
	if err != nil {
		return nil, err
	}
	c.certs.put(der, cert, int64(len(der))+parsedCertOverhead)
	return cert, nil
}

// parseAny reads a certificate in any encoding certs.ParseCertificate
// accepts, through the cache.
func (c *certCache) parseAny(data []byte) (*smx509.Certificate, error) {
	der, err := certs.CertificateDER(data)
	if err != nil {
		return nil, err
	}
	cert, err := c.parse(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", certs.ErrMalformedCertificate, err)
	}
	return cert, nil
}

// classified is a classifier with the facts it decided, by DER, so a
// repeat signer costs no fingerprinting. The two are swapped together
// (Verifier.SetClassifier): facts hold the certificate type the
// classifier chose.
type classified struct {
	classifier *certs.Classifier
	facts      *lru[certs.Facts]
}

func newClassified(c *certs.Classifier) *classified {
	return &classified{classifier: c, facts: newLRU[certs.Facts](certCacheEntries, factsCacheBytes)}
}

func (c *classified) factsOf(cert *smx509.Certificate) certs.Facts {
	if len(cert.Raw) > maxCachedCertDER {
		return certs.FactsOf(cert, c.classifier)
	}
	if f, ok := c.facts.get(cert.Raw); ok {
		return f
	}
	f := certs.FactsOf(cert, c.classifier)
	c.facts.put(cert.Raw, f, factsCost(&f))
	return f
}

// factsCost estimates the bytes a Facts holds: its strings and a fixed
// part for the rest.
func factsCost(f *certs.Facts) int64 {
	n := len(f.PEM) + len(f.Subject) + len(f.Issuer) + len(f.Serial) + len(f.SerialDecimal) +
		len(f.FingerprintSHA256) + len(f.FingerprintSM3) + len(f.CreditCode)
	for _, nf := range []certs.NameFields{f.SubjectFields, f.IssuerFields} {
		n += len(nf.CN) + len(nf.O) + len(nf.OU) + len(nf.C) + len(nf.ST) + len(nf.L) + len(nf.SerialNumber) + len(nf.Email)
	}
	return int64(n) + 512
}
