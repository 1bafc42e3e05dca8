package phone

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/relay/client"
)

// The guide's operation types (数据字典, 操作类型).
const (
	TypeSign    = 1 // 签名
	TypeEncrypt = 2 // 加密
	TypeDecrypt = 3 // 解密
	TypeLogin   = 4 // 登录
	TypeSeal    = 5 // 签章
	TypeRevoke  = 6 // 撤章
)

// The guide's statuses (数据字典, 操作状态) the app meets.
const (
	StatusPending   = 0 // 未处理
	StatusScanned   = 1 // 已扫码
	StatusConfirmed = 2 // 已确认
	StatusCancelled = 3 // 已取消
	StatusSealHash  = 4 // 二次放入签章 hash
	StatusSealCert  = 5 // 签章控件获取证书信息成功
)

// TypeName is the guide's name of an operation type.
func TypeName(t int) string {
	switch t {
	case TypeSign:
		return "签名 sign"
	case TypeEncrypt:
		return "加密 encrypt"
	case TypeDecrypt:
		return "解密 decrypt"
	case TypeLogin:
		return "登录 login"
	case TypeSeal:
		return "签章 seal"
	case TypeRevoke:
		return "撤章 revoke"
	}
	return fmt.Sprintf("type %d", t)
}

// CertTypeName is the guide's name of a certType.
func CertTypeName(t int) string {
	switch t {
	case 0:
		return "任何证书 any"
	case 1:
		return "机构证书 organisation"
	case 2:
		return "个人证书 person"
	}
	return fmt.Sprintf("certType %d", t)
}

// OIDStyle picks the object identifiers of the PKCS#7 the app makes with an
// SM2 key: GM/T 0010's (what most Chinese apps send) or the standard PKCS#7
// ones. RSA signatures always use the standard ones.
type OIDStyle string

// The OID styles.
const (
	OIDsGM       OIDStyle = "gm"
	OIDsStandard OIDStyle = "standard"
)

// ParseOIDStyle reads "gm" or "standard" ("" is gm).
func ParseOIDStyle(s string) (OIDStyle, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "gm", "gmt", "gm/t":
		return OIDsGM, nil
	case "standard", "std", "pkcs7":
		return OIDsStandard, nil
	}
	return "", fmt.Errorf("phone: OID style %q: want gm or standard", s)
}

// DefaultSealCompanyCode is the signatureCompanyCode the app names in the
// seal flow unless told otherwise: the dev seal company of `scansign seal`.
const DefaultSealCompanyCode = "dev"

// DefaultPollInterval is how often the app asks for the seal hash while it
// waits for the seal control (the guide suggests 3–5 s to trading systems;
// an app waiting on a person's screen asks more often).
const DefaultPollInterval = time.Second

// Options are what the user (or a test) chooses besides the QR code.
type Options struct {
	// Cancel declines the operation: the app saves status 3 (已取消)
	// instead of answering.
	Cancel bool
	// OIDStyle of the PKCS#7 signatures (default gm).
	OIDStyle OIDStyle
	// Raw makes a raw SM2/RSA signature instead of a PKCS#7 where the
	// value carries the certificate next to it (login and seal: signStr
	// with pubCert). Sign and revoke values are the signature alone, so
	// they stay PKCS#7 (the step log says so).
	Raw bool
	// SealCompanyCode is the signatureCompanyCode saved in the seal flow
	// (default DefaultSealCompanyCode).
	SealCompanyCode string
	// PollInterval is how often the seal flow asks for status 4 (default
	// DefaultPollInterval).
	PollInterval time.Duration

	// Misbehaviour, for tests of the relay and the trading system.
	// Tamper flips one bit of every signature before saving it: a broken
	// app or a forger. IgnoreCertType answers even when the certificate
	// does not fit the operation's certType. ClaimCASerialID names another
	// certificate's serial as caSerialId in the seal flow (choosing, say, a
	// company's seals) while still signing with the app's own key.
	Tamper          bool
	IgnoreCertType  bool
	ClaimCASerialID string
}

// Step is one thing the app did, as a person would follow it.
type Step struct {
	Name   string `json:"step"`   // grantToken, getInitMessage, checkCert, sign, save, …
	Detail string `json:"detail"` // one readable line
}

// Outcome is what the app did with one QR code.
type Outcome struct {
	GUID     string `json:"guid"`
	RelayURL string `json:"url"`
	City     string `json:"city,omitempty"`

	Type     int     `json:"type"`
	TypeName string  `json:"typeName"`
	Title    string  `json:"title"`
	Message  string  `json:"message"`
	CertType int     `json:"certType"`
	InitExt  *string `json:"initExtMessage,omitempty"`

	// Certificate is the facts of the certificate the app used.
	Certificate certs.Facts `json:"certificate"`

	// Status is the last status the app saved (2 answered, 3 declined; 0
	// when it saved nothing); Value and ExtMessage what it saved with it.
	Status     int     `json:"status"`
	Value      *string `json:"value,omitempty"`
	ExtMessage *string `json:"extMessage,omitempty"`
	// SealHash is the hash the seal control put in at status 4 (seal flow).
	SealHash string `json:"sealHash,omitempty"`
	// Plaintext is what a decrypt operation opened to.
	Plaintext *string `json:"plaintext,omitempty"`

	Steps []Step `json:"steps"`
}

// Errors the app reports besides the relay's refusals (*client.Error).
var (
	// ErrCertType: the certificate is not of the kind the operation asks
	// for (certType 1 organisation, 2 person). Nothing is saved, so the
	// user may scan again with the right certificate.
	ErrCertType = errors.New("phone: the certificate does not fit the operation's certType")
	// ErrUnknownType: the relay handed out an operation type the guide
	// does not define; the app declines to guess.
	ErrUnknownType = errors.New("phone: unknown operation type")
	// ErrBadOperation: the operation's message cannot be what its type
	// says (e.g. a decrypt message that is no ciphertext for this key).
	ErrBadOperation = errors.New("phone: the operation cannot be carried out")
	// ErrCancelled: the operation was cancelled while the app waited.
	ErrCancelled = errors.New("phone: the operation was cancelled")
)

// App is one CA mobile app holding one certificate.
type App struct {
	// Account and Secret are the app's relay account (role app).
	Account, Secret string
	// Identity is the key, certificate and chain the app signs with.
	Identity *certs.Identity
	// HTTP is the client used for the relay (nil: http.DefaultClient).
	HTTP *http.Client
	// RelayURL, when set, is used instead of the QR payload's url (the
	// address a QR code carries may not be reachable from where the app
	// runs, e.g. behind a proxy or in a container).
	RelayURL string
	// Classifier decides person or organisation for the certType check
	// (nil: the default rules of package certs).
	Classifier *certs.Classifier
	Options    Options
	// Report, if set, is called with each step as it happens.
	Report func(Step)
	// Now is the clock for signing times (default time.Now).
	Now func() time.Time
}

// ParsePayload reads a scanned QR code's text (the guide's JSON).
func ParsePayload(text string) (client.Payload, error) {
	if len(text) > 4096 {
		return client.Payload{}, errors.New("phone: QR payload longer than 4096 characters")
	}
	return client.ParsePayload(strings.TrimSpace(text))
}

// Scan reads the QR code's text and carries out its operation.
func (a *App) Scan(ctx context.Context, qrText string) (*Outcome, error) {
	p, err := ParsePayload(qrText)
	if err != nil {
		return nil, err
	}
	return a.Handle(ctx, p)
}

// run is one scan in progress.
type run struct {
	a     *App
	c     *client.Client
	out   *Outcome
	token string
}

func (r *run) step(name, format string, args ...any) {
	s := Step{Name: name, Detail: fmt.Sprintf(format, args...)}
	r.out.Steps = append(r.out.Steps, s)
	if r.a.Report != nil {
		r.a.Report(s)
	}
}

// Handle carries out the operation of a scanned QR payload. It returns the
// outcome so far with the error, if any: a *client.Error when the relay
// refused a call (expired, finished, not allowed), ErrCertType,
// ErrBadOperation or ErrCancelled, or a transport error.
func (a *App) Handle(ctx context.Context, p client.Payload) (*Outcome, error) {
	if a.Identity == nil || a.Identity.Signer == nil || a.Identity.Certificate == nil {
		return nil, errors.New("phone: the app has no key and certificate")
	}
	base := p.URL
	if a.RelayURL != "" {
		base = a.RelayURL
	}
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("phone: relay address %q is not an http(s) URL", base)
	}
	r := &run{a: a, c: client.New(base, a.HTTP), out: &Outcome{
		GUID: p.GUID, RelayURL: base, City: p.City,
		Certificate: certs.FactsOf(a.Identity.Certificate, a.Classifier),
	}}
	err := r.do(ctx)
	return r.out, err
}

func (r *run) do(ctx context.Context) error {
	out, a := r.out, r.a
	where := out.RelayURL
	if out.City != "" {
		where += " (city " + out.City + ")"
	}
	r.step("scan", "scanned operation %s at %s", out.GUID, where)

	tok, err := r.c.GrantToken(ctx, a.Account, a.Secret, out.GUID)
	if err != nil {
		return r.relayErr("grantToken", err)
	}
	r.token = tok
	r.step("grantToken", "account %s got a token bound to the operation", a.Account)

	init, err := r.c.GetInitMessage(ctx, tok, out.GUID)
	if err != nil {
		return r.relayErr("getInitMessage", err)
	}
	out.Type, out.Title, out.Message, out.CertType, out.InitExt = int(init.Type), init.Title, init.Message, int(init.CertType), init.ExtMessage
	out.TypeName = TypeName(out.Type)
	r.step("getInitMessage", "%s 「%s」, certType %s, message %s (status is now 1 已扫码)",
		out.TypeName, out.Title, CertTypeName(out.CertType), short(out.Message, 60))

	if out.Type < TypeSign || out.Type > TypeRevoke {
		return fmt.Errorf("%w %d", ErrUnknownType, out.Type)
	}
	if a.Options.Cancel {
		if err := r.save(ctx, StatusCancelled, nil, nil); err != nil {
			return err
		}
		r.step("cancel", "the user declined: status 3 已取消 saved")
		return nil
	}
	if err := r.checkCertType(); err != nil {
		return err
	}

	switch out.Type {
	case TypeLogin:
		return r.login(ctx)
	case TypeSign:
		return r.signMessage(ctx, "sign")
	case TypeRevoke:
		return r.signMessage(ctx, "revoke")
	case TypeEncrypt:
		return r.encrypt(ctx)
	case TypeDecrypt:
		return r.decrypt(ctx)
	case TypeSeal:
		return r.seal(ctx)
	}
	return nil
}

// relayErr reports a refusal as a step and returns it.
func (r *run) relayErr(call string, err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		r.step(call, "refused by the relay: invokeCode %d %s", ce.InvokeCode, ce.FailMessage)
		return err
	}
	return fmt.Errorf("phone: %s: %w", call, err)
}

func (r *run) checkCertType() error {
	out, a := r.out, r.a
	have := int(out.Certificate.CertType)
	if out.CertType == 0 || out.CertType == have {
		r.step("checkCert", "certificate %s (serial %s) is a %s: fits certType %d",
			out.Certificate.SubjectFields.CN, out.Certificate.Serial, CertTypeName(have), out.CertType)
		return nil
	}
	if a.Options.IgnoreCertType {
		r.step("checkCert", "MISBEHAVING: certificate is a %s but the operation wants %s; answering anyway",
			CertTypeName(have), CertTypeName(out.CertType))
		return nil
	}
	r.step("checkCert", "certificate is a %s but the operation wants %s: nothing saved (scan again with the right certificate)",
		CertTypeName(have), CertTypeName(out.CertType))
	return fmt.Errorf("%w: it is a %s, the operation wants %s", ErrCertType, CertTypeName(have), CertTypeName(out.CertType))
}

// save calls saveCaMessageResult and records what was saved.
func (r *run) save(ctx context.Context, status int, value, ext *string) error {
	err := r.c.SaveCaMessageResult(ctx, r.token, client.SaveRequest{GUID: r.out.GUID, Status: status, Value: value, ExtMessage: ext})
	if err != nil {
		return r.relayErr("saveCaMessageResult", err)
	}
	r.out.Status, r.out.Value, r.out.ExtMessage = status, value, ext
	return nil
}

func (r *run) login(ctx context.Context) error {
	sig, how, err := r.a.signature([]byte(r.out.Message), r.a.Options.Raw)
	if err != nil {
		return err
	}
	r.step("sign", "signed the login nonce %s: %s", short(r.out.Message, 40), how)
	v, err := marshalValue(struct {
		SignStr string `json:"signStr"`
		PubCert string `json:"pubCert"`
	}{base64.StdEncoding.EncodeToString(sig), r.a.pubCert()})
	if err != nil {
		return err
	}
	if err := r.save(ctx, StatusConfirmed, &v, nil); err != nil {
		return err
	}
	r.step("save", `saved status 2 已确认 with value {"signStr","pubCert"} (%d bytes)`, len(v))
	return nil
}

// signMessage is the sign (签名) and revoke (撤章) flows: a PKCS#7 with the
// message attached; the value is the signature alone.
func (r *run) signMessage(ctx context.Context, what string) error {
	if r.a.Options.Raw {
		r.step("sign", "raw signature not possible here: the value carries no certificate, so a PKCS#7 is made")
	}
	sig, how, err := r.a.signature([]byte(r.out.Message), false)
	if err != nil {
		return err
	}
	if what == "revoke" {
		r.step("sign", "signed the file hash %s to take the seal back: %s", short(r.out.Message, 40), how)
	} else {
		r.step("sign", "signed the message %q: %s", short(r.out.Message, 60), how)
	}
	v := base64.StdEncoding.EncodeToString(sig)
	if err := r.save(ctx, StatusConfirmed, &v, nil); err != nil {
		return err
	}
	r.step("save", "saved status 2 已确认 with the signature as value (%d bytes)", len(v))
	return nil
}

func (r *run) encrypt(ctx context.Context) error {
	v := r.a.pubCert()
	if err := r.save(ctx, StatusConfirmed, &v, nil); err != nil {
		return err
	}
	r.step("save", "saved status 2 已确认 with the certificate (base64 DER) for the trading system to encrypt %s to",
		short(r.out.Message, 40))
	return nil
}

func (r *run) decrypt(ctx context.Context) error {
	plain, how, err := r.a.open(r.out.Message)
	if err != nil {
		r.step("decrypt", "cannot decrypt the message: %v", err)
		return fmt.Errorf("%w: %v", ErrBadOperation, err)
	}
	var v string
	if utf8.Valid(plain) {
		v = string(plain)
		r.step("decrypt", "opened %s: %q", how, short(v, 60))
	} else {
		v = base64.StdEncoding.EncodeToString(plain)
		r.step("decrypt", "opened %s: %d bytes of binary plaintext, saved as base64", how, len(plain))
	}
	r.out.Plaintext = &v
	if err := r.save(ctx, StatusConfirmed, &v, nil); err != nil {
		return err
	}
	r.step("save", "saved status 2 已确认 with the plaintext as value")
	return nil
}

// seal is the guide's 三.5 from the app's side.
func (r *run) seal(ctx context.Context) error {
	a, out := r.a, r.out
	code := a.Options.SealCompanyCode
	if code == "" {
		code = DefaultSealCompanyCode
	}
	serial := certs.SerialHex(a.Identity.Certificate.SerialNumber)
	if a.Options.ClaimCASerialID != "" {
		r.step("checkCert", "MISBEHAVING: naming certificate %s as caSerialId, signing with %s", a.Options.ClaimCASerialID, serial)
		serial = a.Options.ClaimCASerialID
	}
	v1, err := marshalValue(struct {
		Code string `json:"signatureCompanyCode"`
	}{code})
	if err != nil {
		return err
	}
	e1, err := marshalValue(struct {
		Serial string `json:"caSerialId"`
	}{serial})
	if err != nil {
		return err
	}
	if err := r.save(ctx, StatusConfirmed, &v1, &e1); err != nil {
		return err
	}
	r.step("save", "saved status 2 with seal company %q and certificate serial %s; waiting for the seal control to put the PDF hash in (status 4)", code, serial)

	res, err := r.waitSealHash(ctx)
	if err != nil {
		return err
	}
	h := parseSealHash(res)
	out.SealHash = h.hash
	var sig []byte
	var how string
	raw := a.Options.Raw
	content := []byte(h.hash)
	if h.toSign != nil {
		// The control prepared a standard detached CMS: the app signs the
		// signed attributes with its raw key and the relay's PDF side
		// assembles the CMS (pdfsign ShapeCMS).
		content, raw = h.toSign, true
	}
	if sig, how, err = a.signature(content, raw); err != nil {
		return err
	}
	if h.toSign != nil {
		r.step("sign", "signed the prepared signed attributes for PDF hash %s: %s", short(h.hash, 40), how)
	} else {
		r.step("sign", "signed the PDF hash %s: %s", short(h.hash, 40), how)
	}
	v2, err := marshalValue(struct {
		SignStr string `json:"signStr"`
		Code    string `json:"signatureCompanyCode"`
		PubCert string `json:"pubCert"`
	}{base64.StdEncoding.EncodeToString(sig), code, a.pubCert()})
	if err != nil {
		return err
	}
	if err := r.save(ctx, StatusConfirmed, &v2, nil); err != nil {
		return err
	}
	r.step("save", `saved status 2 已确认 with value {"signStr","signatureCompanyCode","pubCert"} (%d bytes)`, len(v2))
	return nil
}

// waitSealHash polls getCaMessageResult on the app's own token until the
// seal control has stored the hash (status 4).
func (r *run) waitSealHash(ctx context.Context) (client.Result, error) {
	every := r.a.Options.PollInterval
	if every <= 0 {
		every = DefaultPollInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := -1
	for {
		res, err := r.c.GetCaMessageResult(ctx, r.token, r.out.GUID)
		if err != nil {
			return res, r.relayErr("getCaMessageResult", err)
		}
		st := int(res.Status)
		switch {
		case st == StatusSealHash && res.Value != nil && *res.Value != "":
			r.step("getCaMessageResult", "status 4: the seal control put the PDF hash in")
			return res, nil
		case st == StatusCancelled:
			r.step("getCaMessageResult", "status 3: the operation was cancelled")
			return res, ErrCancelled
		case st == StatusSealCert && last != st:
			r.step("getCaMessageResult", "status 5: the seal control fetched the seals; waiting for the hash")
		}
		last = st
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("phone: waiting for the seal hash: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// sealHash is what the seal control stored at status 4: the hash (value,
// as the guide has it) and, when the control prepared a standard detached
// CMS (pdfsign's cms shape), the signed attributes to sign in extMessage
// {"shape":"cms","toSign":base64,…}.
type sealHash struct {
	hash   string
	toSign []byte
}

func parseSealHash(res client.Result) sealHash {
	h := sealHash{hash: strings.TrimSpace(*res.Value)}
	if res.ExtMessage == nil {
		return h
	}
	var ext struct {
		Shape  string `json:"shape"`
		ToSign string `json:"toSign"`
	}
	if json.Unmarshal([]byte(*res.ExtMessage), &ext) != nil || !strings.EqualFold(ext.Shape, "cms") || ext.ToSign == "" {
		return h
	}
	if b, err := base64.StdEncoding.DecodeString(ext.ToSign); err == nil && len(b) > 0 {
		h.toSign = b
	}
	return h
}

// pubCert is the certificate as the guide's pubCert: base64 of the DER.
func (a *App) pubCert() string {
	return base64.StdEncoding.EncodeToString(a.Identity.Certificate.Raw)
}

func marshalValue(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("phone: encode value: %w", err)
	}
	return string(b), nil
}

// short shortens s for a step line.
func short(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n]) + "…"
}
