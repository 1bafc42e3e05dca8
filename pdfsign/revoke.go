package pdfsign

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/pdfsign/internal/pdf"
	"github.com/scansign/scansign/verify"
)

// RevokeRequest takes a seal back (撤章).
type RevokeRequest struct {
	// FieldName picks the seal; empty means the latest.
	FieldName string
	// Signature is the app's signature over the seal's hash (the guide: a
	// PKCS#7 with the hash attached); a raw signature needs Cert.
	Signature []byte
	Cert      []byte
}

// RevokeOptions configure Revoke.
type RevokeOptions struct {
	Verifier *verify.Verifier // required
	At       time.Time        // chain verification time; zero means now
}

// Revoked describes a revocation.
type Revoked struct {
	FieldName    string         `json:"fieldName"`
	Hash         string         `json:"hash"` // the seal's hash the revocation signed
	Size         int64          `json:"size"` // of the returned PDF
	Verification *verify.Result `json:"verification"`
}

// Revoke checks that the revocation is signed by the seal's own
// certificate over that seal's hash, and streams to dst the PDF exactly as
// it was before the seal. Only the latest seal can be taken back.
func Revoke(ctx context.Context, src io.ReaderAt, size int64, req RevokeRequest, opts RevokeOptions, dst io.Writer) (*Revoked, error) {
	if opts.Verifier == nil {
		return nil, fail(CodeInternal, "未配置验签服务", "no verifier configured", nil)
	}
	doc, err := openDocument(src, size)
	if err != nil {
		return nil, err
	}
	sigs, err := doc.signatures()
	if err != nil {
		return nil, err
	}
	if len(sigs) == 0 {
		return nil, fail(CodeNoSeal, "文档中没有签章", "the document has no seal", nil)
	}
	latest := sigs[len(sigs)-1]
	target := latest
	if req.FieldName != "" {
		target = nil
		for _, s := range sigs {
			if s.name == req.FieldName {
				target = s
			}
		}
		if target == nil {
			return nil, fail(CodeNoSeal, "文档中没有名为 "+req.FieldName+" 的签章", "no seal named "+req.FieldName, nil)
		}
	}
	if target != latest || target.end() != size {
		return nil, fail(CodeNotLatest, "只能撤销最后一个签章："+target.name+" 之后文档还有签章或修改", "only the latest seal can be taken back: the document changed after "+target.name, nil)
	}
	sr := verifyOne(ctx, doc, src, size, target, VerifyOptions{Verifier: opts.Verifier, At: opts.At})
	if !sr.Intact || !sr.SignatureValid || sr.Verification == nil || sr.Verification.SignerCert == nil {
		return nil, fail(CodeBadSignature, "被撤销的签章本身验证未通过，不能撤章", "the seal itself does not verify, so it cannot be taken back", nil)
	}
	sealCert := sr.Verification.SignerCert

	sigBytes, err := certs.DecodeBinary(req.Signature)
	if err != nil || len(sigBytes) == 0 {
		return nil, fail(CodeBadSignature, "撤章签名为空或无法解码", "the revocation signature is empty or cannot be decoded", err)
	}
	if err := refuseReplay(sigs, sigBytes); err != nil {
		return nil, err
	}
	expected, err := verify.ExpectHashHex(sr.Hash)
	if err != nil {
		return nil, fail(CodeInternal, "签章 hash 无效", "the seal's hash is not usable", err)
	}
	res := opts.Verifier.Verify(ctx, verify.Request{Signature: sigBytes, Cert: req.Cert, Expected: expected, At: opts.At})
	if !res.Valid {
		return nil, refusal(res)
	}
	if res.SignerCert == nil || !res.SignerCert.Equal(sealCert) {
		return nil, fail(CodeWrongSigner, "撤章签名的证书不是该签章的签章证书", "the revocation is not signed by the seal's certificate", nil)
	}
	if err := refuseNotFresh(res, sr.SigningTime); err != nil {
		return nil, err
	}
	base, err := revisionStart(doc, src, target)
	if err != nil {
		return nil, fail(CodeMalformed, "无法确定签章之前的修订版本: "+err.Error(), "cannot find the revision before the seal: "+err.Error(), err)
	}
	if err := copyRange(ctx, onlyWriter{dst}, src, 0, base, make([]byte, copyBufSize)); err != nil {
		return nil, fmt.Errorf("pdfsign: write: %w", err)
	}
	return &Revoked{FieldName: target.name, Hash: sr.Hash, Size: base, Verification: res}, nil
}

var startxrefTail = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)

// revisionStart finds where the revision holding signature s begins: the
// byte after the previous revision's %%EOF line. The revision's own
// cross-reference section names its objects and, by /Prev, the previous
// section, which the previous revision's last startxref must name.
func revisionStart(doc *document, src io.ReaderAt, s *sigField) (int64, error) {
	end := s.end()
	tail := make([]byte, min(end, 64))
	if _, err := src.ReadAt(tail, end-int64(len(tail))); err != nil {
		return 0, err
	}
	m := startxrefTail.FindSubmatch(tail)
	if m == nil {
		return 0, fmt.Errorf("the signed revision does not end with startxref")
	}
	xref, _ := strconv.ParseInt(string(m[1]), 10, 64)
	var sec *pdf.Section
	for i := range doc.r.Sections {
		if doc.r.Sections[i].Offset == xref {
			sec = &doc.r.Sections[i]
		}
	}
	if sec == nil {
		return 0, fmt.Errorf("the revision's cross-reference section is not in the chain")
	}
	prev, ok := sec.Trailer["Prev"].(pdf.Integer)
	if !ok {
		return 0, fmt.Errorf("the seal is in the document's first revision")
	}
	// The revision starts at or before its first object and its xref.
	first := xref
	sec.Each(func(num, gen int, inUse bool) {
		if inUse {
			if off := doc.r.Offset(pdf.Ref{Num: num, Gen: gen}); off >= 0 && off < first {
				first = off
			}
		}
	})
	// A base we recorded at prepare time is exact; check it fits.
	if b, ok := s.v[keyBase].(pdf.Integer); ok && int64(b) > 0 && int64(b) <= first && previousEnds(src, int64(b), int64(prev)) {
		gap := make([]byte, first-int64(b))
		if _, err := src.ReadAt(gap, int64(b)); err == nil && len(bytes.TrimSpace(gap)) == 0 {
			return int64(b), nil
		}
	}
	// Otherwise: back from the first object to the previous %%EOF and its
	// end-of-line.
	n := min(first, 4096)
	buf := make([]byte, n)
	if _, err := src.ReadAt(buf, first-n); err != nil {
		return 0, err
	}
	i := bytes.LastIndex(buf, []byte("%%EOF"))
	if i < 0 || len(bytes.TrimSpace(buf[i+5:])) != 0 {
		return 0, fmt.Errorf("no %%%%EOF right before the seal's revision")
	}
	base := first - n + int64(i) + 5
	rest := buf[i+5:]
	switch {
	case bytes.HasPrefix(rest, []byte("\r\n")):
		base += 2
	case bytes.HasPrefix(rest, []byte("\n")), bytes.HasPrefix(rest, []byte("\r")):
		base++
	}
	if !previousEnds(src, base, int64(prev)) {
		return 0, fmt.Errorf("the previous revision does not end with startxref %d", prev)
	}
	return base, nil
}

// previousEnds reports whether the bytes before base end with
// "startxref <prev> %%EOF" and optional white space.
func previousEnds(src io.ReaderAt, base, prev int64) bool {
	tail := make([]byte, min(base, 64))
	if _, err := src.ReadAt(tail, base-int64(len(tail))); err != nil {
		return false
	}
	m := startxrefTail.FindSubmatch(tail)
	return m != nil && string(m[1]) == strconv.FormatInt(prev, 10)
}
