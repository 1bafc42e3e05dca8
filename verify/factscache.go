package verify

import (
	"container/list"
	"sync"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
)

// factsCache keeps the facts of recently seen certificates, so a repeat
// signer (and its chain) costs no fingerprinting or PEM encoding. Keyed by
// the DER, bounded LRU.
type factsCache struct {
	mu    sync.Mutex
	max   int
	order *list.List
	items map[string]*list.Element
}

type factsEntry struct {
	key   string
	facts certs.Facts
}

func newFactsCache(max int) *factsCache {
	return &factsCache{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *factsCache) get(cert *smx509.Certificate, classifier *certs.Classifier) certs.Facts {
	key := string(cert.Raw)
	c.mu.Lock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		f := e.Value.(*factsEntry).facts
		c.mu.Unlock()
		return f
	}
	c.mu.Unlock()
	f := certs.FactsOf(cert, classifier)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; !ok {
		c.items[key] = c.order.PushFront(&factsEntry{key: key, facts: f})
		for c.order.Len() > c.max {
			last := c.order.Back()
			c.order.Remove(last)
			delete(c.items, last.Value.(*factsEntry).key)
		}
	}
	return f
}
