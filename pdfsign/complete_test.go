package pdfsign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/sign"
	vcms "github.com/scansign/scansign/verify/cms"
)

// TestCompleteRSAPassesPdfsig: RSA seals in the standard shape are valid
// for poppler, cover the document, and stay valid under later seals;
// every output passes qpdf --check.
func TestCompleteRSAPassesPdfsig(t *testing.T) {
	pki := thePKI(t)
	for _, file := range []string{"gs-basic.pdf", "qpdf-xref-stream.pdf", "qpdf-linearized.pdf", "mupdf-incremental.pdf", "qpdf-rotated.pdf"} {
		t.Run(file, func(t *testing.T) {
			doc := corpus(t, file)
			leaves := []string{"rsa-person", "rsa-org", "rsa-person"}
			for i, leaf := range leaves {
				doc, _ = seal(t, pki, doc, leaf, ShapeCMS, Placement{Page: 1, X: 2 + 4*float64(i), Y: 2})
				path := writeTemp(t, "sealed.pdf", doc)
				qpdfCheck(t, path)
				sigs := pdfsigReport(t, pki, path)
				if len(sigs) != i+1 {
					t.Fatalf("pdfsig sees %d signatures after seal %d", len(sigs), i+1)
				}
				for j, s := range sigs {
					if !strings.Contains(s, "Signature is Valid") {
						t.Fatalf("signature %d after seal %d:\n%s", j+1, i+1, s)
					}
					if !strings.Contains(s, "adbe.pkcs7.detached") {
						t.Fatalf("signature %d is not adbe.pkcs7.detached:\n%s", j+1, s)
					}
				}
				if !strings.Contains(sigs[i], "Total document signed") {
					t.Fatalf("the last signature does not cover the document:\n%s", sigs[i])
				}
			}
		})
	}
}

func TestCompleteShapes(t *testing.T) {
	pki := thePKI(t)
	in := corpus(t, "qpdf-xref-stream.pdf")
	for _, leaf := range []string{"sm2-person", "rsa-org"} {
		for _, shape := range []Shape{ShapeCMS, ShapeP7Hash} {
			for _, streaming := range []bool{false, true} {
				name := leaf + "/" + string(shape)
				if streaming {
					name += "/streaming"
				}
				t.Run(name, func(t *testing.T) {
					id, _ := pki.identity(t, leaf)
					prepared, p := prepareFile(t, in, PrepareRequest{
						Seal: SealImage{Image: redSeal(t)}, Placement: Placement{Page: 1, X: 1, Y: 1, Width: 4, Height: 4},
						Shape: shape, Signer: id.Certificate,
					})
					var out bytes.Buffer
					c, err := Complete(context.Background(), bytes.NewReader(prepared), int64(len(prepared)), answer(t, id, p), CompleteOptions{Verifier: pki.verifier, Streaming: streaming}, &out)
					if err != nil {
						t.Fatal(err)
					}
					if c.Shape != shape || !bytes.Equal(c.Digest, p.Digest) || c.Verification.Signer.Serial != certs.SerialHex(id.Certificate.SerialNumber) {
						t.Fatalf("completed %+v", c)
					}
					qpdfCheck(t, writeTemp(t, "out.pdf", out.Bytes()))
				})
			}
		}
	}
}

// TestCompleteDetachedCMSFromApp: an app that makes its own detached CMS
// over the digest (messageDigest = the byte-range digest) is embedded as is.
func TestCompleteDetachedCMSFromApp(t *testing.T) {
	pki := thePKI(t)
	for _, leaf := range []string{"sm2-org", "rsa-person"} {
		id, _ := pki.identity(t, leaf)
		prepared, p := prepareFile(t, corpus(t, "gs-basic.pdf"), PrepareRequest{
			Seal: SealImage{Image: redSeal(t)}, Placement: Placement{Page: 2, X: 1, Y: 1, Width: 3, Height: 3}, Signer: id.Certificate,
		})
		alg := vcms.SM3
		if p.DigestAlgorithm == SHA256 {
			alg = vcms.SHA256
		}
		p7, err := sign.PKCS7Digest(p.Digest, alg, id.Signer, id.Certificate, sign.Options{StandardOIDs: true})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := Complete(context.Background(), bytes.NewReader(prepared), int64(len(prepared)), Answer{Signature: p7}, CompleteOptions{Verifier: pki.verifier}, &out); err != nil {
			t.Fatalf("%s: %v", leaf, err)
		}
		if !bytes.Contains(out.Bytes(), []byte(hexOf(p7))) && !bytes.Contains(bytes.ToUpper(out.Bytes()), []byte(hexOf(p7))) {
			t.Fatal("the app's CMS is not embedded as sent")
		}
	}
}

func TestCompleteRefuses(t *testing.T) {
	pki := thePKI(t)
	in := corpus(t, "gs-basic.pdf")
	id, _ := pki.identity(t, "sm2-person")
	other, _ := pki.identity(t, "sm2-org")
	untrusted, _ := pki.identity(t, "sm2-untrusted")
	expired, _ := pki.identity(t, "rsa-expired")
	n := 0
	prepare := func(shape Shape, signerID *certs.Identity) ([]byte, *Prepared) {
		n++ // each preparation differs (another reason), so its digest does
		return prepareFile(t, in, PrepareRequest{Seal: SealImage{Image: redSeal(t)}, Placement: Placement{Page: 1, X: 1, Y: 1, Width: 3, Height: 3}, Shape: shape, Signer: signerID.Certificate, Reason: strings.Repeat("x", n)})
	}
	cmsDoc, cmsP := prepare(ShapeCMS, id)
	p7Doc, p7P := prepare(ShapeP7Hash, id)
	good := answer(t, id, cmsP)
	// The same document prepared again has another digest (time, ID).
	_, otherP := prepare(ShapeCMS, id)
	otherDoc, _ := prepare(ShapeP7Hash, id)
	tampered := append([]byte(nil), cmsDoc...)
	copy(tampered[100:], "XX")
	expDoc, expP := prepare(ShapeCMS, expired)

	cases := []struct {
		name string
		doc  []byte
		ans  Answer
		code Code
	}{
		{"unprepared", in, good, CodeNotPrepared},
		{"garbage signature", cmsDoc, Answer{Signature: []byte("%%%not base64%%%"), Cert: good.Cert}, CodeBadSignature},
		{"raw without cert", cmsDoc, Answer{Signature: good.Signature}, CodeBadRequest},
		{"raw by another key", cmsDoc, Answer{Signature: answer(t, other, cmsP).Signature, Cert: good.Cert}, CodeBadSignature},
		{"attributes name another signer", cmsDoc, func() Answer {
			a := answer(t, other, cmsP)
			a.SignedAttributes = cmsP.SignedAttributes
			return a
		}(), CodeWrongSigner},
		{"signature of another preparation", cmsDoc, answer(t, id, otherP), CodeBadSignature},
		{"tampered document", tampered, good, CodeBadSignature},
		{"p7 over another hash", otherDoc, answer(t, id, p7P), CodeDigestMismatch},
		{"raw answer for p7hash", p7Doc, good, CodeBadSignature},
		{"attached p7 for cms", cmsDoc, answer(t, id, p7P), CodeBadSignature},
		{"untrusted signer", cmsDoc, answer(t, untrusted, cmsP), CodeBadSignature},
		{"expired signer", expDoc, answer(t, expired, expP), CodeUntrusted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Complete(context.Background(), bytes.NewReader(c.doc), int64(len(c.doc)), c.ans, CompleteOptions{Verifier: pki.verifier}, &out)
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code {
				t.Fatalf("got %v (code %s), want %s", err, CodeOf(err), c.code)
			}
			if out.Len() != 0 {
				t.Fatal("a refused completion wrote output")
			}
		})
	}
	// An untrusted signer with a matching signature is refused as untrusted.
	uDoc, uP := prepare(ShapeCMS, untrusted)
	_, err := Complete(context.Background(), bytes.NewReader(uDoc), int64(len(uDoc)), answer(t, untrusted, uP), CompleteOptions{Verifier: pki.verifier}, &bytes.Buffer{})
	if CodeOf(err) != CodeUntrusted {
		t.Fatalf("untrusted signer: %v", err)
	}
}

// TestCompletePlaceholderTooSmall: a chain that does not fit is refused
// with the size that would.
func TestCompletePlaceholderTooSmall(t *testing.T) {
	pki := thePKI(t)
	id, _ := pki.identity(t, "rsa-person")
	// Prepare with the smallest room allowed: the signer and two CA
	// certificates of the assumed size.
	in := corpus(t, "gs-basic.pdf")
	prepared, p := prepareFile(t, in, PrepareRequest{Seal: SealImage{Image: redSeal(t)}, Placement: Placement{Page: 1, X: 1, Y: 1, Width: 3, Height: 3},
		Signer: id.Certificate, PlaceholderSize: estimateCMSSize(rawCerts([]*smx509.Certificate{id.Certificate})) + caAllowance*assumedCAs})
	// Every certificate of the dev PKI rides along: more than the room.
	var all []*smx509.Certificate
	for _, l := range pki.m.Leaves {
		b, _ := os.ReadFile(l.CertPath)
		c, err := certs.ParseCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, c)
	}
	for _, ca := range pki.m.CAs {
		b, _ := os.ReadFile(ca.CertPath)
		c, err := certs.ParseCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, c)
	}
	p7, err := sign.PKCS7Digest(p.Digest, vcms.SHA256, id.Signer, id.Certificate, sign.Options{StandardOIDs: true, Chain: all})
	if err != nil {
		t.Fatal(err)
	}
	if len(p7) <= p.PlaceholderSize {
		t.Fatalf("test CMS of %d bytes fits the %d byte room", len(p7), p.PlaceholderSize)
	}
	_, err = Complete(context.Background(), bytes.NewReader(prepared), int64(len(prepared)), Answer{Signature: p7}, CompleteOptions{Verifier: pki.verifier}, &bytes.Buffer{})
	if CodeOf(err) != CodePlaceholderTooSmall {
		t.Fatalf("got %v", err)
	}
}

// TestCompleteDropsCertificatesToFit: the app sends every certificate it
// has with its raw signature; in a placeholder sized for the chain (prepare
// with the verifier), complete leaves out the root and the unrelated ones
// rather than refuse. The result verifies with ours and with pdfsig.
func TestCompleteDropsCertificatesToFit(t *testing.T) {
	pki := thePKI(t)
	id, _ := pki.identity(t, "rsa-person")
	req := PrepareRequest{
		Seal: SealImage{Image: redSeal(t)}, Placement: Placement{Page: 1, X: 1, Y: 1, Width: 3, Height: 3},
		Signer: id.Certificate, Verifier: pki.verifier, PlaceholderSize: 1,
	}
	// The smallest room prepare accepts, from its refusal.
	_, err := Prepare(context.Background(), bytes.NewReader(corpus(t, "gs-basic.pdf")), int64(len(corpus(t, "gs-basic.pdf"))), req, io.Discard)
	m := regexp.MustCompile(`needs about (\d+)`).FindStringSubmatch(fmt.Sprint(err))
	if CodeOf(err) != CodePlaceholderTooSmall || m == nil {
		t.Fatalf("prepare with 1 byte: %v", err)
	}
	room, _ := strconv.Atoi(m[1])
	req.PlaceholderSize = room
	prepared, p := prepareFile(t, corpus(t, "gs-basic.pdf"), req)
	ans := answer(t, id, p)
	ans.Cert = allDevCerts(t, pki, id.Certificate)
	var out bytes.Buffer
	if _, err := Complete(context.Background(), bytes.NewReader(prepared), int64(len(prepared)), ans, CompleteOptions{Verifier: pki.verifier}, &out); err != nil {
		t.Fatalf("complete into %d bytes: %v", room, err)
	}
	s := verifyPDF(t, pki.verifier, out.Bytes(), false).Signatures[0]
	if !s.Valid {
		t.Fatalf("%+v", s)
	}
	if n := len(s.Verification.SignedData.Certificates); n != 2 {
		t.Fatalf("the CMS carries %d certificates, want the signer and its issuing CA", n)
	}
	for _, r := range pdfsigReport(t, pki, writeTemp(t, "s.pdf", out.Bytes())) {
		if !strings.Contains(r, "Signature is Valid") {
			t.Fatalf("pdfsig:\n%s", r)
		}
	}
}

// TestFitCMS: the certificate sets complete tries, fullest first; the
// signer alone only when the verifier rebuilds the chain by itself.
func TestFitCMS(t *testing.T) {
	pki := thePKI(t)
	id, _ := pki.identity(t, "rsa-person")
	res := pki.verifier.CheckCertificate(context.Background(), id.Certificate.Raw, time.Time{}, 0)
	if len(res.ChainCerts) != 3 {
		t.Fatalf("chain of %d", len(res.ChainCerts))
	}
	var sets [][]*smx509.Certificate
	assemble := func(set []*smx509.Certificate) ([]byte, error) {
		sets = append(sets, set)
		return make([]byte, 1000*(len(set)+1)), nil
	}
	for _, c := range []struct {
		room        int
		rebuildable bool
		sizes       []int // of the sets tried
		got         int
	}{
		{10000, true, []int{4}, 5000},      // the app's one certificate and the built chain
		{3500, true, []int{4, 1}, 2000},    // the issuing CA alone
		{1500, true, []int{4, 1, 0}, 1000}, // the signer alone
		{1500, false, []int{4, 1}, 2000},   // cannot rebuild: the smallest that keeps the chain
	} {
		sets = nil
		out, err := fitCMS(c.room, assemble, id.Certificate, []*smx509.Certificate{id.Certificate}, res.ChainCerts, func() bool { return c.rebuildable })
		if err != nil || len(out) != c.got || len(sets) != len(c.sizes) {
			t.Fatalf("room %d: got %d bytes after %d sets, want %d after %v", c.room, len(out), len(sets), c.got, c.sizes)
		}
		for i, n := range c.sizes {
			if len(sets[i]) != n {
				t.Fatalf("room %d: set %d has %d certificates, want %d", c.room, i, len(sets[i]), n)
			}
		}
	}
}

// allDevCerts is the PEM of the signer followed by every certificate of
// the dev PKI.
func allDevCerts(t *testing.T, pki *testPKI, signer *smx509.Certificate) []byte {
	t.Helper()
	out := certs.EncodePEM(signer)
	for _, l := range pki.m.Leaves {
		b, _ := os.ReadFile(l.CertPath)
		out = append(out, b...)
	}
	for _, ca := range pki.m.CAs {
		b, _ := os.ReadFile(ca.CertPath)
		out = append(out, b...)
	}
	return out
}
