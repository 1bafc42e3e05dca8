package pdf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fuzzLimits are small, so a mutated claim meets them quickly.
var fuzzLimits = Limits{MaxObjectBytes: 1 << 16, MaxDecodedBytes: 1 << 20, MaxSections: 64, MaxObjects: 2000, MaxObjectNumbers: 50_000}

// FuzzOpen: any input opens or is refused with an error, never a panic or
// a slow parse; what opens keeps its invariants: each section lists each
// number once, in order, as Defines reports it; every listed object
// resolves or errors; and an update appended by our writer opens again
// with its new object readable.
func FuzzOpen(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "pdf", "*.pdf"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add(xrefFile(xrefSection{table: []row{{0, 'f', 0, 65535}, {1, 'n', 9, 0}}}, xrefSection{table: []row{{3, 'f', 0, 1}, {1, 'n', 9, 0}}, stream: []row{{3, 'c', 4, 1}, {2, 'n', 9, 0}}}))
	f.Add(xrefFile(xrefSection{stream: []row{{0, 'f', 0, 65535}, {1, 'n', 9, 0}, {2, 'c', 1, 0}}}))
	f.Add(bombSections(2, 300))
	f.Fuzz(func(t *testing.T, in []byte) {
		timer := time.AfterFunc(5*time.Second, func() { panic("one input took over 5 seconds") })
		defer timer.Stop()
		r, err := OpenWithLimits(bytes.NewReader(in), int64(len(in)), fuzzLimits)
		if err != nil {
			return
		}
		for _, s := range r.Sections {
			last := -1
			s.Each(func(num, gen int, inUse bool) {
				if num <= last || num >= fuzzLimits.MaxObjectNumbers || gen < 0 || gen > 65535 {
					t.Fatalf("section at %d lists %d (gen %d) after %d", s.Offset, num, gen, last)
				}
				last = num
				if g, u, ok := s.Defines(num); !ok || g != gen || u != inUse {
					t.Fatalf("Defines(%d) = %d %v %v, Each says %d %v", num, g, u, ok, gen, inUse)
				}
				if num < 200 {
					_, _ = r.Object(Ref{Num: num, Gen: gen})
				}
			})
		}
		if r.NextObjectNumber() > fuzzLimits.MaxObjectNumbers {
			t.Fatalf("next object number %d over the limit", r.NextObjectNumber())
		}
		u := r.NewUpdate()
		added := u.Add(Dict{"Fuzz": Integer(1)})
		inc, err := u.Serialize(int64(len(in)), true, []byte("0123456789abcdef"))
		if err != nil {
			if !errors.Is(err, ErrTooManyObjects) {
				t.Fatalf("serialize: %v", err)
			}
			return
		}
		out := append(append([]byte(nil), in...), inc.Bytes...)
		r2, err := OpenWithLimits(bytes.NewReader(out), int64(len(out)), fuzzLimits)
		if err != nil {
			if len(r.Sections) == fuzzLimits.MaxSections && errors.Is(err, ErrTooLarge) {
				return // one section too many
			}
			t.Fatalf("the file with our update does not open: %v", err)
		}
		if o, err := r2.Object(added); err != nil || !equalDict(o, Dict{"Fuzz": Integer(1)}) {
			t.Fatalf("the added object reads %v, %v", o, err)
		}
	})
}

func equalDict(o Object, want Dict) bool {
	d, ok := o.(Dict)
	if !ok || len(d) != len(want) {
		return false
	}
	for k, v := range want {
		if d[k] != v {
			return false
		}
	}
	return true
}
