package pdfsign

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// hybridPDF builds a hybrid-reference file as Word and Acrobat write them:
// a classic table whose trailer names an /XRefStm; the page sits in an
// object stream, listed as free in the table (hidden from PDF 1.4 readers)
// and found through the cross-reference stream.
func hybridPDF() []byte {
	var b bytes.Buffer
	off := map[int]int{}
	obj := func(n int, s string) { off[n] = b.Len(); fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, s) }
	b.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	page := "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R /Resources << >> >>"
	header := "3 0 "
	obj(4, fmt.Sprintf("<< /Type /ObjStm /N 1 /First %d /Length %d >>\nstream\n%s%s\nendstream", len(header), len(header)+len(page), header, page))
	content := "0 0 1 rg 100 600 200 100 re f"
	obj(6, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	// The cross-reference stream: object 3 is the first (index 0) in
	// object stream 4. W [1 2 1], no filter.
	rows := []byte{2, 0, 4, 0}
	obj(5, fmt.Sprintf("<< /Type /XRef /Size 7 /W [1 2 1] /Index [3 1] /Length %d >>\nstream\n%s\nendstream", len(rows), rows))
	xref := b.Len()
	b.WriteString("xref\n0 7\n0000000000 65535 f \n")
	for n := 1; n <= 6; n++ {
		if n == 3 {
			b.WriteString("0000000000 00001 f \n")
			continue
		}
		fmt.Fprintf(&b, "%010d 00000 n \n", off[n])
	}
	fmt.Fprintf(&b, "trailer\n<< /Size 7 /Root 1 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n", off[5], xref)
	return b.Bytes()
}

func TestHybridFile(t *testing.T) {
	pki := thePKI(t)
	in := hybridPDF()
	qpdfCheck(t, writeTemp(t, "hybrid.pdf", in))
	doc, _ := seal(t, pki, in, "rsa-person", ShapeCMS, Placement{Page: 1, X: 2, Y: 2})
	doc, _ = seal(t, pki, doc, "sm2-person", ShapeCMS, Placement{Page: 1, X: 8, Y: 2})
	// A table after a hybrid table (its last section is a table).
	if tail := doc[len(in):]; bytes.Contains(tail, []byte("/Type /XRef")) || !bytes.Contains(tail, []byte("\nxref\n")) {
		t.Fatal("the update after a hybrid file is not a table")
	}
	path := writeTemp(t, "sealed.pdf", doc)
	qpdfCheck(t, path)
	rep := verifyPDF(t, pki.verifier, doc, false)
	if !rep.Valid || len(rep.Signatures) != 2 || rep.Signatures[0].Page != 1 {
		t.Fatalf("%+v", rep)
	}
	sigs := pdfsigReport(t, pki, path)
	if len(sigs) != 2 || !strings.Contains(sigs[0], "Signature is Valid") {
		t.Fatalf("pdfsig: %v", sigs)
	}
	got := redBounds(render(t, path, 1))
	if got.Empty() {
		t.Fatal("no seal on the rendered page")
	}
}
