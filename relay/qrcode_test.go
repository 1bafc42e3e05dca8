package relay

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/scansign/scansign/internal/testtool"
)

// TestQRCodePNGReadable: a thousand codes, as /qrcode draws them for
// public URLs of several lengths and sizes from the smallest allowed up,
// every one read back exactly by two independent decoders: ZXing (gozxing)
// and ZBar's zbarimg (Debian zbar-tools). Before modules were drawn whole
// pixels wide, a few in a thousand were unreadable.
func TestQRCodePNGReadable(t *testing.T) {
	testtool.Need(t, "zbarimg")
	const n = 1000
	urls := []string{"https://relay.example.cn/scan", "https://ggzy.example.gov.cn:8443/scansign/relay", "http://10.0.0.1"}
	dir := t.TempDir()
	var files, want []string
	for i := range n {
		payload := fmt.Sprintf(`{"guid":%q,"url":%q,"city":"P3401000001"}`, uuid.NewString(), urls[i%len(urls)])
		// Mostly the small sizes, where modules are 2–5 pixels and
		// rounding matters; every 50th up to the largest.
		size := MinQRSize + (i*37)%300
		if i%50 == 0 {
			size = MinQRSize + (i*37)%(MaxQRSize-MinQRSize+1)
		}
		img, err := QRCodePNG([]byte(payload), size)
		if err != nil {
			// A size too small for this payload is refused, never drawn.
			if size < 2*57 && strings.Contains(err.Error(), "size 太小") {
				continue
			}
			t.Fatalf("size %d: %v", size, err)
		}
		pic, err := png.Decode(bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		if b := pic.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Fatalf("size %d: image %v", size, b)
		}
		bmp, _ := gozxing.NewBinaryBitmapFromImage(pic)
		res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
		if err != nil || res.GetText() != payload {
			t.Fatalf("ZXing, code %d (size %d): %v", i, size, err)
		}
		f := filepath.Join(dir, fmt.Sprintf("%04d.png", i))
		if err := os.WriteFile(f, img, 0o600); err != nil {
			t.Fatal(err)
		}
		files, want = append(files, f), append(want, payload)
	}
	if len(files) < n*9/10 {
		t.Fatalf("only %d of %d sizes drawn", len(files), n)
	}
	// One zbarimg for all: it prints one line per code, in file order.
	out, err := exec.Command("zbarimg", append([]string{"-q", "--raw", "-Sdisable", "-Sqrcode.enable"}, files...)...).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if !slices.Equal(got, want) {
		t.Fatalf("zbarimg read %d codes, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestQRCodePNGTooSmall: a size that would leave modules under two pixels
// is refused with the size that works.
func TestQRCodePNGTooSmall(t *testing.T) {
	payload := []byte(`{"guid":"` + uuid.NewString() + `","url":"https://ggzy.example.gov.cn:8443/a/rather/long/path/to/the/scansign/relay","city":"P3401000001"}`)
	_, err := QRCodePNG(payload, MinQRSize)
	if code, msg := InvokeCode(err); code != CodeBadRequest || !strings.Contains(msg, "至少须") {
		t.Fatalf("%d %s", code, msg)
	}
}
