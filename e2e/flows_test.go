package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/phone"
	"github.com/scansign/scansign/relay/client"
	"github.com/scansign/scansign/verify/envelope"
)

// flow is one operation type as a trading system starts it.
type flow struct {
	name    string
	typ     int
	signs   bool // the answer is a signature the results API verifies
	message func(e *env, leaf string) string
}

const decryptSecret = "开标密钥 opening key 2026-001: 7f3a9c"

func flows() []flow {
	return []flow{
		{"login", phone.TypeLogin, true, func(*env, string) string { return "f7c54891-adad-4f32-9994-83d70a7204a2" }},
		{"sign", phone.TypeSign, true, func(*env, string) string { return "投标文件摘要：项目 2026-001，报价 1,234,567.00 元" }},
		{"encrypt", phone.TypeEncrypt, false, func(*env, string) string { return "需加密的字符串 bid price 1234567" }},
		{"decrypt", phone.TypeDecrypt, false, func(e *env, leaf string) string {
			env, err := envelope.Encrypt([]byte(decryptSecret), e.identity(leaf).Certificate, envelope.Options{})
			if err != nil {
				e.t.Fatal(err)
			}
			return base64.StdEncoding.EncodeToString(env)
		}},
		{"seal", phone.TypeSeal, true, func(*env, string) string { return "f7c54891-adad-4f32-9994-83d70a7204a2" }},
		{"revoke", phone.TypeRevoke, true, func(*env, string) string { return fileHash("the sealed PDF's revision") }},
	}
}

// ran is what one flow left behind.
type ran struct {
	sysTok, guid, message string
	// appTok is a second app token for the operation, granted while it was
	// still open (after the end no app gets one): what an app that keeps
	// its token, or an intruder who took one early, holds afterwards.
	appTok string
	out    *phone.Outcome
	err    error
}

// run is one whole flow: the trading system starts it, the app answers
// and, for a seal, the seal control does its part.
func (e *env) run(f flow, leaf string, certType int, opts phone.Options) ran {
	e.t.Helper()
	msg := f.message(e, leaf)
	tok, guid, qr := e.start(f.typ, msg, certType)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	appTok, err := e.c.GrantToken(ctx, appName, appSecret, guid)
	if err != nil {
		e.t.Fatalf("app token while the operation is open: %v", err)
	}
	ctrl := make(chan error, 1)
	if f.typ == phone.TypeSeal {
		go func() { ctrl <- e.sealControl(ctx, tok, guid, fileHash(guid), nil) }()
	} else {
		ctrl <- nil
	}
	out, err := e.app(leaf, opts).Scan(ctx, qr)
	if err != nil {
		cancel() // a seal control still waiting gives up
	}
	if cerr := <-ctrl; err == nil && cerr != nil {
		e.t.Fatalf("seal control: %v", cerr)
	}
	return ran{sysTok: tok, guid: guid, appTok: appTok, message: msg, out: out, err: err}
}

type variant struct {
	name     string
	leaf     string
	certType int
	opts     phone.Options
}

func successVariants(f flow) []variant {
	vs := []variant{
		{"sm2-gm", "sm2-person", 0, phone.Options{}},
		{"sm2-standard", "sm2-person", 2, phone.Options{OIDStyle: phone.OIDsStandard}},
		{"rsa", "rsa-person", 0, phone.Options{}},
		{"sm2-org", "sm2-org", 1, phone.Options{}},
	}
	if f.typ == phone.TypeLogin || f.typ == phone.TypeSeal {
		vs = append(vs,
			variant{"sm2-raw", "sm2-person", 0, phone.Options{Raw: true}},
			variant{"rsa-raw", "rsa-org", 1, phone.Options{Raw: true}})
	}
	return vs
}

func TestFlowsSucceed(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, f := range flows() {
			for _, v := range successVariants(f) {
				t.Run(f.name+"/"+v.name, func(t *testing.T) {
					e.t = t
					r := e.run(f, v.leaf, v.certType, v.opts)
					if r.err != nil {
						t.Fatalf("app: %v\nsteps: %v", r.err, r.out.Steps)
					}
					checkSuccess(t, e, f, v, r)
				})
			}
		}
	})
}

// checkSuccess checks what the trading system sees after a good answer:
// status 2 with the app's value on getCaMessageResult, and a valid outcome
// naming the app's certificate on the results API.
func checkSuccess(t *testing.T, e *env, f flow, v variant, r ran) {
	t.Helper()
	if r.out.Status != phone.StatusConfirmed || r.out.Type != f.typ || r.out.Message != r.message {
		t.Fatalf("app outcome: status %d type %d message %q", r.out.Status, r.out.Type, r.out.Message)
	}
	polled := e.poll(r.sysTok, r.guid)
	if polled.Status != phone.StatusConfirmed || polled.Value == nil || *polled.Value != *r.out.Value {
		t.Fatalf("getCaMessageResult: status %d, value %v; the app saved %q", polled.Status, polled.Value, *r.out.Value)
	}
	checkValueShape(t, f.typ, *polled.Value, v)

	res := e.result(r.sysTok, r.guid)
	if !res.Final || res.Status != phone.StatusConfirmed || res.Outcome == nil {
		t.Fatalf("results: final %v status %d outcome %v", res.Final, res.Status, res.Outcome)
	}
	o := res.Outcome
	if !o.Valid || o.Reason != "" {
		t.Fatalf("results: outcome invalid: %s %s (%s)", o.Reason, o.MessageEn, verificationDetail(o))
	}
	switch f.typ {
	case phone.TypeDecrypt:
		if o.Plaintext == nil || *o.Plaintext != decryptSecret {
			t.Fatalf("results: plaintext %v, want %q", o.Plaintext, decryptSecret)
		}
		return
	case phone.TypeEncrypt:
		checkEncrypt(t, e, r, v.leaf)
	}
	if o.Signer == nil || o.Signer.Serial != e.serial(v.leaf) || int(o.Signer.CertType) != wantCertType(v.leaf) {
		t.Fatalf("results: signer %+v, want serial %s", o.Signer, e.serial(v.leaf))
	}
	switch f.typ {
	case phone.TypeLogin, phone.TypeSign, phone.TypeRevoke:
		if !o.Verification.ContentChecked {
			t.Fatal("results: the content was not checked against the message")
		}
	case phone.TypeSeal:
		if o.SignatureCompanyCode != phone.DefaultSealCompanyCode {
			t.Fatalf("results: seal company %q", o.SignatureCompanyCode)
		}
	}
}

func verificationDetail(o *client.Outcome) string {
	if o.Verification == nil {
		return "no verification"
	}
	return o.Verification.Detail
}

func wantCertType(leaf string) int {
	if strings.Contains(leaf, "org") {
		return 1
	}
	return 2
}

// checkValueShape checks value is shaped as the guide's 参数定义说明 say.
func checkValueShape(t *testing.T, typ int, value string, v variant) {
	t.Helper()
	var m map[string]string
	switch typ {
	case phone.TypeLogin:
		if err := json.Unmarshal([]byte(value), &m); err != nil || len(m) != 2 || m["signStr"] == "" || m["pubCert"] == "" {
			t.Fatalf("login value %q is not {signStr, pubCert}", value)
		}
	case phone.TypeSeal:
		if err := json.Unmarshal([]byte(value), &m); err != nil || len(m) != 3 || m["signStr"] == "" || m["pubCert"] == "" || m["signatureCompanyCode"] == "" {
			t.Fatalf("seal value %q is not {signStr, signatureCompanyCode, pubCert}", value)
		}
	case phone.TypeSign, phone.TypeRevoke, phone.TypeEncrypt:
		if _, err := base64.StdEncoding.DecodeString(value); err != nil {
			t.Fatalf("value is not base64: %q", value)
		}
	}
	if m != nil {
		sig, err := base64.StdEncoding.DecodeString(m["signStr"])
		if err != nil {
			t.Fatal(err)
		}
		// A PKCS#7 starts SEQUENCE, OID; a raw SM2 signature SEQUENCE,
		// INTEGER; a raw RSA one is a bare 256-byte block. (Looking for
		// the OID tag anywhere in the first bytes misread 1 raw SM2
		// signature in ~100, whose r began with 0x06.)
		isP7 := startsWithOID(sig)
		if isP7 == v.opts.Raw {
			t.Fatalf("signStr PKCS#7 = %v, raw option %v", isP7, v.opts.Raw)
		}
	}
}

// checkEncrypt: the trading system has the app's certificate envelope its
// message; the app's key opens it.
func checkEncrypt(t *testing.T, e *env, r ran, leaf string) {
	t.Helper()
	ctx := context.Background()
	id := e.identity(leaf)
	for _, req := range []client.EncryptRequest{{}, {Text: "另一段文字", OIDs: "standard"}} {
		res, err := e.c.Encrypt(ctx, r.sysTok, r.guid, req)
		if err != nil {
			t.Fatalf("encrypt %+v: %v", req, err)
		}
		want := req.Text
		if want == "" {
			want = r.message
		}
		der, _ := base64.StdEncoding.DecodeString(res.Envelope)
		plain, err := envelope.Decrypt(der, id.Signer, id.Certificate)
		if err != nil || string(plain) != want {
			t.Fatalf("decrypt the envelope: %q, %v; want %q", plain, err, want)
		}
		if res.Recipient == nil || res.Recipient.Serial != e.serial(leaf) {
			t.Fatalf("recipient %+v", res.Recipient)
		}
	}
}

func TestFlowsCancel(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, f := range flows() {
			t.Run(f.name, func(t *testing.T) {
				e.t = t
				r := e.run(f, "sm2-person", 0, phone.Options{Cancel: true})
				if r.err != nil {
					t.Fatalf("app: %v", r.err)
				}
				if got := e.poll(r.sysTok, r.guid); got.Status != phone.StatusCancelled {
					t.Fatalf("status %d, want 3", got.Status)
				}
				res := e.result(r.sysTok, r.guid)
				if !res.Final || res.Status != phone.StatusCancelled || res.Outcome != nil {
					t.Fatalf("results: %+v", res)
				}
				// Cancelled is final: no app gets a token for it any more,
				// and one taken before cannot answer after all.
				_, err := e.c.GrantToken(context.Background(), appName, appSecret, r.guid)
				wantCode(t, err, 409)
				err = e.c.SaveCaMessageResult(context.Background(), r.appTok, client.SaveRequest{GUID: r.guid, Status: phone.StatusConfirmed, Value: ptr("x")})
				wantCode(t, err, 409)
			})
		}
	})
}

func TestFlowsExpire(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, f := range flows() {
			t.Run(f.name, func(t *testing.T) {
				e.t = t
				msg := f.message(e, "sm2-person")
				tok, guid, qr := e.start(f.typ, msg, 0)
				e.clock.Advance(5*time.Minute + time.Second) // the QR code's five minutes are up
				out, err := e.app("sm2-person", phone.Options{}).Scan(context.Background(), qr)
				wantCode(t, err, 410)
				if out.Status != 0 || out.Value != nil {
					t.Fatalf("the app saved something: %+v", out)
				}
				_, err = e.c.GetCaMessageResult(context.Background(), tok, guid)
				wantCode(t, err, 410)
				_, err = e.c.OperationResult(context.Background(), tok, guid)
				wantCode(t, err, 410)
			})
		}
		// Scanned in time, answered too late: the answer is refused and
		// nothing changes.
		t.Run("answer after expiry", func(t *testing.T) {
			e.t = t
			tok, guid, _ := e.start(phone.TypeSign, "late", 0)
			appTok, err := e.c.GrantToken(context.Background(), appName, appSecret, guid)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.c.GetInitMessage(context.Background(), appTok, guid); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(5 * time.Minute)
			err = e.c.SaveCaMessageResult(context.Background(), appTok, client.SaveRequest{GUID: guid, Status: 2, Value: ptr("sig")})
			wantCode(t, err, 410)
			_, err = e.c.GetCaMessageResult(context.Background(), tok, guid)
			wantCode(t, err, 410)
		})
	})
}

func TestFlowsWrongCertType(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, f := range flows() {
			t.Run(f.name, func(t *testing.T) {
				e.t = t
				// The operation wants an organisation; the app holds a
				// person's certificate: it refuses and saves nothing.
				r := e.run(f, "sm2-person", 1, phone.Options{})
				if !errors.Is(r.err, phone.ErrCertType) {
					t.Fatalf("app: %v, want ErrCertType", r.err)
				}
				if got := e.poll(r.sysTok, r.guid); got.Status != phone.StatusScanned || got.Value != nil {
					t.Fatalf("status %d value %v, want 1 and nothing saved", got.Status, got.Value)
				}
				if f.typ == phone.TypeDecrypt {
					return // a plaintext carries no certificate to check
				}
				// A misbehaving app answers anyway: the trading system
				// hears it is the wrong kind of certificate, never success.
				r = e.run(f, "rsa-person", 1, phone.Options{IgnoreCertType: true})
				if r.err != nil {
					t.Fatalf("misbehaving app: %v", r.err)
				}
				o := e.result(r.sysTok, r.guid).Outcome
				if o == nil || o.Valid || o.Reason != "wrong-cert-type" {
					t.Fatalf("results: %+v, want invalid wrong-cert-type", o)
				}
				if f.typ == phone.TypeEncrypt {
					_, err := e.c.Encrypt(context.Background(), r.sysTok, r.guid, client.EncryptRequest{})
					wantCode(t, err, 409)
				}
			})
		}
	})
}

func TestFlowsTamperedSignature(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, f := range flows() {
			if !f.signs {
				continue
			}
			for _, v := range []variant{
				{"sm2", "sm2-person", 0, phone.Options{Tamper: true}},
				{"rsa", "rsa-person", 0, phone.Options{Tamper: true, OIDStyle: phone.OIDsStandard}},
			} {
				t.Run(f.name+"/"+v.name, func(t *testing.T) {
					e.t = t
					r := e.run(f, v.leaf, v.certType, v.opts)
					if r.err != nil {
						t.Fatalf("app: %v", r.err)
					}
					// The relay stores what the app saved (it is a relay);
					// the results API must never call it good.
					if got := e.poll(r.sysTok, r.guid); got.Status != phone.StatusConfirmed {
						t.Fatalf("status %d", got.Status)
					}
					o := e.result(r.sysTok, r.guid).Outcome
					if o == nil || o.Valid || o.Reason != "bad-signature" || o.Message == "" {
						t.Fatalf("results: %+v, want invalid bad-signature with a message", o)
					}
				})
			}
		}
		t.Run("login/raw", func(t *testing.T) {
			e.t = t
			r := e.run(flows()[0], "sm2-person", 0, phone.Options{Tamper: true, Raw: true})
			if r.err != nil {
				t.Fatal(r.err)
			}
			if o := e.result(r.sysTok, r.guid).Outcome; o == nil || o.Valid || o.Reason != "bad-signature" {
				t.Fatalf("results: %+v", o)
			}
		})
	})
}

// TestSealWithAnotherCertificatesSeals: an app names a company's
// certificate in step 6 (so the seal control gets and places the company's
// 公章) but signs with a person's own key. The relay refuses the answer
// (412), the operation stays at status 4 with the control's hash, and the
// results API has no outcome to call good.
func TestSealWithAnotherCertificatesSeals(t *testing.T) {
	seal := flows()[4]
	if seal.typ != phone.TypeSeal {
		t.Fatal("flows()[4] is not the seal flow")
	}
	forEachStore(t, func(t *testing.T, e *env) {
		company, _ := e.pki.Leaf("rsa-org")
		for _, opts := range []phone.Options{{ClaimCASerialID: company.Serial}, {ClaimCASerialID: company.Serial, Raw: true}} {
			t.Run(fmt.Sprintf("raw=%v", opts.Raw), func(t *testing.T) {
				e.t = t
				r := e.run(seal, "sm2-person", 0, opts)
				wantCode(t, r.err, 412)
				got := e.poll(r.sysTok, r.guid)
				if got.Status != phone.StatusSealHash || got.Value == nil || *got.Value != fileHash(r.guid) {
					t.Fatalf("after the refusal: status %d, value %v", got.Status, got.Value)
				}
				if res := e.result(r.sysTok, r.guid); res.Final || res.Outcome != nil {
					t.Fatalf("results: %+v", res)
				}
			})
		}
	})
}

func TestTokenOfAnotherOperation(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for _, f := range flows() {
			t.Run(f.name, func(t *testing.T) {
				e.t = t
				sysA, guidA, _ := e.start(f.typ, f.message(e, "sm2-person"), 0)
				sysB, guidB, _ := e.start(f.typ, f.message(e, "sm2-person"), 0)
				appA, err := e.c.GrantToken(ctx, appName, appSecret, guidA)
				if err != nil {
					t.Fatal(err)
				}
				_, err = e.c.GetInitMessage(ctx, appA, guidB)
				wantCode(t, err, 401)
				err = e.c.SaveCaMessageResult(ctx, appA, client.SaveRequest{GUID: guidB, Status: 2, Value: ptr("x")})
				wantCode(t, err, 401)
				_, err = e.c.GetCaMessageResult(ctx, sysA, guidB)
				wantCode(t, err, 401)
				_, err = e.c.OperationResult(ctx, sysA, guidB)
				wantCode(t, err, 401)
				_, err = e.c.Encrypt(ctx, sysA, guidB, client.EncryptRequest{})
				wantCode(t, err, 401)
				// An app token is no way into the trading systems' API.
				_, err = e.c.OperationResult(ctx, appA, guidA)
				wantCode(t, err, 403)
				// Another trading system cannot bind a token to B.
				_, err = e.c.GrantToken(ctx, sys2Name, sys2Secret, guidB)
				wantCode(t, err, 403)
				if got := e.poll(sysB, guidB); got.Status != 0 || got.Value != nil {
					t.Fatalf("B changed: %+v", got)
				}
			})
		}
	})
}

func TestSecondSaveAfterFinal(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for _, f := range flows() {
			t.Run(f.name, func(t *testing.T) {
				e.t = t
				r := e.run(f, "sm2-person", 0, phone.Options{})
				if r.err != nil {
					t.Fatal(r.err)
				}
				before := e.poll(r.sysTok, r.guid)
				// No app account gets a new token for an ended operation
				// (its guid is public: the token would read the result).
				_, err := e.c.GrantToken(ctx, appName, appSecret, r.guid)
				wantCode(t, err, 409)
				// A token taken while it ran cannot change it.
				for _, st := range []int{2, 3, 1, 4, 5} {
					err := e.c.SaveCaMessageResult(ctx, r.appTok, client.SaveRequest{GUID: r.guid, Status: st, Value: ptr("forged"), ExtMessage: ptr("{}")})
					if client.Code(err) != 409 && client.Code(err) != 403 {
						t.Fatalf("save status %d after the end: %v, want 409", st, err)
					}
				}
				// The system's token cannot rewrite it either.
				err = e.c.SaveCaMessageResult(ctx, r.sysTok, client.SaveRequest{GUID: r.guid, Status: 4, Value: ptr("forged")})
				if client.Code(err) != 409 && client.Code(err) != 403 {
					t.Fatalf("system save after the end: %v", err)
				}
				// Scanning the old QR code again says it is over.
				_, err = e.app("sm2-person", phone.Options{}).Scan(ctx, fmt.Sprintf(`{"guid":%q,"url":"x","city":%q}`, r.guid, city))
				wantCode(t, err, 409)
				after := e.poll(r.sysTok, r.guid)
				if after.Status != before.Status || *after.Value != *before.Value {
					t.Fatalf("changed after the end: %+v → %+v", before, after)
				}
				if o := e.result(r.sysTok, r.guid).Outcome; o == nil || !o.Valid {
					t.Fatalf("results after refused saves: %+v", o)
				}
			})
		}
	})
}

// startsWithOID reports whether der is a SEQUENCE whose first element is
// an OBJECT IDENTIFIER (a ContentInfo), skipping the outer length.
func startsWithOID(der []byte) bool {
	if len(der) < 2 || der[0] != 0x30 {
		return false
	}
	i := 2
	if der[1]&0x80 != 0 {
		i += int(der[1] & 0x7f)
	}
	return i < len(der) && der[i] == 0x06
}
