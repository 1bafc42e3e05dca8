package pdfsign

import (
	"bytes"
	"image"
	"image/color"
	"image/png"

	"github.com/scansign/scansign/pdfsign/internal/pdf"
)

// extractSeal returns the first image drawn by a signature widget's normal
// appearance (looking one form deep), as JPEG when it is stored as one,
// else as PNG with its soft mask as alpha. Images it cannot decode are
// skipped.
func extractSeal(r *pdf.Reader, widget pdf.Dict) ([]byte, string) {
	ap, err := r.Dict(widget["AP"])
	if err != nil || ap == nil {
		return nil, ""
	}
	return findImage(r, ap["N"], 0)
}

func findImage(r *pdf.Reader, o pdf.Object, depth int) ([]byte, string) {
	if depth > 3 {
		return nil, ""
	}
	v, err := r.Resolve(o)
	if err != nil {
		return nil, ""
	}
	s, ok := v.(*pdf.Stream)
	if !ok {
		return nil, ""
	}
	if st, _ := s.Dict.Name("Subtype"); st == "Image" {
		return imageBytes(r, s)
	}
	res, _ := r.Dict(s.Dict["Resources"])
	xo, _ := r.Dict(res["XObject"])
	for _, x := range xo {
		if b, f := findImage(r, x, depth+1); b != nil {
			return b, f
		}
	}
	return nil, ""
}

func imageBytes(r *pdf.Reader, s *pdf.Stream) ([]byte, string) {
	if f, _ := s.Dict.Name("Filter"); f == "DCTDecode" {
		var b bytes.Buffer
		if _, err := b.ReadFrom(r.RawStream(s)); err != nil {
			return nil, ""
		}
		return b.Bytes(), "jpeg"
	}
	w, _ := s.Dict["Width"].(pdf.Integer)
	h, _ := s.Dict["Height"].(pdf.Integer)
	bpc, _ := s.Dict["BitsPerComponent"].(pdf.Integer)
	cs, _ := s.Dict.Name("ColorSpace")
	if w <= 0 || h <= 0 || int(w)*int(h) > MaxSealPixels || bpc != 8 {
		return nil, ""
	}
	comps := map[pdf.Name]int{"DeviceRGB": 3, "DeviceGray": 1}[cs]
	if comps == 0 {
		return nil, ""
	}
	data, err := r.StreamData(s)
	if err != nil || len(data) < int(w)*int(h)*comps {
		return nil, ""
	}
	var alpha []byte
	if sm, err := r.Resolve(s.Dict["SMask"]); err == nil {
		if ms, ok := sm.(*pdf.Stream); ok {
			if a, err := r.StreamData(ms); err == nil && len(a) >= int(w)*int(h) {
				alpha = a
			}
		}
	}
	img := image.NewNRGBA(image.Rect(0, 0, int(w), int(h)))
	for i := 0; i < int(w)*int(h); i++ {
		c := color.NRGBA{A: 255}
		if comps == 3 {
			c.R, c.G, c.B = data[3*i], data[3*i+1], data[3*i+2]
		} else {
			c.R, c.G, c.B = data[i], data[i], data[i]
		}
		if alpha != nil {
			c.A = alpha[i]
		}
		img.SetNRGBA(i%int(w), i/int(w), c)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, ""
	}
	return b.Bytes(), "png"
}
