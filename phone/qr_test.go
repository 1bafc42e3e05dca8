package phone_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/google/uuid"

	"github.com/scansign/scansign/phone"
	"github.com/scansign/scansign/relay"
)

// TestDecodeQRImageRelayCodes: a thousand codes as the relay's /qrcode
// draws them, handed to `scansign app --qr-image` the ways people do: the
// PNG as served, saved again as JPEG, cropped to the code's edge (no quiet
// zone), and as a screenshot of a page with the code somewhere on it.
// Every one must read back exactly.
func TestDecodeQRImageRelayCodes(t *testing.T) {
	variants := []struct {
		name string
		make func(t *testing.T, served []byte) []byte
	}{
		{"png", func(_ *testing.T, served []byte) []byte { return served }},
		{"jpeg", func(t *testing.T, served []byte) []byte { return encodeJPEG(t, decodePNG(t, served)) }},
		{"cropped", func(t *testing.T, served []byte) []byte { return encodePNG(t, cropToCode(decodePNG(t, served))) }},
		{"screenshot", func(t *testing.T, served []byte) []byte { return encodePNG(t, onPage(decodePNG(t, served))) }},
	}
	for i := range 1000 {
		payload := fmt.Sprintf(`{"guid":%q,"url":"https://relay.example.cn/scan","city":"P3401000001"}`, uuid.NewString())
		size := relay.MinQRSize + (i*41)%300
		served, err := relay.QRCodePNG([]byte(payload), size)
		if err != nil {
			t.Fatal(err)
		}
		v := variants[i%len(variants)]
		got, err := phone.DecodeQRImage(bytes.NewReader(v.make(t, served)))
		if err != nil || got != payload {
			t.Fatalf("code %d, %s at %d px: read %q, %v", i, v.name, size, got, err)
		}
	}
}

func decodePNG(t *testing.T, b []byte) image.Image {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cropToCode cuts the image to the bounding box of its dark pixels.
func cropToCode(img image.Image) image.Image {
	b := img.Bounds()
	box := image.Rectangle{Min: b.Max, Max: b.Min}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, box.Dx(), box.Dy()))
	draw.Draw(out, out.Bounds(), img, box.Min, draw.Src)
	return out
}

// onPage puts the code on a light grey page with some text-like bars.
func onPage(code image.Image) image.Image {
	page := image.NewRGBA(image.Rect(0, 0, code.Bounds().Dx()+300, code.Bounds().Dy()+200))
	draw.Draw(page, page.Bounds(), image.NewUniform(color.Gray{0xf0}), image.Point{}, draw.Src)
	for y := 20; y < 60; y += 12 {
		draw.Draw(page, image.Rect(20, y, 260, y+6), image.NewUniform(color.Gray{0x30}), image.Point{}, draw.Src)
	}
	draw.Draw(page, code.Bounds().Add(image.Pt(170, 110)), code, code.Bounds().Min, draw.Src)
	return page
}
