package pdfsign

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scansign/scansign/verify"
)

// fuzzSeeds are the corpus PDFs and a sealed one.
func fuzzSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "pdf", "*.pdf"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
}

func tinySeal() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.NRGBA{R: 255, A: 200})
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// FuzzPrepare: any input is refused with an *Error or prepared; a prepared
// output keeps the input as its prefix and opens again.
func FuzzPrepare(f *testing.F) {
	fuzzSeeds(f)
	seal := tinySeal()
	f.Fuzz(func(t *testing.T, in []byte) {
		defer tooSlow(t)()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var out bytes.Buffer
		p, err := Prepare(ctx, bytes.NewReader(in), int64(len(in)), PrepareRequest{
			Seal: SealImage{Image: seal}, Placement: Placement{Page: 1, X: 0.1, Y: 0.1, Width: 1, Height: 1},
			Shape: ShapeP7Hash, SigningTime: time.Unix(1_800_000_000, 0),
		}, &out)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("refusal without a reason: %v", err)
			}
			return
		}
		if !bytes.HasPrefix(out.Bytes(), in) || p.Size != int64(out.Len()) {
			t.Fatal("the original bytes changed")
		}
		if _, err := openDocument(bytes.NewReader(out.Bytes()), int64(out.Len())); err != nil {
			t.Fatalf("the prepared file does not open: %v", err)
		}
	})
}

// FuzzVerify: verification of any input ends with a report or an *Error,
// never a panic; a report never calls a signature valid here (the fuzz
// verifier trusts no one).
func FuzzVerify(f *testing.F) {
	fuzzSeeds(f)
	v := verify.New(nil, verify.Options{})
	f.Fuzz(func(t *testing.T, in []byte) {
		defer tooSlow(t)()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rep, err := Verify(ctx, bytes.NewReader(in), int64(len(in)), VerifyOptions{Verifier: v, ExtractSeals: true})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		for _, s := range rep.Signatures {
			if s.Valid {
				t.Fatal("a signature is valid without any trusted root")
			}
		}
		// Revoke on the same input must not panic either.
		_, _ = Revoke(ctx, bytes.NewReader(in), int64(len(in)), RevokeRequest{Signature: []byte{0x30, 0}}, RevokeOptions{Verifier: v}, io.Discard)
	})
}

// tooSlow crashes the fuzzing worker when one input takes over 5 seconds,
// so the fuzzer records it: a slow parse is a denial of service.
func tooSlow(t *testing.T) (stop func()) {
	timer := time.AfterFunc(5*time.Second, func() {
		panic("one input took over 5 seconds: " + t.Name())
	})
	return func() { timer.Stop() }
}
