package lru

import "testing"

func TestBounds(t *testing.T) {
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
			c := New[int](tc.max, tc.maxBytes)
			for i, cost := range tc.costs {
				c.Put([]byte{byte('a' + i)}, i, cost)
			}
			if n, b := c.Size(); n != tc.wantLen || b != tc.wantBytes {
				t.Fatalf("%d entries, %d bytes; want %d, %d", n, b, tc.wantLen, tc.wantBytes)
			}
			// The newest entry that fits is always there.
			last := len(tc.costs) - 1
			if tc.costs[last]+1 <= tc.maxBytes {
				if v, ok := c.Get([]byte{byte('a' + last)}); !ok || v != last {
					t.Fatal("the newest entry was evicted")
				}
			}
		})
	}
}

func TestLeastRecentlyUsedGoesFirst(t *testing.T) {
	c := New[int](2, 100)
	c.Put([]byte("a"), 1, 0)
	c.Put([]byte("b"), 2, 0)
	c.Get([]byte("a")) // b is now the least recently used
	c.Put([]byte("c"), 3, 0)
	if _, ok := c.Get([]byte("b")); ok {
		t.Fatal("b was kept")
	}
	if v, ok := c.Get([]byte("a")); !ok || v != 1 {
		t.Fatal("a was evicted")
	}
}

func TestReplaceReplacesCost(t *testing.T) {
	c := New[int](10, 100)
	c.Put([]byte("k"), 1, 50)
	c.Put([]byte("k"), 2, 10)
	if n, b := c.Size(); n != 1 || b != 11 {
		t.Fatalf("after replacing: %d entries, %d bytes", n, b)
	}
	if v, _ := c.Get([]byte("k")); v != 2 {
		t.Fatalf("value %d", v)
	}
}

func TestNilCachesNothing(t *testing.T) {
	var c *Cache[int]
	c.Put([]byte("k"), 1, 1)
	if _, ok := c.Get([]byte("k")); ok {
		t.Fatal("a nil cache answered")
	}
	if n, b := c.Size(); n != 0 || b != 0 {
		t.Fatal("a nil cache has a size")
	}
}
