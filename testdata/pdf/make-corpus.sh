#!/usr/bin/env bash
# Regenerates the PDF corpus the pdfsign tests run against: documents made by
# other producers (Ghostscript, qpdf, MuPDF, poppler), in the shapes that break
# naive signers: cross-reference streams, linearized, earlier incremental
# updates, an existing signature (BER CMS from pdfsig), rotated pages, offset
# boxes, Chinese text, many pages; plus encrypted and broken files.
# Needs: gs, qpdf, mutool, pdfsig, certutil, pk12util, openssl.
# Run from anywhere: bash testdata/pdf/make-corpus.sh
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Ghostscript: two pages of text and shapes (classic xref table).
cat >"$work/basic.ps" <<'PS'
%!PS
<< /PageSize [595 842] >> setpagedevice
/Helvetica findfont 24 scalefont setfont
1 1 2 {
  /n exch def
  72 760 moveto (scansign corpus page ) show n 3 string cvs show
  0.2 0.4 0.8 setrgbcolor 72 400 200 150 rectfill 0 setgray
  72 300 moveto (The quick brown fox jumps over the lazy dog.) show
  showpage
} for
PS
gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfwrite -dCompatibilityLevel=1.4 \
  -sOutputFile=gs-basic.pdf "$work/basic.ps"

# 2. Many pages (Ghostscript), one line each.
cat >"$work/many.ps" <<'PS'
%!PS
<< /PageSize [595 842] >> setpagedevice
/Helvetica findfont 18 scalefont setfont
1 1 40 { /n exch def 72 760 moveto (page ) show n 3 string cvs show showpage } for
PS
gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfwrite -sOutputFile=gs-many-pages.pdf "$work/many.ps"

# 3. qpdf: object streams and a cross-reference stream; linearized.
qpdf --object-streams=generate gs-basic.pdf qpdf-xref-stream.pdf
qpdf --linearize gs-basic.pdf qpdf-linearized.pdf
# Hybrid-free but linearized with object streams too (qpdf writes xref streams).
qpdf --linearize --object-streams=generate gs-basic.pdf qpdf-linearized-objstm.pdf

# 4. Rotated pages 0/90/180/270 (qpdf rotates a four-page copy).
qpdf --empty --pages gs-basic.pdf 1 gs-basic.pdf 1 gs-basic.pdf 1 gs-basic.pdf 1 -- "$work/four.pdf"
qpdf "$work/four.pdf" --rotate=+90:2 --rotate=+180:3 --rotate=+270:4 qpdf-rotated.pdf

# 5. MuPDF: offset MediaBox, then an offset CropBox set through mutool's
# JavaScript API; a rotated copy of it too.
cat >"$work/offset.txt" <<'TXT'
%%MediaBox 100 200 712 992
%%Font Helv Helvetica
BT /Helv 20 Tf 160 900 Td (offset boxes) Tj ET
0 0.6 0 rg 200 400 300 200 re f
TXT
mutool create -o "$work/offset.pdf" "$work/offset.txt"
cat >"$work/crop.js" <<'JS'
var doc = new PDFDocument(scriptArgs[0]);
var page = doc.findPage(0);
var a = doc.newArray(); a.push(150); a.push(250); a.push(662); a.push(942);
page.put("CropBox", a);
doc.save(scriptArgs[1], "compress");
JS
mutool run "$work/crop.js" "$work/offset.pdf" mupdf-offset-cropbox.pdf
qpdf mupdf-offset-cropbox.pdf --rotate=+90:1 mupdf-offset-cropbox-rot90.pdf

cat >"$work/zh.txt" <<'TXT'
%%MediaBox 0 0 595 842
%%CJKFont Song zh-Hans H serif
BT /Song 28 Tf 72 760 Td <5B8953BE770151717D448D445E7367096E2F4EA46613> Tj ET
BT /Song 20 Tf 72 700 Td <75355B50797E7AE0002065875B57> Tj ET
TXT
mutool create -o mupdf-chinese.pdf "$work/zh.txt"

# 6. An earlier incremental update made by MuPDF (new title, appended).
cat >"$work/incr.js" <<'JS'
var doc = new PDFDocument(scriptArgs[0]);
doc.setMetaData("info:Title", "updated incrementally by mutool");
doc.save(scriptArgs[0], "incremental");
JS
cp gs-basic.pdf mupdf-incremental.pdf
mutool run "$work/incr.js" mupdf-incremental.pdf

# 7. Already signed by poppler's pdfsig (its CMS is BER with indefinite
# lengths). pdfsig -add-signature embeds a 470 KB font for its appearance, so
# it signs an invisible empty field instead: a hand-written page that qpdf
# rewrites (qpdf reconstructs the cross-reference table we leave out).
cat >"$work/field.pdf" <<'PDF'
%PDF-1.7
1 0 obj << /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R /Resources << /Font << /F1 6 0 R >> >> /Annots [4 0 R] >> endobj
4 0 obj << /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /Rect [0 0 0 0] /F 132 /P 3 0 R >> endobj
5 0 obj << /Length 48 >> stream
BT /F1 24 Tf 72 760 Td (signed by pdfsig) Tj ET
endstream endobj
6 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj
trailer << /Root 1 0 R /Size 7 >>
PDF
qpdf "$work/field.pdf" "$work/field-ok.pdf" 2>/dev/null || [ $? -eq 3 ]
# A throwaway RSA key in a throwaway NSS database.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/k.pem" -out "$work/c.pem" -days 3650 \
  -subj "/CN=corpus pdfsig signer/O=scansign corpus" 2>/dev/null
openssl pkcs12 -export -inkey "$work/k.pem" -in "$work/c.pem" -name signer -passout pass: -out "$work/s.p12"
mkdir "$work/nss"
certutil -N -d "sql:$work/nss" --empty-password
pk12util -i "$work/s.p12" -d "sql:$work/nss" -W '' >/dev/null
pdfsig -sign Signature1 -nssdir "sql:$work/nss" -nick signer -digest SHA256 -reason corpus \
  "$work/field-ok.pdf" poppler-signed.pdf 2>/dev/null
cp "$work/c.pem" poppler-signed-signer.pem

# 8. Encrypted (qpdf, AES-256, empty user password) and broken files.
qpdf --encrypt "" owner 256 -- gs-basic.pdf qpdf-encrypted.pdf
head -c $(( $(stat -c %s gs-basic.pdf) / 2 )) gs-basic.pdf >broken-truncated.pdf
sed 's/^startxref$/startxrex/' gs-basic.pdf >broken-no-startxref.pdf
printf 'this is not a PDF\n' >broken-not-pdf.pdf

ls -l *.pdf
