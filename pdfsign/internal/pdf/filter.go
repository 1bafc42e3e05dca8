package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is returned when decoding would exceed a limit.
var ErrTooLarge = errors.New("pdf: decoded data exceeds the limit")

// decode applies the stream's filters to raw, producing at most limit bytes.
//
// Decoded data over limit is refused, or with truncate cut at limit.
func decode(d Dict, raw []byte, limit int64, truncate bool, resolve func(Object) (Object, error)) ([]byte, error) {
	fo, err := resolve(d["Filter"])
	if err != nil {
		return nil, err
	}
	po, err := resolve(d["DecodeParms"])
	if err != nil {
		return nil, err
	}
	var filters []Name
	var parms []Object
	switch f := fo.(type) {
	case nil:
	case Name:
		filters = []Name{f}
		parms = []Object{po}
	case Array:
		for i, e := range f {
			n, ok := e.(Name)
			if !ok {
				return nil, fmt.Errorf("%w: filter is not a name", ErrSyntax)
			}
			filters = append(filters, n)
			if pa, ok := po.(Array); ok && i < len(pa) {
				parms = append(parms, pa[i])
			} else {
				parms = append(parms, nil)
			}
		}
	default:
		return nil, fmt.Errorf("%w: /Filter is a %T", ErrSyntax, fo)
	}
	data := raw
	for i, f := range filters {
		p, err := resolve(parms[i])
		if err != nil {
			return nil, err
		}
		pd, _ := p.(Dict)
		switch f {
		case "FlateDecode", "Fl":
			data, err = inflate(data, limit, truncate)
			if err != nil {
				return nil, err
			}
			data, err = unpredict(data, pd)
			if err != nil {
				return nil, err
			}
		case "ASCIIHexDecode", "AHx":
			data, err = asciiHex(data)
			if err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("pdf: unsupported filter /%s", f)
		}
	}
	return data, nil
}

// inflate decompresses zlib data. Truncated data keeps what was decoded, as
// most readers do; anything over limit is refused, or with truncate
// dropped (decompression stops there).
func inflate(raw []byte, limit int64, truncate bool) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("pdf: flate: %w", err)
	}
	defer zr.Close()
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, limit+1))
	if n > limit {
		if !truncate {
			return nil, ErrTooLarge
		}
		out.Truncate(int(limit))
		err = nil
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("pdf: flate: %w", err)
	}
	return out.Bytes(), nil
}

func intParm(d Dict, key Name, def int) int {
	if v, ok := d[key].(Integer); ok {
		return int(v)
	}
	return def
}

// unpredict undoes PNG (10–15) and TIFF (2) predictors.
func unpredict(data []byte, parms Dict) ([]byte, error) {
	pred := intParm(parms, "Predictor", 1)
	if pred == 1 {
		return data, nil
	}
	colors := intParm(parms, "Colors", 1)
	bpc := intParm(parms, "BitsPerComponent", 8)
	columns := intParm(parms, "Columns", 1)
	if colors < 1 || colors > 32 || bpc < 1 || bpc > 16 || columns < 1 || columns > 1<<20 {
		return nil, fmt.Errorf("%w: bad predictor parameters", ErrSyntax)
	}
	bpp := (colors*bpc + 7) / 8
	rowLen := (colors*bpc*columns + 7) / 8
	switch {
	case pred == 2:
		if bpc != 8 {
			return nil, fmt.Errorf("pdf: TIFF predictor with %d bits is not supported", bpc)
		}
		out := append([]byte(nil), data...)
		for r := 0; r+rowLen <= len(out); r += rowLen {
			for i := bpp; i < rowLen; i++ {
				out[r+i] += out[r+i-bpp]
			}
		}
		return out, nil
	case pred >= 10 && pred <= 15:
		out := make([]byte, 0, len(data))
		prev := make([]byte, rowLen)
		for i := 0; i < len(data); i += rowLen + 1 {
			if i+1+rowLen > len(data) {
				break // a trailing partial row is dropped
			}
			ft := data[i]
			row := append([]byte(nil), data[i+1:i+1+rowLen]...)
			for j := 0; j < rowLen; j++ {
				var a, b, c byte
				if j >= bpp {
					a = row[j-bpp]
					c = prev[j-bpp]
				}
				b = prev[j]
				switch ft {
				case 0:
				case 1:
					row[j] += a
				case 2:
					row[j] += b
				case 3:
					row[j] += byte((int(a) + int(b)) / 2)
				case 4:
					row[j] += paeth(a, b, c)
				default:
					return nil, fmt.Errorf("%w: PNG filter type %d", ErrSyntax, ft)
				}
			}
			out = append(out, row...)
			prev = row
		}
		return out, nil
	}
	return nil, fmt.Errorf("pdf: predictor %d is not supported", pred)
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func asciiHex(data []byte) ([]byte, error) {
	p := parser{b: append(append([]byte{'<'}, data...), '>'), eof: true}
	if i := bytes.IndexByte(data, '>'); i >= 0 {
		p.b = append(append([]byte{'<'}, data[:i]...), '>')
	}
	o, err := p.hex()
	if err != nil {
		return nil, err
	}
	return []byte(o.(HexString)), nil
}
