package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// row is one cross-reference entry as a test writes it: typ 'n' (in use),
// 'f' (free) or 'c' (compressed: off is the object stream, gen the index).
type row struct {
	num int
	typ byte
	off int64
	gen int
}

// xrefFile builds a PDF body whose last section is given by its kind:
// sections are written oldest first, each either a table (rows, with
// optional stream rows making it hybrid) or a cross-reference stream.
type xrefSection struct {
	table  []row  // classic table rows, one subsection each
	stream []row  // cross-reference stream rows (a hybrid's /XRefStm when table is set)
	size   int    // the trailer's /Size (default: one past the highest number)
	index  string // the stream's /Index: "" lists the rows, "-" leaves it out
}

func xrefFile(secs ...xrefSection) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
	prev := -1
	for _, s := range secs {
		size := s.size
		for _, r := range append(append([]row(nil), s.table...), s.stream...) {
			size = max(size, r.num+1)
		}
		trailer := fmt.Sprintf("/Size %d /Root 1 0 R", size)
		if prev >= 0 {
			trailer += fmt.Sprintf(" /Prev %d", prev)
		}
		stmOff := -1
		if len(s.stream) > 0 {
			stmOff = b.Len()
			var data []byte
			var index []string
			for _, r := range s.stream {
				t := map[byte]byte{'f': 0, 'n': 1, 'c': 2}[r.typ]
				data = append(data, t, byte(r.off>>16), byte(r.off>>8), byte(r.off), byte(r.gen>>16), byte(r.gen>>8), byte(r.gen))
				index = append(index, fmt.Sprintf("%d 1", r.num))
			}
			dict := fmt.Sprintf("/Type /XRef /W [1 3 3] /Length %d", len(data))
			switch s.index {
			case "":
				dict += " /Index [" + strings.Join(index, " ") + "]"
			case "-":
			default:
				dict += " /Index " + s.index
			}
			if s.table == nil {
				dict += " " + trailer
			}
			fmt.Fprintf(&b, "99 0 obj\n<< %s >>\nstream\n%s\nendstream\nendobj\n", dict, data)
		}
		if s.table != nil {
			prev = b.Len()
			b.WriteString("xref\n")
			for _, r := range s.table {
				fmt.Fprintf(&b, "%d 1\n%010d %05d %c \n", r.num, r.off, r.gen, r.typ)
			}
			if stmOff >= 0 {
				trailer += fmt.Sprintf(" /XRefStm %d", stmOff)
			}
			fmt.Fprintf(&b, "trailer\n<< %s >>\n", trailer)
		} else {
			prev = stmOff
		}
	}
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", prev)
	return b.Bytes()
}

type def struct {
	num, gen int
	inUse    bool
}

func eachOf(s Section) []def {
	var out []def
	s.Each(func(num, gen int, inUse bool) { out = append(out, def{num, gen, inUse}) })
	return out
}

// TestSectionEachHybrid: Section.Each lists what the map-based Objects and
// Defines did (before entries were stored compactly) for a hybrid file
// after an older table: in a hybrid section the table's in-use entries
// come first, then the /XRefStm's, then the table's free entries (which
// hide compressed objects from old readers); the first entry of a number
// counts within a section, and the newest section wins in the reader.
// The expected lists were produced by the old code on the same file.
func TestSectionEachHybrid(t *testing.T) {
	older := xrefSection{table: []row{
		{0, 'f', 0, 65535}, {1, 'n', 9, 0}, {2, 'n', 500, 0}, {3, 'n', 600, 0}, {5, 'n', 700, 0}, {6, 'n', 800, 0},
	}}
	hybrid := xrefSection{
		table: []row{
			{3, 'f', 0, 1},     // hidden: the stream has it compressed
			{5, 'n', 1100, 2},  // in use in the table: beats the stream's row
			{7, 'f', 0, 65535}, // only free
			{1, 'n', 9, 0},
			{5, 'f', 0, 9}, // a second table entry for 5: the first counts
		},
		stream: []row{
			{3, 'c', 4, 1},        // object 3 is index 1 of object stream 4
			{5, 'c', 4, 0},        // loses to the table's in-use 5
			{8, 'n', 1200, 65535}, // the highest generation there is
			{9, 'f', 0, 3},        // a stream's free entry
			{6, 'c', 4, 2},
		},
	}
	doc := xrefFile(older, hybrid)
	r, err := Open(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Sections) != 2 || r.Sections[0].Kind != XRefHybrid || r.Sections[1].Kind != XRefTable {
		t.Fatalf("%d sections, newest %v", len(r.Sections), r.Sections[0].Kind)
	}
	wantNew := []def{{1, 0, true}, {3, 0, true}, {5, 2, true}, {6, 0, true}, {7, 65535, false}, {8, 65535, true}, {9, 3, false}}
	wantOld := []def{{0, 65535, false}, {1, 0, true}, {2, 0, true}, {3, 0, true}, {5, 0, true}, {6, 0, true}}
	if got := eachOf(r.Sections[0]); !reflect.DeepEqual(got, wantNew) {
		t.Errorf("hybrid section: got %v, want %v", got, wantNew)
	}
	if got := eachOf(r.Sections[1]); !reflect.DeepEqual(got, wantOld) {
		t.Errorf("older section: got %v, want %v", got, wantOld)
	}
	for i, s := range r.Sections {
		if s.Len() != len(eachOf(s)) {
			t.Errorf("section %d: Len %d", i, s.Len())
		}
		for _, d := range eachOf(s) {
			if gen, inUse, ok := s.Defines(d.num); !ok || gen != d.gen || inUse != d.inUse {
				t.Errorf("section %d: Defines(%d) = %d %v %v, Each says %v", i, d.num, gen, inUse, ok, d)
			}
			if gen, ok := s.InUse(d.num); ok != d.inUse || (ok && gen != d.gen) {
				t.Errorf("section %d: InUse(%d) = %d %v", i, d.num, gen, ok)
			}
		}
		if _, _, ok := s.Defines(4); ok {
			t.Errorf("section %d defines 4", i)
		}
	}
	// The reader: the newest definition of each number.
	for _, c := range []struct {
		num, gen int
		inUse    bool
		off      int64
	}{
		{1, 0, true, 9},    // both sections, same entry
		{2, 0, true, 500},  // only the older section
		{3, 0, true, -1},   // compressed in the newer one: generation 0, not its index 1
		{5, 2, true, 1100}, // the newer table's in-use entry
		{6, 0, true, -1},   // compressed now, in use directly before
		{7, 0, false, -1},  // free
		{8, 65535, true, 1200},
		{9, 0, false, -1},
		{10, 0, false, -1}, // never defined
		{-1, 0, false, -1},
	} {
		gen, inUse := r.Generation(c.num)
		if gen != c.gen || inUse != c.inUse {
			t.Errorf("Generation(%d) = %d %v, want %d %v", c.num, gen, inUse, c.gen, c.inUse)
		}
		if off := r.Offset(Ref{Num: c.num, Gen: c.gen}); off != c.off {
			t.Errorf("Offset(%d) = %d, want %d", c.num, off, c.off)
		}
	}
	if n := r.NextObjectNumber(); n != 10 {
		t.Errorf("NextObjectNumber %d, want 10", n)
	}
}

// TestTableTokens: a table is read the way the object parser reads, so a
// trailer keyword run into its dictionary and comments between entries
// are accepted; a delimiter where an entry belongs is not.
func TestTableTokens(t *testing.T) {
	head := "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
	xref := len(head)
	ok := head + "xref % the table\n0 2\n0000000000 65535 f\r\n0000000009 00000 n\r\ntrailer<</Size 2/Root 1 0 R>>\nstartxref\n" + fmt.Sprint(xref) + "\n%%EOF\n"
	r, err := Open(strings.NewReader(ok), int64(len(ok)))
	if err != nil {
		t.Fatal(err)
	}
	if off := r.Offset(Ref{Num: 1}); off != 9 || r.Trailer["Size"] != Integer(2) {
		t.Fatalf("offset %d, trailer %v", off, r.Trailer)
	}
	bad := head + "xref\n0 2\n0000000000 65535 f \n<< /Size 2 >>\ntrailer\n<< /Size 2 >>\nstartxref\n" + fmt.Sprint(xref) + "\n%%EOF\n"
	if _, err := Open(strings.NewReader(bad), int64(len(bad))); !errors.Is(err, ErrNoXRef) {
		t.Fatalf("a dictionary inside the table: %v", err)
	}
}

// allocatedBy returns the bytes f allocated.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestObjectNumberLimit: a file naming an object number at or over the
// limit is refused with ErrTooManyObjects, in every place a number can be
// claimed (a table's subsection header, a stream's /Index or /Size, a
// hybrid's /XRefStm, a trailer's /Size), before anything the size of the
// claim is allocated; one just under the limit opens.
func TestObjectNumberLimit(t *testing.T) {
	const limit = DefaultMaxObjectNumbers
	tooMany := map[string]xrefSection{
		"table entry":                {table: []row{{0, 'f', 0, 65535}, {limit, 'n', 9, 0}}},
		"stream entry":               {stream: []row{{limit, 'n', 9, 0}}},
		"hybrid stream entry":        {table: []row{{1, 'n', 9, 0}}, stream: []row{{limit, 'c', 4, 0}}},
		"stream /Index claims more":  {stream: []row{{1, 'n', 9, 0}}, index: fmt.Sprintf("[1 %d]", limit)},
		"stream /Size claims more":   {stream: []row{{0, 'f', 0, 0}, {1, 'n', 9, 0}}, index: "[0 2]", size: limit + 1},
		"trailer /Size claims more":  {table: []row{{1, 'n', 9, 0}}, size: limit + 1},
		"stream, default index":      {stream: []row{{0, 'f', 0, 0}, {1, 'n', 9, 0}}, index: "-", size: limit + 1},
		"hybrid /Index claims more":  {table: []row{{1, 'n', 9, 0}}, stream: []row{{2, 'n', 9, 0}}, index: fmt.Sprintf("[2 %d]", limit)},
		"near PDF's own maximum too": {table: []row{{maxObjectNumber, 'n', 9, 0}}},
	}
	for name, sec := range tooMany {
		doc := xrefFile(sec)
		var err error
		n := allocatedBy(func() { _, err = Open(bytes.NewReader(doc), int64(len(doc))) })
		if !errors.Is(err, ErrTooManyObjects) || !strings.Contains(err.Error(), "the limit is 2000000 objects") {
			t.Errorf("%s: %v", name, err)
		}
		if n > 1<<20 {
			t.Errorf("%s: refusing allocated %d bytes", name, n)
		}
	}
	// A table subsection header claiming more than there are entries.
	doc := []byte(fmt.Sprintf("%%PDF-1.4\nxref\n0 %d\n0000000000 65535 f \ntrailer\n<< /Size 1 >>\nstartxref\n9\n%%%%EOF\n", limit+1))
	var err error
	if n := allocatedBy(func() { _, err = Open(bytes.NewReader(doc), int64(len(doc))) }); !errors.Is(err, ErrTooManyObjects) || n > 1<<20 {
		t.Errorf("subsection header: %v after %d bytes", err, n)
	}

	// At the edge of a small limit: the highest number allowed is limit-1.
	small := Limits{MaxObjectBytes: 1 << 20, MaxDecodedBytes: 1 << 20, MaxSections: 8, MaxObjects: 100, MaxObjectNumbers: 10}
	for _, stream := range []bool{false, true} {
		for num, want := range map[int]error{9: nil, 10: ErrTooManyObjects} {
			sec := xrefSection{table: []row{{num, 'n', 9, 0}}}
			if stream {
				sec = xrefSection{stream: []row{{num, 'n', 9, 0}}}
			}
			doc := xrefFile(sec)
			r, err := OpenWithLimits(bytes.NewReader(doc), int64(len(doc)), small)
			if !errors.Is(err, want) || (want == nil && err != nil) {
				t.Errorf("stream %v, object %d: %v", stream, num, err)
				continue
			}
			if err != nil {
				continue
			}
			// An update needs numbers past 9 (and a stream one more): it
			// is refused, not written where a reader would refuse it.
			u := r.NewUpdate()
			u.Add(Dict{})
			if _, err := u.Serialize(int64(len(doc)), false, []byte("0123456789abcdef")); !errors.Is(err, ErrTooManyObjects) {
				t.Errorf("stream %v: an update past the limit: %v", stream, err)
			}
		}
	}
}

// TestGenerationClamped: a generation over 65535 (a damaged file) is read
// as 65535 from a table and a stream alike, rather than wrapping around or
// refusing the file.
func TestGenerationClamped(t *testing.T) {
	for _, sec := range []xrefSection{
		{table: []row{{1, 'n', 9, 70000}}},
		{stream: []row{{1, 'n', 9, 70000}}},
	} {
		doc := xrefFile(sec)
		r, err := Open(bytes.NewReader(doc), int64(len(doc)))
		if err != nil {
			t.Fatal(err)
		}
		if gen, inUse := r.Generation(1); gen != 65535 || !inUse {
			t.Errorf("%v: Generation %d %v", r.Sections[0].Kind, gen, inUse)
		}
		if got := eachOf(r.Sections[0]); !reflect.DeepEqual(got, []def{{1, 65535, true}}) {
			t.Errorf("%v: %v", r.Sections[0].Kind, got)
		}
	}
}

// bombSections is a small file of n cross-reference streams chained by
// /Prev, each a few kilobytes of Flate that lists entries for object
// numbers 0 to limit-1: under the object number limit, but every section
// keeps its own list.
func bombSections(n, limit int) []byte {
	var rows bytes.Buffer
	zw := zlib.NewWriter(&rows)
	zw.Write(bytes.Repeat([]byte{1}, limit))
	zw.Close()
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n")
	prev := ""
	for i := 0; i < n; i++ {
		off := b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 0 0] /Filter /FlateDecode /Length %d%s >>\nstream\n", i+1, limit, rows.Len(), prev)
		b.Write(rows.Bytes())
		b.WriteString("\nendstream\nendobj\n")
		prev = fmt.Sprintf(" /Prev %d", off)
		if i == n-1 {
			fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", off)
		}
	}
	return b.Bytes()
}

// TestSectionEntriesBudget: the entries all sections list together are
// bounded (four times the object number limit), so a file of many small
// compressed sections each listing every number is refused early instead
// of costing 8 bytes per entry per section: 64 sections here would be
// 1 GB, 4096 (the section limit) 64 GB.
func TestSectionEntriesBudget(t *testing.T) {
	const limit = DefaultMaxObjectNumbers
	doc := bombSections(64, limit)
	var err error
	n := allocatedBy(func() { _, err = Open(bytes.NewReader(doc), int64(len(doc))) })
	if !errors.Is(err, ErrTooManyObjects) {
		t.Fatalf("%d sections of %d entries: %v", 64, limit, err)
	}
	// What the budget allows: four sections' lists (64 MB), the entries
	// (32 MB), their decoding — about 110 MB, twice that under -race —
	// against over 1 GB without it.
	if n > 400<<20 {
		t.Errorf("refusing allocated %d MB", n>>20)
	}
	// Four full sections are within the budget.
	doc = bombSections(4, limit)
	r, err := Open(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Sections) != 4 || r.Sections[3].Len() != limit {
		t.Fatalf("%d sections", len(r.Sections))
	}
}
