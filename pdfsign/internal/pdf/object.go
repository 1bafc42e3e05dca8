package pdf

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Object is one PDF object: Null, Bool, Integer, Real, String, HexString,
// Name, Array, Dict, *Stream or Ref.
type Object any

// Null is the PDF null object.
type Null struct{}

// Bool is a PDF boolean.
type Bool bool

// Integer is a PDF integer.
type Integer int64

// Real is a PDF real number.
type Real float64

// String is a PDF string; the Go string holds its decoded bytes. It is
// written as a literal string.
type String string

// HexString is a PDF string written in hexadecimal form; the Go string
// holds its decoded bytes.
type HexString string

// Name is a PDF name without its leading slash, with #xx escapes decoded.
type Name string

// Array is a PDF array.
type Array []Object

// Dict is a PDF dictionary.
type Dict map[Name]Object

// Ref is an indirect reference "Num Gen R".
type Ref struct {
	Num int
	Gen int
}

func (r Ref) String() string { return fmt.Sprintf("%d %d R", r.Num, r.Gen) }

// Stream is a PDF stream. A stream read from a file knows where its data is
// (it is read lazily); a stream made for writing carries Data, already
// encoded as its /Filter says.
type Stream struct {
	Dict Dict
	Data []byte // for streams being written

	dataOff int64 // for streams read from a file: where the data starts
	dataLen int64
}

// Raw is written verbatim. It exists so a writer can leave a placeholder of
// known width (a signature's /Contents and /ByteRange) and find it again.
type Raw struct {
	Tag  string
	Text []byte
}

// StringBytes returns the bytes of a String or HexString.
func StringBytes(o Object) ([]byte, bool) {
	switch v := o.(type) {
	case String:
		return []byte(v), true
	case HexString:
		return []byte(v), true
	}
	return nil, false
}

// Number returns the value of an Integer or Real.
func Number(o Object) (float64, bool) {
	switch v := o.(type) {
	case Integer:
		return float64(v), true
	case Real:
		return float64(v), true
	}
	return 0, false
}

// Clone copies a dictionary one level deep: enough to change its entries
// without touching the original, which the reader may have cached.
func (d Dict) Clone() Dict {
	c := make(Dict, len(d))
	for k, v := range d {
		c[k] = v
	}
	return c
}

// Name returns d[key] when it is a name.
func (d Dict) Name(key Name) (Name, bool) {
	n, ok := d[key].(Name)
	return n, ok
}

// serializer writes objects in PDF syntax and remembers where each Raw
// placeholder landed.
type serializer struct {
	buf   bytes.Buffer
	marks map[string]int // Raw.Tag -> offset in buf
}

func (s *serializer) write(o Object) error {
	return s.writeDepth(o, 0)
}

const maxWriteDepth = 64

func (s *serializer) writeDepth(o Object, depth int) error {
	if depth > maxWriteDepth {
		return fmt.Errorf("pdf: object nested deeper than %d levels", maxWriteDepth)
	}
	b := &s.buf
	switch v := o.(type) {
	case nil, Null:
		b.WriteString("null")
	case Bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case Integer:
		b.WriteString(strconv.FormatInt(int64(v), 10))
	case int:
		b.WriteString(strconv.Itoa(v))
	case Real:
		b.WriteString(formatReal(float64(v)))
	case float64:
		b.WriteString(formatReal(v))
	case String:
		writeLiteral(b, string(v))
	case HexString:
		b.WriteByte('<')
		b.WriteString(fmt.Sprintf("%X", []byte(v)))
		b.WriteByte('>')
	case Name:
		writeName(b, v)
	case Ref:
		fmt.Fprintf(b, "%d %d R", v.Num, v.Gen)
	case Array:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(' ')
			}
			if err := s.writeDepth(e, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case Dict:
		return s.writeDict(v, depth)
	case *Stream:
		if v.Data == nil && v.dataLen > 0 {
			return fmt.Errorf("pdf: cannot rewrite a stream read from a file")
		}
		d := v.Dict.Clone()
		d["Length"] = Integer(len(v.Data))
		if err := s.writeDict(d, depth); err != nil {
			return err
		}
		b.WriteString("\nstream\n")
		b.Write(v.Data)
		b.WriteString("\nendstream")
	case Raw:
		if s.marks == nil {
			s.marks = map[string]int{}
		}
		s.marks[v.Tag] = b.Len()
		b.Write(v.Text)
	default:
		return fmt.Errorf("pdf: cannot write a %T", o)
	}
	return nil
}

func (s *serializer) writeDict(d Dict, depth int) error {
	b := &s.buf
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, string(k))
	}
	// /Type first reads best; the rest sorted so output is reproducible.
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "Type") != (keys[j] == "Type") {
			return keys[i] == "Type"
		}
		return keys[i] < keys[j]
	})
	b.WriteString("<<")
	for _, k := range keys {
		b.WriteByte(' ')
		writeName(b, Name(k))
		b.WriteByte(' ')
		if err := s.writeDepth(d[Name(k)], depth+1); err != nil {
			return err
		}
	}
	b.WriteString(" >>")
	return nil
}

func formatReal(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	s := strconv.FormatFloat(f, 'f', 4, 64)
	s = trimZeros(s)
	if s == "-0" {
		return "0"
	}
	return s
}

func trimZeros(s string) string {
	if !bytes.ContainsRune([]byte(s), '.') {
		return s
	}
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

func writeLiteral(b *bytes.Buffer, s string) {
	b.WriteByte('(')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '(', ')', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(')')
}

func writeName(b *bytes.Buffer, n Name) {
	b.WriteByte('/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c <= ' ' || c >= 0x7f || c == '#' || isDelimiter(c) {
			fmt.Fprintf(b, "#%02X", c)
			continue
		}
		b.WriteByte(c)
	}
}

// TextString encodes a Go string as a PDF text string: PDFDocEncoding is
// ASCII-compatible, anything else goes as UTF-16BE with a byte-order mark.
func TextString(s string) Object {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || (s[i] < 0x20 && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') {
			ascii = false
			break
		}
	}
	if ascii {
		return String(s)
	}
	var b bytes.Buffer
	b.Write([]byte{0xFE, 0xFF})
	for _, r := range s {
		if r > 0xFFFF {
			r -= 0x10000
			hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
			b.Write([]byte{byte(hi >> 8), byte(hi), byte(lo >> 8), byte(lo)})
			continue
		}
		b.Write([]byte{byte(r >> 8), byte(r)})
	}
	return HexString(b.String())
}

// DecodeText turns a PDF text string (PDFDocEncoding or UTF-16BE with BOM,
// or UTF-8 with BOM as PDF 2.0 allows) into a Go string.
func DecodeText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF {
		var rs []rune
		for i := 2; i+1 < len(b); i += 2 {
			u := rune(b[i])<<8 | rune(b[i+1])
			if u >= 0xD800 && u < 0xDC00 && i+3 < len(b) {
				l := rune(b[i+2])<<8 | rune(b[i+3])
				if l >= 0xDC00 && l < 0xE000 {
					rs = append(rs, 0x10000+(u-0xD800)<<10+(l-0xDC00))
					i += 2
					continue
				}
			}
			rs = append(rs, u)
		}
		return string(rs)
	}
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return string(b[3:])
	}
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c) // Latin-1 approximates PDFDocEncoding well enough for names
	}
	return string(rs)
}
