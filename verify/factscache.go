package verify

import (
	"container/list"
	"fmt"
	"sync"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
)

// lru is a small bounded least-recently-used map, safe for concurrent use.
type lru[V any] struct {
	mu    sync.Mutex
	max   int
	order *list.List
	items map[string]*list.Element
}

type lruEntry[V any] struct {
	key   string
	value V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, order: list.New(), items: map[string]*list.Element{}}
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

func (c *lru[V]) put(keyBytes []byte, v V) {
	key := string(keyBytes)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.Value.(*lruEntry[V]).value = v
		c.order.MoveToFront(e)
		return
	}
	c.items[key] = c.order.PushFront(&lruEntry[V]{key: key, value: v})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruEntry[V]).key)
	}
}

// certCache keeps parsed certificates and their facts by DER, so a repeat
// signer (and its chain) costs neither parsing nor fingerprinting.
type certCache struct {
	certs *lru[*smx509.Certificate]
	facts *lru[certs.Facts]
}

func newCertCache(max int) *certCache {
	return &certCache{certs: newLRU[*smx509.Certificate](max), facts: newLRU[certs.Facts](max)}
}

// parse is smx509.ParseCertificate with a cache. Parsed certificates are
// treated as read-only everywhere in scansign.
func (c *certCache) parse(der []byte) (*smx509.Certificate, error) {
	if cert, ok := c.certs.get(der); ok {
		return cert, nil
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c.certs.put(der, cert)
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

func (c *certCache) factsOf(cert *smx509.Certificate, classifier *certs.Classifier) certs.Facts {
	if f, ok := c.facts.get(cert.Raw); ok {
		return f
	}
	f := certs.FactsOf(cert, classifier)
	c.facts.put(cert.Raw, f)
	return f
}
