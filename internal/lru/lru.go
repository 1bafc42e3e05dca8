// Package lru is a least-recently-used map bounded by entries and by bytes.
//
// The verification caches (certs' verified chains, verify's parsed
// certificates and facts) are filled from what callers send, so an entry
// count alone does not bound them: each entry has a cost in bytes, given by
// the caller, and the cache evicts until both bounds hold. Keys are byte
// strings (DER, usually); lookups convert without allocating.
package lru

import (
	"container/list"
	"sync"
)

// Cache is safe for concurrent use. A nil *Cache caches nothing.
type Cache[V any] struct {
	mu       sync.Mutex
	max      int
	maxBytes int64
	bytes    int64
	order    *list.List
	items    map[string]*list.Element
}

type entry[V any] struct {
	key   string
	value V
	cost  int64
}

// New makes a cache of at most max entries costing at most maxBytes.
func New[V any](max int, maxBytes int64) *Cache[V] {
	return &Cache[V]{max: max, maxBytes: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

// Get returns the value under key and marks it recently used.
func (c *Cache[V]) Get(key []byte) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[string(key)]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*entry[V]).value, true
	}
	return zero, false
}

// Put stores v at a cost in bytes (the key's length is added), evicting
// the least recently used entries until both bounds hold. An entry that
// alone is over the byte bound is not stored.
func (c *Cache[V]) Put(key []byte, v V, cost int64) {
	if c == nil {
		return
	}
	cost += int64(len(key))
	if cost > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[string(key)]; ok {
		ent := e.Value.(*entry[V])
		c.bytes += cost - ent.cost
		ent.value, ent.cost = v, cost
		c.order.MoveToFront(e)
	} else {
		k := string(key)
		c.items[k] = c.order.PushFront(&entry[V]{key: k, value: v, cost: cost})
		c.bytes += cost
	}
	for c.order.Len() > c.max || c.bytes > c.maxBytes {
		last := c.order.Back()
		ent := last.Value.(*entry[V])
		c.order.Remove(last)
		delete(c.items, ent.key)
		c.bytes -= ent.cost
	}
}

// Size reports the entries and the bytes held.
func (c *Cache[V]) Size() (entries int, bytes int64) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.bytes
}
