package pdfsign

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/internal/testtool"
)

func run(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// qpdfCheck fails the test unless qpdf --check finds no error or warning.
func qpdfCheck(t testing.TB, path string) {
	t.Helper()
	testtool.Need(t, "qpdf")
	out, err := run(t, "qpdf", "--check", path)
	if err != nil || strings.Contains(out, "WARNING") {
		t.Fatalf("qpdf --check %s: %v\n%s", filepath.Base(path), err, out)
	}
}

// render draws one page at 72 dpi (1 pixel = 1 point) as the viewer shows
// it: crop box, rotation applied.
func render(t testing.TB, path string, page int) image.Image {
	t.Helper()
	testtool.Need(t, "pdftoppm")
	dir := t.TempDir()
	p := fmt.Sprint(page)
	if out, err := run(t, "pdftoppm", "-r", "72", "-cropbox", "-png", "-f", p, "-l", p, "-singlefile", path, filepath.Join(dir, "page")); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func isRed(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r>>8 > 180 && g>>8 < 90 && b>>8 < 90
}

// redBounds is the bounding box of the red pixels.
func redBounds(img image.Image) image.Rectangle {
	var out image.Rectangle
	first := true
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if isRed(img.At(x, y)) {
				p := image.Rect(x, y, x+1, y+1)
				if first {
					out, first = p, false
				} else {
					out = out.Union(p)
				}
			}
		}
	}
	return out
}

// quadrantSeal is a test seal: a red top-left quadrant on a transparent
// background, so where the red lands shows position, size and orientation.
func quadrantSeal(t testing.TB) []byte {
	t.Helper()
	const n = 200
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n/2; y++ {
		for x := 0; x < n/2; x++ {
			img.Set(x, y, color.NRGBA{R: 230, A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
