package pdfsign

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	"github.com/scansign/scansign/pdfsign/internal/pdf"
)

// SealImage is the picture of a seal as a seal company serves it.
type SealImage struct {
	Image []byte // PNG (transparency kept) or JPEG
	// Encoded, when set, is Image already encoded (EncodeSeal); Image is
	// then not read.
	Encoded *EncodedSeal
	// Width and Height are the seal's printed size in centimetres
	// (getSealImg's signWidth/signHeight); a placement without a size uses
	// them.
	Width, Height float64
	Name          string // signName, recorded as the signature's /Name when no signer name is given
}

// MaxSealPixels bounds the decoded seal image (width × height).
const MaxSealPixels = 4096 * 4096

// EncodedSeal is a seal image turned into PDF image data: done once per
// seal, reused by every prepare that places it (the HTTP API keeps the
// recent ones).
type EncodedSeal struct {
	width, height int
	colorSpace    pdf.Name
	filter        pdf.Name
	data          []byte // DCTDecode (JPEG as is) or FlateDecode samples
	alpha         []byte // FlateDecode soft mask, nil when opaque
}

// Aspect is height / width.
func (e *EncodedSeal) Aspect() float64 { return float64(e.height) / float64(e.width) }

// EncodeSeal decodes and checks a PNG or JPEG seal image and encodes it for
// PDF: PNG as RGB with its alpha channel as a soft mask, JPEG unchanged.
func EncodeSeal(data []byte) (*EncodedSeal, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fail(CodeBadImage, "签章图片不是有效的 PNG 或 JPEG", "the seal image is not a valid PNG or JPEG", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxSealPixels {
		return nil, fail(CodeBadImage, fmt.Sprintf("签章图片尺寸 %d×%d 超出限制", cfg.Width, cfg.Height), fmt.Sprintf("seal image %d×%d is too large", cfg.Width, cfg.Height), nil)
	}
	e := &EncodedSeal{width: cfg.Width, height: cfg.Height}
	switch format {
	case "jpeg":
		// JPEG goes in as it is: DCTDecode is what it already is.
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			return nil, fail(CodeBadImage, "签章图片 JPEG 无法解码", "the seal JPEG cannot be decoded", err)
		}
		e.colorSpace, e.filter, e.data = "DeviceRGB", "DCTDecode", data
		switch cfg.ColorModel {
		case color.GrayModel:
			e.colorSpace = "DeviceGray"
		case color.CMYKModel:
			e.colorSpace = "DeviceCMYK"
		}
		return e, nil
	case "png":
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fail(CodeBadImage, "签章图片 PNG 无法解码", "the seal PNG cannot be decoded", err)
		}
		rgb, alpha, opaque := splitAlpha(img)
		e.colorSpace, e.filter, e.data = "DeviceRGB", "FlateDecode", deflate(rgb)
		if !opaque {
			e.alpha = deflate(alpha)
		}
		return e, nil
	}
	return nil, fail(CodeBadImage, "签章图片只支持 PNG 或 JPEG", "the seal image must be PNG or JPEG, not "+format, nil)
}

// imageXObject adds the seal as an image XObject (with its /SMask).
func imageXObject(u *pdf.Update, e *EncodedSeal) pdf.Ref {
	d := pdf.Dict{
		"Type": pdf.Name("XObject"), "Subtype": pdf.Name("Image"),
		"Width": pdf.Integer(e.width), "Height": pdf.Integer(e.height),
		"ColorSpace": e.colorSpace, "BitsPerComponent": pdf.Integer(8), "Filter": e.filter,
	}
	if e.alpha != nil {
		d["SMask"] = u.Add(&pdf.Stream{Dict: pdf.Dict{
			"Type": pdf.Name("XObject"), "Subtype": pdf.Name("Image"),
			"Width": pdf.Integer(e.width), "Height": pdf.Integer(e.height),
			"ColorSpace": pdf.Name("DeviceGray"), "BitsPerComponent": pdf.Integer(8),
			"Filter": pdf.Name("FlateDecode"),
		}, Data: e.alpha})
	}
	return u.Add(&pdf.Stream{Dict: d, Data: e.data})
}

// deflate compresses fast: a seal image is small either way, and its
// encoding sits on the path of every prepare.
func deflate(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&out, zlib.BestSpeed)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// appearance returns the widget's normal appearance: a form XObject that
// draws the image through the placement's matrix.
func appearance(u *pdf.Update, img pdf.Ref, pl placed) pdf.Ref {
	m := pl.matrix
	content := fmt.Sprintf("q %s %s %s %s %s %s cm /Seal Do Q\n",
		num(m[0]), num(m[1]), num(m[2]), num(m[3]), num(m[4]), num(m[5]))
	return u.Add(&pdf.Stream{Dict: pdf.Dict{
		"Type": pdf.Name("XObject"), "Subtype": pdf.Name("Form"),
		"BBox":      pdf.Array{pdf.Integer(0), pdf.Integer(0), pdf.Real(pl.bboxW), pdf.Real(pl.bboxH)},
		"Resources": pdf.Dict{"XObject": pdf.Dict{"Seal": img}},
	}, Data: []byte(content)})
}

func num(f float64) string {
	s := fmt.Sprintf("%.4f", f)
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if s == "-0" {
		return "0"
	}
	return s
}

// splitAlpha returns the image's RGB samples and alpha channel (not
// premultiplied), reading the common PNG layouts directly.
func splitAlpha(img image.Image) (rgb, alpha []byte, opaque bool) {
	b := img.Bounds()
	n := b.Dx() * b.Dy()
	rgb, alpha = make([]byte, 0, 3*n), make([]byte, 0, n)
	opaque = true
	put := func(c color.NRGBA) {
		rgb = append(rgb, c.R, c.G, c.B)
		alpha = append(alpha, c.A)
		if c.A != 0xFF {
			opaque = false
		}
	}
	switch m := img.(type) {
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):m.PixOffset(b.Max.X, y)]
			for i := 0; i < len(row); i += 4 {
				put(color.NRGBA{R: row[i], G: row[i+1], B: row[i+2], A: row[i+3]})
			}
		}
	case *image.Paletted:
		pal := make([]color.NRGBA, len(m.Palette))
		for i, c := range m.Palette {
			pal[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for _, idx := range m.Pix[m.PixOffset(b.Min.X, y):m.PixOffset(b.Max.X, y)] {
				if int(idx) < len(pal) {
					put(pal[idx])
				} else {
					put(color.NRGBA{})
				}
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				put(color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA))
			}
		}
	}
	return rgb, alpha, opaque
}
