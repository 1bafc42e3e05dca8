package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kinds of failure, for errors.Is on what GetSeals returns.
var (
	ErrUnknownCompany = errors.New("unknown signature company code")
	ErrBadSerial      = errors.New("caSerialId is not a hexadecimal certificate serial")
	ErrUnreachable    = errors.New("seal company unreachable or down")
	ErrTimeout        = errors.New("seal company did not answer in time")
	ErrCompanyError   = errors.New("seal company answered an error code")
	ErrNoSeals        = errors.New("certificate has no valid seals")
	ErrBadAnswer      = errors.New("malformed answer from the seal company")
)

// Error is a failure of GetSeals.
type Error struct {
	Kind    error  // one of the Err* sentinels above
	Company string // the signatureCompanyCode asked
	Code    string // the company's code, when it answered one
	Message string // the company's message, when it answered one
	Err     error  // the underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seal company %q: %v", e.Company, e.Kind)
	if e.Code != "" {
		fmt.Fprintf(&b, " (code %q, message %q)", e.Code, e.Message)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap makes errors.Is see both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// FailMessage is the Chinese failMessage for the seal control.
func (e *Error) FailMessage() string {
	switch e.Kind {
	case ErrUnknownCompany:
		return "未配置的签章公司编码：" + printable(e.Company, 64)
	case ErrBadSerial:
		return "证书序列号格式不正确"
	case ErrUnreachable:
		return "无法连接签章服务，请稍后重试"
	case ErrTimeout:
		return "签章服务响应超时，请稍后重试"
	case ErrCompanyError:
		if m := printable(e.Message, 100); m != "" {
			return "签章服务返回错误：" + m
		}
		return "签章服务返回错误码 " + printable(e.Code, 32)
	case ErrNoSeals:
		return "该证书没有可用的印章"
	case ErrBadAnswer:
		return "签章服务返回的数据无法识别"
	}
	return "获取印章失败"
}

// FailMessage gives the Chinese failMessage for any error of GetSeals.
func FailMessage(err error) string {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.FailMessage()
	case errors.Is(err, context.Canceled):
		return "请求已取消"
	case errors.Is(err, context.DeadlineExceeded):
		return "签章服务响应超时，请稍后重试"
	}
	return "获取印章失败"
}

// printable keeps a third party's text fit to show a user: valid UTF-8, no
// control characters, at most max runes.
func printable(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteRune('…')
			break
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
