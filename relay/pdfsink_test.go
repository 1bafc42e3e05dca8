package relay

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/pdfsign"
)

// TestPDFHashSink: prepare's hash goes into a seal operation at status 5
// as the phone reads it at 4 (value the hash, extMessage {"shape",
// "digestAlgorithm","toSign"}), for the seal control's own bound token
// only; every refusal is a pdfsign.Error with the relay's reason and
// changes nothing.
func TestPDFHashSink(t *testing.T) {
	st, _ := storeKinds()[0].open(t)
	e := newSealImgEnv(t, st)
	ctx := context.Background()
	as := func(token string) context.Context {
		p, err := e.svc.Authenticate(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		return context.WithValue(ctx, principalKey{}, p)
	}
	sink := e.svc.PDFHashSink()
	hash := strings.Repeat("0f", 32)
	sh := func(guid string) pdfsign.SealHash {
		return pdfsign.SealHash{GUID: guid, Shape: pdfsign.ShapeCMS, DigestAlgorithm: "SM3", Hash: hash, ToSign: "MYIBAg=="}
	}

	guid, sysTok, appTok := e.sealOp("acme", sealedSerial)
	e.getSealImg(guid, sysTok) // status 5
	other, otherTok, _ := e.sealOp("acme", sealedSerial)
	atTwo := e.stored(other)
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		hash   pdfsign.SealHash
		code   pdfsign.Code
		status int // the HTTP status prepare answers: the relay's invokeCode
		msg    string
	}{
		{"no token in the context", ctx, sh(guid), pdfsign.CodeInternal, 0, "服务内部错误，请稍后重试"},
		{"not a guid", as(sysTok), sh("op-1"), "bad-request", 400, "签章操作不能存入 hash：guid 格式不正确"},
		{"another operation's token", as(otherTok), sh(guid), "unauthorized", 401, "签章操作 " + guid + " 不能存入 hash：" + msgTokenOtherOp},
		{"the app's token", as(appTok), sh(guid), "forbidden", 403, "签章操作 " + guid + " 不能存入 hash：APP（app）账号不能把签章操作的状态从 5 签章控件获取证书信息成功 变为 4 二次放入签章hash"},
		{"seals not fetched yet (status 2)", as(otherTok), sh(other), "conflict", 409, "签章操作 " + other + " 不能存入 hash：签章操作的状态不能从 2 已确认 变为 4 二次放入签章hash"},
	} {
		before := e.stored(guid)
		err := sink.SetSealHash(tc.ctx, tc.hash)
		var pe *pdfsign.Error
		if !errors.As(err, &pe) || pe.Code != tc.code || pe.Status != tc.status || pe.Message != tc.msg {
			t.Errorf("%s: %v (%+v)", tc.name, err, pe)
		}
		if e.stored(guid).Version != before.Version {
			t.Errorf("%s: the operation changed", tc.name)
		}
	}
	if e.stored(other).Version != atTwo.Version {
		t.Error("the operation at status 2 changed")
	}

	if err := sink.SetSealHash(as(sysTok), sh(strings.ToUpper(guid))); err != nil {
		t.Fatal(err)
	}
	op := e.stored(guid)
	want := `{"shape":"cms","digestAlgorithm":"SM3","toSign":"MYIBAg=="}`
	if op.Status != int(StatusSealHash) || *op.Value != hash || *op.ExtMessage != want {
		t.Fatalf("at 4: status %d value %q extMessage %q", op.Status, *op.Value, *op.ExtMessage)
	}
	// The app reads exactly that at status 4.
	r, err := e.c.GetCaMessageResult(ctx, appTok, guid)
	if err != nil || r.Status != 4 || *r.Value != hash || *r.ExtMessage != want {
		t.Fatalf("the app's poll: %+v %v", r, err)
	}
	// A second prepare on the same operation is refused: the hash is in.
	var pe *pdfsign.Error
	if err := sink.SetSealHash(as(sysTok), sh(guid)); !errors.As(err, &pe) || pe.Status != 409 || e.stored(guid).Version != op.Version {
		t.Fatalf("second prepare: %v", err)
	}
	// An operation past its five minutes: 410, as the relay answers it.
	late, lateTok, _ := e.sealOp("acme", sealedSerial)
	e.getSealImg(late, lateTok)
	lateCtx := as(lateTok)
	e.clock.Advance(DefaultOperationTTL + time.Second)
	if err := sink.SetSealHash(lateCtx, sh(late)); !errors.As(err, &pe) || pe.Status != 410 || pe.Code != "expired" || pe.Message != "签章操作 "+late+" 不能存入 hash："+msgExpired {
		t.Fatalf("expired operation: %v (%+v)", err, pe)
	}
}
