package pdfsign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/pdfsign/internal/pdf"
	"github.com/scansign/scansign/verify"
)

// Shape is how the signer's answer becomes the PDF signature. It is fixed at
// prepare time because /SubFilter sits inside the signed bytes.
type Shape string

const (
	// ShapeCMS: prepare, given the signer's certificate, returns the DER
	// signed attributes (with signing-certificate-v2 naming it) and the
	// signer signs them (or answers with its own detached CMS over the
	// digest); complete embeds a standard detached CMS SignedData, a
	// PAdES-B-B signature. /SubFilter /adbe.pkcs7.detached — what pdfsig,
	// Acrobat and other validators check.
	ShapeCMS Shape = "cms"
	// ShapeP7Hash: the signer returns a PKCS#7 SignedData with the digest
	// itself attached as content (hex text or raw bytes), as the guide's
	// apps do; complete embeds it as it is. /SubFilter
	// /scansign.pkcs7.hash — only scansign's verifier knows it.
	ShapeP7Hash Shape = "p7hash"
)

// SubFilter names of the two shapes.
const (
	SubFilterDetached = "adbe.pkcs7.detached"
	SubFilterP7Hash   = "scansign.pkcs7.hash"
)

// ParseShape accepts "cms"/"detached" and "p7hash"/"p7".
func ParseShape(s string) (Shape, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "cms", "detached", SubFilterDetached:
		return ShapeCMS, nil
	case "p7hash", "p7", "hash", SubFilterP7Hash:
		return ShapeP7Hash, nil
	}
	return "", fail(CodeBadRequest, "不支持的签名形式 "+s+"（cms 或 p7hash）", "unknown signature shape "+s+" (cms or p7hash)", nil)
}

// Placeholder sizes, in bytes of DER signature (the hex in the PDF is twice
// as long).
const (
	DefaultPlaceholderSize = 16 << 10
	MaxPlaceholderSize     = 1 << 20
	// assumedChainBytes is what a signer's chain takes when prepare is not
	// told the certificate: a leaf and two CA certificates of RSA-4096 size.
	assumedChainBytes = 3 * caAllowance
	// caAllowance is the room counted for each CA certificate complete may
	// add that prepare cannot see (no trust store to build the chain from):
	// an RSA-4096 CA certificate with its extensions; SM2 ones are smaller.
	caAllowance = 2048
	// assumedCAs is how many CA certificates a chain not given is assumed
	// to have: an issuing CA and a root.
	assumedCAs = 2
)

// PrepareRequest is everything prepare needs besides the PDF.
type PrepareRequest struct {
	Seal      SealImage
	Placement Placement
	Shape     Shape // default ShapeCMS
	// Digest defaults to the signer's key's (SM2 → SM3, RSA → SHA-256);
	// p7hash without Signer takes SM3.
	Digest DigestAlgorithm
	// Signer is the signer's certificate, required for ShapeCMS (it goes
	// into signing-certificate-v2: PAdES-B-B), optional for ShapeP7Hash: it
	// sizes the placeholder and picks the digest. Chain are its CA
	// certificates, for sizing only.
	Signer *smx509.Certificate
	Chain  []*smx509.Certificate
	// Verifier, when given, builds the signer's chain from its trust store
	// the way complete will, so the placeholder is sized for the
	// certificates complete adds; without it each CA certificate not in
	// Chain is counted as caAllowance bytes.
	Verifier *verify.Verifier

	FieldName   string // default "Seal1", "Seal2", … (the first free one)
	Reason      string
	Location    string
	SignerName  string // /Name; default the seal's name
	ContactInfo string
	SigningTime time.Time // default now; to the second

	PlaceholderSize int // bytes of DER signature room; default generous
}

// Prepared describes a prepared PDF: what to sign and how to finish it.
type Prepared struct {
	FieldName       string
	Shape           Shape
	DigestAlgorithm DigestAlgorithm
	// Digest is the digest of the byte ranges: the "file hash" of the guide.
	Digest []byte
	// SignedAttributes (ShapeCMS) is the DER SET of signed attributes that a
	// raw signature must cover.
	SignedAttributes []byte
	ByteRange        [4]int64
	PlaceholderSize  int
	Size             int64 // of the prepared PDF
	SigningTime      time.Time
}

// DigestHex is the digest as lowercase hex: the text apps sign in the
// p7hash shape.
func (p *Prepared) DigestHex() string { return hex.EncodeToString(p.Digest) }

// ToSign is the data the app must sign: the signed attributes for
// ShapeCMS, the digest's hex text for ShapeP7Hash.
func (p *Prepared) ToSign() []byte {
	if p.Shape == ShapeCMS {
		return p.SignedAttributes
	}
	return []byte(p.DigestHex())
}

const (
	contentsTag  = "contents"
	byteRangeTag = "byterange"
	// byteRangeWidth fits four offsets of up to 10 digits.
	byteRangePlaceholder = "[0 0000000000 0000000000 0000000000]"
)

// Prepare appends to the PDF in src (size bytes) an incremental update with
// the seal image on the page, a signature field and an empty signature, and
// streams the result to dst. The original bytes are copied unchanged. It
// reads src once. When it fails, dst may hold part of a result: discard it.
func Prepare(ctx context.Context, src io.ReaderAt, size int64, req PrepareRequest, dst io.Writer) (*Prepared, error) {
	doc, err := openDocument(src, size)
	if err != nil {
		return nil, err
	}
	if err := refuseCertified(doc); err != nil {
		return nil, err
	}
	shape := req.Shape
	if shape == "" {
		shape = ShapeCMS
	}
	if shape != ShapeCMS && shape != ShapeP7Hash {
		return nil, fail(CodeBadRequest, "不支持的签名形式 "+string(shape), "unknown signature shape "+string(shape), nil)
	}
	if shape == ShapeCMS && req.Signer == nil {
		// The signed attributes are signed as they are: without the
		// certificate they can hold no signing-certificate-v2, and the
		// result would not be the PAdES-B-B signature this shape promises
		// (nor could the digest be chosen for the app's key).
		return nil, fail(CodeBadRequest,
			"cms 形式须给出签章证书（cert）：签名属性须含签章证书的 signing-certificate-v2（PAdES-B-B）；没有证书时请用 p7hash 形式",
			"the cms shape needs the signer's certificate (cert): the signed attributes must name it in signing-certificate-v2 (PAdES-B-B); without it use the p7hash shape", nil)
	}
	alg := req.Digest
	switch {
	case alg != "":
	case req.Signer != nil:
		if alg, err = digestForCert(req.Signer); err != nil {
			return nil, err
		}
	default:
		// p7hash: the app signs the hash's hex text with a digest of its
		// own choosing, so the hash's algorithm fits any key.
		alg = SM3
	}
	if alg != SM3 && alg != SHA256 {
		return nil, fail(CodeBadRequest, "不支持的摘要算法 "+string(alg), "unsupported digest "+string(alg), nil)
	}
	room, err := placeholderSize(ctx, req)
	if err != nil {
		return nil, err
	}
	page, err := doc.page(req.Placement.Page)
	if err != nil {
		return nil, err
	}
	names, err := doc.fieldNames()
	if err != nil {
		return nil, malformed(err)
	}
	field := req.FieldName
	if field == "" {
		for i := 1; ; i++ {
			if n := fmt.Sprintf("Seal%d", i); !names[n] {
				field = n
				break
			}
		}
	} else if names[field] {
		return nil, fail(CodeFieldExists, "签名域名称 "+field+" 已存在", "a field named "+field+" already exists", nil)
	}
	if len(field) > 200 || strings.ContainsAny(field, ".") {
		return nil, fail(CodeBadRequest, "签名域名称不能含有“.”且不超过 200 字节", "field names may not contain '.' and are at most 200 bytes", nil)
	}
	at := req.SigningTime
	if at.IsZero() {
		at = time.Now()
	}
	at = at.Truncate(time.Second)

	enc := req.Seal.Encoded
	if enc == nil {
		if enc, err = EncodeSeal(req.Seal.Image); err != nil {
			return nil, err
		}
	}
	aspect := enc.Aspect()
	u := doc.r.NewUpdate()
	img := imageXObject(u, enc)
	w, h := req.Placement.Width, req.Placement.Height
	if w <= 0 {
		w = req.Seal.Width
	}
	if h <= 0 {
		h = req.Seal.Height
	}
	switch {
	case w <= 0 && h <= 0:
		w = 4 // a common company seal is 4 cm across
		h = w * aspect
	case w <= 0:
		w = h / aspect
	case h <= 0:
		h = w * aspect
	}
	pl, err := place(page, req.Placement.X, req.Placement.Y, w, h)
	if err != nil {
		return nil, err
	}
	ap := appearance(u, img, pl)

	name := req.SignerName
	if name == "" {
		name = req.Seal.Name
	}
	sig := pdf.Dict{
		"Type":       pdf.Name("Sig"),
		"Filter":     pdf.Name("Adobe.PPKLite"),
		"SubFilter":  pdf.Name(SubFilterDetached),
		"ByteRange":  pdf.Raw{Tag: byteRangeTag, Text: []byte(byteRangePlaceholder)},
		"Contents":   pdf.Raw{Tag: contentsTag, Text: []byte("<" + strings.Repeat("0", 2*room) + ">")},
		"M":          pdf.String(pdfDate(at)),
		"Prop_Build": pdf.Dict{"App": pdf.Dict{"Name": pdf.Name("scansign")}},
		// Where this revision starts: lets revoke give back the previous
		// revision byte for byte even when the original lacked a final EOL.
		keyBase:   pdf.Integer(size),
		keyDigest: pdf.Name(alg),
	}
	if shape == ShapeP7Hash {
		sig["SubFilter"] = pdf.Name(SubFilterP7Hash)
	}
	for k, v := range map[pdf.Name]string{"Name": name, "Reason": req.Reason, "Location": req.Location, "ContactInfo": req.ContactInfo} {
		if v != "" {
			sig[k] = pdf.TextString(v)
		}
	}
	sigRef := u.Add(sig)
	widget := pdf.Dict{
		"Type": pdf.Name("Annot"), "Subtype": pdf.Name("Widget"),
		"FT": pdf.Name("Sig"), "T": pdf.TextString(field), "V": sigRef,
		"Rect": pdf.Array{pdf.Real(pl.rect[0]), pdf.Real(pl.rect[1]), pdf.Real(pl.rect[2]), pdf.Real(pl.rect[3])},
		"F":    pdf.Integer(132), // Print | Locked
		"P":    page.ref,
		"AP":   pdf.Dict{"N": ap},
	}
	widgetRef := u.Add(widget)
	if err := addToPage(doc, u, page, widgetRef); err != nil {
		return nil, err
	}
	if err := addToForm(doc, u, widgetRef); err != nil {
		return nil, err
	}

	needEOL, err := lacksFinalEOL(src, size)
	if err != nil {
		return nil, err
	}
	inc, err := u.Serialize(size, needEOL, fileID(doc, size, field, at))
	if errors.Is(err, pdf.ErrTooManyObjects) {
		return nil, malformed(err)
	} else if err != nil {
		return nil, fail(CodeInternal, "生成增量更新失败", "cannot write the update", err)
	}
	cPos, bPos := inc.Marks[contentsTag], inc.Marks[byteRangeTag]
	gapStart := size + int64(cPos)
	gapEnd := gapStart + int64(2*room+2)
	total := size + int64(len(inc.Bytes))
	br := [4]int64{0, gapStart, gapEnd, total - gapEnd}
	text := fmt.Sprintf("[0 %d %d %d", br[1], br[2], br[3])
	if len(text)+1 > len(byteRangePlaceholder) {
		return nil, fail(CodeTooLarge, "PDF 文件过大", "the PDF is too large", nil)
	}
	text += strings.Repeat(" ", len(byteRangePlaceholder)-len(text)-1) + "]"
	copy(inc.Bytes[bPos:], text)

	// One pass: the original and the update go to dst and, outside the
	// /Contents gap, through the hash (concurrently, for the original).
	hsh := alg.New()
	if err := copyHashing(ctx, dst, hsh, src, 0, size); err != nil {
		return nil, fmt.Errorf("pdfsign: copy the original: %w", err)
	}
	gap := cPos + 2*room + 2
	hsh.Write(inc.Bytes[:cPos])
	hsh.Write(inc.Bytes[gap:])
	if _, err := dst.Write(inc.Bytes); err != nil {
		return nil, fmt.Errorf("pdfsign: write: %w", err)
	}
	out := &Prepared{
		FieldName: field, Shape: shape, DigestAlgorithm: alg, Digest: hsh.Sum(nil),
		ByteRange: br, PlaceholderSize: room, Size: total, SigningTime: at,
	}
	if shape == ShapeCMS {
		out.SignedAttributes, err = signedAttributes(alg, out.Digest, at, req.Signer)
		if err != nil {
			return nil, fail(CodeInternal, "生成签名属性失败", "cannot encode the signed attributes", err)
		}
	}
	return out, nil
}

// Keys scansign adds to its signature dictionaries.
const (
	keyBase   pdf.Name = "ScansignBase"   // offset where this signature's revision starts
	keyDigest pdf.Name = "ScansignDigest" // digest algorithm of the byte ranges
)

func placeholderSize(ctx context.Context, req PrepareRequest) (int, error) {
	need := estimateCMSSize(nil) + assumedChainBytes
	if req.Signer != nil {
		built := builtChain(ctx, req)
		need = estimateCMSSize(rawCerts(expectedChain(req, built))) + caAllowance*missingCAs(req, built)
	}
	if req.PlaceholderSize > 0 {
		if req.PlaceholderSize > MaxPlaceholderSize {
			return 0, fail(CodeBadRequest, fmt.Sprintf("签名预留空间不能超过 %d 字节", MaxPlaceholderSize), fmt.Sprintf("the placeholder may not exceed %d bytes", MaxPlaceholderSize), nil)
		}
		if req.PlaceholderSize < need {
			return 0, fail(CodePlaceholderTooSmall,
				fmt.Sprintf("签名预留空间 %d 字节不足，该证书及其证书链的签名约需 %d 字节", req.PlaceholderSize, need),
				fmt.Sprintf("a placeholder of %d bytes is too small: a signature with this certificate and its chain needs about %d", req.PlaceholderSize, need), nil)
		}
		return req.PlaceholderSize, nil
	}
	return max(DefaultPlaceholderSize, 2*need), nil
}

// expectedChain is what complete will put into the CMS: the signer, the
// chain given, and the chain the verifier builds from its trust store.
func expectedChain(req PrepareRequest, built []*smx509.Certificate) []*smx509.Certificate {
	out := []*smx509.Certificate{req.Signer}
	add := func(c *smx509.Certificate) {
		for _, have := range out {
			if have.Equal(c) {
				return
			}
		}
		out = append(out, c)
	}
	for _, c := range req.Chain {
		add(c)
	}
	for _, c := range built {
		add(c)
	}
	return out
}

// builtChain is the chain the verifier builds for the signer now (nil
// without a verifier or when it builds none).
func builtChain(ctx context.Context, req PrepareRequest) []*smx509.Certificate {
	if req.Verifier == nil {
		return nil
	}
	return req.Verifier.CheckCertificate(ctx, req.Signer.Raw, time.Time{}, 0).ChainCerts
}

// missingCAs counts the CA certificates complete may add that prepare
// could not see: none when a chain was built or the chain given ends at a
// root, one when it stops below a root, assumedCAs when none was given.
func missingCAs(req PrepareRequest, built []*smx509.Certificate) int {
	switch {
	case len(built) > 0:
		return 0
	case len(req.Chain) == 0:
		if selfSigned(req.Signer) {
			return 0
		}
		return assumedCAs
	case selfSigned(req.Chain[len(req.Chain)-1]):
		return 0
	}
	return 1
}

func selfSigned(c *smx509.Certificate) bool { return bytes.Equal(c.RawIssuer, c.RawSubject) }

func rawCerts(cs []*smx509.Certificate) [][]byte {
	out := make([][]byte, len(cs))
	for i, c := range cs {
		out[i] = c.Raw
	}
	return out
}

// refuseCertified refuses documents whose certification signature forbids
// changes (DocMDP P=1): a seal would break it.
func refuseCertified(doc *document) error {
	perms, err := doc.r.Dict(doc.catalog["Perms"])
	if err != nil || perms == nil {
		return nil
	}
	sig, err := doc.r.Dict(perms["DocMDP"])
	if err != nil || sig == nil {
		return nil
	}
	refs, _ := doc.r.Array(sig["Reference"])
	for _, ro := range refs {
		rd, _ := doc.r.Dict(ro)
		if rd == nil {
			continue
		}
		params, _ := doc.r.Dict(rd["TransformParams"])
		if p, ok := params["P"].(pdf.Integer); ok && p == 1 {
			return fail(CodeMalformed, "文档已被认证签名锁定，不允许任何修改", "the document is certified with no changes allowed (DocMDP P=1)", nil)
		}
	}
	return nil
}

func addToPage(doc *document, u *pdf.Update, page *pageInfo, widget pdf.Ref) error {
	if page.ref == (pdf.Ref{}) {
		return fail(CodeMalformed, "页面对象不是间接对象", "the page is not an indirect object", nil)
	}
	annots := page.dict["Annots"]
	if ref, ok := annots.(pdf.Ref); ok {
		arr, err := doc.r.Array(ref)
		if err != nil {
			return malformed(err)
		}
		u.Set(ref, append(append(pdf.Array{}, arr...), widget))
		return nil
	}
	arr, _ := annots.(pdf.Array)
	nd := page.dict.Clone()
	nd["Annots"] = append(append(pdf.Array{}, arr...), widget)
	u.Set(page.ref, nd)
	return nil
}

func addToForm(doc *document, u *pdf.Update, field pdf.Ref) error {
	formObj := doc.catalog["AcroForm"]
	form, err := doc.r.Dict(formObj)
	if err != nil {
		return malformed(err)
	}
	var nf pdf.Dict
	if form == nil {
		nf = pdf.Dict{}
	} else {
		nf = form.Clone()
	}
	flags, _ := nf["SigFlags"].(pdf.Integer)
	nf["SigFlags"] = flags | 3 // SignaturesExist | AppendOnly
	if ref, ok := nf["Fields"].(pdf.Ref); ok {
		arr, err := doc.r.Array(ref)
		if err != nil {
			return malformed(err)
		}
		u.Set(ref, append(append(pdf.Array{}, arr...), field))
	} else {
		arr, _ := nf["Fields"].(pdf.Array)
		nf["Fields"] = append(append(pdf.Array{}, arr...), field)
	}
	if ref, ok := formObj.(pdf.Ref); ok && form != nil {
		u.Set(ref, nf)
		return nil
	}
	cat := doc.catalog.Clone()
	cat["AcroForm"] = u.Add(nf)
	u.Set(doc.catalogRef, cat)
	return nil
}

func lacksFinalEOL(src io.ReaderAt, size int64) (bool, error) {
	var last [1]byte
	if _, err := src.ReadAt(last[:], size-1); err != nil && err != io.EOF {
		return false, fmt.Errorf("pdfsign: read: %w", err)
	}
	return last[0] != '\n' && last[0] != '\r', nil
}

// fileID makes the second /ID element of the update: it must change with
// every revision; derived from what makes this one unique.
func fileID(doc *document, size int64, field string, at time.Time) []byte {
	h := sha256.New()
	if id, ok := doc.r.Trailer["ID"].(pdf.Array); ok && len(id) > 0 {
		b, _ := pdf.StringBytes(id[0])
		h.Write(b)
	}
	binary.Write(h, binary.BigEndian, size)
	h.Write([]byte(field))
	binary.Write(h, binary.BigEndian, at.UnixNano())
	return h.Sum(nil)[:16]
}

// pdfDate formats a time as a PDF date string.
func pdfDate(t time.Time) string {
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("D:%s%c%02d'%02d'", t.Format("20060102150405"), sign, off/3600, (off%3600)/60)
}

// parsePDFDate reads D:YYYYMMDDHHmmSS with an optional zone.
func parsePDFDate(s string) (time.Time, bool) {
	s = strings.TrimPrefix(s, "D:")
	if len(s) < 14 {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102150405", s[:14])
	if err != nil {
		return time.Time{}, false
	}
	rest := s[14:]
	if rest == "" || rest[0] == 'Z' {
		return t, true
	}
	var hh, mm int
	z := strings.NewReplacer("'", "").Replace(rest[1:])
	if _, err := fmt.Sscanf(z+"0000", "%02d%02d", &hh, &mm); err != nil {
		return t, true
	}
	off := hh*3600 + mm*60
	if rest[0] == '-' {
		off = -off
	}
	return t.Add(-time.Duration(off) * time.Second).In(time.FixedZone("", off)), true
}
