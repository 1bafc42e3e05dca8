package relay

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/internal/httpjson"
	"github.com/scansign/scansign/relay/store"
)

// ContentTypeJSON is what every JSON answer is labelled, as the guide has it.
const ContentTypeJSON = httpjson.ContentType

// Mount puts the guide's endpoints and /qrcode on r (at r's root: mount r
// under the configured path prefix). Each answers GET and POST.
func (s *Service) Mount(r chi.Router) {
	for path, fn := range map[string]EndpointFunc{
		"/grantToken":          s.handleGrantToken,
		"/initMessage":         s.handleInitMessage,
		"/getInitMessage":      s.handleGetInitMessage,
		"/getCaMessageResult":  s.handleGetCaMessageResult,
		"/saveCaMessageResult": s.handleSaveCaMessageResult,
	} {
		h := s.Endpoint(fn)
		r.Get(path, h)
		r.Post(path, h)
	}
	r.Get("/qrcode", s.handleQRCode)
}

// EndpointFunc is a guide-style endpoint: it gets the decoded parameters and
// returns the success body (a struct with an `json:"invokeCode"` field set
// to CodeOK, in the guide's field order) or a refusal.
type EndpointFunc func(r *http.Request, p Params) (any, error)

// Endpoint adapts fn to HTTP the way every guide endpoint behaves: decode
// the parameters (DecodeParams with the Service's limits), call fn, answer
// HTTP 200 with the JSON body or {"invokeCode":…,"failMessage":…}.
func (s *Service) Endpoint(fn EndpointFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.Limits.BodyBytes)
		p, err := DecodeParams(r, s.cfg.Limits)
		if err != nil {
			s.WriteFailure(w, r, http.StatusOK, err)
			return
		}
		body, err := fn(r, p)
		if err != nil {
			s.WriteFailure(w, r, http.StatusOK, err)
			return
		}
		httpjson.WriteExact(w, http.StatusOK, body)
	}
}

// Failure is the body of every refusal on the guide's endpoints.
type Failure struct {
	InvokeCode  int    `json:"invokeCode"`
	FailMessage string `json:"failMessage"`
}

// APIFailure is the body of a refusal on the REST routes (/api/v1/…,
// /qrcode), answered with the invokeCode as the HTTP status. It carries
// both dialects: invokeCode and failMessage as the guide's endpoints
// answer, and code and message as the verification and PDF APIs do, so a
// caller reads one field whichever part refused.
type APIFailure struct {
	InvokeCode  int    `json:"invokeCode"`
	FailMessage string `json:"failMessage"`
	Code        string `json:"code"`    // RESTCode of the invokeCode
	Message     string `json:"message"` // Chinese, the same as failMessage
}

// NewAPIFailure is the REST refusal for an invokeCode and its message.
func NewAPIFailure(invokeCode int, message string) APIFailure {
	return APIFailure{InvokeCode: invokeCode, FailMessage: message, Code: RESTCode(invokeCode), Message: message}
}

// RESTCode names an invokeCode for the code field of APIFailure, in the
// words the verification API uses (bad-request, too-large, internal, …).
func RESTCode(invokeCode int) string {
	switch invokeCode {
	case CodeBadRequest:
		return "bad-request"
	case CodeUnauthorized:
		return "unauthorized"
	case CodeForbidden:
		return "forbidden"
	case CodeNotFound:
		return "not-found"
	case http.StatusMethodNotAllowed:
		return "method-not-allowed"
	case CodeConflict:
		return "conflict"
	case CodeExpired:
		return "expired"
	case CodeCertMismatch:
		return "cert-mismatch"
	case CodeTooLarge:
		return "too-large"
	case CodeUnknownCompany:
		return "unknown-seal-company"
	case CodeNoSeals:
		return "no-seals"
	case CodeThrottled:
		return "too-many-attempts"
	case CodeInternal:
		return "internal"
	case CodeBadGateway:
		return "bad-gateway"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case CodeGatewayTimeout:
		return "gateway-timeout"
	}
	return "error"
}

// WriteFailure answers a refusal: with httpStatus http.StatusOK, as the
// guide's endpoints do ({"invokeCode","failMessage"}); with 0, as the REST
// routes do (the invokeCode as the HTTP status, APIFailure). A 500 is
// logged with its cause; the caller sees only a generic message.
func (s *Service) WriteFailure(w http.ResponseWriter, r *http.Request, httpStatus int, err error) {
	code, msg := InvokeCode(err)
	if code == CodeInternal {
		s.log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	}
	if httpStatus != 0 {
		httpjson.WriteExact(w, httpStatus, Failure{InvokeCode: code, FailMessage: msg})
		return
	}
	if code == CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scansign"`)
	}
	httpjson.WriteExact(w, code, NewAPIFailure(code, msg))
}

// MethodNotAllowed is chi's MethodNotAllowed handler for the router every
// surface hangs on: 405 with an Allow header and an APIFailure (code
// method-not-allowed), where chi's own answers with an empty body that a
// client cannot tell from a proxy's. Sub-routers inherit it.
func (s *Service) MethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	msg := "不支持该请求方法"
	if allowed := allowedMethods(r); len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		msg = "请使用 " + strings.Join(allowed, " 或 ") + " 方法"
	}
	s.WriteFailure(w, r, 0, fail(http.StatusMethodNotAllowed, "%s", msg))
}

// NotFound is chi's NotFound handler for the /api/v1 group: 404 with an
// APIFailure (code not-found) instead of chi's plain text.
func (s *Service) NotFound(w http.ResponseWriter, r *http.Request) {
	s.WriteFailure(w, r, 0, fail(CodeNotFound, "接口不存在"))
}

// allowedMethods asks the request's root router which methods its path
// takes (chi does not hand them to a custom 405 handler).
func allowedMethods(r *http.Request) []string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return nil
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
			allowed = append(allowed, m)
		}
	}
	return allowed
}

// --- the guide's endpoints ---------------------------------------------------

type grantTokenResponse struct {
	Token      string `json:"token"`
	InvokeCode int    `json:"invokeCode"`
}

func (s *Service) handleGrantToken(r *http.Request, p Params) (any, error) {
	tok, err := s.GrantToken(r.Context(), GrantRequest{
		AccountName: p.Get("accountName"), Password: p.Get("password"), GUID: strings.TrimSpace(p.Get("guid")),
		ClientAddr: s.cfg.ClientAddr(r),
	})
	if err != nil {
		return nil, err
	}
	return grantTokenResponse{Token: tok, InvokeCode: CodeOK}, nil
}

type initMessageResponse struct {
	GUID       string `json:"guid"`
	InvokeCode int    `json:"invokeCode"`
}

func (s *Service) handleInitMessage(r *http.Request, p Params) (any, error) {
	pr, err := s.Authenticate(r.Context(), p.Get("token"))
	if err != nil {
		return nil, err
	}
	typ, err := parseSmallInt(p, "type", true)
	if err != nil {
		return nil, err
	}
	certType, err := parseSmallInt(p, "certType", false)
	if err != nil {
		return nil, err
	}
	op, err := s.InitMessage(r.Context(), pr, InitRequest{
		Type: OpType(typ), Message: p.Get("message"), Title: p.Get("title"), CertType: certType,
		ExtMessage: p.Optional("extMessage"),
	})
	if err != nil {
		return nil, err
	}
	return initMessageResponse{GUID: op.GUID, InvokeCode: CodeOK}, nil
}

// parseSmallInt reads type, certType or status: a decimal 0–99 ("" is
// absent, which is 0 unless required).
func parseSmallInt(p Params, name string, required bool) (int, error) {
	v := strings.TrimSpace(p.Get(name))
	if v == "" {
		if required {
			return 0, fail(CodeBadRequest, "缺少参数 %s", name)
		}
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 99 {
		return 0, fail(CodeBadRequest, "%s 取值无效：须为数字", name)
	}
	return n, nil
}

// guidParam reads the guid parameter in canonical form.
func guidParam(p Params) (string, error) {
	g := strings.TrimSpace(p.Get("guid"))
	if g == "" {
		return "", fail(CodeBadRequest, "缺少参数 guid")
	}
	c, ok := canonicalUUID(g)
	if !ok {
		return "", fail(CodeBadRequest, "guid 格式不正确")
	}
	return c, nil
}

// authOp is the common start of the per-operation endpoints: the guid
// parameter, then the token and the operation in one store read.
func (s *Service) authOp(ctx context.Context, p Params) (Principal, store.Operation, error) {
	guid, err := guidParam(p)
	if err != nil {
		return Principal{}, store.Operation{}, err
	}
	return s.AuthenticateOperation(ctx, p.Get("token"), guid)
}

// getInitMessageResponse is the guide's example field for field: type is a
// string, certType a number; extMessage only when the operation has one.
type getInitMessageResponse struct {
	Message    string  `json:"message"`
	Title      string  `json:"title"`
	InvokeCode int     `json:"invokeCode"`
	CertType   int     `json:"certType"`
	Type       string  `json:"type"`
	ExtMessage *string `json:"extMessage,omitempty"`
}

func (s *Service) handleGetInitMessage(r *http.Request, p Params) (any, error) {
	pr, op, err := s.authOp(r.Context(), p)
	if err != nil {
		return nil, err
	}
	op, err = s.getInitMessage(r.Context(), pr, op)
	if err != nil {
		return nil, err
	}
	return getInitMessageResponse{Message: op.Message, Title: op.Title, InvokeCode: CodeOK,
		CertType: op.CertType, Type: strconv.Itoa(op.Type), ExtMessage: op.InitExtMessage}, nil
}

// resultResponse is the guide's example: value and extMessage are null until
// something is saved.
type resultResponse struct {
	Status     int     `json:"status"`
	InvokeCode int     `json:"invokeCode"`
	Value      *string `json:"value"`
	ExtMessage *string `json:"extMessage"`
}

func (s *Service) handleGetCaMessageResult(r *http.Request, p Params) (any, error) {
	_, op, err := s.authOp(r.Context(), p)
	if err != nil {
		return nil, err
	}
	return resultResponse{Status: op.Status, InvokeCode: CodeOK, Value: op.Value, ExtMessage: op.ExtMessage}, nil
}

type okResponse struct {
	InvokeCode int `json:"invokeCode"`
}

func (s *Service) handleSaveCaMessageResult(r *http.Request, p Params) (any, error) {
	pr, op, err := s.authOp(r.Context(), p)
	if err != nil {
		return nil, err
	}
	st, err := parseSmallInt(p, "status", true)
	if err != nil {
		return nil, err
	}
	if !Status(st).Valid() {
		return nil, fail(CodeBadRequest, "status 取值无效，应为 0 到 5")
	}
	if _, err := s.transition(r.Context(), pr, op, Change{
		Via: ViaSaveResult, To: Status(st), Value: p.Optional("value"), ExtMessage: p.Optional("extMessage"),
	}); err != nil {
		return nil, err
	}
	return okResponse{InvokeCode: CodeOK}, nil
}

// --- middleware for the REST API (/api/v1/...) -------------------------------

type principalKey struct{}

// PrincipalFrom returns the Principal RequireSystem put in the context.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// requestToken finds the token of a REST request: "Authorization: Bearer
// <token>", else a token query parameter, else a token field of a
// form-urlencoded body.
func requestToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if t := r.URL.Query().Get("token"); t != "" {
		return t
	}
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if r.Method == http.MethodPost && strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded") {
		// PostFormValue reads at most 10 MB; the router's body limit applies first.
		return r.PostFormValue("token")
	}
	return ""
}

// RequireSystem authenticates a REST request (/api/v1/…) and lets it
// through only for a system account, with the Principal in the context
// (PrincipalFrom). It takes either
//
//   - a system token (Authorization: Bearer, or a token parameter) bound to
//     an operation — DESIGN.md: a token granted without guid may only call
//     initMessage, so an unbound one is refused (401) here too; or
//   - HTTP Basic credentials of a system account, checked and throttled
//     exactly as grantToken checks them (for the routes on no operation:
//     verify, certs/inspect, envelope/encrypt, the PDF API without a guid).
//
// Routes on one operation add RequireBound, which wants a token bound to
// that operation. Refusals answer the invokeCode as the HTTP status with
// an APIFailure.
func (s *Service) RequireSystem(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticateREST(r)
		if err != nil {
			s.WriteFailure(w, r, 0, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// authenticateREST is RequireSystem's check.
func (s *Service) authenticateREST(r *http.Request) (Principal, error) {
	ctx := r.Context()
	onlySystem := fail(CodeForbidden, "只有交易系统（system）账号可以调用此接口")
	if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Basic") {
		name, secret, ok := r.BasicAuth()
		if !ok {
			return Principal{}, fail(CodeUnauthorized, "Authorization: Basic 的格式不正确，应为 base64(账号:密码)")
		}
		acc, err := s.checkSecret(ctx, "/api/v1 Basic", name, secret, s.cfg.ClientAddr(r))
		if err != nil {
			return Principal{}, err
		}
		if acc.role != RoleSystem {
			return Principal{}, onlySystem
		}
		return Principal{Account: acc.name, Role: acc.role, basic: true}, nil
	}
	p, err := s.Authenticate(ctx, requestToken(r))
	if err != nil {
		return p, err
	}
	if p.Role != RoleSystem {
		return p, onlySystem
	}
	if p.GUID == "" {
		return p, fail(CodeUnauthorized, msgTokenUnbound)
	}
	return p, nil
}

// RequireBound goes after RequireSystem on routes with an operation in the
// path: the caller must hold a token bound to chi.URLParam(r, param) (401
// otherwise; account credentials never reach an operation).
func (s *Service) RequireBound(param string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := PrincipalFrom(r.Context())
			if !ok {
				s.WriteFailure(w, r, 0, internal(errors.New("RequireBound used without RequireSystem")))
				return
			}
			guid, valid := canonicalUUID(chi.URLParam(r, param))
			if !valid {
				s.WriteFailure(w, r, 0, fail(CodeBadRequest, "guid 格式不正确"))
				return
			}
			if err := p.BoundTo(guid); err != nil {
				s.WriteFailure(w, r, 0, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
