package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxAnswer bounds how much of an answer the client reads.
const maxAnswer = 8 << 20

// Client talks to one relay. BaseURL is the 手机扫码服务地址 (the QR payload's
// url), with any path prefix.
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

// New returns a client for baseURL; hc nil means http.DefaultClient.
func New(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: hc}
}

// Error is a refusal from the relay: its invokeCode and failMessage.
type Error struct {
	InvokeCode  int
	FailMessage string
}

func (e *Error) Error() string {
	return fmt.Sprintf("relay: invokeCode %d: %s", e.InvokeCode, e.FailMessage)
}

// Code returns the invokeCode of a refusal, 0 for any other error or nil.
func Code(err error) int {
	if e, ok := err.(*Error); ok {
		return e.InvokeCode
	}
	return 0
}

// Int reads a JSON number or a string holding one (the guide sends type as
// "4" and certType as 0; servers differ).
type Int int

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("client: %s is not an integer", b)
	}
	*n = Int(v)
	return nil
}

// post sends form to path and decodes the answer into out after checking
// invokeCode.
func (c *Client) post(ctx context.Context, path string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	return c.call(req, path, maxAnswer, out)
}

// call sends req and decodes the answer into out after checking invokeCode.
func (c *Client) call(req *http.Request, path string, limit int64, out any) error {
	status, body, err := c.send(req, path, limit)
	if err != nil {
		return err
	}
	return decodeAnswer(path, status, body, out)
}

// send sends req and reads at most limit bytes of the answer.
func (c *Client) send(req *http.Request, path string, limit int64) (status int, body []byte, err error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("client: %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return 0, nil, fmt.Errorf("client: %s: read answer: %w", path, err)
	}
	return resp.StatusCode, body, nil
}

func decodeAnswer(path string, status int, body []byte, out any) error {
	var head struct {
		InvokeCode  *int   `json:"invokeCode"`
		FailMessage string `json:"failMessage"`
	}
	if err := json.Unmarshal(body, &head); err != nil || head.InvokeCode == nil {
		return fmt.Errorf("client: %s: HTTP %d, not a relay answer: %.200q", path, status, body)
	}
	if *head.InvokeCode != 1 {
		return &Error{InvokeCode: *head.InvokeCode, FailMessage: head.FailMessage}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("client: %s: decode answer: %w", path, err)
	}
	return nil
}

// GrantToken calls /grantToken. guid may be empty (a token for initMessage).
func (c *Client) GrantToken(ctx context.Context, accountName, password, guid string) (string, error) {
	f := url.Values{"accountName": {accountName}, "password": {password}}
	if guid != "" {
		f.Set("guid", guid)
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := c.post(ctx, "/grantToken", f, &out); err != nil {
		return "", err
	}
	return out.Token, nil
}

// InitMessageRequest is /initMessage's input.
type InitMessageRequest struct {
	Type       int // 1 签名 2 加密 3 解密 4 登录 5 签章 6 撤章
	Message    string
	Title      string
	CertType   int     // 0 any, 1 organisation, 2 person
	ExtMessage *string // sent only when not nil
}

// InitMessage calls /initMessage and returns the new operation's guid.
func (c *Client) InitMessage(ctx context.Context, token string, req InitMessageRequest) (string, error) {
	f := url.Values{
		"type": {strconv.Itoa(req.Type)}, "message": {req.Message}, "title": {req.Title},
		"certType": {strconv.Itoa(req.CertType)}, "token": {token},
	}
	if req.ExtMessage != nil {
		f.Set("extMessage", *req.ExtMessage)
	}
	var out struct {
		GUID string `json:"guid"`
	}
	if err := c.post(ctx, "/initMessage", f, &out); err != nil {
		return "", err
	}
	return out.GUID, nil
}

// InitMessage is /getInitMessage's answer.
type InitMessage struct {
	Message    string  `json:"message"`
	Title      string  `json:"title"`
	CertType   Int     `json:"certType"`
	Type       Int     `json:"type"`
	ExtMessage *string `json:"extMessage"`
}

// GetInitMessage calls /getInitMessage (the app fetching what to do).
func (c *Client) GetInitMessage(ctx context.Context, token, guid string) (InitMessage, error) {
	var out InitMessage
	err := c.post(ctx, "/getInitMessage", url.Values{"guid": {guid}, "token": {token}}, &out)
	return out, err
}

// Result is /getCaMessageResult's answer; Value and ExtMessage are nil
// until something is saved.
type Result struct {
	Status     Int     `json:"status"`
	Value      *string `json:"value"`
	ExtMessage *string `json:"extMessage"`
}

// GetCaMessageResult calls /getCaMessageResult (polling an operation).
func (c *Client) GetCaMessageResult(ctx context.Context, token, guid string) (Result, error) {
	var out Result
	err := c.post(ctx, "/getCaMessageResult", url.Values{"guid": {guid}, "token": {token}}, &out)
	return out, err
}

// SaveRequest is /saveCaMessageResult's input; nil fields are not sent.
type SaveRequest struct {
	GUID       string
	Status     int
	Value      *string
	ExtMessage *string
}

// SaveCaMessageResult calls /saveCaMessageResult.
func (c *Client) SaveCaMessageResult(ctx context.Context, token string, req SaveRequest) error {
	f := url.Values{"guid": {req.GUID}, "status": {strconv.Itoa(req.Status)}, "token": {token}}
	if req.Value != nil {
		f.Set("value", *req.Value)
	}
	if req.ExtMessage != nil {
		f.Set("extMessage", *req.ExtMessage)
	}
	return c.post(ctx, "/saveCaMessageResult", f, nil)
}

// QRCode fetches /qrcode: the PNG of the operation's QR payload. size 0
// means the server's default.
func (c *Client) QRCode(ctx context.Context, token, guid, city string, size int) ([]byte, error) {
	q := url.Values{"guid": {guid}, "token": {token}, "city": {city}}
	if size > 0 {
		q.Set("size", strconv.Itoa(size))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/qrcode?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	status, body, err := c.send(req, "/qrcode", maxAnswer)
	if err != nil {
		return nil, err
	}
	if status == http.StatusOK && bytes.HasPrefix(body, []byte("\x89PNG")) {
		return body, nil
	}
	if err := decodeAnswer("/qrcode", status, body, nil); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("client: /qrcode: HTTP %d without an image", status)
}

// Payload is the guide's QR code content.
type Payload struct {
	GUID string `json:"guid"`
	URL  string `json:"url"`
	City string `json:"city"`
}

// ParsePayload reads a scanned QR code's text.
func ParsePayload(text string) (Payload, error) {
	var p Payload
	if err := json.Unmarshal([]byte(text), &p); err != nil {
		return p, fmt.Errorf("client: QR payload is not the guide's JSON: %w", err)
	}
	if p.GUID == "" || p.URL == "" {
		return p, fmt.Errorf("client: QR payload lacks guid or url")
	}
	return p, nil
}
