package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/scansign/scansign/pdfsign"
)

// PDFHashSink is the relay's side of the PDF seal API's prepare (三.5 step
// 9): given a seal operation's guid, prepare hands the hash here and the
// operation moves from 5 to 4 with value = the hash (lowercase hex, the
// guide's "file hash") and extMessage = {"shape","digestAlgorithm",
// "toSign"}, which is what an app needs to sign: for shape "cms", the
// base64 DER signed attributes in toSign, signed raw; for "p7hash", a
// PKCS#7 with the hash text attached (toSign is the hash itself).
//
// The caller is the Principal RequireSystem put in the request context:
// the seal control's system token, which must be bound to the operation.
type PDFHashSink struct{ svc *Service }

// PDFHashSink returns the OperationHashSink to give pdfsign.NewHandler.
func (s *Service) PDFHashSink() *PDFHashSink { return &PDFHashSink{svc: s} }

var _ pdfsign.OperationHashSink = (*PDFHashSink)(nil)

// SealHashExt is the extMessage stored with the hash at status 4.
type SealHashExt struct {
	Shape           string `json:"shape"`
	DigestAlgorithm string `json:"digestAlgorithm"`
	ToSign          string `json:"toSign"`
}

// SetSealHash implements pdfsign.OperationHashSink. Refusals come back as
// *pdfsign.Error carrying the relay's Chinese reason, its invokeCode as
// the HTTP status and its REST code (401 unauthorized for another
// operation's token, 403, 404, 409 conflict for a wrong status, 410
// expired, 500 for our own failures, …), as the relay's own /api/v1
// routes answer them, so prepare answers it as is; the operation is
// unchanged.
func (k *PDFHashSink) SetSealHash(ctx context.Context, h pdfsign.SealHash) error {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return asPDFError("", internal(errors.New("PDFHashSink used without RequireSystem: no principal in the context")))
	}
	guid, ok := canonicalUUID(strings.TrimSpace(h.GUID))
	if !ok {
		return asPDFError("", fail(CodeBadRequest, "guid 格式不正确"))
	}
	ext, err := json.Marshal(SealHashExt{Shape: string(h.Shape), DigestAlgorithm: string(h.DigestAlgorithm), ToSign: h.ToSign})
	if err != nil {
		return asPDFError(guid, internal(err))
	}
	value, extMessage := h.Hash, string(ext)
	_, err = k.svc.Transition(ctx, p, guid, Change{Via: ViaPDFPrepare, To: StatusSealHash, Value: &value, ExtMessage: &extMessage})
	return asPDFError(guid, err)
}

// asPDFError words a relay refusal for the PDF API; guid is "" when it is
// not a well-formed one (then it is not repeated back).
func asPDFError(guid string, err error) error {
	if err == nil {
		return nil
	}
	code, msg := InvokeCode(err)
	op := "签章操作"
	if guid != "" {
		op += " " + guid + " "
	}
	if code == CodeInternal {
		return &pdfsign.Error{Code: pdfsign.CodeInternal, Message: msg, English: "storing the hash into the seal operation failed", Err: err}
	}
	status := code
	if code < 400 || code > 599 {
		status = CodeBadRequest // not an HTTP status (none is, today): a refusal all the same
	}
	return &pdfsign.Error{
		Code:    pdfsign.Code(RESTCode(code)),
		Status:  status,
		Message: fmt.Sprintf("%s不能存入 hash：%s", op, msg),
		English: fmt.Sprintf("the seal operation %s refused the hash (relay invokeCode %d)", guid, code),
		Err:     err,
	}
}
