package sealimg

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSamplesUpToDate keeps testdata/seals in step with Samples(): it redraws
// each design and compares pixels (not bytes, which depend on the zlib
// implementation) with the committed PNG. Run `go generate ./seal/sealimg`
// after changing a design.
func TestSamplesUpToDate(t *testing.T) {
	for _, s := range Samples() {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "seals", s.File))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		drawn, err := Draw(s.Design)
		if err != nil {
			t.Fatal(err)
		}
		if committed.Bounds() != drawn.Bounds() {
			t.Fatalf("%s: committed %v, drawn %v: run go generate ./seal/sealimg", s.File, committed.Bounds(), drawn.Bounds())
		}
		for y := 0; y < drawn.Bounds().Dy(); y++ {
			for x := 0; x < drawn.Bounds().Dx(); x++ {
				r1, g1, b1, a1 := committed.At(x, y).RGBA()
				r2, g2, b2, a2 := drawn.At(x, y).RGBA()
				if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
					t.Fatalf("%s differs at (%d,%d): run go generate ./seal/sealimg", s.File, x, y)
				}
			}
		}
	}
}

func TestDraw(t *testing.T) {
	tests := []struct {
		name string
		d    Design
	}{
		{"round", Design{Shape: Round, ArcText: "ACME", Star: true, CenterText: "SEAL"}},
		{"oval", Design{Shape: Oval, ArcText: "ACME FINANCE", CenterText: "FINANCE", BottomText: "1234"}},
		{"long arc text squeezed", Design{Shape: Round, ArcText: strings.Repeat("W", maxTextRunes)}},
		{"small", Design{Shape: Round, Width: 32, Height: 32, ArcText: "A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Draw(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if a := img.NRGBAAt(0, 0).A; a != 0 {
				t.Errorf("corner alpha %d, want transparent", a)
			}
			// The ring crosses the middle of the left edge.
			side := min(b.Dx(), b.Dy())
			if c := img.NRGBAAt(2+side*16/1000, b.Dy()/2); c.A < 128 || c.R != SealRed.R {
				t.Errorf("ring pixel %v, want seal red", c)
			}
			if img.Opaque() {
				t.Error("seal is opaque")
			}
		})
	}
}

func TestDrawRefuses(t *testing.T) {
	for name, d := range map[string]Design{
		"huge":              {Width: 100000, Height: 100000},
		"tiny":              {Width: 4, Height: 4},
		"unknown shape":     {Shape: Shape(7)},
		"text too long":     {ArcText: strings.Repeat("A", maxTextRunes+1)},
		"glyph not in font": {CenterText: "张三"},
	} {
		if _, err := Draw(d); err == nil {
			t.Errorf("%s: Draw accepted %+v", name, d)
		}
	}
}

func TestDevSeal(t *testing.T) {
	for _, tt := range []struct {
		name  string
		shape Shape
	}{
		{"SM2 Test Org", Round},
		{"Li Si", Oval},
		{"测试企业", Round}, // no glyphs in the Go font: falls back to SCANSIGN DEV
		{"张三 Zhang", Oval},
	} {
		b, err := DevSeal(tt.name, tt.shape)
		if err != nil {
			t.Fatalf("DevSeal(%q): %v", tt.name, err)
		}
		info, err := Check(b)
		if err != nil || !info.Transparent || info.Format != "png" {
			t.Fatalf("DevSeal(%q) image %+v, %v", tt.name, info, err)
		}
	}
	if _, err := DevSeal("x", Shape(9)); err == nil {
		t.Error("DevSeal accepted an unknown shape")
	}
}

// TestSamplesReadByJava has Java's ImageIO (an independent PNG decoder) read
// the committed samples and a dev seal: it must see the size, an alpha
// channel, a transparent corner and a red seal.
func TestSamplesReadByJava(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("java is required in CI")
		}
		t.Skip("java not installed")
	}
	dev, err := DevSeal("Wang Wu", Oval)
	if err != nil {
		t.Fatal(err)
	}
	devPath := filepath.Join(t.TempDir(), "dev.png")
	if err := os.WriteFile(devPath, dev, 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{devPath}
	for _, s := range Samples() {
		paths = append(paths, filepath.Join("..", "..", "testdata", "seals", s.File))
	}
	out, err := exec.Command(java, append([]string{filepath.Join("testdata", "ImageFacts.java")}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(paths) {
		t.Fatalf("java printed %q", out)
	}
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) != 6 {
			t.Fatalf("%s: java says %q", paths[i], line)
		}
		b, _ := os.ReadFile(paths[i])
		cfg, _ := png.DecodeConfig(bytes.NewReader(b))
		opaque, _ := strconv.Atoi(f[4])
		red, _ := strconv.Atoi(f[5])
		if f[0] != strconv.Itoa(cfg.Width) || f[1] != strconv.Itoa(cfg.Height) || f[2] != "true" || f[3] != "0" {
			t.Errorf("%s: java sees %q, want %d×%d with alpha and a transparent corner", paths[i], line, cfg.Width, cfg.Height)
		}
		if opaque == 0 || red != opaque || opaque > cfg.Width*cfg.Height/2 {
			t.Errorf("%s: java sees %d opaque pixels, %d of them red; want a red seal on transparency", paths[i], opaque, red)
		}
	}
}
