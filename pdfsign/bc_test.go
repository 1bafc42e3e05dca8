package pdfsign

import (
	"bytes"
	"context"
	"encoding/asn1"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/testtool"
	"github.com/scansign/scansign/sign"
	vcms "github.com/scansign/scansign/verify/cms"
)

// TestBouncyCastleVerifiesOurSeals: NSS (pdfsig) knows no SM2, so the CMS
// of our SM2 seals goes to BouncyCastle, with the byte ranges as the
// detached content (verify's Interop.java "verify" job). RSA ones too.
func TestBouncyCastleVerifiesOurSeals(t *testing.T) {
	bouncyCastle := testtool.BouncyCastle(t)
	pki := thePKI(t)
	doc := corpus(t, "qpdf-xref-stream.pdf")
	leaves := []string{"sm2-person", "sm2-org", "rsa-person"}
	for i, leaf := range leaves {
		doc, _ = seal(t, pki, doc, leaf, ShapeCMS, Placement{Page: 1, X: 1 + 4.5*float64(i), Y: 2})
	}
	rd, err := openDocument(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := rd.signatures()
	if err != nil || len(sigs) != 3 {
		t.Fatalf("%d signatures: %v", len(sigs), err)
	}
	dir := t.TempDir()
	var jobs strings.Builder
	for i, s := range sigs {
		// The CMS without the zero padding, and the signed bytes.
		var raw asn1.RawValue
		if _, err := asn1.Unmarshal(s.contents, &raw); err != nil {
			t.Fatal(err)
		}
		cmsFile, content := filepath.Join(dir, fmt.Sprintf("%d.p7", i)), filepath.Join(dir, fmt.Sprintf("%d.bin", i))
		os.WriteFile(cmsFile, raw.FullBytes, 0o644)
		os.WriteFile(content, append(append([]byte(nil), doc[:s.br[1]]...), doc[s.br[2]:s.end()]...), 0o644)
		_, l := pki.identity(t, leaves[i])
		ca, _ := pki.m.CA(l.Issuer)
		fmt.Fprintf(&jobs, "%s\t%s\t%s\t%s\n", leaves[i], cmsFile, content, ca.CertPath)
	}
	jobFile := filepath.Join(dir, "jobs.tsv")
	os.WriteFile(jobFile, []byte(jobs.String()), 0o644)
	out := bouncyCastle("verify", jobFile)
	for _, leaf := range leaves {
		if !strings.Contains(out, leaf+"\tVALID") {
			t.Fatalf("BouncyCastle on %s:\n%s", leaf, out)
		}
	}
}

// TestOtherVendorsSM2 verifies SM2 seals whose detached CMS another
// implementation made, in both OID styles (GM/T 0010 content types with
// SM2-1, and standard ones with SM3withSM2), embedded under
// /adbe.pkcs7.detached.
func TestOtherVendorsSM2(t *testing.T) {
	pki := thePKI(t)
	id, _ := pki.identity(t, "sm2-org")
	for _, standard := range []bool{false, true} {
		prepared, p := prepareFile(t, corpus(t, "mupdf-chinese.pdf"), PrepareRequest{
			Seal: SealImage{Image: redSeal(t)}, Placement: Placement{Page: 1, X: 2, Y: 5, Width: 4, Height: 4}, Signer: id.Certificate,
		})
		p7, err := sign.PKCS7Digest(p.Digest, vcms.SM3, id.Signer, id.Certificate, sign.Options{StandardOIDs: standard})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := Complete(context.Background(), bytes.NewReader(prepared), int64(len(prepared)), Answer{Signature: p7}, CompleteOptions{Verifier: pki.verifier}, &out); err != nil {
			t.Fatalf("standard=%v: %v", standard, err)
		}
		rep := verifyPDF(t, pki.verifier, out.Bytes(), false)
		s := rep.Signatures[0]
		if !rep.Valid || s.DigestAlgorithm != "SM3" || s.Signer.Serial != certs.SerialHex(id.Certificate.SerialNumber) {
			t.Fatalf("standard=%v: %+v", standard, s)
		}
		want := "gm"
		if standard {
			want = "standard"
		}
		if s.Verification.OIDStyle != want {
			t.Fatalf("OID style %s, want %s", s.Verification.OIDStyle, want)
		}
	}
}

// TestBouncyCastleSignsOurPreparedPDF: another vendor's app, here
// BouncyCastle (Interop.java "sign"), answers a PDF we prepared in the cms
// shape with its own detached SM2/SM3 CMS over the byte ranges (standard
// OIDs, BouncyCastle's own signed attributes). Complete embeds it as sent;
// our verifier accepts it, covering the document. pdfsig (NSS) sees the
// signature, its type and coverage, but knows no SM2: it reports the hash
// algorithm unknown and does not call it valid.
func TestBouncyCastleSignsOurPreparedPDF(t *testing.T) {
	bouncyCastle := testtool.BouncyCastle(t)
	pki := thePKI(t)
	id, l := pki.identity(t, "sm2-org")
	prepared, p := prepareFile(t, corpus(t, "mupdf-chinese.pdf"), PrepareRequest{
		Seal: SealImage{Image: redSeal(t)}, Placement: Placement{Page: 1, X: 2, Y: 5, Width: 4, Height: 4}, Signer: id.Certificate,
	})
	dir := t.TempDir()
	content, p7File, jobs := filepath.Join(dir, "ranges.bin"), filepath.Join(dir, "bc.p7"), filepath.Join(dir, "jobs.tsv")
	os.WriteFile(content, append(append([]byte(nil), prepared[:p.ByteRange[1]]...), prepared[p.ByteRange[2]:]...), 0o644)
	os.WriteFile(jobs, []byte(fmt.Sprintf("bc-sm2\t%s\t%s\t%s\t%s\n", content, l.KeyPath, l.ChainPath, p7File)), 0o644)
	if out := bouncyCastle("sign", jobs); !strings.Contains(out, "bc-sm2\tOK") {
		t.Fatalf("BouncyCastle sign:\n%s", out)
	}
	p7, err := os.ReadFile(p7File)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c, err := Complete(context.Background(), bytes.NewReader(prepared), int64(len(prepared)), Answer{Signature: p7}, CompleteOptions{Verifier: pki.verifier}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Shape != ShapeCMS || c.Verification.Signer.Serial != certs.SerialHex(id.Certificate.SerialNumber) {
		t.Fatalf("completed %+v", c)
	}
	signed := out.Bytes()
	// Embedded as BouncyCastle made it.
	d, err := openDocument(bytes.NewReader(signed), int64(len(signed)))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := d.signatures()
	if err != nil || len(sigs) != 1 {
		t.Fatalf("%d signatures: %v", len(sigs), err)
	}
	var embedded asn1.RawValue // without the placeholder's zero padding
	if _, err := asn1.Unmarshal(sigs[0].contents, &embedded); err != nil || !bytes.Equal(embedded.FullBytes, p7) {
		t.Fatalf("the embedded CMS is not BouncyCastle's (%v)", err)
	}
	rep := verifyPDF(t, pki.verifier, signed, false)
	s := rep.Signatures[0]
	if !rep.Valid || !s.Valid || !s.CoversDocument || s.SubFilter != SubFilterDetached || s.DigestAlgorithm != "SM3" ||
		s.Signer.Serial != certs.SerialHex(id.Certificate.SerialNumber) || s.Verification.OIDStyle != "standard" {
		t.Fatalf("our verifier: %+v", s)
	}
	path := writeTemp(t, "bc-sealed.pdf", signed)
	qpdfCheck(t, path)
	report := pdfsigReport(t, pki, path)
	if len(report) != 1 {
		t.Fatalf("pdfsig sees %d signatures", len(report))
	}
	for _, want := range []string{"Signature Field Name: " + s.FieldName + "\n", "Signer Certificate Common Name: " + id.Certificate.Subject.CommonName,
		"Signature Type: adbe.pkcs7.detached", "Total document signed", "Signing Hash Algorithm: unknown"} {
		if !strings.Contains(report[0], want) {
			t.Fatalf("pdfsig does not say %q:\n%s", want, report[0])
		}
	}
	if strings.Contains(report[0], "Signature is Valid") {
		t.Fatalf("pdfsig validated an SM2 signature: update INTEROP-NOTES and this test\n%s", report[0])
	}
}
