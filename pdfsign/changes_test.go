package pdfsign

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scansign/scansign/internal/testtool"
	"github.com/scansign/scansign/pdfsign/internal/pdf"
)

// appendUpdate appends to doc one incremental update made with our
// append-only writer: edit adds or replaces objects, given the document and
// its latest signature.
func appendUpdate(t *testing.T, doc []byte, edit func(d *document, s *sigField, u *pdf.Update)) []byte {
	t.Helper()
	d, err := openDocument(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := d.signatures()
	if err != nil || len(sigs) == 0 {
		t.Fatalf("%d signatures: %v", len(sigs), err)
	}
	u := d.r.NewUpdate()
	edit(d, sigs[len(sigs)-1], u)
	inc, err := u.Serialize(int64(len(doc)), false, []byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte(nil), doc...), inc.Bytes...)
}

// blackBox is a form XObject that paints its whole box black.
func blackBox(u *pdf.Update) pdf.Ref {
	return u.Add(&pdf.Stream{Dict: pdf.Dict{
		"Type": pdf.Name("XObject"), "Subtype": pdf.Name("Form"),
		"BBox": pdf.Array{pdf.Integer(0), pdf.Integer(0), pdf.Integer(1000), pdf.Integer(1000)}, "Length": pdf.Integer(27),
	}, Data: []byte("0 g 0 0 1000 1000 re f\n   ")})
}

// TestLaterChangesToSignedFields: an update that swaps an already-signed
// field's appearance, points its /V elsewhere, drops its widget from the
// page, or deletes it, is not "only adding signatures"; a second seal is.
func TestLaterChangesToSignedFields(t *testing.T) {
	pki := thePKI(t)
	sealed, _ := seal(t, pki, corpus(t, "gs-basic.pdf"), "rsa-person", ShapeCMS, Placement{Page: 1, X: 1, Y: 1})
	cases := map[string]struct {
		edit func(d *document, s *sigField, u *pdf.Update)
		want string
	}{
		"appearance swapped for a black box": {func(d *document, s *sigField, u *pdf.Update) {
			w := s.dict.Clone()
			w["AP"] = pdf.Dict{"N": blackBox(u)}
			u.Set(s.ref, w)
		}, "already-signed signature field changed (/AP)"},
		"value pointed at another signature": {func(d *document, s *sigField, u *pdf.Update) {
			v := s.v.Clone()
			w := s.dict.Clone()
			w["V"] = u.Add(v)
			u.Set(s.ref, w)
		}, "already-signed signature field changed (/V)"},
		"hidden": {func(d *document, s *sigField, u *pdf.Update) {
			w := s.dict.Clone()
			w["F"] = pdf.Integer(2)
			u.Set(s.ref, w)
		}, "already-signed signature field changed (/F)"},
		"widget dropped from the page": {func(d *document, s *sigField, u *pdf.Update) {
			page, err := d.r.Dict(s.pageRef)
			if err != nil {
				t.Fatal(err)
			}
			np := page.Clone()
			np["Annots"] = u.Add(pdf.Array{}) // a new, empty array
			u.Set(s.pageRef, np)
		}, "an array lost entries"},
		"page content replaced": {func(d *document, s *sigField, u *pdf.Update) {
			page, err := d.r.Dict(s.pageRef)
			if err != nil {
				t.Fatal(err)
			}
			np := page.Clone()
			np["Contents"] = blackBox(u)
			u.Set(s.pageRef, np)
		}, "/Contents of a /Page changed"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			doc := appendUpdate(t, sealed, c.edit)
			qpdfCheck(t, writeTemp(t, "changed.pdf", doc))
			rep := verifyPDF(t, pki.verifier, doc, false)
			s := rep.Signatures[0]
			if !s.Intact || !s.SignatureValid || !s.Trusted || !s.ModifiedAfter || s.LaterChangesOnlySignatures {
				t.Fatalf("%+v", s)
			}
			if rep.Valid || s.Valid || s.Reason != string(CodeModifiedAfter) {
				t.Fatalf("a document modified after signing: report valid %v, signature valid %v (%s)", rep.Valid, s.Valid, s.Reason)
			}
			if !strings.Contains(strings.Join(s.LaterChanges, "; "), c.want) {
				t.Fatalf("later changes %q, want %q", s.LaterChanges, c.want)
			}
		})
	}
	// A second seal only adds a signature.
	twice, _ := seal(t, pki, sealed, "sm2-person", ShapeCMS, Placement{Page: 1, X: 6, Y: 1})
	if s := verifyPDF(t, pki.verifier, twice, false).Signatures[0]; !s.LaterChangesOnlySignatures {
		t.Fatalf("a second seal: %q", s.LaterChanges)
	}
}

// TestLaterChangesDeletion: a hand-made update that frees the seal's
// appearance (a classic table with an "f" entry) is a change.
func TestLaterChangesDeletion(t *testing.T) {
	pki := thePKI(t)
	sealed, _ := seal(t, pki, corpus(t, "gs-basic.pdf"), "rsa-person", ShapeCMS, Placement{Page: 1, X: 1, Y: 1})
	d, err := openDocument(bytes.NewReader(sealed), int64(len(sealed)))
	if err != nil {
		t.Fatal(err)
	}
	if d.r.Sections[0].Kind != pdf.XRefTable {
		t.Fatal("the test needs a file with a classic table")
	}
	sigs, _ := d.signatures()
	w := sigs[0].dict["AP"].(pdf.Dict)["N"].(pdf.Ref)
	root := d.r.Trailer["Root"].(pdf.Ref)
	off := len(sealed)
	update := fmt.Sprintf("xref\n%d 1\n0000000000 %05d f\r\ntrailer\n<< /Size %d /Root %d %d R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n",
		w.Num, w.Gen+1, d.r.NextObjectNumber(), root.Num, root.Gen, d.r.StartXRef, off)
	doc := append(append([]byte(nil), sealed...), update...)
	qpdfCheck(t, writeTemp(t, "deleted.pdf", doc))
	s := verifyPDF(t, pki.verifier, doc, false).Signatures[0]
	if s.LaterChangesOnlySignatures || !strings.Contains(strings.Join(s.LaterChanges, "; "), fmt.Sprintf("object %d: deleted", w.Num)) {
		t.Fatalf("%+v", s)
	}
}

// emptyFieldPDF is a one-page document with an empty, invisible signature
// field Signature1 (as make-corpus.sh writes before pdfsig signs it).
const emptyFieldPDF = `%PDF-1.7
1 0 obj << /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [4 0 R] >> endobj
4 0 obj << /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /Rect [0 0 0 0] /F 132 /P 3 0 R >> endobj
5 0 obj << /Length 48 >> stream
BT /F1 24 Tf 72 760 Td (an empty field) Tj ET
endstream endobj
6 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj
trailer << /Root 1 0 R /Size 7 >>
`

// TestLaterSignatureByPdfsig: poppler's pdfsig signing a field that was
// empty when our seal was made only adds a signature (it sets the field's
// /V, /AP and /M); our seal stays valid.
func TestLaterSignatureByPdfsig(t *testing.T) {
	testtool.Need(t, "qpdf", "openssl", "certutil", "pk12util", "pdfsig")
	pki := thePKI(t)
	dir := t.TempDir()
	raw, fixed := filepath.Join(dir, "field.pdf"), filepath.Join(dir, "field-ok.pdf")
	os.WriteFile(raw, []byte(emptyFieldPDF), 0o644)
	// qpdf writes the cross-reference table the hand-made file lacks
	// (exit 3: done, with warnings).
	if out, err := run(t, "qpdf", raw, fixed); err != nil && !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("qpdf: %v\n%s", err, out)
	}
	ours, _ := seal(t, pki, readFile(t, fixed), "rsa-org", ShapeCMS, Placement{Page: 1, X: 2, Y: 2, Width: 3, Height: 3})
	sealedPath, both := writeTemp(t, "ours.pdf", ours), filepath.Join(dir, "both.pdf")
	// A throwaway signer in a throwaway NSS database.
	nss := filepath.Join(dir, "nss")
	os.MkdirAll(nss, 0o755)
	steps := [][]string{
		{"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", filepath.Join(dir, "k.pem"), "-out", filepath.Join(dir, "c.pem"), "-days", "30", "-subj", "/CN=later pdfsig signer"},
		{"openssl", "pkcs12", "-export", "-inkey", filepath.Join(dir, "k.pem"), "-in", filepath.Join(dir, "c.pem"), "-name", "signer", "-passout", "pass:", "-out", filepath.Join(dir, "s.p12")},
		{"certutil", "-N", "-d", "sql:" + nss, "--empty-password"},
		{"pk12util", "-i", filepath.Join(dir, "s.p12"), "-d", "sql:" + nss, "-W", ""},
		{"pdfsig", "-sign", "Signature1", "-nssdir", "sql:" + nss, "-nick", "signer", "-digest", "SHA256", sealedPath, both},
	}
	for _, s := range steps {
		if out, err := run(t, s[0], s[1:]...); err != nil {
			t.Fatalf("%v: %v\n%s", s, err, out)
		}
	}
	rep := verifyPDF(t, pki.verifier, readFile(t, both), false)
	if len(rep.Signatures) != 2 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	s := rep.Signatures[0]
	if !s.Valid || !s.ModifiedAfter || !s.LaterChangesOnlySignatures {
		t.Fatalf("our seal after pdfsig signed the empty field: %+v", s)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSealOnAnotherObjectStreamPage: a second seal on a page the first
// revision kept in an object stream (page 2 at index 4 here) rewrites that
// page; the first signature is still followed only by signatures. Reading
// a compressed object's index in its stream as its generation made this
// look like "replaced by a new object" (modified-after-signing).
func TestSealOnAnotherObjectStreamPage(t *testing.T) {
	testtool.Need(t, "qpdf")
	pki := thePKI(t)
	path := filepath.Join(t.TempDir(), "objstm.pdf")
	if out, err := run(t, "qpdf", "--object-streams=generate", filepath.Join("..", "testdata", "pdf", "gs-many-pages.pdf"), path); err != nil {
		t.Fatalf("qpdf: %v\n%s", err, out)
	}
	in, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := seal(t, pki, in, "sm2-person", ShapeCMS, Placement{Page: 1, X: 1, Y: 1})
	d, err := openDocument(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	page2, err := d.page(2)
	if err != nil {
		t.Fatal(err)
	}
	if d.r.Offset(page2.ref) >= 0 {
		t.Fatal("page 2 is not in an object stream: the test proves nothing")
	}
	doc, _ = seal(t, pki, doc, "rsa-org", ShapeCMS, Placement{Page: 2, X: 1, Y: 1})
	rep := verifyPDF(t, pki.verifier, doc, false)
	if len(rep.Signatures) != 2 || !rep.Valid {
		t.Fatalf("%d signatures, valid %v", len(rep.Signatures), rep.Valid)
	}
	if first := rep.Signatures[0]; !first.Valid || !first.LaterChangesOnlySignatures || len(first.LaterChanges) != 0 {
		t.Fatalf("the first seal after a seal on page 2: %+v", first)
	}
}
