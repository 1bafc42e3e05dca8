package ber

import (
	"bytes"
	"errors"
	"fmt"
)

// MaxDepth bounds nesting; real PKCS#7 nests about 12 deep.
const MaxDepth = 64

// ErrSyntax is returned (wrapped) for input that is not BER.
var ErrSyntax = errors.New("ber: syntax error")

// ToDER converts the first BER element of in to DER and returns it with
// the bytes that followed it. When in is already DER the result shares
// its memory.
func ToDER(in []byte) (der, rest []byte, err error) {
	if len(in) == 0 {
		return nil, nil, fmt.Errorf("%w: empty input", ErrSyntax)
	}
	if n, ok := derSize(in, 0); ok {
		return in[:n:n], in[n:], nil // already DER: no copy
	}
	e, n, err := parse(in, 0)
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	out.Grow(n)
	e.encode(&out)
	return out.Bytes(), in[n:], nil
}

// IsDER reports whether in is one element whose lengths are all definite
// and minimal, so ToDER would leave it as it is (a quick path for inputs
// that are already DER).
func IsDER(in []byte) bool {
	der, rest, err := ToDER(in)
	return err == nil && len(rest) == 0 && bytes.Equal(der, in)
}

// derSize reports the size of the DER element at in[0:] when everything in
// it is already DER as ToDER would write it: definite, minimal lengths and
// no constructed OCTET STRING. It allocates nothing, so DER input (the
// common case) costs one walk.
func derSize(in []byte, depth int) (int, bool) {
	if depth > MaxDepth || len(in) < 2 {
		return 0, false
	}
	pos := 1
	if in[0]&0x1f == 0x1f {
		for {
			if pos >= len(in) || pos > 6 {
				return 0, false
			}
			b := in[pos]
			pos++
			if b&0x80 == 0 {
				break
			}
		}
	}
	if in[0] == 0x24 || pos >= len(in) {
		return 0, false
	}
	constructed := in[0]&0x20 != 0
	lb := in[pos]
	pos++
	length := 0
	switch {
	case lb < 0x80:
		length = int(lb)
	case lb == 0x80:
		return 0, false
	default:
		nb := int(lb & 0x7f)
		if nb > 4 || pos+nb > len(in) || in[pos] == 0 {
			return 0, false
		}
		for i := 0; i < nb; i++ {
			length = length<<8 | int(in[pos+i])
		}
		pos += nb
		if length < 0x80 || length < 1<<(8*(nb-1)) {
			return 0, false // not minimal
		}
	}
	if length < 0 || length > len(in)-pos {
		return 0, false
	}
	end := pos + length
	if constructed {
		for off := pos; off < end; {
			n, ok := derSize(in[off:end], depth+1)
			if !ok {
				return 0, false
			}
			off += n
		}
	}
	return end, true
}

type element struct {
	tag         []byte // identifier octets as read (constructed bit adjusted on output)
	constructed bool
	content     []byte     // primitive content
	children    []*element // constructed content
}

func (e *element) encode(out *bytes.Buffer) {
	if e.constructed {
		var inner bytes.Buffer
		for _, c := range e.children {
			c.encode(&inner)
		}
		out.Write(e.tag)
		writeLength(out, inner.Len())
		out.Write(inner.Bytes())
		return
	}
	out.Write(e.tag)
	writeLength(out, len(e.content))
	out.Write(e.content)
}

func writeLength(out *bytes.Buffer, n int) {
	if n < 0x80 {
		out.WriteByte(byte(n))
		return
	}
	var buf [8]byte
	i := len(buf)
	for v := n; v > 0; v >>= 8 {
		i--
		buf[i] = byte(v)
	}
	out.WriteByte(0x80 | byte(len(buf)-i))
	out.Write(buf[i:])
}

// parse reads one element at in[0:] and returns it with its encoded size.
func parse(in []byte, depth int) (*element, int, error) {
	if depth > MaxDepth {
		return nil, 0, fmt.Errorf("%w: nested more than %d deep", ErrSyntax, MaxDepth)
	}
	if len(in) < 2 {
		return nil, 0, fmt.Errorf("%w: truncated element", ErrSyntax)
	}
	pos := 1
	constructed := in[0]&0x20 != 0
	if in[0]&0x1f == 0x1f { // high tag number form
		for {
			if pos >= len(in) {
				return nil, 0, fmt.Errorf("%w: truncated tag", ErrSyntax)
			}
			b := in[pos]
			pos++
			if pos > 6 {
				return nil, 0, fmt.Errorf("%w: tag number too large", ErrSyntax)
			}
			if b&0x80 == 0 {
				break
			}
		}
	}
	tag := in[:pos]
	if pos >= len(in) {
		return nil, 0, fmt.Errorf("%w: truncated length", ErrSyntax)
	}
	lb := in[pos]
	pos++
	e := &element{tag: append([]byte(nil), tag...), constructed: constructed}
	if lb == 0x80 { // indefinite length: children until end-of-contents
		if !constructed {
			return nil, 0, fmt.Errorf("%w: indefinite length on a primitive element", ErrSyntax)
		}
		for {
			if pos+2 > len(in) {
				return nil, 0, fmt.Errorf("%w: missing end-of-contents", ErrSyntax)
			}
			if in[pos] == 0 && in[pos+1] == 0 {
				pos += 2
				break
			}
			c, n, err := parse(in[pos:], depth+1)
			if err != nil {
				return nil, 0, err
			}
			e.children = append(e.children, c)
			pos += n
		}
		e.flatten()
		return e, pos, nil
	}
	length := 0
	if lb < 0x80 {
		length = int(lb)
	} else {
		nb := int(lb & 0x7f)
		if nb > 4 {
			return nil, 0, fmt.Errorf("%w: length of %d octets", ErrSyntax, nb)
		}
		if pos+nb > len(in) {
			return nil, 0, fmt.Errorf("%w: truncated length", ErrSyntax)
		}
		for i := 0; i < nb; i++ {
			length = length<<8 | int(in[pos+i])
		}
		pos += nb
		if length < 0 {
			return nil, 0, fmt.Errorf("%w: negative length", ErrSyntax)
		}
	}
	if length > len(in)-pos {
		return nil, 0, fmt.Errorf("%w: length %d runs past the end of the input", ErrSyntax, length)
	}
	body := in[pos : pos+length]
	pos += length
	if !constructed {
		e.content = body
		return e, pos, nil
	}
	for off := 0; off < len(body); {
		c, n, err := parse(body[off:], depth+1)
		if err != nil {
			return nil, 0, err
		}
		e.children = append(e.children, c)
		off += n
	}
	e.flatten()
	return e, pos, nil
}

// flatten turns a constructed universal OCTET STRING into the primitive
// one DER requires, joining its chunks.
func (e *element) flatten() {
	if len(e.tag) != 1 || e.tag[0] != 0x24 {
		return
	}
	var joined []byte
	var walk func(*element) bool
	walk = func(x *element) bool {
		if !x.constructed {
			joined = append(joined, x.content...)
			return true
		}
		for _, c := range x.children {
			if !walk(c) {
				return false
			}
		}
		return true
	}
	if !walk(e) {
		return
	}
	e.tag = []byte{0x04}
	e.constructed = false
	e.children = nil
	if joined == nil {
		joined = []byte{}
	}
	e.content = joined
}
