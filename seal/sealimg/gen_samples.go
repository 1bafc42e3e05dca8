//go:build ignore

// gen_samples draws the sample seals of testdata/seals. Run it with
// `go generate ./seal/sealimg` after changing a design; the package's tests
// check that the committed PNGs still match what the designs draw.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/scansign/scansign/seal/sealimg"
)

func main() {
	out := flag.String("out", "testdata/seals", "directory to write the PNGs to")
	flag.Parse()
	for _, s := range sealimg.Samples() {
		img, err := sealimg.Draw(s.Design)
		if err == nil {
			var b []byte
			if b, err = sealimg.EncodePNG(img); err == nil {
				err = os.WriteFile(filepath.Join(*out, s.File), b, 0o644)
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "gen_samples: %s: %v\n", s.File, err)
			os.Exit(1)
		}
	}
}
