package pdfsign

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scansign/scansign/pdfsign/internal/pdf"
)

// The figures in BENCHMARKS.md ("PDF seals: a million objects") use files
// this test writes: go test ./pdfsign -run TestManyObjects -many-objects 1000000 -many-objects-out DIR
var (
	manyObjects    = flag.Int("many-objects", 20_000, "object numbers in TestManyObjects' PDFs")
	manyObjectsOut = flag.String("many-objects-out", "", "TestManyObjects writes its PDFs (table.pdf, stream.pdf) here and stops")
)

// manyObjectsPDF writes a one-page PDF using object numbers 0 to n-1 (n at
// least 16): the catalog, page tree, page and its content, then filler
// dictionaries. With stream set the fillers sit in object streams of 100
// and the cross-reference section is a compressed stream, as qpdf and
// Acrobat write large files; otherwise they are plain objects listed in a
// classic table.
func manyObjectsPDF(w io.Writer, n int, stream bool) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var pos int64
	write := func(format string, a ...any) {
		m, _ := fmt.Fprintf(bw, format, a...)
		pos += int64(m)
	}
	offs := make([]int64, n)
	write("%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n")
	content := "1 0 0 rg 100 600 200 100 re f"
	for num, body := range []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
	} {
		offs[num+1] = pos
		write("%d 0 obj\n%s\nendobj\n", num+1, body)
	}
	filler := func(num int) string { return fmt.Sprintf("<< /Filler %d >>", num) }
	if !stream {
		for num := 5; num < n; num++ {
			offs[num] = pos
			write("%d 0 obj\n%s\nendobj\n", num, filler(num))
		}
		xref := pos
		write("xref\n0 %d\n0000000000 65535 f \n", n)
		for num := 1; num < n; num++ {
			write("%010d 00000 n \n", offs[num])
		}
		write("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", n, xref)
		return bw.Flush()
	}
	// Numbers 5..members-1 are fillers in object streams of 100 numbered
	// from members on; the numbers left before n-1 (the cross-reference
	// stream) are plain fillers.
	const per = 100
	members := 5
	for members+1+(members+1-5+per-1)/per+1 <= n {
		members++
	}
	streamOf := make([]int, n) // a member's object stream (0: not a member)
	index := make([]int, n)
	next := members
	for first := 5; first < members; first += per {
		last := min(first+per, members)
		var head, body strings.Builder
		for num := first; num < last; num++ {
			fmt.Fprintf(&head, "%d %d ", num, body.Len())
			body.WriteString(filler(num) + "\n")
			streamOf[num], index[num] = next, num-first
		}
		data := head.String() + body.String()
		offs[next] = pos
		write("%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d >>\nstream\n%s\nendstream\nendobj\n", next, last-first, head.Len(), len(data), data)
		next++
	}
	for ; next < n-1; next++ {
		offs[next] = pos
		write("%d 0 obj\n%s\nendobj\n", next, filler(next))
	}
	self := next
	if self != n-1 {
		return fmt.Errorf("numbering: the cross-reference stream is %d, want %d", self, n-1)
	}
	offs[self] = pos
	var rows bytes.Buffer
	zw := zlib.NewWriter(&rows)
	for num := 0; num < n; num++ {
		var row [7]byte
		switch {
		case num == 0:
			row = [7]byte{0, 0, 0, 0, 0, 0xff, 0xff}
		case streamOf[num] != 0:
			row[0] = 2
			binary.BigEndian.PutUint32(row[1:5], uint32(streamOf[num]))
			binary.BigEndian.PutUint16(row[5:], uint16(index[num]))
		default:
			row[0] = 1
			binary.BigEndian.PutUint32(row[1:5], uint32(offs[num]))
		}
		zw.Write(row[:])
	}
	zw.Close()
	write("%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\nstream\n", self, n, rows.Len())
	m, _ := bw.Write(rows.Bytes())
	pos += int64(m)
	write("\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", offs[self])
	return bw.Flush()
}

// TestManyObjects: documents using many object numbers, in both
// cross-reference flavours, are sealed, verified (valid, the fillers
// untouched) and pass qpdf --check. With -many-objects-out it writes the
// files for the measurements instead.
func TestManyObjects(t *testing.T) {
	n := *manyObjects
	if *manyObjectsOut != "" {
		for _, stream := range []bool{false, true} {
			name := map[bool]string{false: "table.pdf", true: "stream.pdf"}[stream]
			f, err := os.Create(filepath.Join(*manyObjectsOut, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := manyObjectsPDF(f, n, stream); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
		t.Skipf("wrote table.pdf and stream.pdf with %d object numbers to %s", n, *manyObjectsOut)
	}
	pki := thePKI(t)
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "table", true: "stream"}[stream], func(t *testing.T) {
			var in bytes.Buffer
			if err := manyObjectsPDF(&in, n, stream); err != nil {
				t.Fatal(err)
			}
			qpdfCheck(t, writeTemp(t, "many.pdf", in.Bytes()))
			d, err := openDocument(bytes.NewReader(in.Bytes()), int64(in.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if got := d.r.NextObjectNumber(); got != n {
				t.Fatalf("next object number %d, want %d", got, n)
			}
			mid := n / 2 // in an object stream in the stream flavour
			if o, err := d.r.Dict(pdf.Ref{Num: mid}); err != nil || o["Filler"] != pdf.Integer(mid) {
				t.Fatalf("object %d: %v %v", mid, o, err)
			}
			doc, _ := seal(t, pki, in.Bytes(), "sm2-org", ShapeCMS, Placement{Page: 1, X: 1, Y: 1})
			doc, _ = seal(t, pki, doc, "rsa-org", ShapeCMS, Placement{Page: 1, X: 6, Y: 1})
			qpdfCheck(t, writeTemp(t, "sealed.pdf", doc))
			rep := verifyPDF(t, pki.verifier, doc, false)
			if !rep.Valid || len(rep.Signatures) != 2 || !rep.Signatures[0].LaterChangesOnlySignatures {
				t.Fatalf("%+v", rep)
			}
		})
	}
}
