package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/verify"
)

// OperationResult is the answer of GET /api/v1/operations/{guid}: the
// status and, once the app has answered, the verified outcome.
type OperationResult struct {
	GUID       string    `json:"guid"`
	Type       int       `json:"type"`
	TypeName   string    `json:"typeName"`
	Title      string    `json:"title"`
	CertType   int       `json:"certType"`
	Status     int       `json:"status"`
	StatusName string    `json:"statusName"`
	Final      bool      `json:"final"`
	Value      *string   `json:"value"`
	ExtMessage *string   `json:"extMessage"`
	ExpiresAt  time.Time `json:"expiresAt"`
	Outcome    *Outcome  `json:"outcome"`
}

// Outcome is the verified meaning of the app's answer (see relay.Outcome).
type Outcome struct {
	Valid                bool           `json:"valid"`
	Reason               string         `json:"reason"`
	Message              string         `json:"message"`
	MessageEn            string         `json:"messageEn"`
	Signer               *certs.Facts   `json:"signer"`
	Verification         *verify.Result `json:"verification"`
	Plaintext            *string        `json:"plaintext"`
	SignatureCompanyCode string         `json:"signatureCompanyCode"`
}

// OperationResult calls GET /api/v1/operations/{guid} with a system token
// bound to the operation.
func (c *Client) OperationResult(ctx context.Context, token, guid string) (*OperationResult, error) {
	var out OperationResult
	if err := c.rest(ctx, http.MethodGet, "/api/v1/operations/"+url.PathEscape(guid), Token(token), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EncryptRequest is the body of POST /api/v1/operations/{guid}/encrypt;
// the zero value encrypts the operation's message as a PKCS#7 envelope.
type EncryptRequest struct {
	Text      string `json:"text,omitempty"`
	Plaintext string `json:"plaintext,omitempty"` // base64
	Format    string `json:"format,omitempty"`    // pkcs7 | sm2 | sm2-c1c2c3 | sm2-asn1
	OIDs      string `json:"oids,omitempty"`      // gm | standard
}

// EncryptResult answers POST /api/v1/operations/{guid}/encrypt.
type EncryptResult struct {
	GUID      string       `json:"guid"`
	Envelope  string       `json:"envelope"` // base64
	Format    string       `json:"format"`
	Recipient *certs.Facts `json:"recipient"`
}

// Encrypt calls POST /api/v1/operations/{guid}/encrypt: envelope a
// plaintext to the certificate the app returned for the encrypt operation.
func (c *Client) Encrypt(ctx context.Context, token, guid string, req EncryptRequest) (*EncryptResult, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var out EncryptResult
	if err := c.rest(ctx, http.MethodPost, "/api/v1/operations/"+url.PathEscape(guid)+"/encrypt", Token(token), body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// rest calls a REST route of /api/v1 with auth. Refusals come as the HTTP
// status with {"invokeCode","failMessage","code","message"}.
func (c *Client) rest(ctx context.Context, method, path string, auth Credentials, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	auth.Authorize(req)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.call(req, path, maxAnswer, out)
}
