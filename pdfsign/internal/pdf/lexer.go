package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("pdf: syntax error")

// errNeedMore means the buffer ended inside an object: the caller may read
// more of the file and try again.
var errNeedMore = errors.New("pdf: object runs past the buffer")

// maxParseDepth bounds nested arrays and dictionaries so hostile input
// cannot exhaust the stack.
const maxParseDepth = 100

func isWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelimiter(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// parser reads objects from a byte slice. eof says whether the slice ends
// where the file ends (so running out is an error, not a reason to read
// more).
type parser struct {
	b   []byte
	pos int
	eof bool
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrSyntax, p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) short() error {
	if p.eof {
		return p.errorf("unexpected end of data")
	}
	return errNeedMore
}

// skipSpace skips white space and comments.
func (p *parser) skipSpace() {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		if isWhite(c) {
			p.pos++
			continue
		}
		if c == '%' {
			for p.pos < len(p.b) && p.b[p.pos] != '\n' && p.b[p.pos] != '\r' {
				p.pos++
			}
			continue
		}
		return
	}
}

// keyword reads a regular-character token (a keyword or number) without
// consuming it when peek is set.
func (p *parser) token() []byte {
	start := p.pos
	for p.pos < len(p.b) && !isWhite(p.b[p.pos]) && !isDelimiter(p.b[p.pos]) {
		p.pos++
	}
	return p.b[start:p.pos]
}

// expectKeyword consumes the keyword kw (after white space) or fails.
func (p *parser) expectKeyword(kw string) error {
	p.skipSpace()
	save := p.pos
	t := p.token()
	if string(t) != kw {
		if p.pos >= len(p.b) && !p.eof {
			return errNeedMore
		}
		p.pos = save
		return p.errorf("expected %q, found %q", kw, truncate(t))
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 20 {
		return string(b[:20]) + "…"
	}
	return string(b)
}

// object parses one direct object; "N G R" becomes a Ref.
func (p *parser) object(depth int) (Object, error) {
	if depth > maxParseDepth {
		return nil, p.errorf("nested deeper than %d levels", maxParseDepth)
	}
	p.skipSpace()
	if p.pos >= len(p.b) {
		return nil, p.short()
	}
	switch c := p.b[p.pos]; c {
	case '/':
		return p.name()
	case '(':
		return p.literal()
	case '<':
		if p.pos+1 >= len(p.b) {
			return nil, p.short()
		}
		if p.b[p.pos+1] == '<' {
			return p.dict(depth)
		}
		return p.hex()
	case '[':
		p.pos++
		var a Array
		for {
			p.skipSpace()
			if p.pos >= len(p.b) {
				return nil, p.short()
			}
			if p.b[p.pos] == ']' {
				p.pos++
				return a, nil
			}
			o, err := p.object(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, o)
		}
	case ')', '>', ']', '{', '}':
		return nil, p.errorf("unexpected %q", c)
	}
	start := p.pos
	t := p.token()
	if p.pos >= len(p.b) && !p.eof {
		return nil, errNeedMore
	}
	switch string(t) {
	case "true":
		return Bool(true), nil
	case "false":
		return Bool(false), nil
	case "null":
		return Null{}, nil
	}
	if len(t) == 0 {
		return nil, p.errorf("unexpected byte %q", p.b[p.pos])
	}
	if n, err := strconv.ParseInt(string(t), 10, 64); err == nil {
		// Maybe "N G R".
		save := p.pos
		p.skipSpace()
		gstart := p.pos
		g := p.token()
		if gen, err := strconv.ParseInt(string(g), 10, 32); err == nil && gstart != p.pos {
			p.skipSpace()
			r := p.token()
			if string(r) == "R" {
				if n < 0 || n > maxObjectNumber || gen < 0 || gen > 65535 {
					return nil, p.errorf("reference %d %d out of range", n, gen)
				}
				return Ref{Num: int(n), Gen: int(gen)}, nil
			}
		}
		if p.pos >= len(p.b) && !p.eof {
			return nil, errNeedMore
		}
		p.pos = save
		return Integer(n), nil
	}
	if f, ok := parseReal(t); ok {
		return Real(f), nil
	}
	p.pos = start
	return nil, p.errorf("unexpected token %q", truncate(t))
}

// parseReal accepts PDF reals ("1.5", "-.5", "4.") and nothing exotic.
func parseReal(t []byte) (float64, bool) {
	digits := 0
	for i, c := range t {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
		case (c == '-' || c == '+') && i == 0:
		default:
			return 0, false
		}
	}
	if digits == 0 || bytes.Count(t, []byte{'.'}) > 1 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func (p *parser) name() (Object, error) {
	p.pos++ // '/'
	start := p.pos
	for p.pos < len(p.b) && !isWhite(p.b[p.pos]) && !isDelimiter(p.b[p.pos]) {
		p.pos++
	}
	if p.pos >= len(p.b) && !p.eof {
		return nil, errNeedMore
	}
	raw := p.b[start:p.pos]
	if bytes.IndexByte(raw, '#') < 0 {
		return Name(raw), nil
	}
	var out []byte
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw) {
			if v, err := strconv.ParseUint(string(raw[i+1:i+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 2
				continue
			}
		}
		out = append(out, raw[i])
	}
	return Name(out), nil
}

func (p *parser) literal() (Object, error) {
	p.pos++ // '('
	var out []byte
	depth := 1
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '(':
			depth++
			out = append(out, c)
		case ')':
			depth--
			if depth == 0 {
				return String(out), nil
			}
			out = append(out, c)
		case '\r':
			// An end of line in a string is read as \n.
			if p.pos < len(p.b) && p.b[p.pos] == '\n' {
				p.pos++
			}
			out = append(out, '\n')
		case '\\':
			if p.pos >= len(p.b) {
				return nil, p.short()
			}
			e := p.b[p.pos]
			p.pos++
			switch e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r':
				if p.pos < len(p.b) && p.b[p.pos] == '\n' {
					p.pos++
				}
			case '\n':
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '7'; k++ {
						v = v*8 + int(p.b[p.pos]-'0')
						p.pos++
					}
					out = append(out, byte(v))
				} else {
					out = append(out, e)
				}
			}
		default:
			out = append(out, c)
		}
	}
	return nil, p.short()
}

func (p *parser) hex() (Object, error) {
	p.pos++ // '<'
	var out []byte
	var hi byte
	half := false
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		var v byte
		switch {
		case c == '>':
			if half {
				out = append(out, hi<<4)
			}
			return HexString(out), nil
		case isWhite(c):
			continue
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			p.pos--
			return nil, p.errorf("bad byte %q in hex string", c)
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	return nil, p.short()
}

func (p *parser) dict(depth int) (Object, error) {
	p.pos += 2 // "<<"
	d := Dict{}
	for {
		p.skipSpace()
		if p.pos+1 >= len(p.b) {
			return nil, p.short()
		}
		if p.b[p.pos] == '>' && p.b[p.pos+1] == '>' {
			p.pos += 2
			return d, nil
		}
		if p.b[p.pos] != '/' {
			return nil, p.errorf("dictionary key is not a name")
		}
		k, err := p.name()
		if err != nil {
			return nil, err
		}
		v, err := p.object(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, isNull := v.(Null); !isNull {
			d[k.(Name)] = v
		}
	}
}

// maxObjectNumber bounds object numbers (the PDF limit is 8,388,607).
const maxObjectNumber = 8388607

// indirectHeader parses "N G obj" and returns N and G.
func (p *parser) indirectHeader() (Ref, error) {
	p.skipSpace()
	n := p.token()
	p.skipSpace()
	g := p.token()
	num, err1 := strconv.ParseInt(string(n), 10, 64)
	gen, err2 := strconv.ParseInt(string(g), 10, 64)
	if err1 != nil || err2 != nil {
		if p.pos >= len(p.b) && !p.eof {
			return Ref{}, errNeedMore
		}
		return Ref{}, p.errorf("expected \"N G obj\"")
	}
	if num < 0 || num > maxObjectNumber || gen < 0 || gen > 65535 {
		return Ref{}, p.errorf("object number %d %d out of range", num, gen)
	}
	if err := p.expectKeyword("obj"); err != nil {
		return Ref{}, err
	}
	return Ref{Num: int(num), Gen: int(gen)}, nil
}
