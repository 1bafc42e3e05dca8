package pdfsign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scansign/scansign/internal/testpki"
)

func corpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "pdf", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goodCorpus are the corpus files prepare must seal.
var goodCorpus = []string{
	"gs-basic.pdf", "gs-many-pages.pdf", "qpdf-xref-stream.pdf", "qpdf-linearized.pdf",
	"qpdf-linearized-objstm.pdf", "qpdf-rotated.pdf", "mupdf-offset-cropbox.pdf",
	"mupdf-offset-cropbox-rot90.pdf", "mupdf-chinese.pdf", "mupdf-incremental.pdf", "poppler-signed.pdf",
}

func prepareFile(t testing.TB, in []byte, req PrepareRequest) ([]byte, *Prepared) {
	t.Helper()
	var out bytes.Buffer
	p, err := Prepare(context.Background(), bytes.NewReader(in), int64(len(in)), req, &out)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	return out.Bytes(), p
}

func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrepareKeepsOriginalAndPassesQPDF(t *testing.T) {
	for _, name := range goodCorpus {
		t.Run(name, func(t *testing.T) {
			in := corpus(t, name)
			out, p := prepareFile(t, in, PrepareRequest{
				Seal:      SealImage{Image: quadrantSeal(t), Width: 4, Height: 4},
				Placement: Placement{Page: 1, X: 2, Y: 3},
				Shape:     ShapeP7Hash, // placement only: no signer needed
			})
			if !bytes.Equal(out[:len(in)], in) {
				t.Fatal("the original bytes changed")
			}
			if p.Size != int64(len(out)) || p.ByteRange[2]+p.ByteRange[3] != p.Size {
				t.Fatalf("byte range %v does not end at the file size %d", p.ByteRange, len(out))
			}
			// The digest is over the two ranges.
			h := p.DigestAlgorithm.New()
			h.Write(out[:p.ByteRange[1]])
			h.Write(out[p.ByteRange[2]:])
			if !bytes.Equal(h.Sum(nil), p.Digest) {
				t.Fatal("digest is not the digest of the byte ranges")
			}
			if out[p.ByteRange[1]] != '<' || out[p.ByteRange[2]-1] != '>' {
				t.Fatal("the gap is not the /Contents string")
			}
			qpdfCheck(t, writeTemp(t, "out.pdf", out))
		})
	}
}

// TestPrepareXRefFlavour: the update's cross-reference section is of the
// file's kind (a table after a stream hides signatures from poppler).
func TestPrepareXRefFlavour(t *testing.T) {
	for name, wantStream := range map[string]bool{"gs-basic.pdf": false, "qpdf-xref-stream.pdf": true, "qpdf-linearized-objstm.pdf": true} {
		in := corpus(t, name)
		out, _ := prepareFile(t, in, PrepareRequest{Seal: SealImage{Image: quadrantSeal(t)}, Placement: Placement{Page: 1, X: 1, Y: 1, Width: 3, Height: 3}, Shape: ShapeP7Hash})
		tail := out[len(in):]
		hasTable := bytes.Contains(tail, []byte("\nxref\n"))
		hasStream := bytes.Contains(tail, []byte("/Type /XRef"))
		if wantStream != hasStream || wantStream == hasTable {
			t.Errorf("%s: table=%v stream=%v, want stream=%v", name, hasTable, hasStream, wantStream)
		}
	}
}

// TestSealLandsWhereAsked renders each page with pdftoppm and checks that
// the red quadrant of the test seal sits at the requested place, upright,
// on unrotated, rotated and offset pages.
func TestSealLandsWhereAsked(t *testing.T) {
	cases := []struct {
		file string
		page int
	}{
		{"gs-basic.pdf", 1},
		{"qpdf-rotated.pdf", 1}, {"qpdf-rotated.pdf", 2}, {"qpdf-rotated.pdf", 3}, {"qpdf-rotated.pdf", 4},
		{"mupdf-offset-cropbox.pdf", 1}, {"mupdf-offset-cropbox-rot90.pdf", 1},
		{"gs-many-pages.pdf", 40}, {"mupdf-chinese.pdf", 1},
	}
	const x, y, w, h = 3.0, 5.0, 4.0, 3.0 // cm
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s#%d", c.file, c.page), func(t *testing.T) {
			out, _ := prepareFile(t, corpus(t, c.file), PrepareRequest{
				Seal:      SealImage{Image: quadrantSeal(t)},
				Placement: Placement{Page: c.page, X: x, Y: y, Width: w, Height: h},
				Shape:     ShapeP7Hash,
			})
			img := render(t, writeTemp(t, "out.pdf", out), c.page)
			got := redBounds(img)
			px := func(cm float64) int { return int(math.Round(cm * pointsPerCM)) }
			// The red quadrant is the seal's top-left quarter.
			want := image.Rect(px(x), px(y), px(x+w/2), px(y+h/2))
			if d := rectDiff(got, want); d > 2 {
				t.Fatalf("red pixels at %v, want %v (page image %v)", got, want, img.Bounds())
			}
		})
	}
}

func rectDiff(a, b image.Rectangle) int {
	d := 0
	for _, v := range []int{a.Min.X - b.Min.X, a.Min.Y - b.Min.Y, a.Max.X - b.Max.X, a.Max.Y - b.Max.Y} {
		if v < 0 {
			v = -v
		}
		d = max(d, v)
	}
	return d
}

func TestPrepareRefuses(t *testing.T) {
	seal := SealImage{Image: quadrantSeal(t), Width: 4, Height: 4}
	cases := []struct {
		name string
		file string
		in   []byte
		req  PrepareRequest
		code Code
	}{
		{name: "encrypted", file: "qpdf-encrypted.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 1}, Shape: ShapeP7Hash}, code: CodeEncrypted},
		{name: "truncated", file: "broken-truncated.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 1}, Shape: ShapeP7Hash}, code: CodeMalformed},
		{name: "no startxref", file: "broken-no-startxref.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 1}, Shape: ShapeP7Hash}, code: CodeMalformed},
		{name: "not a pdf", file: "broken-not-pdf.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 1}, Shape: ShapeP7Hash}, code: CodeMalformed},
		{name: "empty", in: []byte{}, req: PrepareRequest{Seal: seal, Placement: Placement{Page: 1}, Shape: ShapeP7Hash}, code: CodeMalformed},
		{name: "page 0", file: "gs-basic.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 0}, Shape: ShapeP7Hash}, code: CodePageOutOfRange},
		{name: "page 3 of 2", file: "gs-basic.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 3}, Shape: ShapeP7Hash}, code: CodePageOutOfRange},
		{name: "off the page", file: "gs-basic.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 1, X: 19, Y: 1}, Shape: ShapeP7Hash}, code: CodeBadPlacement},
		{name: "negative", file: "gs-basic.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 1, X: -1, Y: 1}, Shape: ShapeP7Hash}, code: CodeBadPlacement},
		{name: "bad image", file: "gs-basic.pdf", req: PrepareRequest{Seal: SealImage{Image: []byte("GIF89a")}, Placement: Placement{Page: 1}, Shape: ShapeP7Hash}, code: CodeBadImage},
		{name: "small placeholder", file: "gs-basic.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 1}, Shape: ShapeP7Hash, PlaceholderSize: 1000}, code: CodePlaceholderTooSmall},
		{name: "cms without a certificate", file: "gs-basic.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 1}}, code: CodeBadRequest},
		{name: "cms with a digest but no certificate", file: "gs-basic.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 1}, Digest: SHA256}, code: CodeBadRequest},
		{name: "field taken", file: "poppler-signed.pdf", req: PrepareRequest{Seal: seal, Placement: Placement{Page: 1}, Shape: ShapeP7Hash, FieldName: "Signature1"}, code: CodeFieldExists},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			if c.file != "" {
				in = corpus(t, c.file)
			}
			var out bytes.Buffer
			_, err := Prepare(context.Background(), bytes.NewReader(in), int64(len(in)), c.req, &out)
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code {
				t.Fatalf("got %v, want code %s", err, c.code)
			}
			if e.Message == "" || e.English == "" {
				t.Fatal("refusal without a reason")
			}
		})
	}
}

// TestJPEGSeal: a JPEG seal goes in as DCTDecode, lands where asked, and
// comes back out unchanged.
func TestJPEGSeal(t *testing.T) {
	pki := thePKI(t)
	src, err := png.Decode(bytes.NewReader(quadrantSeal(t)))
	if err != nil {
		t.Fatal(err)
	}
	// JPEG has no transparency: the quadrant on white.
	img := image.NewRGBA(src.Bounds())
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(img, img.Bounds(), src, image.Point{}, draw.Over)
	var j bytes.Buffer
	if err := jpeg.Encode(&j, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	id, _ := pki.identity(t, "rsa-person")
	prepared, p := prepareFile(t, corpus(t, "qpdf-rotated.pdf"), PrepareRequest{
		Seal: SealImage{Image: j.Bytes()}, Placement: Placement{Page: 2, X: 3, Y: 5, Width: 4, Height: 4}, Signer: id.Certificate,
	})
	var out bytes.Buffer
	if _, err := Complete(context.Background(), bytes.NewReader(prepared), int64(len(prepared)), answer(t, id, p), CompleteOptions{Verifier: pki.verifier}, &out); err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, "jpeg.pdf", out.Bytes())
	qpdfCheck(t, path)
	got := redBounds(render(t, path, 2))
	px := func(cm float64) int { return int(math.Round(cm * pointsPerCM)) }
	if d := rectDiff(got, image.Rect(px(3), px(5), px(5), px(7))); d > 2 {
		t.Fatalf("red pixels at %v", got)
	}
	rep := verifyPDF(t, pki.verifier, out.Bytes(), true)
	if s := rep.Signatures[0]; s.SealImageFormat != "jpeg" || !bytes.Equal(s.SealImage, j.Bytes()) {
		t.Fatalf("extracted %s, %d bytes", s.SealImageFormat, len(s.SealImage))
	}
}

// TestPrepareDigestChoice: the digest comes from the request, else from the
// signer's certificate. The cms shape needs the certificate, digest or no
// digest: the signed attributes the app signs must carry its
// signing-certificate-v2 (PAdES-B-B), and its key decides the digest.
// p7hash fits any key, so without a certificate it takes SM3.
func TestPrepareDigestChoice(t *testing.T) {
	in := corpus(t, "gs-basic.pdf")
	seal := SealImage{Image: quadrantSeal(t), Width: 4, Height: 4}
	at := Placement{Page: 1, X: 2, Y: 3}
	rsa, sm2 := testpki.Certificate(t, "rsa-person"), testpki.Certificate(t, "sm2-person")
	for _, c := range []struct {
		name string
		req  PrepareRequest
		want DigestAlgorithm
	}{
		{"RSA signer", PrepareRequest{Signer: rsa}, SHA256},
		{"SM2 signer", PrepareRequest{Signer: sm2}, SM3},
		{"digest asked beats the signer's", PrepareRequest{Signer: sm2, Digest: SHA256}, SHA256},
		{"p7hash, digest asked", PrepareRequest{Shape: ShapeP7Hash, Digest: SHA256}, SHA256},
		{"p7hash without either", PrepareRequest{Shape: ShapeP7Hash}, SM3},
		{"p7hash, RSA signer", PrepareRequest{Shape: ShapeP7Hash, Signer: rsa}, SHA256},
	} {
		c.req.Seal, c.req.Placement = seal, at
		_, p := prepareFile(t, in, c.req)
		if p.DigestAlgorithm != c.want {
			t.Errorf("%s: %s, want %s", c.name, p.DigestAlgorithm, c.want)
		}
		// The cms shape's attributes name the signer.
		if p.Shape == ShapeCMS {
			if _, ess, err := parseAttrs(p.SignedAttributes); err != nil || ess == nil {
				t.Errorf("%s: no signing-certificate-v2 in the signed attributes (%v)", c.name, err)
			}
		}
	}
	for _, digest := range []DigestAlgorithm{"", SM3, SHA256} {
		var out bytes.Buffer
		_, err := Prepare(context.Background(), bytes.NewReader(in), int64(len(in)), PrepareRequest{Seal: seal, Placement: at, Shape: ShapeCMS, Digest: digest}, &out)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeBadRequest || !strings.Contains(e.Message, "签章证书") || !strings.Contains(e.Message, "p7hash") || !strings.Contains(e.English, "signing-certificate-v2") {
			t.Fatalf("cms without a certificate, digest %q: %v", digest, err)
		}
		if out.Len() != 0 {
			t.Fatal("a refused prepare wrote output")
		}
	}
}
