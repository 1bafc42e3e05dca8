package main

import (
	"bytes"
	"fmt"
	"strings"
)

// demoPDF is the document the demo seals: a one-page A4 contract written
// here rather than read from testdata, so `go run ./cmd/scansign demo`
// works from any directory. It is a plain PDF 1.7 with a classic
// cross-reference table, the simplest shape seal controls meet; pdfsign's
// tests cover the others (testdata/pdf).
func demoPDF() []byte {
	lines := []struct {
		size int
		y    int
		text string
	}{
		{18, 770, "Construction Contract No. 2026-001"},
		{11, 740, "Employer: Anhui Example Construction Engineering Co., Ltd."},
		{11, 722, "Agent: Hefei Example Tendering Agency Co., Ltd."},
		{11, 692, "1. The contractor builds the works described in the bid documents."},
		{11, 674, "2. The contract price is CNY 1,234,567.00, paid in three instalments."},
		{11, 656, "3. The works are completed within 180 days of the commencement order."},
		{11, 638, "4. Disputes go to the Hefei Arbitration Commission."},
		{11, 560, "Sealed electronically through the mobile QR scan service (scansign demo)."},
		{11, 520, "Tendering agent (seal):                              Representative (personal seal):"},
	}
	var content strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&content, "BT /F1 %d Tf 72 %d Td (%s) Tj ET\n", l.size, l.y, l.text)
	}
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		"<< /Title (Construction Contract No. 2026-001) /Producer (scansign demo) >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, len(objects), xref)
	return b.Bytes()
}
