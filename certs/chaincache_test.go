package certs

import (
	"testing"

	"github.com/emmansun/gmsm/smx509"
)

func TestChainCacheBounds(t *testing.T) {
	path := []*smx509.Certificate{{}}
	for _, tc := range []struct {
		name      string
		max       int
		maxBytes  int64
		costs     []int64
		wantLen   int
		wantBytes int64
	}{
		{"within both", 4, 100, []int64{10, 10, 10}, 3, 33},
		{"entries bound", 2, 100, []int64{10, 10, 10}, 2, 22},
		{"bytes bound", 10, 50, []int64{20, 20, 20}, 2, 42},
		{"one over the bound alone is not kept", 10, 50, []int64{10, 60}, 1, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChainCache(tc.max)
			c.maxBytes = tc.maxBytes
			for i, cost := range tc.costs {
				c.put([]byte{byte('a' + i)}, path, cost)
			}
			if c.order.Len() != tc.wantLen || c.bytes != tc.wantBytes {
				t.Fatalf("%d entries, %d bytes; want %d, %d", c.order.Len(), c.bytes, tc.wantLen, tc.wantBytes)
			}
		})
	}
}
