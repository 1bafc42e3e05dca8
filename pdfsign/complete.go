package pdfsign

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/pdfsign/internal/pdf"
	"github.com/scansign/scansign/verify"
	vcms "github.com/scansign/scansign/verify/cms"
)

// Answer is what the signer (the app) returned, in either shape the guide
// allows: a PKCS#7 (base64, hex, PEM or DER), or a raw SM2/RSA signature
// with the signer's certificate (pubCert).
type Answer struct {
	Signature []byte
	// Cert is the signer's certificate (PEM, DER or base64; may be followed
	// by its chain): required with a raw signature.
	Cert []byte
	// SignedAttributes (optional) are the DER signed attributes prepare
	// returned; without them complete rebuilds them from the document.
	SignedAttributes []byte
}

// CompleteOptions configure Complete.
type CompleteOptions struct {
	// Verifier checks the signature and the signer's chain (required).
	Verifier *verify.Verifier
	// At is the verification time of the chain; zero means now.
	At time.Time
	// CertType requires a person or organisation certificate; 0 any.
	CertType certs.CertType
	// AllowUntrusted accepts a signer whose chain does not verify (only for
	// local signing tools, where the key holder signs their own file and
	// trust is judged later by whoever verifies it); the signature and the
	// digest are still checked.
	AllowUntrusted bool
	// Streaming lets Complete write dst while it checks the digest, in one
	// concurrent pass: faster for large files, but on failure dst holds a
	// partial result the caller must discard (a temporary file). Without
	// it, nothing reaches dst until every check has passed.
	Streaming bool
}

// Completed describes a completed signature.
type Completed struct {
	FieldName       string
	Shape           Shape
	DigestAlgorithm DigestAlgorithm
	Digest          []byte
	Size            int64
	// Verification is the verifier's answer: signer facts, chain, times.
	Verification *verify.Result
}

// Complete embeds the signer's answer into the prepared PDF in src and
// streams the signed PDF to dst. It refuses, with the reason, an answer
// that does not verify, signs other data than this document's digest, comes
// from an untrusted signer, or does not fit in the placeholder.
func Complete(ctx context.Context, src io.ReaderAt, size int64, ans Answer, opts CompleteOptions, dst io.Writer) (*Completed, error) {
	if opts.Verifier == nil {
		return nil, fail(CodeInternal, "未配置验签服务", "no verifier configured", nil)
	}
	doc, err := openDocument(src, size)
	if err != nil {
		return nil, err
	}
	sig, err := pendingSignature(doc, src, size)
	if err != nil {
		return nil, err
	}
	shape := ShapeCMS
	if sig.subFilter == SubFilterP7Hash {
		shape = ShapeP7Hash
	}
	alg := SM3
	if n, ok := sig.v.Name(keyDigest); ok {
		if alg, err = ParseDigestAlgorithm(string(n)); err != nil || alg == "" {
			return nil, fail(CodeMalformed, "签名字典中的摘要算法无效", "the signature dictionary names an unknown digest", err)
		}
	}
	sigBytes, err := certs.DecodeBinary(ans.Signature)
	if err != nil || len(sigBytes) == 0 {
		return nil, fail(CodeBadSignature, "签名值为空或无法解码", "the signature is empty or cannot be decoded", err)
	}
	if len(sigBytes) > verify.MaxSignatureSize {
		return nil, fail(CodeTooLarge, "签名值过大", "the signature is too large", nil)
	}
	sd, parseErr := vcms.ParseSignedData(sigBytes)
	isP7 := parseErr == nil

	c := &completion{rangeDigests: newRangeDigests(ctx, src, sig.br), alg: alg}
	// Without streaming, hash first: nothing goes out before the checks.
	if !opts.Streaming {
		if _, err := c.digest(alg.cms()); err != nil {
			return nil, err
		}
	}
	req := verify.Request{Cert: ans.Cert, At: opts.At, CertType: opts.CertType}
	var embed []byte
	var res *verify.Result
	switch {
	case shape == ShapeP7Hash && !isP7:
		return nil, fail(CodeBadSignature, "该文档按“对文件 hash 的 PKCS#7 签名”准备，但收到的不是 PKCS#7 签名", "the document was prepared for a PKCS#7 over the hash, and the answer is not a PKCS#7", parseErr)
	case shape == ShapeP7Hash:
		if sd.Detached {
			return nil, fail(CodeBadSignature, "该文档按“附原文（文件 hash）的 PKCS#7 签名”准备，收到的是不带原文的签名；请以 cms 形式重新准备", "the document was prepared for an attached PKCS#7 over the hash; a detached signature needs the cms shape", nil)
		}
		d, err := c.claimedOrActual(opts.Streaming, sd.Content)
		if err != nil {
			return nil, err
		}
		req.Expected, _ = verify.ExpectHashHex(hex.EncodeToString(d))
		res = opts.Verifier.VerifySignedData(ctx, sd, req)
		if res.Valid && res.ContentForm != verify.FormHexText && res.ContentForm != verify.FormRawHash {
			return nil, fail(CodeDigestMismatch, "签名原文不是本文档的 hash", "the signed content is not this document's hash", nil)
		}
		embed = sigBytes
	case isP7:
		if !sd.Detached {
			return nil, fail(CodeBadSignature, "该文档按标准 CMS 分离签名准备，收到的是附原文的 PKCS#7；请以 p7hash 形式重新准备", "the document was prepared for a detached CMS; an attached PKCS#7 over the hash needs the p7hash shape", nil)
		}
		req.Expected = verify.ExpectDigest(func(d vcms.Digest) ([]byte, error) {
			if opts.Streaming && len(sd.Signers) > 0 && d == sd.Signers[0].Digest && sd.Signers[0].MessageDigest != nil {
				c.claim(d, sd.Signers[0].MessageDigest)
			}
			return c.lookup(d)
		})
		res = opts.Verifier.VerifySignedData(ctx, sd, req)
		embed = sigBytes
	default:
		res, embed, err = c.rawToCMS(opts, sigBytes, ans, sig)
		if err != nil {
			return nil, err
		}
	}
	if !res.Valid && !(opts.AllowUntrusted && trustReason(res.Reason)) {
		return nil, refusal(res)
	}
	room := len(sig.contents)
	if len(embed) > room {
		return nil, fail(CodePlaceholderTooSmall,
			fmt.Sprintf("签名长度 %d 字节超过预留空间 %d 字节；请以更大的预留空间重新准备（placeholderSize ≥ %d）", len(embed), room, len(embed)),
			fmt.Sprintf("the signature of %d bytes does not fit the %d byte placeholder; prepare again with placeholderSize ≥ %d", len(embed), room, len(embed)), nil)
	}
	hexSig := make([]byte, 2*room)
	hex.Encode(hexSig, embed)
	for i := 2 * len(embed); i < len(hexSig); i++ {
		hexSig[i] = '0'
	}
	if err := c.write(dst, hexSig, opts.Streaming); err != nil {
		return nil, err
	}
	return &Completed{
		FieldName: sig.name, Shape: shape, DigestAlgorithm: alg, Digest: c.sums[alg.cms()],
		Size: size, Verification: res,
	}, nil
}

// pendingSignature finds the prepared, still empty signature: the latest
// one, whose byte range ends at the end of the file.
func pendingSignature(doc *document, src io.ReaderAt, size int64) (*sigField, error) {
	sigs, err := doc.signatures()
	if err != nil {
		return nil, err
	}
	for i := len(sigs) - 1; i >= 0; i-- {
		s := sigs[i]
		if !s.empty() || s.end() != size {
			continue
		}
		if err := checkGap(src, size, s); err != nil {
			return nil, fail(CodeMalformed, "待签名的签名域结构不正确: "+err.Error(), "the prepared signature is malformed: "+err.Error(), err)
		}
		return s, nil
	}
	return nil, fail(CodeNotPrepared, "文档中没有待完成的签章（请先调用 prepare，并上传 prepare 返回的文件）", "the document holds no prepared signature (upload the file prepare returned)", nil)
}

// completion hashes the byte ranges at most once per algorithm, and in
// streaming mode accepts a claimed digest to check after the copy.
type completion struct {
	*rangeDigests
	alg    DigestAlgorithm
	claims map[vcms.Digest][]byte
}

// digest hashes the byte ranges with d (once).
func (c *completion) digest(d vcms.Digest) ([]byte, error) { return c.sum(d) }

// lookup returns the claimed digest when one is recorded (streaming: the
// real one is compared during the copy), else the real one.
func (c *completion) lookup(d vcms.Digest) ([]byte, error) {
	if v, ok := c.claims[d]; ok {
		return v, nil
	}
	return c.digest(d)
}

// claim records a digest the signature claims, checked against the real
// one while streaming.
func (c *completion) claim(d vcms.Digest, v []byte) {
	if c.claims == nil {
		c.claims = map[vcms.Digest][]byte{}
	}
	c.claims[d] = v
}

// claimedOrActual returns the digest the p7hash content claims (streaming:
// checked during the copy) or the actual digest.
func (c *completion) claimedOrActual(streaming bool, content []byte) ([]byte, error) {
	d := c.alg.cms()
	if streaming {
		var claimed []byte
		if b, err := hex.DecodeString(string(bytes.TrimSpace(content))); err == nil && len(b) == d.Size() {
			claimed = b
		} else if len(content) == d.Size() {
			claimed = content
		}
		if claimed != nil {
			c.claim(d, claimed)
			return claimed, nil
		}
	}
	return c.digest(d)
}

// rawToCMS checks a raw signature over the signed attributes and wraps it
// into a detached CMS SignedData.
func (c *completion) rawToCMS(opts CompleteOptions, raw []byte, ans Answer, sig *sigField) (*verify.Result, []byte, error) {
	if len(ans.Cert) == 0 {
		return nil, nil, fail(CodeBadRequest, "裸签名需要同时提供签名证书（pubCert）", "a raw signature needs the signer's certificate (pubCert)", nil)
	}
	chain, err := certs.ParseCertificates(ans.Cert)
	if err != nil || len(chain) == 0 {
		return nil, nil, fail(CodeBadRequest, "签名证书无法解析", "the signer's certificate cannot be parsed", err)
	}
	signer := chain[0]
	if want, err := digestForCert(signer); err != nil {
		return nil, nil, err
	} else if want != c.alg && sig.v[keyDigest] == nil {
		c.alg = want
	}
	d := c.alg.cms()
	// The signed attributes: as prepare returned them, else rebuilt from
	// the document (digest, /M) with and without signing-certificate-v2.
	var candidates [][]byte
	if len(ans.SignedAttributes) > 0 {
		candidates = append(candidates, ans.SignedAttributes)
	} else {
		digest, err := c.digest(d)
		if err != nil {
			return nil, nil, err
		}
		m, _ := pdf.StringBytes(sig.v["M"])
		at, ok := parsePDFDate(string(m))
		if !ok {
			return nil, nil, fail(CodeMalformed, "签名字典缺少签名时间 /M，无法重建签名属性", "the signature dictionary has no /M to rebuild the signed attributes from", nil)
		}
		for _, s := range []*smx509.Certificate{signer, nil} {
			a, err := signedAttributes(c.alg, digest, at, s)
			if err != nil {
				return nil, nil, fail(CodeInternal, "生成签名属性失败", "cannot encode the signed attributes", err)
			}
			candidates = append(candidates, a)
		}
	}
	var res *verify.Result
	for _, attrs := range candidates {
		res = opts.Verifier.Verify(c.ctx, verify.Request{
			Signature: raw, Cert: ans.Cert, Raw: true, At: opts.At, CertType: opts.CertType,
			Expected: verify.ExpectBytes(attrs),
		})
		if res.Reason == verify.ReasonBadSignature || res.Reason == verify.ReasonContentMismatch {
			continue
		}
		if !res.Valid && !(opts.AllowUntrusted && trustReason(res.Reason)) {
			return res, nil, nil
		}
		// The attributes must carry this document's digest, and name this
		// signer if they name one.
		parsed, essHash, err := parseAttrs(attrs)
		if err != nil {
			return nil, nil, fail(CodeBadRequest, "签名属性无法解析", "the signed attributes cannot be parsed", err)
		}
		if essHash != nil && !bytes.Equal(essHash, c.alg.cms().Sum(signer.Raw)) && !bytes.Equal(essHash, vcms.SHA256.Sum(signer.Raw)) {
			return nil, nil, fail(CodeWrongSigner, "签名属性中指定的签章证书与签名证书不一致", "the signed attributes name another certificate than the signer's", nil)
		}
		if opts.Streaming && len(ans.SignedAttributes) > 0 {
			c.claim(d, parsed) // compared with the real digest during the copy
		} else if actual, err := c.digest(d); err != nil {
			return nil, nil, err
		} else if !bytes.Equal(parsed, actual) {
			return nil, nil, fail(CodeDigestMismatch, "签名属性中的摘要与本文档不符", "the signed attributes carry another document's digest", nil)
		}
		der := raw
		if certs.IsSM2(signer) {
			der = normaliseSM2(raw)
		}
		rebuildable := func() bool {
			return opts.Verifier.CheckCertificate(c.ctx, signer.Raw, opts.At, 0).Valid
		}
		assemble := func(set []*smx509.Certificate) ([]byte, error) {
			return assembleCMS(c.alg, attrs, der, signer, set)
		}
		out, err := fitCMS(len(sig.contents), assemble, signer, chain[1:], res.ChainCerts, rebuildable)
		if err != nil {
			return nil, nil, fail(CodeInternal, "组装 CMS 签名失败", "cannot assemble the CMS", err)
		}
		return res, out, nil
	}
	return res, nil, nil
}

// fitCMS assembles the CMS with the fullest certificate set that fits room
// bytes, trying in turn:
//
//   - the certificates the app sent with its own and the chain the
//     verifier built (roots included);
//   - the built chain's intermediates only: a root is never needed in the
//     CMS (a verifier must trust it already), nor are certificates outside
//     the chain;
//   - the signer alone, when the verifier builds the chain from its trust
//     store without help (rebuildable, asked only then): any verifier with
//     that trust store still does.
//
// When none fits it returns the smallest, whose size the refusal names.
func fitCMS(room int, assemble func([]*smx509.Certificate) ([]byte, error), signer *smx509.Certificate, sent, built []*smx509.Certificate, rebuildable func() bool) ([]byte, error) {
	var intermediates []*smx509.Certificate
	for _, c := range built {
		if !c.Equal(signer) && !selfSigned(c) {
			intermediates = append(intermediates, c)
		}
	}
	var out []byte
	for i, set := range [][]*smx509.Certificate{append(append([]*smx509.Certificate(nil), sent...), built...), intermediates, nil} {
		if i == 2 && len(intermediates) > 0 && !rebuildable() {
			break
		}
		cms, err := assemble(set)
		if err != nil {
			return nil, err
		}
		out = cms
		if len(out) <= room {
			break
		}
	}
	return out, nil
}

// parseAttrs returns the messageDigest of a DER SET of signed attributes
// and, when there is a signing-certificate-v2, the first certificate hash.
func parseAttrs(set []byte) (md, essHash []byte, err error) {
	var attrs []struct {
		Type   asn1.ObjectIdentifier
		Values []asn1.RawValue `asn1:"set"`
	}
	rest, err := asn1.UnmarshalWithParams(set, &attrs, "set")
	if err != nil {
		return nil, nil, err
	}
	if len(rest) != 0 {
		return nil, nil, fmt.Errorf("trailing data after the signed attributes")
	}
	for _, a := range attrs {
		switch {
		case a.Type.Equal(vcms.OIDAttrMessageDigest) && len(a.Values) == 1:
			if _, err := asn1.Unmarshal(a.Values[0].FullBytes, &md); err != nil {
				return nil, nil, err
			}
		case a.Type.Equal(oidSigningCertificateV2) && len(a.Values) == 1:
			var sc signingCertificateV2
			if _, err := asn1.Unmarshal(a.Values[0].FullBytes, &sc); err == nil && len(sc.Certs) > 0 {
				essHash = sc.Certs[0].CertHash
			}
		}
	}
	if md == nil {
		return nil, nil, fmt.Errorf("no messageDigest attribute")
	}
	return md, essHash, nil
}

// normaliseSM2 turns a 64-byte r||s SM2 signature into DER, as CMS needs.
func normaliseSM2(sig []byte) []byte {
	if len(sig) != 64 {
		return sig
	}
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
	if err != nil {
		return sig
	}
	return der
}

// trustReason reports whether a verification failed only on the chain.
func trustReason(r verify.Reason) bool {
	switch r {
	case verify.ReasonUntrusted, verify.ReasonExpired, verify.ReasonNotYetValid, verify.ReasonRevoked:
		return true
	}
	return false
}

// refusal turns a failed verification into an Error with its reason.
func refusal(res *verify.Result) error {
	code := CodeBadSignature
	switch {
	case res.Reason == verify.ReasonContentMismatch:
		code = CodeDigestMismatch
	case trustReason(res.Reason) || res.Reason == verify.ReasonWrongCertType:
		code = CodeUntrusted
	}
	return &Error{Code: code, Message: "签名验证未通过：" + res.Message, English: "the signature does not verify: " + res.MessageEn + detail(res), Err: fmt.Errorf("%s", res.Reason)}
}

func detail(res *verify.Result) string {
	if res.Detail == "" {
		return ""
	}
	return " (" + res.Detail + ")"
}

// write streams the signed PDF: the first range, the signature hex, the
// second range. In streaming mode the byte ranges are hashed concurrently
// and checked against the claimed digests at the end.
func (c *completion) write(dst io.Writer, hexSig []byte, streaming bool) error {
	var wg sync.WaitGroup
	var hashErr error
	if streaming && len(c.claims) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d, claimed := range c.claims {
				actual, err := c.digest(d)
				if err != nil {
					hashErr = err
					return
				}
				if !bytes.Equal(actual, claimed) {
					hashErr = fail(CodeDigestMismatch, "签名的 hash 与本文档不符", "the signature is over another document's digest", nil)
					return
				}
			}
		}()
	}
	err := copySpan(c.ctx, dst, c.src, 0, c.br[1]+1)
	if err == nil {
		_, err = dst.Write(hexSig)
	}
	if err == nil {
		err = copySpan(c.ctx, dst, c.src, c.br[2]-1, c.br[3]+1)
	}
	wg.Wait()
	if hashErr != nil {
		return hashErr
	}
	if err != nil {
		return fmt.Errorf("pdfsign: write: %w", err)
	}
	return nil
}
