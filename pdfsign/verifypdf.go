package pdfsign

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"time"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/pdfsign/internal/pdf"
	"github.com/scansign/scansign/verify"
	vcms "github.com/scansign/scansign/verify/cms"
)

// VerifyOptions configure Verify.
type VerifyOptions struct {
	Verifier *verify.Verifier // required
	// At is the verification time of the chains; zero means now.
	At time.Time
	// ExtractSeals fills SignatureReport.SealImage.
	ExtractSeals bool
}

// Report is the verification of every signature of a PDF.
type Report struct {
	// Valid is true when the document has at least one signature and all
	// of them are valid: each intact, verifying, trusted, covering a whole
	// revision, and followed by nothing but other signatures.
	Valid      bool              `json:"valid"`
	Size       int64             `json:"size"`
	Pages      int               `json:"pages"`
	Signatures []SignatureReport `json:"signatures"`
}

// SignatureReport is one signature.
type SignatureReport struct {
	FieldName string     `json:"fieldName"`
	Page      int        `json:"page"`               // 1-based; 0 if unknown
	Rect      [4]float64 `json:"rect"`               // user space, points
	SubFilter string     `json:"subFilter"`          // adbe.pkcs7.detached, scansign.pkcs7.hash, …
	Shape     Shape      `json:"shape,omitempty"`    // cms or p7hash when it is one of ours
	Pending   bool       `json:"pending,omitempty"`  // prepared but not signed yet
	SealName  string     `json:"sealName,omitempty"` // /Name
	// SigningReason and Location are the signer's /Reason and /Location.
	SigningReason string `json:"signingReason,omitempty"`
	Location      string `json:"location,omitempty"`

	DigestAlgorithm string `json:"digestAlgorithm,omitempty"`
	// Hash is the digest of the byte ranges (hex): the "file hash" the
	// signer signed, and what a revocation must sign again.
	Hash string `json:"hash,omitempty"`
	// SigningTime is what the signer claims (signed attribute, else /M).
	SigningTime *time.Time   `json:"signingTime,omitempty"`
	Signer      *certs.Facts `json:"signer,omitempty"`

	ByteRange [4]int64 `json:"byteRange"`
	// CoversRevision: the byte range runs from the start of the file to
	// the end of a revision (an %%EOF), leaving out only /Contents.
	CoversRevision bool `json:"coversRevision"`
	// CoversDocument: that revision is the whole file.
	CoversDocument bool `json:"coversDocument"`
	// Intact: the byte ranges hash to what the signature signed.
	Intact bool `json:"intact"`
	// SignatureValid: the signature value verifies with the signer's key.
	SignatureValid bool `json:"signatureValid"`
	// Trusted: the signer chains to a trusted root and is valid at the
	// verification time, not revoked.
	Trusted bool `json:"trusted"`
	// ModifiedAfter: later revisions follow; LaterChangesOnlySignatures
	// says whether they only add signatures (else LaterChanges lists what).
	ModifiedAfter              bool     `json:"modifiedAfter"`
	LaterChangesOnlySignatures bool     `json:"laterChangesOnlySignatures"`
	LaterChanges               []string `json:"laterChanges,omitempty"`
	// Revocable: the latest signature, intact, with nothing after it: the
	// only one 撤章 can take back.
	Revocable bool `json:"revocable"`

	Valid     bool   `json:"valid"`
	Reason    string `json:"reason,omitempty"` // a Code or a verify reason
	Message   string `json:"message,omitempty"`
	MessageEn string `json:"messageEn,omitempty"`

	// SealImage is the seal's picture (PNG or JPEG) when asked for.
	SealImage       []byte `json:"-"`
	SealImageFormat string `json:"sealImageFormat,omitempty"` // png | jpeg

	Verification *verify.Result `json:"verification,omitempty"`
}

// maxExtractedBytes bounds the seal images one report carries.
const maxExtractedBytes = 64 << 20

// Verify checks every signature of the PDF in src.
func Verify(ctx context.Context, src io.ReaderAt, size int64, opts VerifyOptions) (*Report, error) {
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
	pages, err := doc.pageRefs()
	if err != nil {
		return nil, err
	}
	pageIndex := map[pdf.Ref]int{}
	for i, p := range pages {
		pageIndex[p] = i + 1
	}
	rep := &Report{Size: size, Pages: len(pages), Valid: len(sigs) > 0}
	extracted := 0
	for _, s := range sigs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sr := verifyOne(ctx, doc, src, size, s, opts)
		sr.Page = pageIndex[s.pageRef]
		if opts.ExtractSeals && extracted < maxExtractedBytes {
			sr.SealImage, sr.SealImageFormat = extractSeal(doc.r, s.dict)
			extracted += len(sr.SealImage)
		}
		if !sr.Valid {
			rep.Valid = false
		}
		rep.Signatures = append(rep.Signatures, sr)
	}
	if n := len(rep.Signatures); n > 0 {
		last := &rep.Signatures[n-1]
		last.Revocable = last.CoversDocument && last.Intact
	}
	return rep, nil
}

func verifyOne(ctx context.Context, doc *document, src io.ReaderAt, size int64, s *sigField, opts VerifyOptions) SignatureReport {
	sr := SignatureReport{FieldName: s.name, Rect: s.rect, SubFilter: s.subFilter, ByteRange: s.br}
	text := func(k pdf.Name) string {
		b, _ := pdf.StringBytes(s.v[k])
		return pdf.DecodeText(b)
	}
	sr.SealName, sr.SigningReason, sr.Location = text("Name"), text("Reason"), text("Location")
	if m, ok := parsePDFDate(text("M")); ok {
		sr.SigningTime = &m
	}
	invalid := func(code Code, zh, en string) SignatureReport {
		sr.Valid, sr.Reason, sr.Message, sr.MessageEn = false, string(code), zh, en
		return sr
	}
	switch s.subFilter {
	case SubFilterDetached, "ETSI.CAdES.detached":
		sr.Shape = ShapeCMS
	case SubFilterP7Hash:
		sr.Shape = ShapeP7Hash
	case "adbe.pkcs7.sha1":
	default:
		return invalid(CodeBadSignature, "不支持的签名类型 /"+s.subFilter, "unsupported /SubFilter /"+s.subFilter)
	}
	if err := checkGap(src, size, s); err != nil {
		return invalid(CodeMalformed, "签名的字节范围不正确: "+err.Error(), "malformed byte range: "+err.Error())
	}
	end := s.end()
	sr.CoversRevision = endsRevision(src, end)
	sr.CoversDocument = sr.CoversRevision && end == size
	sr.ModifiedAfter = end < size
	if sr.ModifiedAfter {
		only, changes, err := laterChanges(doc.r, src, end)
		if err != nil {
			changes = []string{err.Error()}
		}
		sr.LaterChangesOnlySignatures, sr.LaterChanges = only, changes
	}
	if s.empty() {
		sr.Pending = true
		return invalid(CodeNotPrepared, "签名域尚未签名", "the signature field is prepared but not signed")
	}
	sd, err := vcms.ParseSignedData(s.contents)
	if err != nil {
		return invalid(CodeBadSignature, "签名值无法解析为 PKCS#7", "the signature is not a readable PKCS#7: "+err.Error())
	}

	rd := newRangeDigests(ctx, src, s.br)
	digestOf := rd.sum
	req := verify.Request{At: opts.At}
	var res *verify.Result
	switch s.subFilter {
	case SubFilterP7Hash:
		alg := SM3
		if n, ok := s.v.Name(keyDigest); ok {
			alg, _ = ParseDigestAlgorithm(string(n))
		} else if len(sd.Signers) > 0 && sd.Signers[0].Digest == vcms.SHA256 {
			alg = SHA256
		}
		if alg == "" {
			alg = SM3
		}
		d, err := digestOf(alg.cms())
		if err != nil {
			return invalid(CodeMalformed, "无法计算文档摘要", "cannot hash the byte ranges: "+err.Error())
		}
		sr.DigestAlgorithm, sr.Hash = string(alg), hex.EncodeToString(d)
		req.Expected, _ = verify.ExpectHashHex(sr.Hash)
		res = opts.Verifier.VerifySignedData(ctx, sd, req)
		if res.Valid && res.ContentForm != verify.FormHexText && res.ContentForm != verify.FormRawHash {
			res.Valid, res.Reason = false, verify.ReasonContentMismatch
			res.Message, res.MessageEn = verify.ReasonContentMismatch.Messages()
		}
	case "adbe.pkcs7.sha1":
		sum, err := digestOf(vcms.SHA1)
		if err != nil {
			return invalid(CodeMalformed, "无法计算文档摘要", "cannot hash the byte ranges: "+err.Error())
		}
		sr.DigestAlgorithm, sr.Hash = "SHA-1", hex.EncodeToString(sum)
		req.Expected, _ = verify.ExpectHashHex(sr.Hash)
		res = opts.Verifier.VerifySignedData(ctx, sd, req)
	default:
		// The hash is reported even when the signature fails early.
		if len(sd.Signers) > 0 && sd.Signers[0].Digest != vcms.DigestUnknown {
			d := sd.Signers[0].Digest
			sr.DigestAlgorithm = d.String()
			if v, err := digestOf(d); err == nil {
				sr.Hash = hex.EncodeToString(v)
			}
		}
		req.Expected = verify.ExpectDigest(digestOf)
		res = opts.Verifier.VerifySignedData(ctx, sd, req)
	}
	sr.Verification = res
	sr.Signer = res.Signer
	if res.SigningTime != nil {
		sr.SigningTime = res.SigningTime
	}
	sr.Intact = intact(sd, rd.sums, sr.Hash)
	switch res.Reason {
	case verify.ReasonNone:
		sr.SignatureValid, sr.Trusted = true, true
	case verify.ReasonUntrusted, verify.ReasonExpired, verify.ReasonNotYetValid, verify.ReasonRevoked, verify.ReasonWrongCertType:
		sr.SignatureValid = true
	}
	// A signature followed by changes other than adding signatures no
	// longer vouches for the document as it is: valid only for what it
	// covers, and the document is not (intact, signatureValid and trusted
	// still say what holds for the signature itself).
	modified := sr.ModifiedAfter && !sr.LaterChangesOnlySignatures
	sr.Valid = res.Valid && sr.CoversRevision && !modified
	switch {
	case !res.Valid:
		sr.Reason, sr.Message, sr.MessageEn = string(res.Reason), res.Message, res.MessageEn
	case !sr.CoversRevision:
		sr.Reason, sr.Message, sr.MessageEn = string(CodeMalformed), "签名范围没有覆盖一个完整的修订版本", "the byte range does not end at the end of a revision"
	case modified:
		sr.Reason, sr.Message, sr.MessageEn = string(CodeModifiedAfter), "签章后文档被修改（不只是追加签章）", "the document was modified after signing (not only by adding signatures)"
	}
	return sr
}

// endsRevision reports whether the bytes before end close a revision:
// "%%EOF" and at most an end-of-line.
func endsRevision(src io.ReaderAt, end int64) bool {
	n := min(end, 16)
	b := make([]byte, n)
	if _, err := src.ReadAt(b, end-n); err != nil {
		return false
	}
	b = bytes.TrimRight(b, "\r\n")
	return bytes.HasSuffix(b, []byte("%%EOF"))
}

// intact reports whether the signature's claimed digest is the byte
// ranges' digest: messageDigest for detached signatures, the attached
// content (hex text or raw) for signatures over the hash.
func intact(sd *vcms.SignedData, digests map[vcms.Digest][]byte, hashHex string) bool {
	if len(sd.Signers) == 0 {
		return false
	}
	if !sd.Detached {
		c := bytes.TrimSpace(sd.Content)
		return hashHex != "" && (bytes.EqualFold(c, []byte(hashHex)) || hex.EncodeToString(c) == hashHex)
	}
	si := sd.Signers[0]
	d, ok := digests[si.Digest]
	return ok && si.MessageDigest != nil && bytes.Equal(si.MessageDigest, d)
}
