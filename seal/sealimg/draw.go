package sealimg

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// Shape is a seal's outline.
type Shape int

const (
	// Round is the company seal (公章): a circle, usually with a star.
	Round Shape = iota
	// Oval is the finance / personal style (财务章, 个人章): an ellipse wider than tall.
	Oval
)

// String names the shape as the CLI spells it.
func (s Shape) String() string {
	switch s {
	case Round:
		return "round"
	case Oval:
		return "oval"
	}
	return fmt.Sprintf("Shape(%d)", int(s))
}

// ParseShape reads "round" or "oval".
func ParseShape(s string) (Shape, error) {
	switch s {
	case "round":
		return Round, nil
	case "oval":
		return Oval, nil
	}
	return 0, fmt.Errorf("unknown seal shape %q (round or oval)", s)
}

// SealRed is the vermilion of a seal's ink.
var SealRed = color.NRGBA{R: 0xD9, G: 0x1E, B: 0x18, A: 0xFF}

// Limits on a drawn seal, so a caller's typo cannot allocate gigabytes.
const (
	maxDrawSide  = MaxImageSide
	maxTextRunes = 64
)

// Design says what to draw. Zero values pick the usual look.
type Design struct {
	Shape      Shape
	ArcText    string      // along the top arc, left to right: the holder's name
	Star       bool        // a five-pointed star in the middle
	CenterText string      // one horizontal line in the middle (below the star when there is one)
	BottomText string      // one horizontal line near the bottom edge
	Width      int         // pixels; zero: 400 (round) or 440 (oval)
	Height     int         // pixels; zero: 400 (round) or 300 (oval)
	Color      color.NRGBA // zero: SealRed
	Font       *sfnt.Font  // nil: Go Bold (Latin only)
}

// ErrMissingGlyph is returned by Draw for text the font cannot draw.
var ErrMissingGlyph = errors.New("the font has no glyph for a character of the seal text")

// goBold is parsed once; an sfnt.Font is safe for concurrent use as long as
// every caller brings its own sfnt.Buffer, which Draw does.
var goBold = sync.OnceValues(func() (*sfnt.Font, error) { return sfnt.Parse(gobold.TTF) })

// Draw renders the design on a transparent background.
func Draw(d Design) (*image.NRGBA, error) {
	w, h := d.Width, d.Height
	if w == 0 && h == 0 {
		w, h = 400, 400
		if d.Shape == Oval {
			w, h = 440, 300
		}
	}
	if w < 32 || h < 32 || w > maxDrawSide || h > maxDrawSide {
		return nil, fmt.Errorf("seal size %d×%d pixels: each side must be 32–%d", w, h, maxDrawSide)
	}
	if d.Shape != Round && d.Shape != Oval {
		return nil, fmt.Errorf("unknown seal shape %d", int(d.Shape))
	}
	for _, t := range []string{d.ArcText, d.CenterText, d.BottomText} {
		if n := len([]rune(t)); n > maxTextRunes {
			return nil, fmt.Errorf("seal text of %d characters: at most %d", n, maxTextRunes)
		}
	}
	f := d.Font
	if f == nil {
		var err error
		if f, err = goBold(); err != nil {
			return nil, fmt.Errorf("parse the Go Bold font: %w", err)
		}
	}
	col := d.Color
	if col == (color.NRGBA{}) {
		col = SealRed
	}

	p := painter{mask: image.NewAlpha(image.Rect(0, 0, w, h)), z: vector.NewRasterizer(w, h), font: f}
	fw, fh := float64(w), float64(h)
	cx, cy := fw/2, fh/2
	side := math.Min(fw, fh)
	margin := 2.0 // keeps the anti-aliased edge inside the image
	rx, ry := cx-margin, cy-margin

	ring := side * 0.032
	arcSize := side * 0.13
	arcSpan := 120.0 // degrees each side of the top the arc text may use
	starR := side * 0.17
	centerSize, bottomSize := side*0.075, side*0.06
	if d.Shape == Oval {
		ring = side * 0.03
		arcSize = side * 0.14
		arcSpan = 95
		starR = side * 0.11
		centerSize, bottomSize = side*0.12, side*0.075
	}
	p.ellipseRing(cx, cy, rx, ry, ring)

	if d.ArcText != "" {
		capH := arcSize * 0.72
		gap := side * 0.025
		if err := p.arcText(d.ArcText, arcSize, cx, cy, rx-ring-gap-capH, ry-ring-gap-capH, arcSpan); err != nil {
			return nil, err
		}
	}
	if d.Star {
		p.star(cx, cy, starR)
	}
	if d.CenterText != "" {
		base := cy + centerSize*0.36 // a line centred on the middle
		if d.Star {
			base = cy + starR + centerSize*1.05
		}
		if err := p.lineText(d.CenterText, centerSize, cx, base, (rx-ring)*1.3); err != nil {
			return nil, err
		}
	}
	if d.BottomText != "" {
		if err := p.lineText(d.BottomText, bottomSize, cx, cy+ry*0.72, (rx-ring)*0.9); err != nil {
			return nil, err
		}
	}

	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i, a := range p.mask.Pix {
		if a == 0 {
			continue
		}
		img.Pix[4*i+0] = col.R
		img.Pix[4*i+1] = col.G
		img.Pix[4*i+2] = col.B
		img.Pix[4*i+3] = uint8(uint32(a) * uint32(col.A) / 0xff)
	}
	return img, nil
}

// EncodePNG writes img as a PNG at the default compression: on seals,
// BestCompression saves about 5% of the bytes at about nine times the time.
func EncodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// DevSeal draws the development seal of a certificate holder as a PNG: a
// round company seal (name on the arc, star, "DEV SEAL") or an oval personal
// seal (name across the middle, "DEV SEAL" below). Characters the Go font
// cannot draw (Chinese, for one) are left out of the picture; if nothing of
// the name is left, the seal reads "SCANSIGN DEV". The seal's signName still
// carries the full name.
func DevSeal(name string, shape Shape) ([]byte, error) {
	f, err := goBold()
	if err != nil {
		return nil, fmt.Errorf("parse the Go Bold font: %w", err)
	}
	text := drawable(f, name)
	if text == "" {
		text = "SCANSIGN DEV"
	}
	d := Design{Shape: shape, Font: f}
	switch shape {
	case Round:
		d.ArcText, d.Star, d.BottomText = text, true, "DEV SEAL"
	case Oval:
		d.CenterText, d.BottomText = text, "DEV SEAL"
	default:
		return nil, fmt.Errorf("unknown seal shape %d", int(shape))
	}
	img, err := Draw(d)
	if err != nil {
		return nil, err
	}
	return EncodePNG(img)
}

// drawable keeps the runes of s that f has glyphs for, trimmed and capped.
func drawable(f *sfnt.Font, s string) string {
	var buf sfnt.Buffer
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if len(out) == maxTextRunes {
			break
		}
		if unicode.IsSpace(r) {
			out = append(out, ' ')
			continue
		}
		if i, err := f.GlyphIndex(&buf, r); err == nil && i != 0 {
			out = append(out, r)
		}
	}
	return string(trimSpaces(out))
}

func trimSpaces(r []rune) []rune {
	for len(r) > 0 && r[0] == ' ' {
		r = r[1:]
	}
	for len(r) > 0 && r[len(r)-1] == ' ' {
		r = r[:len(r)-1]
	}
	return r
}

// painter accumulates filled shapes into one alpha mask.
type painter struct {
	mask *image.Alpha
	z    *vector.Rasterizer
	font *sfnt.Font
	buf  sfnt.Buffer
}

// fill paints the current path into the mask and starts a new one.
func (p *painter) fill() {
	p.z.Draw(p.mask, p.mask.Bounds(), image.Opaque, image.Point{})
	b := p.mask.Bounds()
	p.z.Reset(b.Dx(), b.Dy())
}

// ellipseRing fills the band between two ellipses: the outer one traced one
// way and the inner one the other way, so the inside cancels out.
func (p *painter) ellipseRing(cx, cy, rx, ry, thick float64) {
	const n = 360
	trace := func(rx, ry float64, dir float64) {
		for i := 0; i <= n; i++ {
			a := dir * 2 * math.Pi * float64(i) / n
			x, y := float32(cx+rx*math.Cos(a)), float32(cy+ry*math.Sin(a))
			if i == 0 {
				p.z.MoveTo(x, y)
			} else {
				p.z.LineTo(x, y)
			}
		}
		p.z.ClosePath()
	}
	trace(rx, ry, 1)
	trace(rx-thick, ry-thick, -1)
	p.fill()
}

// star fills a five-pointed star of outer radius r, one point up.
func (p *painter) star(cx, cy, r float64) {
	inner := r * 0.382 // the classic star's ratio, (3-√5)/2
	for i := 0; i < 10; i++ {
		rr := r
		if i%2 == 1 {
			rr = inner
		}
		a := -math.Pi/2 + float64(i)*math.Pi/5
		x, y := float32(cx+rr*math.Cos(a)), float32(cy+rr*math.Sin(a))
		if i == 0 {
			p.z.MoveTo(x, y)
		} else {
			p.z.LineTo(x, y)
		}
	}
	p.z.ClosePath()
	p.fill()
}

// glyph is one laid-out character: its index and advance in pixels.
type glyph struct {
	index   sfnt.GlyphIndex
	advance float64
}

// layout looks up the glyphs of s at size pixels per em, with a little extra
// spacing as seal lettering has.
func (p *painter) layout(s string, size float64) ([]glyph, float64, error) {
	ppem := fixed.Int26_6(size * 64)
	var gs []glyph
	total := 0.0
	for _, r := range s {
		i, err := p.font.GlyphIndex(&p.buf, r)
		if err != nil || i == 0 {
			return nil, 0, fmt.Errorf("%w: %q", ErrMissingGlyph, r)
		}
		adv, err := p.font.GlyphAdvance(&p.buf, i, ppem, font.HintingNone)
		if err != nil {
			return nil, 0, fmt.Errorf("glyph advance of %q: %w", r, err)
		}
		a := float64(adv)/64 + size*0.08
		gs = append(gs, glyph{i, a})
		total += a
	}
	return gs, total, nil
}

// drawGlyph fills glyph g; place maps a point of the glyph (x along its
// baseline from its left edge, y down from the baseline) to the image.
func (p *painter) drawGlyph(g glyph, size float64, place func(x, y float64) (float32, float32)) error {
	segs, err := p.font.LoadGlyph(&p.buf, g.index, fixed.Int26_6(size*64), nil)
	if err != nil {
		return fmt.Errorf("load glyph: %w", err)
	}
	pt := func(q fixed.Point26_6) (float32, float32) { return place(float64(q.X)/64, float64(q.Y)/64) }
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			p.z.MoveTo(pt(s.Args[0]))
		case sfnt.SegmentOpLineTo:
			p.z.LineTo(pt(s.Args[0]))
		case sfnt.SegmentOpQuadTo:
			x1, y1 := pt(s.Args[0])
			x2, y2 := pt(s.Args[1])
			p.z.QuadTo(x1, y1, x2, y2)
		case sfnt.SegmentOpCubeTo:
			x1, y1 := pt(s.Args[0])
			x2, y2 := pt(s.Args[1])
			x3, y3 := pt(s.Args[2])
			p.z.CubeTo(x1, y1, x2, y2, x3, y3)
		}
	}
	p.z.ClosePath()
	p.fill()
	return nil
}

// lineText draws s horizontally centred on cx with its baseline at base,
// squeezed horizontally when wider than maxWidth.
func (p *painter) lineText(s string, size, cx, base, maxWidth float64) error {
	gs, total, err := p.layout(s, size)
	if err != nil {
		return err
	}
	sx := 1.0
	if total > maxWidth {
		sx = maxWidth / total
	}
	x := cx - total*sx/2
	for _, g := range gs {
		left := x
		if err := p.drawGlyph(g, size, func(gx, gy float64) (float32, float32) {
			return float32(left + gx*sx), float32(base + gy)
		}); err != nil {
			return err
		}
		x += g.advance * sx
	}
	return nil
}

// arcText draws s along the top of the ellipse (rx, ry) around (cx, cy):
// baselines on the ellipse, letters upright towards the rim, centred on the
// top, within span degrees either side of it (squeezed if longer).
func (p *painter) arcText(s string, size, cx, cy, rx, ry, span float64) error {
	gs, total, err := p.layout(s, size)
	if err != nil {
		return err
	}
	arc := newEllipseArc(cx, cy, rx, ry)
	limit := arc.length(span * math.Pi / 180)
	sx := 1.0
	if total > 2*limit {
		sx = 2 * limit / total
	}
	pos := -total * sx / 2 // arc length from the top, negative to the left
	for _, g := range gs {
		a := g.advance * sx
		px, py, tx, ty := arc.at(pos + a/2)
		nx, ny := ty, -tx // outward normal: the tangent turned a quarter anticlockwise on screen
		if err := p.drawGlyph(g, size, func(gx, gy float64) (float32, float32) {
			along := gx*sx - a/2
			up := -gy
			return float32(px + along*tx + up*nx), float32(py + along*ty + up*ny)
		}); err != nil {
			return err
		}
		pos += a
	}
	return nil
}

// ellipseArc measures arc length on an ellipse from its top, so letters
// keep even spacing on an oval as on a circle.
type ellipseArc struct {
	cx, cy, rx, ry float64
	u, s           []float64 // parameter offset from the top, and arc length from the top (both increasing)
}

func newEllipseArc(cx, cy, rx, ry float64) *ellipseArc {
	const n = 2048
	e := &ellipseArc{cx: cx, cy: cy, rx: rx, ry: ry, u: make([]float64, n+1), s: make([]float64, n+1)}
	for i := 0; i <= n; i++ {
		e.u[i] = -math.Pi + 2*math.Pi*float64(i)/n
	}
	mid := n / 2
	for i := mid + 1; i <= n; i++ {
		e.s[i] = e.s[i-1] + e.dist(e.u[i-1], e.u[i])
	}
	for i := mid - 1; i >= 0; i-- {
		e.s[i] = e.s[i+1] - e.dist(e.u[i], e.u[i+1])
	}
	return e
}

func (e *ellipseArc) point(u float64) (float64, float64) {
	phi := -math.Pi/2 + u // the top of the ellipse on screen
	return e.cx + e.rx*math.Cos(phi), e.cy + e.ry*math.Sin(phi)
}

func (e *ellipseArc) dist(u0, u1 float64) float64 {
	x0, y0 := e.point(u0)
	x1, y1 := e.point(u1)
	return math.Hypot(x1-x0, y1-y0)
}

// length is the arc length from the top to parameter offset u.
func (e *ellipseArc) length(u float64) float64 {
	return e.s[e.index(u, e.u)]
}

func (e *ellipseArc) index(v float64, xs []float64) int {
	lo, hi := 0, len(xs)-1
	for lo < hi {
		m := (lo + hi) / 2
		if xs[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// at gives the point at arc length s from the top and the unit tangent there
// (pointing left to right across the top).
func (e *ellipseArc) at(s float64) (x, y, tx, ty float64) {
	i := e.index(s, e.s)
	u := e.u[i]
	if i > 0 && e.s[i] != e.s[i-1] {
		f := (s - e.s[i-1]) / (e.s[i] - e.s[i-1])
		u = e.u[i-1] + f*(e.u[i]-e.u[i-1])
	}
	x, y = e.point(u)
	phi := -math.Pi/2 + u
	dx, dy := -e.rx*math.Sin(phi), e.ry*math.Cos(phi)
	l := math.Hypot(dx, dy)
	return x, y, dx / l, dy / l
}
