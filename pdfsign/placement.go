package pdfsign

import (
	"fmt"
	"math"
)

// Placement says where the seal goes, as the reader sees the page: page
// number (1-based); X, Y of the seal's top-left corner in centimetres from
// the top-left corner of the visible page (the crop box, after /Rotate);
// Width, Height in centimetres (zero: the seal's own size).
type Placement struct {
	Page          int
	X, Y          float64
	Width, Height float64
}

const pointsPerCM = 72 / 2.54

// placed is a placement turned into PDF user space.
type placed struct {
	rect   [4]float64 // the annotation /Rect (user space)
	bboxW  float64    // the appearance's BBox is [0 0 bboxW bboxH]
	bboxH  float64
	matrix [6]float64 // maps the image's unit square into the BBox, upright as seen
}

// place computes the rectangle and image matrix for a w×h cm seal at (x, y)
// cm on page p. Pages rotated by /Rotate are shown turned clockwise, so the
// image is turned the other way inside the appearance to look upright.
func place(p *pageInfo, x, y, wcm, hcm float64) (placed, error) {
	var out placed
	for _, v := range []float64{x, y, wcm, hcm} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return out, fail(CodeBadPlacement, "签章位置参数无效", "placement is not a number", nil)
		}
	}
	if wcm <= 0 || hcm <= 0 || wcm > 200 || hcm > 200 {
		return out, fail(CodeBadPlacement, "签章宽高必须大于 0 且不超过 200 厘米", "seal width and height must be positive and at most 200 cm", nil)
	}
	unit := pointsPerCM / p.userUnit
	u0, v0, w, h := x*unit, y*unit, wcm*unit, hcm*unit
	c := p.crop
	visW, visH := c.width(), c.height()
	if p.rotate == 90 || p.rotate == 270 {
		visW, visH = visH, visW
	}
	const slack = 0.01 // rounding of cm to points
	if x < 0 || y < 0 || u0+w > visW+slack || v0+h > visH+slack {
		return out, fail(CodeBadPlacement,
			fmt.Sprintf("签章区域超出页面：页面可见区域为 %.2f × %.2f 厘米", visW/unit, visH/unit),
			fmt.Sprintf("the seal does not fit on the page: the visible page is %.2f × %.2f cm", visW/unit, visH/unit), nil)
	}
	// toUser maps a point (u right, v down from the visible top-left) to
	// user space.
	toUser := func(u, v float64) (float64, float64) {
		switch p.rotate {
		case 90:
			return c.llx + v, c.lly + u
		case 180:
			return c.urx - u, c.lly + v
		case 270:
			return c.urx - v, c.ury - u
		}
		return c.llx + u, c.ury - v
	}
	x1, y1 := toUser(u0, v0)
	x2, y2 := toUser(u0+w, v0+h)
	out.rect = [4]float64{math.Min(x1, x2), math.Min(y1, y2), math.Max(x1, x2), math.Max(y1, y2)}
	out.bboxW, out.bboxH = out.rect[2]-out.rect[0], out.rect[3]-out.rect[1]
	switch p.rotate {
	case 90: // turn the image 90° counter-clockwise
		out.matrix = [6]float64{0, w, -h, 0, h, 0}
	case 180:
		out.matrix = [6]float64{-w, 0, 0, -h, w, h}
	case 270:
		out.matrix = [6]float64{0, -w, h, 0, 0, w}
	default:
		out.matrix = [6]float64{w, 0, 0, h, 0, 0}
	}
	return out, nil
}
