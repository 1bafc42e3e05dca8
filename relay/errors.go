package relay

import (
	"errors"
	"fmt"
)

// The invokeCode table every guide endpoint answers with (HTTP 200 always;
// the code is in the body). 1 is success; the others are refusals.
const (
	CodeOK           = 1
	CodeBadRequest   = 400 // a parameter is missing, malformed or out of range
	CodeUnauthorized = 401 // token missing, unknown, expired or not valid for this guid
	CodeForbidden    = 403 // the account's role may not do this
	CodeNotFound     = 404 // unknown guid
	CodeConflict     = 409 // the status change is not allowed from the current status
	CodeExpired      = 410 // the operation (QR code) has expired
	// CodeCertMismatch: the seal flow's final answer carries another
	// certificate than the caSerialId the app chose the seals by.
	CodeCertMismatch = 412
	CodeTooLarge     = 413 // body or a field too large
	CodeThrottled    = 429 // too many failed attempts
	CodeInternal     = 500 // our fault; details are in the log, not the answer

	// /getSealImg only: what went wrong asking the seal company. The
	// operation is unchanged; the seal control may try again (502, 504) or
	// tell the user (422, 424).
	CodeUnknownCompany = 422 // the app named a seal company this relay has no entry for
	CodeNoSeals        = 424 // the seal company has no valid seal for the certificate
	CodeBadGateway     = 502 // the seal company is down, unreachable, or answered an error or garbage
	CodeGatewayTimeout = 504 // the seal company did not answer within its timeout
)

// Error is a refusal: Code is the invokeCode, Message the Chinese
// failMessage shown to the caller, Err an optional cause for the log only.
type Error struct {
	Code    int
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("relay %d %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("relay %d %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, relay.ErrExpired) match any *Error with that code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Err == nil && t.Code == e.Code
}

// Sentinels to match refusals by code with errors.Is.
var (
	ErrBadRequest   = &Error{Code: CodeBadRequest}
	ErrUnauthorized = &Error{Code: CodeUnauthorized}
	ErrForbidden    = &Error{Code: CodeForbidden}
	ErrNotFound     = &Error{Code: CodeNotFound}
	ErrConflict     = &Error{Code: CodeConflict}
	ErrExpired      = &Error{Code: CodeExpired}
	ErrCertMismatch = &Error{Code: CodeCertMismatch}
	ErrTooLarge     = &Error{Code: CodeTooLarge}
	ErrThrottled    = &Error{Code: CodeThrottled}
	ErrInternal     = &Error{Code: CodeInternal}

	ErrUnknownCompany = &Error{Code: CodeUnknownCompany}
	ErrNoSeals        = &Error{Code: CodeNoSeals}
	ErrBadGateway     = &Error{Code: CodeBadGateway}
	ErrGatewayTimeout = &Error{Code: CodeGatewayTimeout}
)

func fail(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "服务内部错误，请稍后重试", Err: err}
}

// InvokeCode gives the invokeCode and failMessage to answer for err: its
// own for an *Error, 500 with a generic message for anything else.
func InvokeCode(err error) (int, string) {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Code, e.Message
	}
	if errors.As(err, &e) {
		return e.Code, "请求失败"
	}
	return CodeInternal, "服务内部错误，请稍后重试"
}

// Messages that recur, kept in one place so callers and tests agree.
const (
	msgExpired      = "二维码已过期"
	msgTokenMissing = "缺少授权码 token"
	msgTokenInvalid = "授权码无效"
	msgTokenExpired = "授权码已过期，请重新获取"
	msgTokenOtherOp = "授权码与该操作不匹配"
	msgTokenUnbound = "授权码尚未绑定操作，只能用于调用 initMessage"
	// msgBasicNoOperation: account credentials (HTTP Basic) serve the
	// routes on no operation; an operation wants its own token.
	msgBasicNoOperation = "账号密码只能调用不涉及具体操作的接口；操作相关的接口须使用绑定该操作（guid）的授权码 token"
	msgUnknownGUID      = "操作不存在"
	msgThrottled        = "失败次数过多，请稍后再试"
	msgBadSecret        = "用户名或密码错误"
)
