package sealimg

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
)

// Limits on a seal image. A seal is a few centimetres wide; at 600 dpi a
// 5 cm seal is about 1,200 pixels, so 2,000 pixels a side leaves room and still
// keeps a decoded image (16 MB at most) and the base64 answer small.
const (
	MaxImageBytes = 1 << 20 // encoded size
	MaxImageSide  = 2000    // pixels, width and height each
)

// ErrImage is wrapped by every refusal of Check.
var ErrImage = errors.New("seal image not accepted")

// Info describes an accepted image.
type Info struct {
	Format      string // "png" or "jpeg"
	Ext         string // the file suffix the guide's signExt carries: "png" or "jpg"
	Width       int    // pixels
	Height      int    // pixels
	Transparent bool   // some pixel is not fully opaque (PNG only in practice)
}

// Check accepts a PNG or JPEG seal image within the limits and reports what
// it is. It reads the header first so an oversized image is refused before it
// is decoded (a tiny PNG can claim gigapixels).
func Check(data []byte) (Info, error) {
	if len(data) == 0 {
		return Info{}, fmt.Errorf("%w: empty", ErrImage)
	}
	if len(data) > MaxImageBytes {
		return Info{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrImage, len(data), MaxImageBytes)
	}
	var (
		info   Info
		decode func([]byte) (image.Image, error)
		cfg    image.Config
		err    error
	)
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		info.Format, info.Ext = "png", "png"
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
		decode = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		info.Format, info.Ext = "jpeg", "jpg"
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
		decode = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	default:
		return Info{}, fmt.Errorf("%w: not a PNG or JPEG file", ErrImage)
	}
	if err != nil {
		return Info{}, fmt.Errorf("%w: unreadable %s header: %v", ErrImage, info.Format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return Info{}, fmt.Errorf("%w: %d×%d pixels, each side must be 1–%d", ErrImage, cfg.Width, cfg.Height, MaxImageSide)
	}
	img, err := decode(data)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %s does not decode: %v", ErrImage, info.Format, err)
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	info.Transparent = !isOpaque(img)
	return info, nil
}

// isOpaque uses the image's own Opaque method (every image type of the
// standard decoders has one) and treats any other image as opaque.
func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return true
}
