package relay

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// QR code image sizes (pixels, square).
const (
	DefaultQRSize = 256
	MinQRSize     = 100 // two pixels per module of the shortest payload's code
	MaxQRSize     = 1024
)

// QRPayload is what the guide's QR code holds (二维码格式), in its order.
type QRPayload struct {
	GUID string `json:"guid"`
	URL  string `json:"url"`
	City string `json:"city"`
}

// Payload gives the QR payload JSON for operation guid shown in city, with
// the configured public URL; city must be in the platform table (400).
func (s *Service) Payload(guid, city string) ([]byte, error) {
	if _, ok := s.cities[city]; !ok {
		if city == "" {
			return nil, fail(CodeBadRequest, "缺少参数 city")
		}
		return nil, fail(CodeBadRequest, "city 不在平台编码表中")
	}
	b, err := json.Marshal(QRPayload{GUID: guid, URL: s.cfg.PublicURL, City: city})
	if err != nil {
		return nil, internal(err)
	}
	return b, nil
}

// Cities is the platform table in force.
func (s *Service) Cities() []City { return append([]City(nil), s.cfg.Cities...) }

// handleQRCode answers GET /qrcode?guid&token&city[&size] with the PNG of
// the payload. Only the system token bound to the operation may ask. Not a
// guide endpoint, so refusals carry the code as the HTTP status as well
// (an <img> then fails visibly).
func (s *Service) handleQRCode(w http.ResponseWriter, r *http.Request) {
	p, err := DecodeParams(r, s.cfg.Limits)
	var png []byte
	if err == nil {
		png, err = s.qrPNG(r, p)
	}
	if err != nil {
		s.WriteFailure(w, r, 0, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(png)))
	w.Write(png)
}

func (s *Service) qrPNG(r *http.Request, p Params) ([]byte, error) {
	pr, op, err := s.authOp(r.Context(), p)
	if err != nil {
		return nil, err
	}
	if pr.Role != RoleSystem {
		return nil, fail(CodeForbidden, "只有交易系统（system）账号可以生成二维码")
	}
	size := DefaultQRSize
	if v := strings.TrimSpace(p.Get("size")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < MinQRSize || n > MaxQRSize {
			return nil, fail(CodeBadRequest, "size 须为 %d 到 %d 之间的像素数", MinQRSize, MaxQRSize)
		}
		size = n
	}
	payload, err := s.Payload(op.GUID, strings.TrimSpace(p.Get("city")))
	if err != nil {
		return nil, err
	}
	return QRCodePNG(payload, size)
}

// QRCodePNG draws payload as a size×size PNG QR code (error correction M,
// the 4-module quiet zone) for a camera to read. Every module is the same
// whole number of pixels, the code centred on white: go-qrcode's own PNG
// scales modules to fractional widths, which made one code in a few
// hundred unreadable to ZXing, and none readable at 64 px. A size that
// leaves a module fewer than two pixels is refused (400), saying the
// smallest size that works for this payload.
func QRCodePNG(payload []byte, size int) ([]byte, error) {
	q, err := qrcode.New(string(payload), qrcode.Medium)
	if err != nil {
		return nil, fail(CodeBadRequest, "二维码内容过长")
	}
	bits := q.Bitmap() // true = dark; the quiet zone included
	modules := len(bits)
	px := size / modules
	if px < minModulePixels {
		return nil, fail(CodeBadRequest, "size 太小：此二维码至少须 %d 像素才能被扫码识别", minModulePixels*modules)
	}
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	margin := (size - px*modules) / 2
	for y, row := range bits {
		for x, dark := range row {
			if !dark {
				continue
			}
			x0, y0 := margin+x*px, margin+y*px
			for yy := y0; yy < y0+px; yy++ {
				line := img.Pix[yy*img.Stride:]
				for xx := x0; xx < x0+px; xx++ {
					line[xx] = 1 // palette index of black
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil { // two colours: 1 bit per pixel
		return nil, internal(err)
	}
	return buf.Bytes(), nil
}

// minModulePixels: a module narrower than two pixels does not survive a
// screen and a phone camera.
const minModulePixels = 2
