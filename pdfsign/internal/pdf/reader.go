package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
	entryFree entryType = iota
	entryInUse
	entryCompressed
)

type xrefEntry struct {
	typ entryType
	gen int
	off int64 // in use: file offset; compressed: object stream number
	idx int   // compressed: index in the object stream
}

// Section is one cross-reference section with its trailer, newest first in
// Reader.Sections.
type Section struct {
	Offset  int64
	Kind    XRefKind
	Trailer Dict
	Objects []int // object numbers this section defines (in use or free)
	inUse   map[int]xrefEntry
}

// Limits bound what a hostile file can make the reader do.
type Limits struct {
	MaxObjectBytes  int64 // one object's text, stream data excluded
	MaxDecodedBytes int64 // one decoded stream
	MaxSections     int   // cross-reference sections in the /Prev chain
	MaxObjects      int   // objects parsed and cached by one Reader
}

// DefaultLimits suit documents up to several hundred megabytes.
var DefaultLimits = Limits{
	MaxObjectBytes:  16 << 20,
	MaxDecodedBytes: 128 << 20,
	MaxSections:     4096,
	MaxObjects:      2_000_000,
}

// Reader reads a PDF lazily through an io.ReaderAt: the cross-reference
// sections at open, objects when asked. It never holds the whole file.
type Reader struct {
	ra        io.ReaderAt
	size      int64
	lim       Limits
	entries   map[int]xrefEntry
	Sections  []Section // newest first
	Trailer   Dict      // the newest trailer (for a stream, its dictionary)
	StartXRef int64     // the offset the file's last startxref names

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
	r := &Reader{ra: ra, size: size, lim: lim, entries: map[int]xrefEntry{}, cache: map[Ref]Object{}, objStms: map[int]*objStm{}}
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
	for num := range r.entries {
		if num+1 > n {
			n = num + 1
		}
	}
	return n
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
			if n, ok := v.(Integer); !ok || n < 0 || n > maxObjectNumber+1 {
				return fmt.Errorf("%w: trailer /Size %v is not a valid object count", ErrNoXRef, v)
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
	sec := Section{Offset: off, inUse: map[int]xrefEntry{}}
	var isTable bool
	err := r.parseAt(off, 16, func(p *parser) error {
		p.skipSpace()
		isTable = bytes.HasPrefix(p.b[p.pos:], []byte("xref"))
		return nil
	})
	if err != nil {
		return sec, err
	}
	if !isTable {
		sec.Kind = XRefStream
		entries, trailer, err := r.readXRefStream(off)
		if err != nil {
			return sec, err
		}
		sec.Trailer = trailer
		r.merge(&sec, entries)
		return sec, nil
	}
	sec.Kind = XRefTable
	var entries []numEntry
	err = r.parseAt(off, r.lim.MaxObjectBytes*4, func(p *parser) error {
		entries = entries[:0]
		var err error
		entries, sec.Trailer, err = parseTable(p)
		return err
	})
	if err != nil {
		return sec, fmt.Errorf("%w: table at %d: %v", ErrNoXRef, off, err)
	}
	// Hybrid file: in-use table entries first, then the stream's, then the
	// table's free entries (which hide compressed objects from old readers).
	var free []numEntry
	var used []numEntry
	for _, e := range entries {
		if e.typ == entryFree {
			free = append(free, e)
		} else {
			used = append(used, e)
		}
	}
	r.merge(&sec, used)
	if x, ok := sec.Trailer["XRefStm"].(Integer); ok {
		sec.Kind = XRefHybrid
		se, _, err := r.readXRefStream(int64(x))
		if err != nil {
			return sec, fmt.Errorf("hybrid /XRefStm: %w", err)
		}
		r.merge(&sec, se)
	}
	r.merge(&sec, free)
	return sec, nil
}

// InUse reports whether the section defines object num as in use (directly
// or in an object stream), with its generation.
func (s Section) InUse(num int) (gen int, ok bool) {
	e, found := s.inUse[num]
	if !found || e.typ == entryFree {
		return 0, false
	}
	return e.gen, true
}

// Defines reports whether the section has an entry for object num, and
// whether that entry is in use (directly or in an object stream) or frees
// the object, with its generation.
func (s Section) Defines(num int) (gen int, inUse, ok bool) {
	e, found := s.inUse[num]
	if !found {
		return 0, false, false
	}
	return e.gen, e.typ != entryFree, true
}

// Generation returns the generation of object num's newest definition and
// whether it is in use.
func (r *Reader) Generation(num int) (gen int, inUse bool) {
	e, ok := r.entries[num]
	if !ok || e.typ == entryFree {
		return 0, false
	}
	return e.gen, true
}

type numEntry struct {
	num int
	xrefEntry
}

func (r *Reader) merge(sec *Section, es []numEntry) {
	for _, e := range es {
		if _, known := sec.inUse[e.num]; known {
			continue
		}
		sec.inUse[e.num] = e.xrefEntry
		sec.Objects = append(sec.Objects, e.num)
		if _, ok := r.entries[e.num]; !ok {
			r.entries[e.num] = e.xrefEntry
		}
	}
}

// parseTable reads "xref" subsections and the trailer dictionary.
func parseTable(p *parser) ([]numEntry, Dict, error) {
	if err := p.expectKeyword("xref"); err != nil {
		return nil, nil, err
	}
	var out []numEntry
	for {
		p.skipSpace()
		save := p.pos
		t := p.token()
		if string(t) == "trailer" {
			break
		}
		if len(t) == 0 {
			return nil, nil, p.short()
		}
		start, err := strconv.Atoi(string(t))
		if err != nil {
			p.pos = save
			return nil, nil, p.errorf("expected a subsection or trailer")
		}
		p.skipSpace()
		count, err := strconv.Atoi(string(p.token()))
		if err != nil || start < 0 || count < 0 || start+count > maxObjectNumber+1 {
			return nil, nil, p.errorf("bad subsection header")
		}
		for i := 0; i < count; i++ {
			p.skipSpace()
			o := p.token()
			p.skipSpace()
			g := p.token()
			p.skipSpace()
			k := p.token()
			if p.pos >= len(p.b) && !p.eof {
				return nil, nil, errNeedMore
			}
			off, err1 := strconv.ParseInt(string(o), 10, 64)
			gen, err2 := strconv.Atoi(string(g))
			if err1 != nil || err2 != nil || (string(k) != "n" && string(k) != "f") {
				return nil, nil, p.errorf("bad entry for object %d", start+i)
			}
			e := numEntry{num: start + i, xrefEntry: xrefEntry{typ: entryFree, gen: gen, off: off}}
			if string(k) == "n" {
				e.typ = entryInUse
			}
			out = append(out, e)
		}
	}
	o, err := p.object(0)
	if err != nil {
		return nil, nil, err
	}
	d, ok := o.(Dict)
	if !ok {
		return nil, nil, p.errorf("trailer is not a dictionary")
	}
	return out, d, nil
}

// readXRefStream reads a cross-reference stream object at off.
func (r *Reader) readXRefStream(off int64) ([]numEntry, Dict, error) {
	_, o, err := r.readIndirect(off)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: at %d: %v", ErrNoXRef, off, err)
	}
	s, ok := o.(*Stream)
	if !ok {
		return nil, nil, fmt.Errorf("%w: object at %d is not a cross-reference stream", ErrNoXRef, off)
	}
	if t, _ := s.Dict.Name("Type"); t != "XRef" {
		return nil, nil, fmt.Errorf("%w: stream at %d is /Type /%s, not /XRef", ErrNoXRef, off, t)
	}
	data, err := r.StreamData(s)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: cross-reference stream at %d: %v", ErrNoXRef, off, err)
	}
	wa, ok := s.Dict["W"].(Array)
	if !ok || len(wa) != 3 {
		return nil, nil, fmt.Errorf("%w: /W missing", ErrNoXRef)
	}
	var w [3]int
	for i := range w {
		v, ok := wa[i].(Integer)
		if !ok || v < 0 || v > 8 {
			return nil, nil, fmt.Errorf("%w: bad /W", ErrNoXRef)
		}
		w[i] = int(v)
	}
	size, _ := s.Dict["Size"].(Integer)
	index := Array{Integer(0), size}
	if ia, ok := s.Dict["Index"].(Array); ok {
		index = ia
	}
	rowLen := w[0] + w[1] + w[2]
	if rowLen == 0 {
		return nil, nil, fmt.Errorf("%w: /W is all zero", ErrNoXRef)
	}
	var out []numEntry
	pos := 0
	for i := 0; i+1 < len(index); i += 2 {
		start, ok1 := index[i].(Integer)
		count, ok2 := index[i+1].(Integer)
		if !ok1 || !ok2 || start < 0 || count < 0 || start+count > maxObjectNumber+1 {
			return nil, nil, fmt.Errorf("%w: bad /Index", ErrNoXRef)
		}
		for j := 0; j < int(count); j++ {
			if pos+rowLen > len(data) {
				return out, s.Dict, nil // short stream: keep what is there
			}
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
			e := numEntry{num: int(start) + j}
			switch typ {
			case 0:
				e.typ = entryFree
				e.gen = int(f(2))
			case 1:
				e.typ = entryInUse
				e.off = f(1)
				e.gen = int(f(2))
			case 2:
				e.typ = entryCompressed
				e.off = f(1)
				e.idx = int(f(2))
			default:
				pos += rowLen
				continue // unknown types are treated as null references
			}
			out = append(out, e)
			pos += rowLen
		}
	}
	return out, s.Dict, nil
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
	e, ok := r.entries[ref.Num]
	if !ok || e.typ == entryFree {
		return Null{}, nil
	}
	var o Object
	switch e.typ {
	case entryInUse:
		if e.gen != ref.Gen {
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
	raw := s.Data
	if raw == nil {
		if s.dataLen > r.lim.MaxDecodedBytes {
			return nil, ErrTooLarge
		}
		raw = make([]byte, s.dataLen)
		if _, err := r.ra.ReadAt(raw, s.dataOff); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("pdf: read stream: %w", err)
		}
	}
	return decode(s.Dict, raw, r.lim.MaxDecodedBytes, r.Resolve)
}

// Offset returns the file offset of an uncompressed object, or -1.
func (r *Reader) Offset(ref Ref) int64 {
	e, ok := r.entries[ref.Num]
	if !ok || e.typ != entryInUse {
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
