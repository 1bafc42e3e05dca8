package client

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/pdfsign"
)

// maxPDFAnswer bounds a PDF API answer: the server's 100 MiB default PDF
// in base64, with room.
const maxPDFAnswer = 160 << 20

// The PDF seal API (POST /api/v1/pdf/…, docs/pdf-seals.md) as a seal
// control calls it. Every route is on no operation, so the system
// account's Basic credentials do; within a seal or revoke flow the token
// bound to that operation does too, and prepare with a GUID wants it. The
// PDFs go whole in memory: this client is for tests, the demo and
// integrators' first steps.

// PDFPrepareRequest is what /api/v1/pdf/prepare takes.
type PDFPrepareRequest struct {
	PDF []byte
	// SealImg is the seal image as base64 (getSealImg's img).
	SealImg string
	Page    int // from 1; 0 leaves it to the server, whose default is 1
	// X, Y: centimetres from the page's top-left corner as the reader sees
	// it; Width, Height: zero takes SignWidth/SignHeight.
	X, Y, Width, Height   float64
	SignWidth, SignHeight string // cm, as getSealImg gives them
	SignName              string
	Shape                 string // "cms" (default) or "p7hash"
	// Cert is the signer's certificate (PEM), required for the cms shape:
	// its signed attributes name it (signing-certificate-v2, PAdES-B-B);
	// a trading system has it from the login. Digest ("SM3", "SHA-256")
	// overrides the digest Cert implies; p7hash without Cert takes SM3.
	Cert, Digest     string
	Reason, Location string
	// GUID, when set, is the seal operation prepare stores the hash into
	// (moving it to status 4); the credentials must then be a Token bound
	// to it.
	GUID string
}

// PDFPrepared is /api/v1/pdf/prepare's answer.
type PDFPrepared struct {
	FieldName        string `json:"fieldName"`
	Shape            string `json:"shape"`
	DigestAlgorithm  string `json:"digestAlgorithm"`
	Hash             string `json:"hash"`
	ToSign           string `json:"toSign"`
	SignedAttributes string `json:"signedAttributes"`
	GUID             string `json:"guid"`
	PDF              []byte `json:"pdf"`
}

// PDFPrepare calls POST /api/v1/pdf/prepare.
func (c *Client) PDFPrepare(ctx context.Context, auth Credentials, req PDFPrepareRequest) (*PDFPrepared, error) {
	page := ""
	if req.Page != 0 {
		page = strconv.Itoa(req.Page)
	}
	fields := []field{{"page", page}, {"x", num(req.X)}, {"y", num(req.Y)},
		{"sealImg", req.SealImg}, {"signWidth", req.SignWidth}, {"signHeight", req.SignHeight}, {"signName", req.SignName},
		{"shape", req.Shape}, {"cert", req.Cert}, {"digest", req.Digest}, {"reason", req.Reason}, {"location", req.Location}, {"guid", req.GUID}}
	if req.Width > 0 {
		fields = append(fields, field{"width", num(req.Width)})
	}
	if req.Height > 0 {
		fields = append(fields, field{"height", num(req.Height)})
	}
	var out PDFPrepared
	return &out, c.pdfCall(ctx, "/api/v1/pdf/prepare", auth, req.PDF, fields, &out)
}

// PDFCompleteRequest is what /api/v1/pdf/complete takes: the prepared PDF
// and the app's answer (signStr and pubCert of its value).
type PDFCompleteRequest struct {
	PDF              []byte
	SignStr          string
	PubCert          string
	SignedAttributes string // prepare's, for the cms shape (optional)
	CertType         int
}

// PDFCompleted is /api/v1/pdf/complete's answer.
type PDFCompleted struct {
	FieldName       string       `json:"fieldName"`
	Shape           string       `json:"shape"`
	DigestAlgorithm string       `json:"digestAlgorithm"`
	Hash            string       `json:"hash"`
	Signer          *certs.Facts `json:"signer"`
	PDF             []byte       `json:"pdf"`
}

// PDFComplete calls POST /api/v1/pdf/complete.
func (c *Client) PDFComplete(ctx context.Context, auth Credentials, req PDFCompleteRequest) (*PDFCompleted, error) {
	var out PDFCompleted
	return &out, c.pdfCall(ctx, "/api/v1/pdf/complete", auth, req.PDF, []field{{"signStr", req.SignStr}, {"pubCert", req.PubCert},
		{"signedAttributes", req.SignedAttributes}, {"certType", strconv.Itoa(req.CertType)}}, &out)
}

// PDFReport is /api/v1/pdf/verify's answer.
type PDFReport struct {
	Valid      bool                      `json:"valid"`
	Pages      int                       `json:"pages"`
	Size       int64                     `json:"size"`
	Signatures []pdfsign.SignatureReport `json:"signatures"`
}

// PDFVerify calls POST /api/v1/pdf/verify.
func (c *Client) PDFVerify(ctx context.Context, auth Credentials, pdf []byte) (*PDFReport, error) {
	var out PDFReport
	return &out, c.pdfCall(ctx, "/api/v1/pdf/verify", auth, pdf, nil, &out)
}

// PDFSeals calls POST /api/v1/pdf/seals: each seal with the hash a
// revocation (撤章) must sign.
func (c *Client) PDFSeals(ctx context.Context, auth Credentials, pdf []byte) ([]pdfsign.SealInfo, error) {
	var out struct {
		Seals []pdfsign.SealInfo `json:"seals"`
	}
	return out.Seals, c.pdfCall(ctx, "/api/v1/pdf/seals", auth, pdf, nil, &out)
}

// PDFRevoked is /api/v1/pdf/revoke's answer: the PDF before the seal.
type PDFRevoked struct {
	FieldName string       `json:"fieldName"`
	Hash      string       `json:"hash"`
	Signer    *certs.Facts `json:"signer"`
	PDF       []byte       `json:"pdf"`
}

// PDFRevoke calls POST /api/v1/pdf/revoke with the app's signature over
// the seal's hash (the revoke operation's value); fieldName "" is the
// latest seal.
func (c *Client) PDFRevoke(ctx context.Context, auth Credentials, pdf []byte, signStr, fieldName string) (*PDFRevoked, error) {
	var out PDFRevoked
	return &out, c.pdfCall(ctx, "/api/v1/pdf/revoke", auth, pdf, []field{{"signStr", signStr}, {"fieldName", fieldName}}, &out)
}

type field struct{ name, value string }

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// pdfCall posts a multipart form (the PDF as the part "pdf", then the
// non-empty fields) with auth.
func (c *Client) pdfCall(ctx context.Context, path string, auth Credentials, pdf []byte, fields []field, out any) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("pdf", "document.pdf")
	if err != nil {
		return err
	}
	fw.Write(pdf)
	for _, f := range fields {
		if f.value != "" {
			mw.WriteField(f.name, f.value)
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, &body)
	if err != nil {
		return err
	}
	auth.Authorize(req)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.call(req, path, maxPDFAnswer, out)
}
