package pdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"sort"
)

// Update collects the objects of one incremental update: new objects and
// new versions of existing ones. Serialize renders them, with a
// cross-reference section of the same kind as the file's last one, as bytes
// to append after the original file, which is never rewritten.
type Update struct {
	r    *Reader
	next int
	objs map[int]pending
}

type pending struct {
	ref Ref
	obj Object
}

// NewUpdate starts an incremental update of r.
func (r *Reader) NewUpdate() *Update {
	return &Update{r: r, next: r.NextObjectNumber(), objs: map[int]pending{}}
}

// Add stores a new object and returns its reference.
func (u *Update) Add(o Object) Ref {
	ref := Ref{Num: u.next}
	u.next++
	u.objs[ref.Num] = pending{ref: ref, obj: o}
	return ref
}

// Reserve returns a reference for an object set later with Set.
func (u *Update) Reserve() Ref {
	ref := Ref{Num: u.next}
	u.next++
	return ref
}

// Set stores a new version of the object ref (an existing object or one
// reserved).
func (u *Update) Set(ref Ref, o Object) {
	u.objs[ref.Num] = pending{ref: ref, obj: o}
}

// Serialized is an update rendered for appending at a known offset.
type Serialized struct {
	Bytes []byte
	// Marks gives, for each Raw placeholder, its offset in Bytes.
	Marks map[string]int
}

// Serialize renders the update as it will sit at offset base (the original
// file's length). needEOL adds a line break first when the original does not
// end with one. id is the new second element of the trailer's /ID.
func (u *Update) Serialize(base int64, needEOL bool, id []byte) (*Serialized, error) {
	// The update's numbers (a cross-reference stream takes one more) must
	// stay within the reader's limit, which a reopened result meets, and
	// so within PDF's own maximum, which the limit never exceeds.
	if size := u.next + 1; size > u.r.lim.MaxObjectNumbers {
		return nil, fmt.Errorf("%w: the update would use object number %d, the limit is %d objects", ErrTooManyObjects, size-1, u.r.lim.MaxObjectNumbers)
	}
	s := &serializer{}
	if needEOL {
		s.buf.WriteByte('\n')
	}
	nums := make([]int, 0, len(u.objs))
	for n := range u.objs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	offsets := map[int]int64{}
	for _, n := range nums {
		p := u.objs[n]
		offsets[n] = base + int64(s.buf.Len())
		fmt.Fprintf(&s.buf, "%d %d obj\n", p.ref.Num, p.ref.Gen)
		if err := s.write(p.obj); err != nil {
			return nil, fmt.Errorf("object %d: %w", n, err)
		}
		s.buf.WriteString("\nendobj\n")
	}

	trailer := Dict{}
	for _, k := range []Name{"Root", "Info"} {
		if v, ok := u.r.Trailer[k]; ok {
			trailer[k] = v
		}
	}
	first := []byte(id)
	if ida, ok := u.r.Trailer["ID"].(Array); ok && len(ida) == 2 {
		if b, ok := StringBytes(ida[0]); ok {
			first = b
		}
	}
	trailer["ID"] = Array{HexString(first), HexString(id)}
	trailer["Prev"] = Integer(u.r.StartXRef)

	xrefOff := base + int64(s.buf.Len())
	last := u.r.Sections[0].Kind
	if last == XRefStream {
		// The stream describes itself too.
		self := u.next
		offsets[self] = xrefOff
		size := self + 1
		if err := writeXRefStream(s, self, offsets, u.objs, size, trailer); err != nil {
			return nil, err
		}
	} else {
		size := u.next
		trailer["Size"] = Integer(size)
		writeXRefTable(&s.buf, offsets, u.objs)
		s.buf.WriteString("trailer\n")
		if err := s.write(trailer); err != nil {
			return nil, err
		}
		s.buf.WriteString("\n")
	}
	fmt.Fprintf(&s.buf, "startxref\n%d\n%%%%EOF\n", xrefOff)
	return &Serialized{Bytes: s.buf.Bytes(), Marks: s.marks}, nil
}

// runs groups sorted object numbers into contiguous subsections.
func runs(nums []int) [][2]int {
	var out [][2]int
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		out = append(out, [2]int{nums[i], j - i + 1})
		i = j + 1
	}
	return out
}

func sortedKeys(m map[int]int64) []int {
	nums := make([]int, 0, len(m))
	for n := range m {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	return nums
}

func writeXRefTable(b *bytes.Buffer, offsets map[int]int64, objs map[int]pending) {
	b.WriteString("xref\n")
	nums := sortedKeys(offsets)
	for _, run := range runs(nums) {
		fmt.Fprintf(b, "%d %d\n", run[0], run[1])
		for n := run[0]; n < run[0]+run[1]; n++ {
			fmt.Fprintf(b, "%010d %05d n\r\n", offsets[n], objs[n].ref.Gen)
		}
	}
}

func writeXRefStream(s *serializer, self int, offsets map[int]int64, objs map[int]pending, size int, trailer Dict) error {
	nums := sortedKeys(offsets)
	maxOff := int64(0)
	for _, o := range offsets {
		if o > maxOff {
			maxOff = o
		}
	}
	w1 := 1
	for v := maxOff >> 8; v > 0; v >>= 8 {
		w1++
	}
	var rows bytes.Buffer
	var index Array
	for _, run := range runs(nums) {
		index = append(index, Integer(run[0]), Integer(run[1]))
		for n := run[0]; n < run[0]+run[1]; n++ {
			rows.WriteByte(1)
			off := offsets[n]
			for k := w1 - 1; k >= 0; k-- {
				rows.WriteByte(byte(off >> (8 * k)))
			}
			gen := 0
			if n != self {
				gen = objs[n].ref.Gen
			}
			rows.WriteByte(byte(gen >> 8))
			rows.WriteByte(byte(gen))
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(rows.Bytes())
	zw.Close()
	d := trailer.Clone()
	d["Type"] = Name("XRef")
	d["Size"] = Integer(size)
	d["W"] = Array{Integer(1), Integer(w1), Integer(2)}
	d["Index"] = index
	d["Filter"] = Name("FlateDecode")
	fmt.Fprintf(&s.buf, "%d 0 obj\n", self)
	if err := s.write(&Stream{Dict: d, Data: z.Bytes()}); err != nil {
		return err
	}
	s.buf.WriteString("\nendobj\n")
	return nil
}
