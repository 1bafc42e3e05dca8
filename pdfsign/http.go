package pdfsign

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/httpjson"
	"github.com/scansign/scansign/verify"
)

// SealHash is what prepare hands to a seal operation (guide 三.5 step 9):
// the app picks it up at status 4 and signs ToSign.
type SealHash struct {
	GUID            string
	Shape           Shape
	DigestAlgorithm DigestAlgorithm
	// Hash is the byte ranges' digest as lowercase hex: the guide's "file
	// hash".
	Hash string
	// ToSign is what the app must sign: for p7hash, Hash itself (the app
	// makes a PKCS#7 with it attached); for cms, the DER signed attributes
	// as base64 (the app signs the decoded bytes with its raw SM2/RSA key).
	ToSign string
}

// OperationHashSink stores a prepared seal's hash into the seal operation
// guid and moves it to status 4. The relay implements it; ctx is the
// request's, carrying the caller's authenticated token.
type OperationHashSink interface {
	SetSealHash(ctx context.Context, h SealHash) error
}

// HandlerOptions configure the HTTP API.
type HandlerOptions struct {
	Verifier *verify.Verifier // required
	// Sink receives the hash when prepare is given a guid; nil refuses
	// such requests.
	Sink OperationHashSink
	// MaxPDFBytes bounds an uploaded PDF (default 100 MiB).
	MaxPDFBytes int64
	// TempDir holds uploads and results while a request runs (default the
	// system's); files are removed when it ends.
	TempDir string
	Logger  *slog.Logger
}

// DefaultMaxPDFBytes is the default upload limit.
const DefaultMaxPDFBytes = 100 << 20

// Limits on the other parts of a request.
const (
	maxSealBytes   = 8 << 20 // a seal image
	maxFieldBytes  = 2 << 20 // one text field (certificates, signatures, sealImg)
	maxFieldsBytes = 8 << 20 // all text fields together, held in memory
	maxParts       = 64
)

// maxBodyBytes bounds a whole request: the PDF, as base64 text with line
// breaks when it comes that way, the seal image, the text fields, and
// room for the multipart headers.
func maxBodyBytes(maxPDF int64) int64 {
	return maxPDF/3*4 + maxPDF/16 + 4 + maxSealBytes + maxFieldsBytes + 1<<20
}

// NewHandler returns the seal-control API: POST /api/v1/pdf/prepare,
// /complete, /verify, /seals and /revoke, each taking multipart/form-data
// (the PDF as the part "pdf"). It is a plain handler with those full
// paths: mount it behind the relay's system-token middleware, e.g.
// r.With(systemOnly).Handle("/api/v1/pdf/*", h).
func NewHandler(opts HandlerOptions) http.Handler {
	if opts.MaxPDFBytes <= 0 {
		opts.MaxPDFBytes = DefaultMaxPDFBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	a := &api{opts: opts, encoded: &sealCache{m: map[[32]byte]*EncodedSeal{}}}
	r := chi.NewRouter()
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not-found", "接口不存在", "")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method-not-allowed", "请使用 POST 方法", "")
	})
	r.Post("/api/v1/pdf/prepare", a.handle(a.prepare))
	r.Post("/api/v1/pdf/complete", a.handle(a.complete))
	r.Post("/api/v1/pdf/verify", a.handle(a.verify))
	r.Post("/api/v1/pdf/seals", a.handle(a.seals))
	r.Post("/api/v1/pdf/revoke", a.handle(a.revoke))
	return r
}

type api struct {
	opts    HandlerOptions
	encoded *sealCache
}

// sealCache keeps recently used seal images encoded: seal controls place
// the same few seals on many documents, and encoding one costs more than
// hashing a megabyte.
type sealCache struct {
	mu sync.Mutex
	m  map[[32]byte]*EncodedSeal
}

const sealCacheSize = 64

func (c *sealCache) encode(img []byte) (*EncodedSeal, error) {
	key := sha256.Sum256(img)
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := EncodeSeal(img)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= sealCacheSize {
		for k := range c.m { // drop one; any will do
			delete(c.m, k)
			break
		}
	}
	c.m[key] = e
	return e, nil
}

// form is a parsed multipart request: the PDF in a temporary file, the
// seal image and text fields in memory.
type form struct {
	pdf    *os.File
	size   int64
	seal   []byte
	fields map[string]string
}

func (f *form) get(names ...string) string {
	for _, n := range names {
		if v, ok := f.fields[n]; ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (f *form) number(name string) (float64, error) {
	s := f.get(name)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fail(CodeBadRequest, "参数 "+name+" 不是数字", name+" is not a number", err)
	}
	return v, nil
}

func (f *form) close() {
	if f.pdf != nil {
		f.pdf.Close()
		os.Remove(f.pdf.Name())
	}
}

type handlerFunc func(ctx context.Context, w http.ResponseWriter, f *form) error

// handle parses the upload, runs h and answers its error.
func (a *api) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := a.parse(w, r)
		if f != nil {
			defer f.close()
		}
		if err == nil {
			err = h(r.Context(), w, f)
		}
		if err != nil {
			a.answerError(w, r, err)
		}
	}
}

func (a *api) answerError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return // the client is gone
		}
		a.opts.Logger.ErrorContext(r.Context(), "pdf api failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, string(CodeInternal), "服务器内部错误", "")
		return
	}
	status := http.StatusUnprocessableEntity
	switch e.Code {
	case CodeBadRequest:
		status = http.StatusBadRequest
	case CodeTooLarge:
		status = http.StatusRequestEntityTooLarge
	case CodeNotLatest:
		status = http.StatusConflict
	case CodeInternal:
		a.opts.Logger.ErrorContext(r.Context(), "pdf api failed", "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
	}
	if e.Status >= 400 && e.Status <= 599 {
		status = e.Status
	}
	writeError(w, status, string(e.Code), e.Message, e.English)
}

func writeError(w http.ResponseWriter, status int, code, message, detail string) {
	httpjson.Write(w, status, APIError{InvokeCode: status, FailMessage: message, Code: code, Message: message, Detail: detail})
}

// APIError is the body of every refusal. It carries both dialects: code,
// message and detail as the other /api/v1 endpoints answer, and invokeCode
// (the HTTP status) with failMessage as the relay's middleware and the
// guide's endpoints do, so a seal control reads one field whoever refused.
type APIError struct {
	InvokeCode  int    `json:"invokeCode"`
	FailMessage string `json:"failMessage"`
	Code        string `json:"code"`
	Message     string `json:"message"` // Chinese, same as failMessage
	Detail      string `json:"detail,omitempty"`
}

// parse reads a multipart/form-data body within the limits.
func (a *api) parse(w http.ResponseWriter, r *http.Request) (*form, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, fail(CodeBadRequest, "请求须为 multipart/form-data，PDF 文件放在字段 pdf", "send multipart/form-data with the PDF in the part \"pdf\"", err)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes(a.opts.MaxPDFBytes))
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, fail(CodeBadRequest, "multipart 请求无法解析", "the multipart body cannot be read", err)
	}
	f := &form{fields: map[string]string{}}
	fieldsLeft := int64(maxFieldsBytes)
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return f, a.readError(err)
		}
		if n >= maxParts {
			return f, fail(CodeBadRequest, "请求字段过多", "too many parts", nil)
		}
		name := part.FormName()
		switch name {
		case "pdf", "file":
			if f.pdf != nil {
				return f, fail(CodeBadRequest, "只能上传一个 PDF 文件", "only one PDF per request", nil)
			}
			if err := a.savePDF(f, part); err != nil {
				return f, err
			}
		case "seal", "sealImage":
			b, err := readLimited(part, maxSealBytes)
			if errors.Is(err, errTooLarge) {
				return f, fail(CodeTooLarge, fmt.Sprintf("签章图片（字段 %s）超过 %d MiB 的限制", name, maxSealBytes>>20),
					fmt.Sprintf("the seal image (part %q) is over the %d MiB limit", name, maxSealBytes>>20), err)
			}
			if err != nil {
				return f, a.readError(err)
			}
			f.seal = b
		default:
			b, err := readLimited(part, min(maxFieldBytes, fieldsLeft))
			if errors.Is(err, errTooLarge) {
				if fieldsLeft < maxFieldBytes {
					return f, fail(CodeTooLarge, fmt.Sprintf("表单字段合计超过 %d MiB 的限制（PDF 请放在字段 pdf，签章图片放在字段 seal）", maxFieldsBytes>>20),
						fmt.Sprintf("the text fields are over %d MiB together (the PDF goes in the part \"pdf\", the seal image in \"seal\")", maxFieldsBytes>>20), err)
				}
				return f, fail(CodeTooLarge, fmt.Sprintf("字段 %s 超过 %d MiB 的限制", name, maxFieldBytes>>20),
					fmt.Sprintf("the field %q is over the %d MiB limit", name, maxFieldBytes>>20), err)
			}
			if err != nil {
				return f, a.readError(err)
			}
			fieldsLeft -= int64(len(b))
			f.fields[name] = string(b)
		}
	}
	if f.pdf == nil {
		return f, fail(CodeBadRequest, "缺少 PDF 文件（字段 pdf）", "the PDF (part \"pdf\") is missing", nil)
	}
	return f, nil
}

func (a *api) readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, errTooLarge) {
		return fail(CodeTooLarge, fmt.Sprintf("上传内容超过限制（PDF 最大 %d MiB）", a.opts.MaxPDFBytes>>20), "the upload is over the limit", err)
	}
	return fail(CodeBadRequest, "请求内容读取失败", "the request body cannot be read", err)
}

var errTooLarge = errors.New("part over its limit")

func readLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errTooLarge
	}
	return b, nil
}

// savePDF streams the PDF part to a temporary file. A part holding the
// PDF as base64 text (as browser controls often send it) is decoded.
func (a *api) savePDF(f *form, part io.Reader) error {
	tmp, err := os.CreateTemp(a.opts.TempDir, "scansign-pdf-*")
	if err != nil {
		return fmt.Errorf("pdfsign: temp file: %w", err)
	}
	f.pdf = tmp
	br := bufio.NewReaderSize(part, 64<<10)
	head, _ := br.Peek(8)
	var src io.Reader = br
	limit := a.opts.MaxPDFBytes
	if bytes.HasPrefix(head, []byte("JVBERi0")) { // base64 of "%PDF-"
		src = base64.NewDecoder(base64.StdEncoding, newlineStripper{br})
	}
	n, err := io.Copy(tmp, io.LimitReader(src, limit+1))
	if err != nil {
		return a.readError(err)
	}
	if n > limit {
		return fail(CodeTooLarge, fmt.Sprintf("PDF 文件超过 %d MiB 的限制", limit>>20), fmt.Sprintf("the PDF is over the %d MiB limit", limit>>20), nil)
	}
	f.size = n
	return nil
}

// newlineStripper drops line breaks from base64 text.
type newlineStripper struct{ r io.Reader }

func (s newlineStripper) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\n' && c != '\r' && c != ' ' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// jsonWithPDF answers head (a JSON object) with the PDF in file added as
// the base64 field "pdf", streamed rather than held in memory.
func jsonWithPDF(w http.ResponseWriter, head any, file *os.File) error {
	h, err := json.Marshal(head)
	if err != nil {
		return err
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w.Header().Set("Content-Type", httpjson.ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 256<<10)
	// {"invokeCode":1, the answer's fields, "pdf":"…"}
	bw.WriteString(`{"invokeCode":1,`)
	bw.Write(h[1 : len(h)-1])
	bw.WriteString(`,"pdf":"`)
	enc := base64.NewEncoder(base64.StdEncoding, bw)
	if _, err := io.Copy(enc, file); err != nil {
		return err
	}
	enc.Close()
	bw.WriteString("\"}\n")
	return bw.Flush()
}

// tempOut is a temporary file for a result, removed by the caller.
func (a *api) tempOut() (*os.File, func(), error) {
	out, err := os.CreateTemp(a.opts.TempDir, "scansign-out-*")
	if err != nil {
		return nil, nil, fmt.Errorf("pdfsign: temp file: %w", err)
	}
	return out, func() { out.Close(); os.Remove(out.Name()) }, nil
}

// PrepareResponse is the answer of /api/v1/pdf/prepare (plus "pdf"), and
// what pdf prepare --json prints.
type PrepareResponse struct {
	FieldName       string   `json:"fieldName"`
	Shape           Shape    `json:"shape"`
	DigestAlgorithm string   `json:"digestAlgorithm"`
	Hash            string   `json:"hash"`
	ToSign          string   `json:"toSign"`
	SignedAttrs     string   `json:"signedAttributes,omitempty"` // base64 DER, cms shape
	ByteRange       [4]int64 `json:"byteRange"`
	PlaceholderSize int      `json:"placeholderSize"`
	SigningTime     string   `json:"signingTime"`
	GUID            string   `json:"guid,omitempty"` // the operation that received the hash
}

// Response is p as the API answers it. ToSign is what the app receives at
// status 4, as text: for cms the signed attributes in base64 (the app
// signs the decoded bytes), for p7hash the hash's hex text itself (the app
// signs that text).
func (p *Prepared) Response() PrepareResponse {
	r := PrepareResponse{
		FieldName: p.FieldName, Shape: p.Shape, DigestAlgorithm: string(p.DigestAlgorithm), Hash: p.DigestHex(),
		ToSign: p.DigestHex(), ByteRange: p.ByteRange, PlaceholderSize: p.PlaceholderSize,
		SigningTime: p.SigningTime.Format(time.RFC3339),
	}
	if p.Shape == ShapeCMS {
		r.SignedAttrs = base64.StdEncoding.EncodeToString(p.SignedAttributes)
		r.ToSign = r.SignedAttrs
	}
	return r
}

func (a *api) prepare(ctx context.Context, w http.ResponseWriter, f *form) error {
	req := PrepareRequest{
		FieldName: f.get("fieldName"), Reason: f.get("reason"), Location: f.get("location"),
		SignerName: f.get("name", "signerName"), ContactInfo: f.get("contactInfo"),
	}
	var err error
	if req.Shape, err = ParseShape(f.get("shape")); err != nil {
		return err
	}
	if req.Digest, err = ParseDigestAlgorithm(f.get("digest", "digestAlgorithm")); err != nil {
		return err
	}
	req.Seal.Image = f.seal
	if req.Seal.Image == nil {
		if img := f.get("sealImg", "img"); img != "" {
			if req.Seal.Image, err = base64.StdEncoding.DecodeString(strings.TrimPrefix(img, "data:image/png;base64,")); err != nil {
				return fail(CodeBadImage, "签章图片 sealImg 不是有效的 base64", "sealImg is not base64", err)
			}
		}
	}
	if req.Seal.Image == nil {
		return fail(CodeBadRequest, "缺少签章图片（文件字段 seal 或 base64 字段 sealImg）", "the seal image (part \"seal\" or base64 \"sealImg\") is missing", nil)
	}
	if req.Seal.Encoded, err = a.encoded.encode(req.Seal.Image); err != nil {
		return err
	}
	req.Seal.Name = f.get("signName")
	nums := map[string]*float64{"x": &req.Placement.X, "y": &req.Placement.Y, "width": &req.Placement.Width, "height": &req.Placement.Height,
		"signWidth": &req.Seal.Width, "signHeight": &req.Seal.Height}
	for k, p := range nums {
		if *p, err = f.number(k); err != nil {
			return err
		}
	}
	// page defaults to 1, as in the CLI.
	req.Placement.Page = 1
	if v := f.get("page"); v != "" {
		if req.Placement.Page, err = strconv.Atoi(v); err != nil {
			return fail(CodeBadRequest, "参数 page 须为页码（从 1 开始的整数）", "page must be a page number (an integer from 1)", err)
		}
	}
	if ph, err := f.number("placeholderSize"); err != nil {
		return err
	} else {
		req.PlaceholderSize = int(ph)
	}
	if c := f.get("cert", "pubCert"); c != "" {
		chain, err := certs.ParseCertificates([]byte(c))
		if err != nil || len(chain) == 0 {
			return fail(CodeBadRequest, "签章证书无法解析", "the certificate cannot be parsed", err)
		}
		req.Signer, req.Chain = chain[0], chain[1:]
	}
	// Complete adds the chain this verifier builds: size the room for it.
	req.Verifier = a.opts.Verifier
	guid := f.get("guid")
	if guid != "" && a.opts.Sink == nil {
		return fail(CodeBadRequest, "本服务未接入签章操作，不能带 guid", "this server does not take a guid here", nil)
	}
	out, done, err := a.tempOut()
	if err != nil {
		return err
	}
	defer done()
	p, err := Prepare(ctx, f.pdf, f.size, req, out)
	if err != nil {
		return err
	}
	resp := p.Response()
	if guid != "" {
		err := a.opts.Sink.SetSealHash(ctx, SealHash{GUID: guid, Shape: p.Shape, DigestAlgorithm: p.DigestAlgorithm, Hash: resp.Hash, ToSign: resp.ToSign})
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				return err // the sink's reason and status (the relay's)
			}
			return fail(CodeBadRequest, "无法把 hash 写入签章操作 "+guid+"："+err.Error(), "cannot store the hash into operation "+guid+": "+err.Error(), err)
		}
		resp.GUID = guid
	}
	return jsonWithPDF(w, resp, out)
}

// CompleteResponse is the answer of /api/v1/pdf/complete (plus "pdf").
type CompleteResponse struct {
	FieldName       string       `json:"fieldName"`
	Shape           Shape        `json:"shape"`
	DigestAlgorithm string       `json:"digestAlgorithm"`
	Hash            string       `json:"hash"`
	Signer          *certs.Facts `json:"signer,omitempty"`
}

func (a *api) complete(ctx context.Context, w http.ResponseWriter, f *form) error {
	ans := Answer{Signature: []byte(f.get("signStr", "signature")), Cert: []byte(f.get("pubCert", "cert"))}
	if sa := f.get("signedAttributes"); sa != "" {
		b, err := base64.StdEncoding.DecodeString(sa)
		if err != nil {
			return fail(CodeBadRequest, "signedAttributes 不是有效的 base64", "signedAttributes is not base64", err)
		}
		ans.SignedAttributes = b
	}
	if len(ans.Signature) == 0 {
		return fail(CodeBadRequest, "缺少签名值（字段 signStr）", "the signature (signStr) is missing", nil)
	}
	ct, err := certs.ParseCertType(f.get("certType"))
	if err != nil {
		return fail(CodeBadRequest, "certType 取值无效", "certType is not 0, 1 or 2", err)
	}
	out, done, err := a.tempOut()
	if err != nil {
		return err
	}
	defer done()
	c, err := Complete(ctx, f.pdf, f.size, ans, CompleteOptions{Verifier: a.opts.Verifier, CertType: ct, Streaming: true}, out)
	if err != nil {
		return err
	}
	return jsonWithPDF(w, CompleteResponse{
		FieldName: c.FieldName, Shape: c.Shape, DigestAlgorithm: string(c.DigestAlgorithm),
		Hash: fmt.Sprintf("%x", c.Digest), Signer: c.Verification.Signer,
	}, out)
}

// apiSignature is a SignatureReport with its seal image as base64.
type apiSignature struct {
	SignatureReport
	SealImage string `json:"sealImage,omitempty"`
}

func (a *api) verify(ctx context.Context, w http.ResponseWriter, f *form) error {
	extract := f.get("extractSeals") == "true" || f.get("extractSeals") == "1"
	rep, err := Verify(ctx, f.pdf, f.size, VerifyOptions{Verifier: a.opts.Verifier, ExtractSeals: extract})
	if err != nil {
		return err
	}
	sigs := make([]apiSignature, len(rep.Signatures))
	for i, s := range rep.Signatures {
		sigs[i] = apiSignature{SignatureReport: s}
		if len(s.SealImage) > 0 {
			sigs[i].SealImage = base64.StdEncoding.EncodeToString(s.SealImage)
		}
	}
	httpjson.Write(w, http.StatusOK, struct {
		InvokeCode int            `json:"invokeCode"`
		Valid      bool           `json:"valid"`
		Pages      int            `json:"pages"`
		Size       int64          `json:"size"`
		Signatures []apiSignature `json:"signatures"`
	}{1, rep.Valid, rep.Pages, rep.Size, sigs})
	return nil
}

// SealInfo is one seal in the answer of /api/v1/pdf/seals: what a seal
// control shows before 撤章, and the hash the app must sign to take it back.
type SealInfo struct {
	FieldName       string       `json:"fieldName"`
	Page            int          `json:"page"`
	Rect            [4]float64   `json:"rect"`
	Shape           Shape        `json:"shape,omitempty"`
	DigestAlgorithm string       `json:"digestAlgorithm,omitempty"`
	Hash            string       `json:"hash"`
	SigningTime     *time.Time   `json:"signingTime,omitempty"`
	Signer          *certs.Facts `json:"signer,omitempty"`
	Valid           bool         `json:"valid"`
	// Revocable: the latest seal, nothing after it; only it can be taken back.
	Revocable bool `json:"revocable"`
}

func (a *api) seals(ctx context.Context, w http.ResponseWriter, f *form) error {
	rep, err := Verify(ctx, f.pdf, f.size, VerifyOptions{Verifier: a.opts.Verifier})
	if err != nil {
		return err
	}
	out := []SealInfo{}
	for _, s := range rep.Signatures {
		out = append(out, SealInfo{
			FieldName: s.FieldName, Page: s.Page, Rect: s.Rect, Shape: s.Shape, DigestAlgorithm: s.DigestAlgorithm,
			Hash: s.Hash, SigningTime: s.SigningTime, Signer: s.Signer, Valid: s.Valid, Revocable: s.Revocable,
		})
	}
	httpjson.Write(w, http.StatusOK, struct {
		InvokeCode int        `json:"invokeCode"`
		Seals      []SealInfo `json:"seals"`
	}{1, out})
	return nil
}

func (a *api) revoke(ctx context.Context, w http.ResponseWriter, f *form) error {
	req := RevokeRequest{FieldName: f.get("fieldName"), Signature: []byte(f.get("signStr", "signature", "value")), Cert: []byte(f.get("pubCert", "cert"))}
	if len(req.Signature) == 0 {
		return fail(CodeBadRequest, "缺少撤章签名（字段 signStr）", "the revocation signature (signStr) is missing", nil)
	}
	out, done, err := a.tempOut()
	if err != nil {
		return err
	}
	defer done()
	r, err := Revoke(ctx, f.pdf, f.size, req, RevokeOptions{Verifier: a.opts.Verifier}, out)
	if err != nil {
		return err
	}
	return jsonWithPDF(w, struct {
		FieldName string       `json:"fieldName"`
		Hash      string       `json:"hash"`
		Signer    *certs.Facts `json:"signer,omitempty"`
	}{r.FieldName, r.Hash, r.Verification.Signer}, out)
}
