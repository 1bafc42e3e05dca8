package phone

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // QR photos and screenshots come as JPEG too
	_ "image/png"
	"io"
	"strings"

	"github.com/makiuchi-d/gozxing"
	zxmulti "github.com/makiuchi-d/gozxing/multi/qrcode"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	qrcode "github.com/skip2/go-qrcode"
)

// MaxQRImageBytes bounds a QR code image file.
const MaxQRImageBytes = 8 << 20

// maxQRImagePixels bounds the decoded image (width × height), so a small
// file that claims a huge size cannot exhaust memory.
const maxQRImagePixels = 4096 * 4096

// DecodeQRImage reads the text of the QR code in a PNG or JPEG image (a
// screenshot of the trading system's page, or the relay's /qrcode).
func DecodeQRImage(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxQRImageBytes+1))
	if err != nil {
		return "", fmt.Errorf("phone: read QR image: %w", err)
	}
	if len(data) > MaxQRImageBytes {
		return "", fmt.Errorf("phone: QR image larger than %d bytes", MaxQRImageBytes)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("phone: QR image is not a PNG or JPEG: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxQRImagePixels {
		return "", fmt.Errorf("phone: QR image of %d×%d pixels is too large", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("phone: decode QR image: %w", err)
	}
	text, err := decodeQR(img)
	if err != nil {
		return "", fmt.Errorf("phone: no QR code found in the image: %w", err)
	}
	return text, nil
}

// decodeQR tries ZXing's readers, cheapest first, and takes the first that
// reads. PURE_BARCODE samples a code that fills the image squarely (the
// relay's /qrcode PNG) and reads every one of those. A photo or a
// screenshot needs a finder-pattern search: the single-code search misses
// about one code in 250 (it settles on a wrong triple of finder patterns
// and gets the dimension wrong), where the multiple-code search, which
// weighs every triple, reads them. A screenshot cropped to the code's edge
// leaves the search no quiet zone, so the last tries add a white margin.
func decodeQR(img image.Image) (string, error) {
	pure := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true}
	harder := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	single := func(img image.Image, hints map[gozxing.DecodeHintType]any) (string, error) {
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			return "", err
		}
		res, err := zxqr.NewQRCodeReader().Decode(bmp, hints)
		if err != nil {
			return "", err
		}
		return res.GetText(), nil
	}
	multiple := func(img image.Image, hints map[gozxing.DecodeHintType]any) (string, error) {
		bmp, err := gozxing.NewBinaryBitmapFromImage(img)
		if err != nil {
			return "", err
		}
		res, err := zxmulti.NewQRCodeMultiReader().DecodeMultiple(bmp, hints)
		if err != nil {
			return "", err
		}
		for _, r := range res[1:] {
			if r.GetText() != res[0].GetText() {
				return "", errors.New("the image holds more than one QR code")
			}
		}
		return res[0].GetText(), nil
	}
	var margin image.Image
	withMarginOnce := func() image.Image {
		if margin == nil {
			margin = withMargin(img)
		}
		return margin
	}
	tries := []func() (string, error){
		func() (string, error) { return single(img, pure) },
		func() (string, error) { return single(img, harder) },
		func() (string, error) { return multiple(img, harder) },
		func() (string, error) { return single(withMarginOnce(), harder) },
		func() (string, error) { return multiple(withMarginOnce(), harder) },
	}
	var last error
	for _, try := range tries {
		text, err := try()
		if err == nil {
			return text, nil
		}
		last = err
	}
	return "", last
}

// withMargin is img on white with a margin of a tenth of its larger side.
func withMargin(img image.Image) image.Image {
	b := img.Bounds()
	m := max(b.Dx(), b.Dy())/10 + 1
	out := image.NewGray(image.Rect(0, 0, b.Dx()+2*m, b.Dy()+2*m))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, b.Sub(b.Min).Add(image.Pt(m, m)), img, b.Min, draw.Src)
	return out
}

// TerminalQR draws text as a QR code with Unicode half blocks, two module
// rows per line, with the quiet zone around it. Like `qrencode -t UTF8`,
// light modules are drawn and dark ones left blank, so the code reads right
// on the dark background terminals usually have.
func TerminalQR(text string) (string, error) {
	if text == "" {
		return "", errors.New("phone: nothing to draw")
	}
	q, err := qrcode.New(text, qrcode.Low)
	if err != nil {
		return "", fmt.Errorf("phone: QR code: %w", err)
	}
	bits := q.Bitmap() // true = dark, with a 4-module quiet zone
	// Two quiet-zone modules are enough on a terminal; trim the rest.
	trim := 2
	if len(bits) > 2*trim {
		bits = bits[trim : len(bits)-trim]
		for i := range bits {
			bits[i] = bits[i][trim : len(bits[i])-trim]
		}
	}
	light := func(y, x int) bool { return y >= len(bits) || !bits[y][x] }
	var b strings.Builder
	for y := 0; y < len(bits); y += 2 {
		for x := range bits[y] {
			top, bottom := light(y, x), light(y+1, x)
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}
