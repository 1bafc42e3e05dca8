package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/httpjson"
	"github.com/scansign/scansign/verify/envelope"
)

// HandlerOptions tune the verification HTTP API.
type HandlerOptions struct {
	// MaxBodyBytes bounds a request body (default 4 MiB).
	MaxBodyBytes int64
	// Logger receives request failures (never request bodies); default
	// slog.Default().
	Logger *slog.Logger
}

// APIError is the body of every non-2xx answer. It carries both dialects
// every /api/v1 refusal does (the relay's authentication, the results and
// PDF APIs): invokeCode (the HTTP status) with failMessage as the guide's
// endpoints answer, and code, message and detail.
type APIError struct {
	InvokeCode  int    `json:"invokeCode"`
	FailMessage string `json:"failMessage"` // the same as message
	Code        string `json:"code"`        // bad-request, too-large, unsupported-media-type, method-not-allowed, not-found, internal
	Message     string `json:"message"`     // Chinese, for people
	Detail      string `json:"detail,omitempty"`
}

// VerifyRequest is the body of POST /api/v1/verify.
type VerifyRequest struct {
	// Signature: PKCS#7 or raw signature as base64, hex or PEM.
	Signature string `json:"signature"`
	// Content is what was asked to be signed, in ContentEncoding:
	// "text" (default, UTF-8), "base64", or "hex" — a hash given as hex,
	// which the app may have signed as hex text, as raw bytes, or as the
	// digest itself (the result's contentForm says which).
	Content         *string `json:"content,omitempty"`
	ContentEncoding string  `json:"contentEncoding,omitempty"`
	// Cert is the signer's certificate (base64 DER or PEM, the guide's
	// pubCert), required for raw signatures.
	Cert string `json:"cert,omitempty"`
	// CertType: 0 or empty any, 1 organisation, 2 person (number or string).
	CertType json.RawMessage `json:"certType,omitempty"`
	// At is the verification time (RFC 3339); default now.
	At string `json:"at,omitempty"`
}

// InspectRequest is the body of POST /api/v1/certs/inspect.
type InspectRequest struct {
	Cert     string          `json:"cert"`
	CertType json.RawMessage `json:"certType,omitempty"`
	At       string          `json:"at,omitempty"`
}

// EncryptRequest is the body of POST /api/v1/envelope/encrypt.
type EncryptRequest struct {
	Cert string `json:"cert"`
	// Plaintext is base64; Text is the alternative for UTF-8 strings.
	Plaintext string `json:"plaintext,omitempty"`
	Text      string `json:"text,omitempty"`
	// Format: "pkcs7" (default: EnvelopedData; SM2 recipients get GM/T
	// OIDs unless OIDs is "standard"), "sm2" (raw C1C3C2), "sm2-c1c2c3",
	// "sm2-asn1".
	Format string `json:"format,omitempty"`
	OIDs   string `json:"oids,omitempty"`
}

// EncryptResponse answers POST /api/v1/envelope/encrypt.
type EncryptResponse struct {
	Envelope string `json:"envelope"` // base64
	Format   string `json:"format"`
}

type api struct {
	v   *Verifier
	max int64
	log *slog.Logger
}

// NewHandler serves the verification API: POST /api/v1/verify (a
// signature → Result), POST /api/v1/certs/inspect (a certificate → Result
// with its facts and chain), POST /api/v1/envelope/encrypt (a certificate
// and plaintext → envelope). Bodies are JSON; a completed verification is
// 200 whatever its verdict (see Result.valid); bad requests get a 4xx with
// an APIError. Authentication is the mounting server's job.
func NewHandler(v *Verifier, opts HandlerOptions) http.Handler {
	a := &api{v: v, max: opts.MaxBodyBytes, log: opts.Logger}
	if a.max <= 0 {
		a.max = 4 << 20
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	r := chi.NewRouter()
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not-found", "接口不存在", "")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method-not-allowed", "请使用 POST 方法", "")
	})
	r.Post("/api/v1/verify", a.verify)
	r.Post("/api/v1/certs/inspect", a.inspect)
	r.Post("/api/v1/envelope/encrypt", a.encrypt)
	return r
}

func writeError(w http.ResponseWriter, status int, code, message, detail string) {
	httpjson.Write(w, status, APIError{InvokeCode: status, FailMessage: message, Code: code, Message: message, Detail: detail})
}

// decode reads a JSON body into dst, answering the error itself.
func (a *api) decode(w http.ResponseWriter, r *http.Request, dst any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			writeError(w, http.StatusUnsupportedMediaType, "unsupported-media-type", "请求体须为 JSON（Content-Type: application/json）", "")
			return false
		}
	}
	body := http.MaxBytesReader(w, r.Body, a.max)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("请求体超过 %d 字节上限", a.max), "")
			return false
		}
		writeError(w, http.StatusBadRequest, "bad-request", "请求体不是有效的 JSON", err.Error())
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "bad-request", "请求体只能包含一个 JSON 对象", "")
		return false
	}
	return true
}

// certTypeAndTime reads the certType and at that verify and inspect
// requests may carry, answering a bad one itself.
func certTypeAndTime(w http.ResponseWriter, rawCertType json.RawMessage, rawAt string) (certs.CertType, time.Time, bool) {
	certType, err := parseCertTypeJSON(rawCertType)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad-request", "certType 须为 0、1 或 2", err.Error())
		return 0, time.Time{}, false
	}
	var at time.Time // zero: now
	if rawAt != "" {
		if at, err = time.Parse(time.RFC3339, rawAt); err != nil {
			writeError(w, http.StatusBadRequest, "bad-request", "at 须为 RFC 3339 时间", err.Error())
			return 0, time.Time{}, false
		}
	}
	return certType, at, true
}

func parseCertTypeJSON(raw json.RawMessage) (certs.CertType, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return certs.CertTypeAny, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		return certs.ParseCertType(strconv.Itoa(n))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, errors.New("certType must be 0, 1 or 2")
	}
	return certs.ParseCertType(s)
}

func (a *api) verify(w http.ResponseWriter, r *http.Request) {
	var req VerifyRequest
	if !a.decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Signature) == "" {
		writeError(w, http.StatusBadRequest, "bad-request", "缺少签名值 signature", "")
		return
	}
	sig, err := certs.DecodeBinary([]byte(req.Signature))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad-request", "签名值须为 base64、十六进制或 PEM", err.Error())
		return
	}
	certType, at, ok := certTypeAndTime(w, req.CertType, req.At)
	if !ok {
		return
	}
	vr := Request{Signature: sig, CertType: certType, At: at}
	if req.Cert != "" {
		vr.Cert = []byte(req.Cert)
	}
	if req.Content != nil {
		exp, err := expectationFor(*req.Content, req.ContentEncoding)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad-request", "待签名内容无法按 contentEncoding 解码", err.Error())
			return
		}
		vr.Expected = exp
	} else if req.ContentEncoding != "" {
		writeError(w, http.StatusBadRequest, "bad-request", "给出了 contentEncoding 却没有 content", "")
		return
	}
	res := a.v.Verify(r.Context(), vr)
	httpjson.Write(w, http.StatusOK, res)
}

// expectationFor turns API/CLI content into an Expected.
func expectationFor(content, encoding string) (Expected, error) {
	switch strings.ToLower(encoding) {
	case "", "text", "utf-8", "utf8":
		return ExpectText(content), nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(content))
		if err != nil {
			b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(content), "="))
		}
		if err != nil {
			return Expected{}, errors.New("content is not base64")
		}
		return ExpectBytes(b), nil
	case "hex", "hash-hex":
		return ExpectHashHex(content)
	}
	return Expected{}, fmt.Errorf("contentEncoding %q is not text, base64 or hex", encoding)
}

func (a *api) inspect(w http.ResponseWriter, r *http.Request) {
	var req InspectRequest
	if !a.decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Cert) == "" {
		writeError(w, http.StatusBadRequest, "bad-request", "缺少证书 cert", "")
		return
	}
	certType, at, ok := certTypeAndTime(w, req.CertType, req.At)
	if !ok {
		return
	}
	res := a.v.CheckCertificate(r.Context(), []byte(req.Cert), at, certType)
	if res.Reason == ReasonMalformed {
		writeError(w, http.StatusBadRequest, "bad-request", "证书无法解析", res.Detail)
		return
	}
	httpjson.Write(w, http.StatusOK, res)
}

func (a *api) encrypt(w http.ResponseWriter, r *http.Request) {
	var req EncryptRequest
	if !a.decode(w, r, &req) {
		return
	}
	cert, err := certs.ParseCertificate([]byte(req.Cert))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad-request", "证书无法解析", err.Error())
		return
	}
	var plain []byte
	switch {
	case req.Plaintext != "" && req.Text != "":
		writeError(w, http.StatusBadRequest, "bad-request", "plaintext 与 text 只能给一个", "")
		return
	case req.Plaintext != "":
		plain, err = base64.StdEncoding.DecodeString(req.Plaintext)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad-request", "plaintext 须为 base64", err.Error())
			return
		}
	default:
		plain = []byte(req.Text)
	}
	if len(plain) == 0 {
		writeError(w, http.StatusBadRequest, "bad-request", "缺少需加密的内容 plaintext 或 text", "")
		return
	}
	out, format, err := envelope.EncryptAs(plain, cert, req.Format, req.OIDs)
	switch {
	case errors.Is(err, envelope.ErrUnknownOIDs):
		writeError(w, http.StatusBadRequest, "bad-request", "oids 须为 gm 或 standard", "")
		return
	case errors.Is(err, envelope.ErrUnknownFormat):
		writeError(w, http.StatusBadRequest, "bad-request", "format 须为 pkcs7、sm2、sm2-c1c2c3 或 sm2-asn1", "")
		return
	case errors.Is(err, envelope.ErrUnsupported):
		writeError(w, http.StatusBadRequest, "bad-request", "该证书的密钥类型不支持此加密格式", err.Error())
		return
	case err != nil:
		a.log.ErrorContext(context.WithoutCancel(r.Context()), "envelope encrypt failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "加密失败", "")
		return
	}
	httpjson.Write(w, http.StatusOK, EncryptResponse{Envelope: base64.StdEncoding.EncodeToString(out), Format: format})
}
