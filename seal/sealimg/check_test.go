package sealimg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeaderOnly is a PNG that claims w×h pixels in its header and has no
// image data: what a decompression bomb looks like to DecodeConfig.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestCheck(t *testing.T) {
	transparent := image.NewNRGBA(image.Rect(0, 0, 20, 10))
	transparent.Set(3, 3, color.NRGBA{R: 200, A: 255})
	opaque := image.NewRGBA(image.Rect(0, 0, 20, 10))
	for i := range opaque.Pix {
		opaque.Pix[i] = 0xff
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, opaque, nil); err != nil {
		t.Fatal(err)
	}
	goodPNG := encodePNG(t, transparent)
	big := image.NewGray(image.Rect(0, 0, MaxImageSide+1, 1))

	tests := []struct {
		name    string
		data    []byte
		want    Info
		wantErr bool
	}{
		{"png with alpha", goodPNG, Info{Format: "png", Ext: "png", Width: 20, Height: 10, Transparent: true}, false},
		{"opaque png", encodePNG(t, opaque), Info{Format: "png", Ext: "png", Width: 20, Height: 10}, false},
		{"jpeg", jpg.Bytes(), Info{Format: "jpeg", Ext: "jpg", Width: 20, Height: 10}, false},
		{"empty", nil, Info{}, true},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), Info{}, true},
		{"text", []byte("not an image"), Info{}, true},
		{"truncated png", goodPNG[:len(goodPNG)-20], Info{}, true},
		{"truncated jpeg", jpg.Bytes()[:len(jpg.Bytes())/2], Info{}, true},
		{"too wide", encodePNG(t, big), Info{}, true},
		{"header claims a gigapixel", pngHeaderOnly(40000, 40000), Info{}, true},
		{"zero size header", pngHeaderOnly(0, 0), Info{}, true},
		{"too many bytes", append(bytes.Clone(goodPNG), make([]byte, MaxImageBytes)...), Info{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check(tt.data)
			if tt.wantErr {
				if !errors.Is(err, ErrImage) {
					t.Fatalf("Check = %+v, %v; want an ErrImage", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Check = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestCommittedSamplesAccepted(t *testing.T) {
	for _, s := range Samples() {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "seals", s.File))
		if err != nil {
			t.Fatal(err)
		}
		info, err := Check(b)
		if err != nil {
			t.Fatalf("%s: %v", s.File, err)
		}
		if info.Format != "png" || !info.Transparent {
			t.Errorf("%s: %+v, want a transparent PNG", s.File, info)
		}
		if len(b) > 64<<10 {
			t.Errorf("%s is %d bytes; keep samples to a few tens of KB", s.File, len(b))
		}
	}
}

func FuzzCheck(f *testing.F) {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.NRGBA{R: 255, A: 128})
	var b bytes.Buffer
	png.Encode(&b, img)
	f.Add(b.Bytes())
	b.Reset()
	jpeg.Encode(&b, img, nil)
	f.Add(b.Bytes())
	f.Add(pngHeaderOnly(3, 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Check(data)
		if err != nil {
			if !errors.Is(err, ErrImage) {
				t.Fatalf("error %v does not wrap ErrImage", err)
			}
			return
		}
		if info.Width < 1 || info.Height < 1 || info.Width > MaxImageSide || info.Height > MaxImageSide {
			t.Fatalf("accepted out-of-limit image %+v", info)
		}
	})
}
