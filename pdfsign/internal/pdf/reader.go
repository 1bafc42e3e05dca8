package pdf

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
)

// Errors a caller may want to tell apart.
var (
	ErrNotPDF    = errors.New("pdf: not a PDF file (no %PDF- header)")
	ErrNoXRef    = errors.New("pdf: cross-reference section not found or damaged")
	ErrNoObject  = errors.New("pdf: object not found")
	ErrEncrypted = errors.New("pdf: the document is encrypted")
)

// XRefKind is the flavour of a cross-reference section.
type XRefKind int

const (
	XRefTable  XRefKind = iota // classic "xref" table
	XRefStream                 // cross-reference stream (PDF 1.5)
	XRefHybrid                 // table whose trailer points to an /XRefStm
)

func (k XRefKind) String() string {
	return [...]string{"table", "stream", "hybrid"}[k]
}

type entryType uint8

const (
	entryNone entryType = iota // no entry: the number is not in the table
	entryFree
	entryInUse
	entryCompressed
)

// xrefEntry is one object's cross-reference entry, 16 bytes: a document
// with a million objects costs 16 MB here, not the hundreds a map of
// structs did.
type xrefEntry struct {
	off int64  // in use: file offset; compressed: object stream number
	gen uint32 // in use or free: generation; compressed: index in the stream
	typ entryType
}

// secEntry is one entry of a section as the section records it: which
// object, its generation, in use or free.
type secEntry struct {
	num   uint32
	gen   uint16
	inUse bool
}

// Section is one cross-reference section with its trailer, newest first in
// Reader.Sections.
type Section struct {
	Offset  int64
	Kind    XRefKind
	Trailer Dict
	defs    []secEntry // sorted by object number, one per number
}

// Limits bound what a hostile file can make the reader do.
type Limits struct {
	MaxObjectBytes  int64 // one object's text, stream data excluded
	MaxDecodedBytes int64 // one decoded stream
	MaxSections     int   // cross-reference sections in the /Prev chain
	MaxObjects      int   // objects parsed and cached by one Reader
	// MaxObjectNumbers bounds the object numbers a document may use (they
	// run from 0): the cross-reference entries cost 16 bytes per number
	// up to the highest, plus 8 per entry each section lists, and the
	// sections may list sectionEntriesPerNumber entries per number in all.
	MaxObjectNumbers int
}

// DefaultMaxObjectNumbers is the default object count limit: 2,000,000
// objects, 32 MB of cross-reference entries and 64 MB of section lists at
// most.
const DefaultMaxObjectNumbers = 2_000_000

// DefaultLimits suit documents up to several hundred megabytes.
var DefaultLimits = Limits{
	MaxObjectBytes:   16 << 20,
	MaxDecodedBytes:  128 << 20,
	MaxSections:      4096,
	MaxObjects:       2_000_000,
	MaxObjectNumbers: DefaultMaxObjectNumbers,
}

// ErrTooManyObjects is returned (wrapped) for a document using object
// numbers at or above Limits.MaxObjectNumbers.
var ErrTooManyObjects = errors.New("pdf: too many objects")

// Reader reads a PDF lazily through an io.ReaderAt: the cross-reference
// sections at open, objects when asked. It never holds the whole file.
type Reader struct {
	ra        io.ReaderAt
	size      int64
	lim       Limits
	entries   []xrefEntry // by object number: the newest definition
	listed    int         // entries the sections read so far list, in all
	Sections  []Section   // newest first
	Trailer   Dict        // the newest trailer (for a stream, its dictionary)
	StartXRef int64       // the offset the file's last startxref names

	cache   map[Ref]Object
	parsed  int
	objStms map[int]*objStm
	depth   int
}

type objStm struct {
	data    []byte
	first   int
	offsets map[int]int // object number -> offset from first
}

// Open reads the cross-reference chain of a PDF of the given size.
func Open(ra io.ReaderAt, size int64) (*Reader, error) {
	return OpenWithLimits(ra, size, DefaultLimits)
}

// OpenWithLimits is Open with explicit limits.
func OpenWithLimits(ra io.ReaderAt, size int64, lim Limits) (*Reader, error) {
	if lim.MaxObjectNumbers <= 0 || lim.MaxObjectNumbers > maxObjectNumber+1 {
		lim.MaxObjectNumbers = maxObjectNumber + 1
	}
	r := &Reader{ra: ra, size: size, lim: lim, cache: map[Ref]Object{}, objStms: map[int]*objStm{}}
	head := make([]byte, min64(size, 1024))
	if _, err := ra.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("pdf: read header: %w", err)
	}
	if !bytes.HasPrefix(head, []byte("%PDF-")) {
		if bytes.Contains(head, []byte("%PDF-")) {
			return nil, fmt.Errorf("%w: bytes before the %%PDF- header are not supported", ErrNotPDF)
		}
		return nil, ErrNotPDF
	}
	start, err := r.findStartXRef()
	if err != nil {
		return nil, err
	}
	r.StartXRef = start
	if err := r.readChain(start); err != nil {
		return nil, err
	}
	return r, nil
}

// Size is the length of the file.
func (r *Reader) Size() int64 { return r.size }

// ReaderAt gives access to the underlying bytes.
func (r *Reader) ReaderAt() io.ReaderAt { return r.ra }

// Encrypted reports whether the newest trailer names an /Encrypt dictionary.
func (r *Reader) Encrypted() bool { _, ok := r.Trailer["Encrypt"]; return ok }

// NextObjectNumber is the first object number free for a new object.
func (r *Reader) NextObjectNumber() int {
	n := 0
	for _, s := range r.Sections {
		if v, ok := s.Trailer["Size"].(Integer); ok && int(v) > n {
			n = int(v)
		}
	}
	return max(n, len(r.entries))
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func (r *Reader) findStartXRef() (int64, error) {
	n := min64(r.size, 4096)
	tail := make([]byte, n)
	if _, err := r.ra.ReadAt(tail, r.size-n); err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("pdf: read tail: %w", err)
	}
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return 0, fmt.Errorf("%w: no startxref near the end of the file", ErrNoXRef)
	}
	p := parser{b: tail[i+len("startxref"):], eof: true}
	p.skipSpace()
	v, err := strconv.ParseInt(string(p.token()), 10, 64)
	if err != nil || v < 0 || v >= r.size {
		return 0, fmt.Errorf("%w: startxref does not hold a valid offset", ErrNoXRef)
	}
	return v, nil
}

// parseAt runs f on a window of the file starting at off, growing the window
// while f says it ran out of data.
func (r *Reader) parseAt(off int64, max int64, f func(p *parser) error) error {
	if off < 0 || off >= r.size {
		return fmt.Errorf("%w: offset %d outside the file", ErrSyntax, off)
	}
	win := int64(4096)
	for {
		n := min64(win, r.size-off)
		buf := make([]byte, n)
		if _, err := r.ra.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("pdf: read at %d: %w", off, err)
		}
		p := &parser{b: buf, eof: off+n >= r.size}
		err := f(p)
		if !errors.Is(err, errNeedMore) {
			return err
		}
		if n >= max {
			return fmt.Errorf("%w: object at %d is larger than %d bytes", ErrTooLarge, off, max)
		}
		win *= 4
		if win > max {
			win = max
		}
	}
}

func (r *Reader) readChain(off int64) error {
	seen := map[int64]bool{}
	first := true
	for {
		if seen[off] {
			return fmt.Errorf("%w: /Prev chain loops", ErrNoXRef)
		}
		seen[off] = true
		if len(r.Sections) >= r.lim.MaxSections {
			return fmt.Errorf("%w: more than %d cross-reference sections", ErrTooLarge, r.lim.MaxSections)
		}
		sec, err := r.readSection(off)
		if err != nil {
			return err
		}
		if v, ok := sec.Trailer["Size"]; ok {
			n, ok := v.(Integer)
			if !ok || n < 0 {
				return fmt.Errorf("%w: trailer /Size %v is not a valid object count", ErrNoXRef, v)
			}
			// A /Size over the limit costs nothing here, but an update
			// would number its objects from it, and the result could not
			// be read back.
			if n > Integer(r.lim.MaxObjectNumbers) {
				return fmt.Errorf("%w: trailer /Size %d, the limit is %d objects", ErrTooManyObjects, n, r.lim.MaxObjectNumbers)
			}
		}
		if first {
			r.Trailer = sec.Trailer
			first = false
		}
		r.Sections = append(r.Sections, sec)
		prev, ok := sec.Trailer["Prev"]
		if !ok {
			return nil
		}
		pv, ok := prev.(Integer)
		if !ok || pv < 0 || int64(pv) >= r.size {
			return fmt.Errorf("%w: /Prev %v is not a valid offset", ErrNoXRef, prev)
		}
		off = int64(pv)
	}
}

// readSection reads one section and merges its entries under the newer
// ones already known (the newest definition of an object wins).
func (r *Reader) readSection(off int64) (Section, error) {
	sec := Section{Offset: off}
	var isTable bool
	err := r.parseAt(off, 16, func(p *parser) error {
		p.skipSpace()
		isTable = bytes.HasPrefix(p.b[p.pos:], []byte("xref"))
		return nil
	})
	if err != nil {
		return sec, err
	}
	b := &sectionBuilder{r: r}
	if !isTable {
		sec.Kind = XRefStream
		trailer, err := r.readXRefStream(off, b)
		if err != nil {
			return sec, err
		}
		sec.Trailer = trailer
		b.finish(&sec)
		return sec, nil
	}
	sec.Kind = XRefTable
	// Hybrid file: in-use table entries first, then the stream's, then the
	// table's free entries (which hide compressed objects from old readers).
	if sec.Trailer, err = r.readTable(off, b); err != nil {
		if errors.Is(err, ErrTooManyObjects) {
			return sec, err
		}
		return sec, fmt.Errorf("%w: table at %d: %v", ErrNoXRef, off, err)
	}
	if x, ok := sec.Trailer["XRefStm"].(Integer); ok {
		sec.Kind = XRefHybrid
		if _, err := r.readXRefStream(int64(x), b); err != nil {
			return sec, fmt.Errorf("hybrid /XRefStm: %w", err)
		}
	}
	b.finish(&sec)
	return sec, nil
}

// sectionBuilder records a section's entries as they are read: straight
// into the reader's entries, where the newest definition wins (an entry is
// written only where there is none yet: sections are read newest first,
// and within one the first entry for a number counts), and into the
// section's own list. A table's free entries rank below the section's
// other entries, a hybrid's stream included, so they wait for finish.
type sectionBuilder struct {
	r    *Reader
	defs []secEntry
	free []numEntry
}

// numEntry is an entry with its object number.
type numEntry struct {
	num uint32
	xrefEntry
}

// validRange reports whether a subsection of count objects from start
// stays within the object numbers PDF allows (without overflowing).
func validRange(start, count int64) bool {
	return start >= 0 && count >= 0 && start <= maxObjectNumber+1 && count <= maxObjectNumber+1-start
}

// sectionEntriesPerNumber bounds the entries all sections list together,
// per object number allowed: a number is listed once per section that
// names it, and a document rarely names its objects in more than two or
// three (linearized, hybrid, rewritten), but a file of many compressed
// sections, each listing every number, would cost 8 bytes per entry per
// section.
const sectionEntriesPerNumber = 4

// room refuses n more section entries past the budget, before they are
// read.
func (b *sectionBuilder) room(n int) error {
	budget := sectionEntriesPerNumber * b.r.lim.MaxObjectNumbers
	if have := b.r.listed + len(b.defs) + len(b.free); n > budget-have {
		return fmt.Errorf("%w: the cross-reference sections list over %d entries in all, the limit is %d", ErrTooManyObjects, have+n, budget)
	}
	return nil
}

// checkLimit refuses object numbers at or over the limit: n is one past
// the highest number used.
func (b *sectionBuilder) checkLimit(n int) error {
	if n > b.r.lim.MaxObjectNumbers {
		return fmt.Errorf("%w: object number %d, the limit is %d objects", ErrTooManyObjects, n-1, b.r.lim.MaxObjectNumbers)
	}
	return nil
}

// reserve makes room in the reader's entries for object numbers below n,
// refusing numbers over the limit before anything is allocated.
func (b *sectionBuilder) reserve(n int) error {
	if err := b.checkLimit(n); err != nil {
		return err
	}
	if n > len(b.r.entries) {
		b.r.entries = slices.Grow(b.r.entries, n-len(b.r.entries))[:n]
	}
	return nil
}

// add records an entry now (num must be reserved).
func (b *sectionBuilder) add(num int, e xrefEntry) {
	if b.r.entries[num].typ == entryNone {
		b.r.entries[num] = e
	}
	gen := e.gen
	if e.typ == entryCompressed {
		gen = 0 // the field holds the index in the object stream
	}
	b.defs = append(b.defs, secEntry{num: uint32(num), gen: uint16(gen), inUse: e.typ != entryFree})
}

// addLast records a table's free entry after everything else.
func (b *sectionBuilder) addLast(num int, e xrefEntry) {
	b.free = append(b.free, numEntry{uint32(num), e})
}

// finish records the waiting entries and gives the section its list,
// sorted by number with the first entry of each number kept.
func (b *sectionBuilder) finish(sec *Section) {
	for _, e := range b.free {
		b.add(int(e.num), e.xrefEntry)
	}
	byNum := func(a, b secEntry) int { return cmp.Compare(a.num, b.num) }
	if !slices.IsSortedFunc(b.defs, byNum) {
		slices.SortStableFunc(b.defs, byNum) // stable: the first entry stays first
	}
	sameNum := func(a, b secEntry) bool { return a.num == b.num }
	sec.defs = slices.Clip(slices.CompactFunc(b.defs, sameNum)) // keeps the first of each run
	b.r.listed += len(sec.defs)
}

// InUse reports whether the section defines object num as in use (directly
// or in an object stream), with its generation.
func (s Section) InUse(num int) (gen int, ok bool) {
	gen, inUse, found := s.Defines(num)
	return gen, found && inUse
}

// Defines reports whether the section has an entry for object num, and
// whether that entry is in use (directly or in an object stream) or frees
// the object, with its generation.
func (s Section) Defines(num int) (gen int, inUse, ok bool) {
	i := sort.Search(len(s.defs), func(i int) bool { return int(s.defs[i].num) >= num })
	if i == len(s.defs) || int(s.defs[i].num) != num {
		return 0, false, false
	}
	return int(s.defs[i].gen), s.defs[i].inUse, true
}

// Len is the number of objects the section defines (in use or free).
func (s Section) Len() int { return len(s.defs) }

// Each calls f for every object the section defines, in number order.
func (s Section) Each(f func(num, gen int, inUse bool)) {
	for _, d := range s.defs {
		f(int(d.num), int(d.gen), d.inUse)
	}
}

// Generation returns the generation of object num's newest definition and
// whether it is in use.
func (r *Reader) Generation(num int) (gen int, inUse bool) {
	switch e := r.entry(num); e.typ {
	case entryInUse:
		return int(e.gen), true
	case entryCompressed:
		return 0, true // e.gen is the index in the object stream
	}
	return 0, false
}

// entry is object num's newest entry (typ entryNone when there is none).
func (r *Reader) entry(num int) xrefEntry {
	if num < 0 || num >= len(r.entries) {
		return xrefEntry{}
	}
	return r.entries[num]
}

// readTable reads a classic "xref" table at off, streaming (a table of a
// million objects is 20 MB of text), and returns its trailer.
func (r *Reader) readTable(off int64, b *sectionBuilder) (Dict, error) {
	t := newTokenReader(io.NewSectionReader(r.ra, off, r.size-off))
	if tok, err := t.next(); err != nil || string(tok) != "xref" {
		return nil, fmt.Errorf("%w: expected xref", ErrSyntax)
	}
	for {
		tok, err := t.next()
		if err != nil {
			return nil, fmt.Errorf("%w: table ends before its trailer", ErrSyntax)
		}
		if string(tok) == "trailer" {
			break
		}
		start, err1 := strconv.Atoi(string(tok))
		tok, err = t.next()
		count, err2 := strconv.Atoi(string(tok))
		if err != nil || err1 != nil || err2 != nil || !validRange(int64(start), int64(count)) {
			return nil, fmt.Errorf("%w: bad subsection header at %d", ErrSyntax, off+t.pos)
		}
		if count == 0 {
			continue
		}
		// Checked against the limits before any entry is stored.
		if err := b.room(count); err != nil {
			return nil, err
		}
		if err := b.reserve(start + count); err != nil {
			return nil, err
		}
		for i := 0; i < count; i++ {
			o, e1 := t.next()
			offset, e2 := strconv.ParseInt(string(o), 10, 64)
			g, e3 := t.next()
			gen, e4 := strconv.Atoi(string(g))
			k, e5 := t.next()
			if e1 != nil || e2 != nil || e3 != nil || e4 != nil || e5 != nil || gen < 0 || (string(k) != "n" && string(k) != "f") {
				return nil, fmt.Errorf("%w: bad entry for object %d", ErrSyntax, start+i)
			}
			e := xrefEntry{typ: entryInUse, gen: clampGen(int64(gen)), off: offset}
			if string(k) == "n" {
				b.add(start+i, e)
			} else {
				e.typ = entryFree
				b.addLast(start+i, e)
			}
		}
	}
	var trailer Dict
	err := r.parseAt(off+t.pos, r.lim.MaxObjectBytes, func(p *parser) error {
		o, err := p.object(0)
		if err != nil {
			return err
		}
		d, ok := o.(Dict)
		if !ok {
			return p.errorf("trailer is not a dictionary")
		}
		trailer = d
		return nil
	})
	return trailer, err
}

// maxGen is the highest generation number the standard allows.
const maxGen = 65535

// clampGen keeps a generation within what the standard allows: a file
// claiming more (some damaged ones do) is read as at the maximum, the same
// for both cross-reference kinds, rather than refused whole.
func clampGen(g int64) uint32 { return uint32(min(max(g, 0), maxGen)) }

// tokenReader splits a stream of bytes into tokens as the parser does: at
// white space and before delimiters, skipping comments, counting what it
// has consumed (a delimiter or white space ending a token is left unread,
// so "trailer<<" leaves the dictionary at pos).
type tokenReader struct {
	br  *bufio.Reader
	pos int64
	tok []byte
}

func newTokenReader(r io.Reader) *tokenReader {
	return &tokenReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// maxTableToken is longer than any number or keyword a table holds.
const maxTableToken = 32

// next returns the next token (valid until the next call). A delimiter
// where a token should start is returned alone, for the caller to refuse;
// tokens longer than maxTableToken are an error.
func (t *tokenReader) next() ([]byte, error) {
	t.tok = t.tok[:0]
	for {
		c, err := t.br.ReadByte()
		if err != nil {
			if len(t.tok) > 0 && errors.Is(err, io.EOF) {
				return t.tok, nil
			}
			return nil, err
		}
		if len(t.tok) > 0 && (isWhite(c) || isDelimiter(c)) {
			_ = t.br.UnreadByte() // cannot fail right after ReadByte
			return t.tok, nil
		}
		t.pos++
		switch {
		case isWhite(c):
			continue
		case c == '%':
			if err := t.skipComment(); err != nil {
				return nil, err
			}
			continue
		case isDelimiter(c):
			return append(t.tok, c), nil
		}
		if len(t.tok) >= maxTableToken {
			return nil, fmt.Errorf("%w: token too long", ErrSyntax)
		}
		t.tok = append(t.tok, c)
	}
}

// skipComment consumes a comment up to, not including, its end of line.
func (t *tokenReader) skipComment() error {
	for {
		c, err := t.br.ReadByte()
		if err != nil {
			return err
		}
		if c == '\n' || c == '\r' {
			_ = t.br.UnreadByte()
			return nil
		}
		t.pos++
	}
}

// readXRefStream reads a cross-reference stream object at off into b and
// returns its dictionary.
func (r *Reader) readXRefStream(off int64, b *sectionBuilder) (Dict, error) {
	_, o, err := r.readIndirect(off)
	if err != nil {
		return nil, fmt.Errorf("%w: at %d: %v", ErrNoXRef, off, err)
	}
	s, ok := o.(*Stream)
	if !ok {
		return nil, fmt.Errorf("%w: object at %d is not a cross-reference stream", ErrNoXRef, off)
	}
	if t, _ := s.Dict.Name("Type"); t != "XRef" {
		return nil, fmt.Errorf("%w: stream at %d is /Type /%s, not /XRef", ErrNoXRef, off, t)
	}
	wa, ok := s.Dict["W"].(Array)
	if !ok || len(wa) != 3 {
		return nil, fmt.Errorf("%w: /W missing", ErrNoXRef)
	}
	var w [3]int
	for i := range w {
		v, ok := wa[i].(Integer)
		if !ok || v < 0 || v > 8 {
			return nil, fmt.Errorf("%w: bad /W", ErrNoXRef)
		}
		w[i] = int(v)
	}
	rowLen := w[0] + w[1] + w[2]
	if rowLen == 0 {
		return nil, fmt.Errorf("%w: /W is all zero", ErrNoXRef)
	}
	size, _ := s.Dict["Size"].(Integer)
	index := Array{Integer(0), size}
	if ia, ok := s.Dict["Index"].(Array); ok {
		index = ia
	}
	// The subsections are checked, against the limit too, before the
	// stream is decoded or anything is stored.
	type subsection struct{ start, count int }
	subs := make([]subsection, 0, len(index)/2)
	declared := 0
	for i := 0; i+1 < len(index); i += 2 {
		start, ok1 := index[i].(Integer)
		count, ok2 := index[i+1].(Integer)
		if !ok1 || !ok2 || !validRange(int64(start), int64(count)) {
			return nil, fmt.Errorf("%w: bad /Index", ErrNoXRef)
		}
		if count > 0 {
			if err := b.checkLimit(int(start + count)); err != nil {
				return nil, err
			}
		}
		subs = append(subs, subsection{int(start), int(count)})
		if err := b.room(declared + int(count)); err != nil {
			return nil, err
		}
		declared += int(count)
	}
	// Rows past those declared are never read: decoding stops after them
	// (with room for a PNG predictor's filter bytes, one per row of
	// /Columns, at least 1, bytes), so a small compressed stream cannot
	// make every section inflate the most any stream may.
	data, err := r.streamPrefix(s, int64(declared)*int64(2*rowLen)+64)
	if err != nil {
		return nil, fmt.Errorf("%w: cross-reference stream at %d: %v", ErrNoXRef, off, err)
	}
	pos := 0
	for _, sub := range subs {
		start, count := sub.start, sub.count
		// A short stream: keep what is there.
		rows := min(count, (len(data)-pos)/rowLen)
		if rows > 0 {
			if err := b.reserve(start + rows); err != nil {
				return nil, err
			}
			b.defs = slices.Grow(b.defs, rows)
		}
		for j := 0; j < rows; j++ {
			f := func(k int) int64 {
				var v int64
				base := pos
				for m := 0; m < k; m++ {
					base += w[m]
				}
				for m := 0; m < w[k]; m++ {
					v = v<<8 | int64(data[base+m])
				}
				return v
			}
			typ := int64(1)
			if w[0] > 0 {
				typ = f(0)
			}
			var e xrefEntry
			switch typ {
			case 0:
				e = xrefEntry{typ: entryFree, gen: clampGen(f(2))}
			case 1:
				e = xrefEntry{typ: entryInUse, off: f(1), gen: clampGen(f(2))}
			case 2:
				e = xrefEntry{typ: entryCompressed, off: f(1), gen: uint32(min(max(f(2), 0), 1<<31))}
			default:
				pos += rowLen
				continue // unknown types are treated as null references
			}
			b.add(start+j, e) // a stream's free entries do not wait
			pos += rowLen
		}
	}
	return s.Dict, nil
}

// readIndirect parses "N G obj ... endobj" at off. Stream data is not read.
func (r *Reader) readIndirect(off int64) (Ref, Object, error) {
	var ref Ref
	var obj Object
	var after int64
	err := r.parseAt(off, r.lim.MaxObjectBytes, func(p *parser) error {
		var err error
		ref, err = p.indirectHeader()
		if err != nil {
			return err
		}
		obj, err = p.object(0)
		if err != nil {
			return err
		}
		p.skipSpace()
		if bytes.HasPrefix(p.b[p.pos:], []byte("stream")) {
			p.pos += len("stream")
			// The keyword is followed by CRLF or LF (a lone CR is tolerated).
			if p.pos < len(p.b) && p.b[p.pos] == '\r' {
				p.pos++
			}
			if p.pos < len(p.b) && p.b[p.pos] == '\n' {
				p.pos++
			}
			if p.pos >= len(p.b) && !p.eof {
				return errNeedMore
			}
			d, ok := obj.(Dict)
			if !ok {
				return p.errorf("stream without a dictionary")
			}
			obj = &Stream{Dict: d}
			after = int64(p.pos)
			return nil
		}
		if len(p.b)-p.pos < 6 && !p.eof {
			return errNeedMore
		}
		return nil
	})
	if err != nil {
		return ref, nil, err
	}
	if s, ok := obj.(*Stream); ok {
		s.dataOff = off + after
		n, err := r.streamLength(s)
		if err != nil {
			return ref, nil, err
		}
		s.dataLen = n
	}
	return ref, obj, nil
}

// streamLength takes /Length when endstream follows it, and otherwise
// searches for endstream (files with wrong lengths are common).
func (r *Reader) streamLength(s *Stream) (int64, error) {
	lo, err := r.Resolve(s.Dict["Length"])
	if err != nil && !errors.Is(err, ErrNoObject) {
		return 0, err
	}
	if l, ok := lo.(Integer); ok && l >= 0 && s.dataOff+int64(l) <= r.size {
		tail := make([]byte, min64(32, r.size-s.dataOff-int64(l)))
		if _, err := r.ra.ReadAt(tail, s.dataOff+int64(l)); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("pdf: read: %w", err)
		}
		if bytes.HasPrefix(bytes.TrimLeft(tail, "\r\n \t\f\x00"), []byte("endstream")) {
			return int64(l), nil
		}
	}
	// Search forward in chunks for "endstream".
	const chunk = 64 << 10
	limit := r.lim.MaxDecodedBytes
	for pos := s.dataOff; pos < r.size && pos-s.dataOff <= limit; pos += chunk - 16 {
		buf := make([]byte, min64(chunk, r.size-pos))
		if _, err := r.ra.ReadAt(buf, pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("pdf: read: %w", err)
		}
		if i := bytes.Index(buf, []byte("endstream")); i >= 0 {
			end := pos + int64(i)
			// Drop the end-of-line that precedes endstream.
			if end > s.dataOff {
				var eol [2]byte
				m := min64(2, end-s.dataOff)
				r.ra.ReadAt(eol[2-m:], end-m)
				if eol[1] == '\n' {
					end--
					if eol[0] == '\r' && end > s.dataOff {
						end--
					}
				} else if eol[1] == '\r' {
					end--
				}
			}
			return end - s.dataOff, nil
		}
		if int64(len(buf)) < chunk {
			break
		}
	}
	return 0, fmt.Errorf("%w: stream at %d has no endstream", ErrSyntax, s.dataOff)
}

// Object returns the object ref names (Null if it is free or missing, as
// the standard says).
func (r *Reader) Object(ref Ref) (Object, error) {
	if o, ok := r.cache[ref]; ok {
		return o, nil
	}
	if r.parsed >= r.lim.MaxObjects {
		return nil, fmt.Errorf("%w: more than %d objects", ErrTooLarge, r.lim.MaxObjects)
	}
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > 32 {
		return nil, fmt.Errorf("%w: references nest too deeply", ErrSyntax)
	}
	e := r.entry(ref.Num)
	if e.typ == entryNone || e.typ == entryFree {
		return Null{}, nil
	}
	var o Object
	switch e.typ {
	case entryInUse:
		if int(e.gen) != ref.Gen {
			return Null{}, nil
		}
		if e.off <= 0 || e.off >= r.size {
			return nil, fmt.Errorf("%w: object %d has offset %d outside the file", ErrNoXRef, ref.Num, e.off)
		}
		got, obj, err := r.readIndirect(e.off)
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", ref.Num, err)
		}
		if got.Num != ref.Num {
			return nil, fmt.Errorf("%w: cross-reference entry for object %d points at object %d", ErrNoXRef, ref.Num, got.Num)
		}
		o = obj
	case entryCompressed:
		if ref.Gen != 0 {
			return Null{}, nil
		}
		var err error
		o, err = r.compressed(int(e.off), ref.Num)
		if err != nil {
			return nil, fmt.Errorf("object %d in object stream %d: %w", ref.Num, e.off, err)
		}
	}
	r.parsed++
	r.cache[ref] = o
	return o, nil
}

func (r *Reader) compressed(stmNum, num int) (Object, error) {
	os, ok := r.objStms[stmNum]
	if !ok {
		if len(r.objStms) > 16 {
			for k := range r.objStms {
				delete(r.objStms, k) // a small cache is enough: drop all
			}
		}
		so, err := r.Object(Ref{Num: stmNum})
		if err != nil {
			return nil, err
		}
		s, ok := so.(*Stream)
		if !ok {
			return nil, fmt.Errorf("%w: object stream %d is not a stream", ErrSyntax, stmNum)
		}
		data, err := r.StreamData(s)
		if err != nil {
			return nil, err
		}
		n, _ := s.Dict["N"].(Integer)
		first, _ := s.Dict["First"].(Integer)
		if n < 0 || first < 0 || int(first) > len(data) {
			return nil, fmt.Errorf("%w: bad object stream header", ErrSyntax)
		}
		os = &objStm{data: data, first: int(first), offsets: map[int]int{}}
		p := parser{b: data[:first], eof: true}
		for i := 0; i < int(n); i++ {
			p.skipSpace()
			a, err1 := strconv.Atoi(string(p.token()))
			p.skipSpace()
			b, err2 := strconv.Atoi(string(p.token()))
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("%w: bad object stream index", ErrSyntax)
			}
			if _, dup := os.offsets[a]; !dup {
				os.offsets[a] = b
			}
		}
		r.objStms[stmNum] = os
	}
	rel, ok := os.offsets[num]
	if !ok {
		return Null{}, nil
	}
	if os.first+rel >= len(os.data) || rel < 0 {
		return nil, fmt.Errorf("%w: object offset outside its stream", ErrSyntax)
	}
	p := parser{b: os.data[os.first+rel:], eof: true}
	return p.object(0)
}

// Resolve follows references until it reaches a direct object.
func (r *Reader) Resolve(o Object) (Object, error) {
	for i := 0; i < 32; i++ {
		ref, ok := o.(Ref)
		if !ok {
			return o, nil
		}
		var err error
		o, err = r.Object(ref)
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: reference chain too long", ErrSyntax)
}

// Dict resolves o and returns it as a dictionary (a stream's dictionary
// counts); nil when it is something else.
func (r *Reader) Dict(o Object) (Dict, error) {
	v, err := r.Resolve(o)
	if err != nil {
		return nil, err
	}
	switch d := v.(type) {
	case Dict:
		return d, nil
	case *Stream:
		return d.Dict, nil
	}
	return nil, nil
}

// Array resolves o and returns it as an array, nil otherwise.
func (r *Reader) Array(o Object) (Array, error) {
	v, err := r.Resolve(o)
	if err != nil {
		return nil, err
	}
	a, _ := v.(Array)
	return a, nil
}

// RawStream returns a reader over a stream's encoded data.
func (r *Reader) RawStream(s *Stream) io.Reader {
	if s.Data != nil {
		return bytes.NewReader(s.Data)
	}
	return io.NewSectionReader(r.ra, s.dataOff, s.dataLen)
}

// StreamData returns a stream's decoded data, within the decode limit.
func (r *Reader) StreamData(s *Stream) ([]byte, error) {
	raw, err := r.rawStreamData(s)
	if err != nil {
		return nil, err
	}
	return decode(s.Dict, raw, r.lim.MaxDecodedBytes, false, r.Resolve)
}

// rawStreamData is a stream's data as stored (still encoded), read from
// the file when the Stream does not hold it, within the decode limit.
func (r *Reader) rawStreamData(s *Stream) ([]byte, error) {
	if s.Data != nil {
		return s.Data, nil
	}
	if s.dataLen > r.lim.MaxDecodedBytes {
		return nil, ErrTooLarge
	}
	raw := make([]byte, s.dataLen)
	if _, err := r.ra.ReadAt(raw, s.dataOff); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("pdf: read stream: %w", err)
	}
	return raw, nil
}

// streamPrefix is StreamData when only the first n decoded bytes are
// wanted: Flate stops after them and the rest is dropped, not refused.
func (r *Reader) streamPrefix(s *Stream, n int64) ([]byte, error) {
	raw, err := r.rawStreamData(s)
	if err != nil {
		return nil, err
	}
	return decode(s.Dict, raw, min(n, r.lim.MaxDecodedBytes), true, r.Resolve)
}

// Offset returns the file offset of an uncompressed object, or -1.
func (r *Reader) Offset(ref Ref) int64 {
	e := r.entry(ref.Num)
	if e.typ != entryInUse {
		return -1
	}
	return e.off
}

// Catalog returns the document catalog.
func (r *Reader) Catalog() (Dict, Ref, error) {
	ref, ok := r.Trailer["Root"].(Ref)
	if !ok {
		return nil, Ref{}, fmt.Errorf("%w: trailer has no /Root reference", ErrSyntax)
	}
	d, err := r.Dict(ref)
	if err != nil {
		return nil, ref, err
	}
	if d == nil {
		return nil, ref, fmt.Errorf("%w: /Root is not a dictionary", ErrSyntax)
	}
	return d, ref, nil
}
