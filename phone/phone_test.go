package phone

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/internal/testtool"
)

const (
	interopDir = "../testdata/interop"
	fixtures   = interopDir + "/fixtures"
)

// TestTerminalQRReadsBack draws a payload with half blocks, paints what a
// dark terminal shows (drawn = light) as pixels and has ZXing read it.
func TestTerminalQRReadsBack(t *testing.T) {
	payload := `{"guid":"bf1af3f2-97b0-4b04-a054-ad7ba824eb70","url":"https://relay.example.cn/scan","city":"P3401000001"}`
	art, err := TerminalQR(payload)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(art, "\n"), "\n")
	width := len([]rune(lines[0]))
	const scale, margin = 4, 8
	img := image.NewGray(image.Rect(0, 0, width*scale+2*margin, 2*len(lines)*scale+2*margin))
	for i := range img.Pix {
		img.Pix[i] = 255 // a light quiet zone around, as the terminal's text area is not
	}
	paint := func(x, y int, light bool) {
		c := color.Gray{Y: 0}
		if light {
			c.Y = 255
		}
		for dy := 0; dy < scale; dy++ {
			for dx := 0; dx < scale; dx++ {
				img.SetGray(margin+x*scale+dx, margin+y*scale+dy, c)
			}
		}
	}
	for row, line := range lines {
		rs := []rune(line)
		if len(rs) != width {
			t.Fatalf("line %d is %d wide, want %d", row, len(rs), width)
		}
		for x, r := range rs {
			top := r == '█' || r == '▀'
			bottom := r == '█' || r == '▄'
			paint(x, 2*row, top)
			paint(x, 2*row+1, bottom)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeQRImage(&buf)
	if err != nil || got != payload {
		t.Fatalf("read back %q, %v", got, err)
	}
	if _, err := TerminalQR(""); err == nil {
		t.Fatal("drew an empty payload")
	}
}

func TestDecodeQRImageRefusals(t *testing.T) {
	// Not an image; an image without a QR code; a PNG header claiming a
	// huge image.
	blank := image.NewGray(image.Rect(0, 0, 50, 50))
	var blankPNG bytes.Buffer
	png.Encode(&blankPNG, blank)
	huge := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 8, 0, 0, 0, 0)
	for name, in := range map[string][]byte{"text": []byte("hello"), "no code": blankPNG.Bytes(), "huge": huge} {
		if got, err := DecodeQRImage(bytes.NewReader(in)); err == nil {
			t.Errorf("%s: read %q", name, got)
		}
	}
}

func TestParseOIDStyleAndPayload(t *testing.T) {
	for in, want := range map[string]OIDStyle{"": OIDsGM, "GM": OIDsGM, "standard": OIDsStandard} {
		if got, err := ParseOIDStyle(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseOIDStyle("pkcs1"); err == nil {
		t.Error("accepted pkcs1")
	}
	for _, bad := range []string{"", "{}", `{"guid":"x"}`, "not json", `{"guid":"x","url":"` + strings.Repeat("a", 5000) + `"}`} {
		if _, err := ParsePayload(bad); err == nil {
			t.Errorf("accepted payload %.40q", bad)
		}
	}
}

// TestOpenOthersCiphertexts: the decrypt flow opens what other
// implementations made for the committed test PKI — BouncyCastle's SM2
// envelopes (GM/T and standard OIDs) and raw SM2 ciphertexts in three
// layouts, OpenSSL's RSA envelopes (DER and BER) — sent as base64, hex or
// PEM, as trading systems send them.
func TestOpenOthersCiphertexts(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(fixtures, "envelope-plaintext.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file, leaf, how string
	}{
		{"bc-sm2-envelope-gm.p7m", "sm2-person", "EnvelopedData"},
		{"bc-sm2-envelope-std.p7m", "sm2-person", "EnvelopedData"},
		{"bc-sm2-raw-c1c3c2.bin", "sm2-person", "raw SM2"},
		{"bc-sm2-raw-c1c2c3.bin", "sm2-person", "raw SM2"},
		{"bc-sm2-raw-asn1.bin", "sm2-person", "raw SM2"},
		{"openssl-rsa-envelope.p7m", "rsa-person", "EnvelopedData"},
		{"openssl-rsa-envelope-aes128-keyid.p7m", "rsa-person", "EnvelopedData"},
		{"openssl-rsa-envelope-ber.p7m", "rsa-person", "EnvelopedData"},
	} {
		data, err := os.ReadFile(filepath.Join(fixtures, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		id := testpki.Identity(t, tc.leaf)
		a := &App{Identity: id}
		for enc, msg := range map[string]string{
			"base64": base64.StdEncoding.EncodeToString(data),
			"hex":    hex.EncodeToString(data),
		} {
			plain, how, err := a.open(msg)
			if err != nil || !bytes.Equal(plain, want) || !strings.Contains(how, tc.how) {
				t.Errorf("%s as %s: %q (%s), %v", tc.file, enc, plain, how, err)
			}
		}
		// Someone else's key opens nothing.
		other := testpki.Identity(t, strings.Replace(tc.leaf, "person", "org", 1))
		if plain, _, err := (&App{Identity: other}).open(base64.StdEncoding.EncodeToString(data)); err == nil {
			t.Errorf("%s opened with the wrong key: %q", tc.file, plain)
		}
	}
	id := testpki.Identity(t, "sm2-person")
	for _, bad := range []string{"", "not base64 at all!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, _, err := (&App{Identity: id}).open(bad); err == nil {
			t.Errorf("opened %q", bad)
		}
	}
}

// TestSignaturesCheckedByOthers: what the app saves is verified by
// implementations that are not ours — BouncyCastle for SM2 PKCS#7 (GM/T and
// standard OIDs), OpenSSL for RSA PKCS#7 and raw SM2/RSA signatures — and
// a tampered signature fails there too.
func TestSignaturesCheckedByOthers(t *testing.T) {
	m := testpki.Manifest(t)
	dir := t.TempDir()
	content := []byte("f7c54891-adad-4f32-9994-83d70a7204a2 登录随机数")
	contentFile := filepath.Join(dir, "content.txt")
	os.WriteFile(contentFile, content, 0o600)
	sm2Leaf, sm2ID := testpki.Leaf(t, "sm2-person"), testpki.Identity(t, "sm2-person")
	rsaLeaf, rsaID := testpki.Leaf(t, "rsa-person"), testpki.Identity(t, "rsa-person")
	sign := func(id *certs.Identity, opts Options, raw bool) string {
		t.Helper()
		sig, _, err := (&App{Identity: id, Options: opts}).signature(content, raw)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.CreateTemp(dir, "sig-*")
		if err != nil {
			t.Fatal(err)
		}
		f.Write(sig)
		f.Close()
		return f.Name()
	}

	t.Run("OpenSSL", func(t *testing.T) {
		testtool.Need(t, "openssl")
		run := func(args ...string) (string, error) {
			out, err := exec.Command("openssl", args...).CombinedOutput()
			return string(out), err
		}
		root := filepath.Join(m.TrustDir, "rsa-root.pem")
		rsaPub := filepath.Join(dir, "rsa.pub")
		if out, err := run("x509", "-in", rsaLeaf.CertPath, "-pubkey", "-noout", "-out", rsaPub); err != nil {
			t.Fatalf("openssl x509 -pubkey: %v\n%s", err, out)
		}
		for _, tamper := range []bool{false, true} {
			p7 := sign(rsaID, Options{Tamper: tamper}, false)
			out, err := run("cms", "-verify", "-binary", "-inform", "DER", "-in", p7, "-CAfile", root, "-purpose", "any", "-out", filepath.Join(dir, "out.txt"))
			got, _ := os.ReadFile(filepath.Join(dir, "out.txt"))
			if ok := err == nil && bytes.Equal(got, content); ok == tamper {
				t.Errorf("RSA PKCS#7 (tampered %v): openssl cms -verify: %v\n%s", tamper, err, out)
			}
			os.Remove(filepath.Join(dir, "out.txt"))

			rawRSA := sign(rsaID, Options{Tamper: tamper}, true)
			out, err = run("dgst", "-sha256", "-verify", rsaPub, "-signature", rawRSA, contentFile)
			if (err == nil) == tamper {
				t.Errorf("raw RSA (tampered %v): openssl dgst -verify: %v\n%s", tamper, err, out)
			}

			rawSM2 := sign(sm2ID, Options{Tamper: tamper}, true)
			out, err = run("pkeyutl", "-verify", "-certin", "-inkey", sm2Leaf.CertPath, "-rawin", "-digest", "sm3",
				"-pkeyopt", "distid:1234567812345678", "-in", contentFile, "-sigfile", rawSM2)
			if (err == nil) == tamper {
				t.Errorf("raw SM2 (tampered %v): openssl pkeyutl -verify: %v\n%s", tamper, err, out)
			}
		}
	})

	t.Run("BouncyCastle", func(t *testing.T) {
		bouncyCastle := testtool.BouncyCastle(t)
		issuing := filepath.Join(m.TrustDir, "sm2-issuing.pem")
		var jobs strings.Builder
		want := map[string]string{}
		for _, v := range []struct {
			name string
			opts Options
		}{
			{"gm", Options{}},
			{"standard", Options{OIDStyle: OIDsStandard}},
			{"gm-tampered", Options{Tamper: true}},
			{"standard-tampered", Options{OIDStyle: OIDsStandard, Tamper: true}},
		} {
			jobs.WriteString(v.name + "\t" + sign(sm2ID, v.opts, false) + "\t-\t" + issuing + "\n")
			want[v.name] = "VALID"
			if v.opts.Tamper {
				want[v.name] = "INVALID"
			}
		}
		jobFile := filepath.Join(dir, "jobs.tsv")
		os.WriteFile(jobFile, []byte(jobs.String()), 0o600)
		out := bouncyCastle("verify", jobFile)
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			name, verdict, _ := strings.Cut(line, "\t")
			got[name] = verdict
		}
		for name, w := range want {
			if !strings.HasPrefix(got[name], w) {
				t.Errorf("%s: BouncyCastle says %q, want %s", name, got[name], w)
			}
		}
	})
}
