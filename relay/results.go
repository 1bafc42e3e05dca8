package relay

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/httpjson"
	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/verify"
	"github.com/scansign/scansign/verify/envelope"
)

// Results is the one-call results API for trading systems (REST, under
// /api/v1, with a system token bound to the operation): instead of polling
// getCaMessageResult and then verifying what the app saved, a trading
// system asks once and hears the status and, once the app has answered,
// the verified outcome — who signed, whether the signature is good and
// over what was asked, whether the certificate is of the type asked for.
//
//	GET  /api/v1/operations/{guid}          → OperationResult
//	POST /api/v1/operations/{guid}/encrypt  → EncryptResult (加密, 三.3 step 5)
//
// It uses only the Service's public Go API, like any other part.
type Results struct {
	svc      *Service
	verifier *verify.Verifier
	now      func() time.Time
	bodyMax  int64
}

// NewResults builds the results API on svc, verifying with v (whose trust
// store holds the mutually recognised CA roots).
func NewResults(svc *Service, v *verify.Verifier) (*Results, error) {
	if svc == nil || v == nil {
		return nil, errors.New("relay: NewResults needs the Service and a Verifier")
	}
	cfg := svc.Config()
	return &Results{svc: svc, verifier: v, now: cfg.Now, bodyMax: cfg.Limits.BodyBytes}, nil
}

// Mount puts the two routes on api, which must already authenticate with
// Service.RequireSystem (the /api/v1 group of `scansign serve`); each route
// adds RequireBound("guid"), so a token reaches only its own operation.
func (rs *Results) Mount(api chi.Router) {
	bound := api.With(rs.svc.RequireBound("guid"))
	bound.Get("/operations/{guid}", rs.handleGet)
	bound.Post("/operations/{guid}/encrypt", rs.handleEncrypt)
}

// Reasons the results API adds to verify's, for values that are not what
// the guide's 参数定义说明 say the app saves.
const (
	// ReasonValueMalformed: the saved value is not the shape the type's
	// table gives (e.g. login without signStr or pubCert).
	ReasonValueMalformed verify.Reason = "malformed-value"
	// ReasonCertMismatch: the PKCS#7 was signed by another certificate than
	// the pubCert saved next to it.
	ReasonCertMismatch verify.Reason = "cert-mismatch"
	// ReasonSealCertMismatch: a seal was signed with another certificate
	// than the one whose seals the app chose (caSerialId, 三.5 step 6).
	ReasonSealCertMismatch verify.Reason = "seal-cert-mismatch"
	// ReasonNoSealHash: the seal operation holds no hash the seal control
	// stored at status 4 (an answer saved by a relay before it kept one),
	// so what the app signed cannot be checked.
	ReasonNoSealHash verify.Reason = "no-seal-hash"
)

// OperationResult answers GET /api/v1/operations/{guid}.
type OperationResult struct {
	InvokeCode int    `json:"invokeCode"` // 1, as on the guide's endpoints
	GUID       string `json:"guid"`
	Type       int    `json:"type"`
	TypeName   string `json:"typeName"`
	Title      string `json:"title"`
	CertType   int    `json:"certType"`
	Status     int    `json:"status"`
	StatusName string `json:"statusName"`
	// Final: nothing more will happen (confirmed, or cancelled).
	Final bool `json:"final"`
	// Value and ExtMessage are what getCaMessageResult returns.
	Value      *string   `json:"value"`
	ExtMessage *string   `json:"extMessage"`
	ExpiresAt  time.Time `json:"expiresAt"`
	// Outcome is present once the app's answer is in (final status 2).
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Outcome is the verified meaning of the app's answer.
type Outcome struct {
	// Valid: for login, sign and revoke, the signature verifies over what
	// was asked, by a trusted certificate of the required certType, valid
	// now; for seal, the same over what the seal control stored at status
	// 4 (the file hash, or the prepared signed attributes of the cms
	// shape), and by the certificate the app chose the seals by
	// (caSerialId); for encrypt, the certificate is trusted, valid and of
	// the required type; for decrypt, always true (the plaintext is the
	// app's word).
	Valid bool `json:"valid"`
	// Reason, Message (Chinese) and MessageEn say why not.
	Reason    verify.Reason `json:"reason,omitempty"`
	Message   string        `json:"message,omitempty"`
	MessageEn string        `json:"messageEn,omitempty"`
	// Signer is whose signature (login, sign, seal, revoke) or certificate
	// (encrypt) it is: serial, subject, person or organisation, credit code.
	Signer *certs.Facts `json:"signer,omitempty"`
	// Verification is the full verification result (signature types) or
	// the certificate check (encrypt).
	Verification *verify.Result `json:"verification,omitempty"`
	// Plaintext is the decrypted message (decrypt).
	Plaintext *string `json:"plaintext,omitempty"`
	// SignatureCompanyCode is the seal company the app named (seal).
	SignatureCompanyCode string `json:"signatureCompanyCode,omitempty"`
}

// Result loads operation guid for p (bound system token) and, once the app
// has answered, verifies the answer.
func (rs *Results) Result(ctx context.Context, p Principal, guid string) (*OperationResult, error) {
	op, err := rs.svc.Operation(ctx, p, guid)
	if err != nil {
		return nil, err
	}
	stage := Stage(op.Stage)
	res := &OperationResult{
		InvokeCode: CodeOK, GUID: op.GUID, Type: op.Type, TypeName: OpType(op.Type).String(), Title: op.Title,
		CertType: op.CertType, Status: op.Status, StatusName: Status(op.Status).String(), Final: stage.Final(),
		Value: op.Value, ExtMessage: op.ExtMessage, ExpiresAt: op.ExpiresAt,
	}
	if stage == StageConfirmed {
		res.Outcome = rs.outcome(ctx, op)
	}
	return res, nil
}

// outcome verifies a confirmed operation's value as its type says.
func (rs *Results) outcome(ctx context.Context, op store.Operation) *Outcome {
	value := ""
	if op.Value != nil {
		value = *op.Value
	}
	certType := certs.CertType(op.CertType)
	at := rs.now()
	switch OpType(op.Type) {
	case TypeLogin:
		var v struct {
			SignStr string `json:"signStr"`
			PubCert string `json:"pubCert"`
		}
		if json.Unmarshal([]byte(value), &v) != nil || v.SignStr == "" || v.PubCert == "" {
			return malformed(`登录结果 value 应为 {"signStr":…,"pubCert":…}`, `a login value is {"signStr":…,"pubCert":…}`)
		}
		return rs.verifySignature(ctx, v.SignStr, v.PubCert, verify.ExpectText(op.Message), certType, at)
	case TypeSign:
		return rs.verifySignature(ctx, value, "", verify.ExpectText(op.Message), certType, at)
	case TypeRevoke:
		exp, err := verify.ExpectHashHex(strings.TrimSpace(op.Message))
		if err != nil { // a message that is no hex hash was signed as text
			exp = verify.ExpectText(op.Message)
		}
		return rs.verifySignature(ctx, value, "", exp, certType, at)
	case TypeSeal:
		var v sealAnswer
		if json.Unmarshal([]byte(value), &v) != nil || v.SignStr == "" || v.PubCert == "" {
			return malformed(`签章结果 value 应为 {"signStr":…,"signatureCompanyCode":…,"pubCert":…}`,
				`a seal value is {"signStr":…,"signatureCompanyCode":…,"pubCert":…}`)
		}
		o := rs.verifySeal(ctx, op, v, certType, at)
		o.SignatureCompanyCode = v.SignatureCompanyCode
		return o
	case TypeEncrypt:
		r := rs.verifier.CheckCertificate(ctx, []byte(value), at, certType)
		return fromResult(r)
	case TypeDecrypt:
		return &Outcome{Valid: true, Plaintext: op.Value}
	}
	return malformed("未知的操作类型", "unknown operation type")
}

func (rs *Results) verifySignature(ctx context.Context, sig, pubCert string, exp verify.Expected, certType certs.CertType, at time.Time) *Outcome {
	sigBytes, err := certs.DecodeBinary([]byte(sig))
	if err != nil || len(sigBytes) == 0 || len(sigBytes) > verify.MaxSignatureSize {
		return malformed("签名值不是 base64、hex 或 PEM 编码的签名", "the signature is not base64, hex or PEM")
	}
	r := rs.verifier.Verify(ctx, verify.Request{Signature: sigBytes, Cert: []byte(pubCert), Expected: exp, CertType: certType, At: at})
	o := fromResult(r)
	if o.Valid && pubCert != "" {
		o = checkPubCert(o, r, pubCert)
	}
	return o
}

// verifySeal checks the seal flow's final answer against what the
// operation kept: the signature must verify over what the seal control
// stored at status 4 — for the cms shape the signed attributes in toSign
// (signed raw), else the file hash (as hex text, raw bytes or digest,
// PKCS#7 or raw with pubCert) — and be made with the certificate the app
// named in step 6 (caSerialId), whose seals were placed. The relay refuses
// another certificate when the answer is saved; this check also covers
// answers it could not refuse (saved before it kept the hash, or a
// PKCS#7 by someone else beside that certificate's pubCert).
func (rs *Results) verifySeal(ctx context.Context, op store.Operation, a sealAnswer, certType certs.CertType, at time.Time) *Outcome {
	sigBytes, err := certs.DecodeBinary([]byte(a.SignStr))
	if err != nil || len(sigBytes) == 0 || len(sigBytes) > verify.MaxSignatureSize {
		return malformed("签名值不是 base64、hex 或 PEM 编码的签名", "the signature is not base64, hex or PEM")
	}
	pc, err := certs.ParseCertificate([]byte(a.PubCert))
	if err != nil {
		return malformed("pubCert 不是证书", "pubCert is not a certificate")
	}
	if op.SealHash == "" {
		return &Outcome{Reason: ReasonNoSealHash, Message: "签章操作没有记录状态 4 存入的待签名 hash，无法核对签名内容",
			MessageEn: "the seal operation kept no hash from status 4, so what was signed cannot be checked"}
	}
	exp := sealExpected(op.SealHash, op.SealHashExt)
	r := rs.verifier.Verify(ctx, verify.Request{Signature: sigBytes, Cert: []byte(a.PubCert), Expected: exp, CertType: certType, At: at})
	o := fromResult(r)
	if o.Valid {
		o = checkPubCert(o, r, a.PubCert)
	}
	if got := certs.SerialHex(pc.SerialNumber); got != op.SealCASerialID {
		o.Valid = false
		o.Reason = ReasonSealCertMismatch
		o.Message = fmt.Sprintf("签名证书（序列号 %s）不是选择印章时声明的证书（caSerialId %s）", got, op.SealCASerialID)
		o.MessageEn = fmt.Sprintf("signed with certificate %s, not the caSerialId %s the seals were chosen by", got, op.SealCASerialID)
	}
	return o
}

// sealExpected is what the app was asked to sign at status 4: the decoded
// toSign of a cms-shape extMessage, else the hash in value.
func sealExpected(hash, ext string) verify.Expected {
	var e SealHashExt
	if ext != "" && json.Unmarshal([]byte(ext), &e) == nil && strings.EqualFold(e.Shape, "cms") && e.ToSign != "" {
		if b, err := base64.StdEncoding.DecodeString(e.ToSign); err == nil && len(b) > 0 {
			return verify.ExpectBytes(b)
		}
	}
	if exp, err := verify.ExpectHashHex(strings.TrimSpace(hash)); err == nil {
		return exp
	}
	return verify.ExpectText(hash) // a control that stored no hex hash asked for its text to be signed
}

// looksLikeContentInfo tells a PKCS#7 (SEQUENCE starting with an OID) from
// a raw SM2 signature (SEQUENCE of two INTEGERs).
func looksLikeContentInfo(der []byte) bool {
	// Skip the outer tag and length to the first inner tag.
	if len(der) < 2 || der[0] != 0x30 {
		return false
	}
	i := 2
	if der[1]&0x80 != 0 {
		i += int(der[1] & 0x7f)
	}
	return i < len(der) && der[i] == 0x06
}

// checkPubCert: the pubCert saved next to a PKCS#7 must be its signer's.
func checkPubCert(o *Outcome, r *verify.Result, pubCert string) *Outcome {
	pc, err := certs.ParseCertificate([]byte(pubCert))
	if err != nil {
		return malformed("pubCert 不是证书", "pubCert is not a certificate")
	}
	if r.SignerCert != nil && !bytes.Equal(pc.Raw, r.SignerCert.Raw) {
		o.Valid = false
		o.Reason = ReasonCertMismatch
		o.Message = "pubCert 与签名者证书不一致"
		o.MessageEn = "pubCert is not the signer's certificate"
	}
	return o
}

func fromResult(r *verify.Result) *Outcome {
	return &Outcome{Valid: r.Valid, Reason: r.Reason, Message: r.Message, MessageEn: r.MessageEn, Signer: r.Signer, Verification: r}
}

func malformed(zh, en string) *Outcome {
	return &Outcome{Reason: ReasonValueMalformed, Message: zh, MessageEn: en}
}

func (rs *Results) handleGet(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	guid, _ := canonicalUUID(strings.TrimSpace(chi.URLParam(r, "guid")))
	res, err := rs.Result(r.Context(), p, guid)
	if err != nil {
		rs.svc.WriteFailure(w, r, 0, err)
		return
	}
	httpjson.WriteExact(w, http.StatusOK, res)
}

// EncryptRequest is the body of POST /api/v1/operations/{guid}/encrypt.
// With neither Text nor Plaintext, the operation's message is encrypted
// (the guide's 加密 message is "需加密的字符串").
type EncryptRequest struct {
	Text      string `json:"text,omitempty"`      // UTF-8 text
	Plaintext string `json:"plaintext,omitempty"` // base64, for bytes
	// Format: "pkcs7" (default: EnvelopedData), "sm2" (raw C1C3C2),
	// "sm2-c1c2c3", "sm2-asn1" (SM2 certificates only).
	Format string `json:"format,omitempty"`
	// OIDs: "gm" (default, GM/T 0010 for SM2) or "standard".
	OIDs string `json:"oids,omitempty"`
}

// EncryptResult answers POST /api/v1/operations/{guid}/encrypt.
type EncryptResult struct {
	InvokeCode int          `json:"invokeCode"`
	GUID       string       `json:"guid"`
	Envelope   string       `json:"envelope"` // base64
	Format     string       `json:"format"`
	Recipient  *certs.Facts `json:"recipient"`
}

// Encrypt envelopes a plaintext to the certificate the app returned for
// the encrypt operation guid, once it is confirmed and the certificate
// checks out (trusted, valid, of the required type).
func (rs *Results) Encrypt(ctx context.Context, p Principal, guid string, req EncryptRequest) (*EncryptResult, error) {
	op, err := rs.svc.Operation(ctx, p, guid)
	if err != nil {
		return nil, err
	}
	if OpType(op.Type) != TypeEncrypt {
		return nil, &Error{Code: CodeConflict, Message: fmt.Sprintf("该操作是%s操作，不是加密操作", OpType(op.Type))}
	}
	if Stage(op.Stage) != StageConfirmed || op.Value == nil {
		return nil, &Error{Code: CodeConflict, Message: "APP 尚未返回证书（状态须为 2 已确认）"}
	}
	var plain []byte
	switch {
	case req.Text != "" && req.Plaintext != "":
		return nil, &Error{Code: CodeBadRequest, Message: "text 与 plaintext 只能给一个"}
	case req.Plaintext != "":
		if plain, err = base64.StdEncoding.DecodeString(req.Plaintext); err != nil {
			return nil, &Error{Code: CodeBadRequest, Message: "plaintext 须为 base64"}
		}
	case req.Text != "":
		plain = []byte(req.Text)
	default:
		plain = []byte(op.Message)
	}
	if len(plain) > envelope.MaxPlaintext {
		return nil, &Error{Code: CodeTooLarge, Message: "明文过长"}
	}
	check := rs.verifier.CheckCertificate(ctx, []byte(*op.Value), rs.now(), certs.CertType(op.CertType))
	if !check.Valid {
		return nil, &Error{Code: CodeConflict, Message: "APP 返回的证书未通过验证，不能向它加密：" + check.Message}
	}
	cert := check.SignerCert
	if cert == nil {
		return nil, &Error{Code: CodeInternal, Message: "服务内部错误，请稍后重试", Err: errors.New("certificate check without a certificate")}
	}
	out, format, err := envelope.EncryptAs(plain, cert, req.Format, req.OIDs)
	switch {
	case errors.Is(err, envelope.ErrUnknownOIDs):
		return nil, &Error{Code: CodeBadRequest, Message: "oids 须为 gm 或 standard"}
	case errors.Is(err, envelope.ErrUnknownFormat):
		return nil, &Error{Code: CodeBadRequest, Message: "format 须为 pkcs7、sm2、sm2-c1c2c3 或 sm2-asn1"}
	case errors.Is(err, envelope.ErrUnsupported):
		return nil, &Error{Code: CodeBadRequest, Message: "该证书的密钥类型不支持此加密格式"}
	case err != nil:
		return nil, &Error{Code: CodeInternal, Message: "服务内部错误，请稍后重试", Err: fmt.Errorf("encrypt: %w", err)}
	}
	return &EncryptResult{InvokeCode: CodeOK, GUID: op.GUID, Envelope: base64.StdEncoding.EncodeToString(out), Format: format, Recipient: check.Signer}, nil
}

func (rs *Results) handleEncrypt(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	guid, _ := canonicalUUID(strings.TrimSpace(chi.URLParam(r, "guid")))
	req, err := rs.decodeEncrypt(w, r)
	if err != nil {
		rs.svc.WriteFailure(w, r, 0, err)
		return
	}
	res, err := rs.Encrypt(r.Context(), p, guid, req)
	if err != nil {
		rs.svc.WriteFailure(w, r, 0, err)
		return
	}
	httpjson.WriteExact(w, http.StatusOK, res)
}

// decodeEncrypt reads the JSON body (an empty body asks for the message).
func (rs *Results) decodeEncrypt(w http.ResponseWriter, r *http.Request) (EncryptRequest, error) {
	var req EncryptRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rs.bodyMax))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return req, &Error{Code: CodeTooLarge, Message: "请求体过大"}
	}
	if err != nil {
		return req, &Error{Code: CodeBadRequest, Message: "读取请求体失败"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, &Error{Code: CodeBadRequest, Message: "请求体须为 JSON 对象 {\"text\"|\"plaintext\",\"format\",\"oids\"}"}
	}
	if dec.More() {
		return req, &Error{Code: CodeBadRequest, Message: "请求体只能有一个 JSON 对象"}
	}
	return req, nil
}
