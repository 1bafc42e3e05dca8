// Package ber turns BER into DER so encoding/asn1 can read it. Real CMS
// comes in BER: poppler's pdfsig writes indefinite lengths, Windows and
// streaming encoders split OCTET STRINGs into constructed chunks. ToDER
// rewrites every length in definite form and joins constructed universal
// OCTET STRINGs into one primitive string; everything else keeps its bytes,
// so a DER input comes back unchanged.
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
// the bytes that followed it.
func ToDER(in []byte) (der, rest []byte, err error) {
	if len(in) == 0 {
		return nil, nil, fmt.Errorf("%w: empty input", ErrSyntax)
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
