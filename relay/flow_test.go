package relay

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/relay/client"
	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/relay/store/boltstore"
)

// TestLoginFlowAndRestart runs the login flow over HTTP on each store,
// restarting server and store in the middle: tokens, operation and status
// survive, and the flow finishes.
func TestLoginFlowAndRestart(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, reopen := k.open(t)
		h := newHarness(t, st)
		ctx := context.Background()
		sysTok, guid := h.initOp(4, "nonce-1")
		appTok, msg := h.scan(guid)
		if msg.Message != "nonce-1" || msg.Type != 4 || msg.CertType != 0 || msg.Title != "xx 系统登录" {
			t.Fatalf("getInitMessage = %+v", msg)
		}

		h.restart(reopen)

		res, err := h.c.GetCaMessageResult(ctx, sysTok, guid)
		if err != nil || res.Status != 1 || res.Value != nil {
			t.Fatalf("after restart: %+v, %v", res, err)
		}
		sig := `{"signStr":"MEUCIQ…","pubCert":"MIIB…"}`
		if err := h.c.SaveCaMessageResult(ctx, appTok, client.SaveRequest{GUID: guid, Status: 2, Value: &sig}); err != nil {
			t.Fatal(err)
		}

		h.restart(reopen)

		res, err = h.c.GetCaMessageResult(ctx, sysTok, guid)
		if err != nil || res.Status != 2 || res.Value == nil || *res.Value != sig || res.ExtMessage != nil {
			t.Fatalf("result after second restart: %+v, %v", res, err)
		}
		// A finished login takes no more answers.
		err = h.c.SaveCaMessageResult(ctx, appTok, client.SaveRequest{GUID: guid, Status: 3})
		wantCode(t, err, CodeConflict)
	})
}

// TestSealFlow is guide 三.5 over HTTP with the Go API in the seal
// control's place for getSealImg (issue 5 mounts that endpoint).
func TestSealFlow(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		h := newHarness(t, st)
		ctx := context.Background()
		sysTok, guid := h.initOp(5, "f7c54891-adad-4f32-9994-83d70a7204a2")
		appTok, msg := h.scan(guid)
		if msg.Type != 5 {
			t.Fatalf("type %d", msg.Type)
		}
		save := func(tok string, status int, value, ext *string) error {
			return h.c.SaveCaMessageResult(ctx, tok, client.SaveRequest{GUID: guid, Status: status, Value: value, ExtMessage: ext})
		}
		if err := save(appTok, 2, ptr(`{"signatureCompanyCode": "xx"}`), ptr(`{"caSerialId": "00ab:cd"}`)); err != nil {
			t.Fatal(err)
		}
		// The seal control sees 2 (company chosen) and fetches the seals.
		if res, _ := h.c.GetCaMessageResult(ctx, sysTok, guid); res.Status != 2 {
			t.Fatalf("status %d", res.Status)
		}
		p, err := h.svc.Authenticate(ctx, sysTok)
		if err != nil {
			t.Fatal(err)
		}
		op, err := h.svc.Operation(ctx, p, guid)
		if err != nil || op.SealCompanyCode != "xx" || op.SealCASerialID != "ABCD" || Stage(op.Stage) != StageSealCompanyChosen {
			t.Fatalf("phase one: %+v, %v", op, err)
		}
		if _, err := h.svc.Transition(ctx, p, guid, Change{Via: ViaGetSealImg, To: StatusSealCert}); err != nil {
			t.Fatal(err)
		}
		// The app may not store the hash; the control does.
		wantCode(t, save(appTok, 4, ptr("hash"), nil), CodeForbidden)
		if err := save(sysTok, 4, ptr("c2lnbiBtZQ=="), nil); err != nil {
			t.Fatal(err)
		}
		// The app polls its own operation for 4 and the hash.
		res, err := h.c.GetCaMessageResult(ctx, appTok, guid)
		if err != nil || res.Status != 4 || *res.Value != "c2lnbiBtZQ==" {
			t.Fatalf("app poll: %+v, %v", res, err)
		}
		// Another certificate than caSerialId (00ab:cd, i.e. ABCD) is refused
		// (TestSealSignerMustBeTheChosenCertificate has the real ones); the
		// guide's step 10 example saves the bare hash, which is kept.
		other := `{"signStr":"sig","signatureCompanyCode":"xx","pubCert":"` + base64.StdEncoding.EncodeToString(testpki.Identity(t, "sm2-person").Certificate.Raw) + `"}`
		wantCode(t, save(appTok, 2, &other, ptr("xxx")), CodeCertMismatch)
		final := "hash"
		if err := save(appTok, 2, &final, ptr("xxx")); err != nil {
			t.Fatal(err)
		}
		res, _ = h.c.GetCaMessageResult(ctx, sysTok, guid)
		if res.Status != 2 || *res.Value != final {
			t.Fatalf("final: %+v", res)
		}
		op, _ = h.svc.Operation(ctx, p, guid)
		if op.SealCompanyCode != "xx" || op.SealCASerialID != "ABCD" || Stage(op.Stage) != StageConfirmed {
			t.Fatalf("after the end, phase one lost: %+v", op)
		}
	})
}

// TestAppGrantAfterTheEnd: the guid is public (in the QR code), so once an
// operation has ended no app account gets a token for it — else any app
// account could read the result, e.g. a decrypt's plaintext. While it runs
// (0, 1, and the seal flow's 2, 5 and 4) an app that restarted gets one
// and carries on; the system that created it may still get one after the
// end.
func TestAppGrantAfterTheEnd(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		h := newHarness(t, st)
		ctx := context.Background()
		grantApp := func(guid string) (string, error) { return h.c.GrantToken(ctx, appName, appSecret, guid) }
		save := func(tok, guid string, status int, value, ext *string) {
			t.Helper()
			if err := h.c.SaveCaMessageResult(ctx, tok, client.SaveRequest{GUID: guid, Status: status, Value: value, ExtMessage: ext}); err != nil {
				t.Fatal(err)
			}
		}
		// A restarted app carries on: a second token works on the operation.
		carriesOn := func(guid string, wantStatus int) {
			t.Helper()
			tok, err := grantApp(guid)
			if err != nil {
				t.Fatalf("status %d: app grant refused: %v", wantStatus, err)
			}
			if res, err := h.c.GetCaMessageResult(ctx, tok, guid); err != nil || int(res.Status) != wantStatus {
				t.Fatalf("status %d: new app token reads %+v, %v", wantStatus, res, err)
			}
		}
		refused := func(guid string, status int) {
			t.Helper()
			_, err := grantApp(guid)
			wantCode(t, err, CodeConflict)
			var e *client.Error
			if !errors.As(err, &e) || !strings.Contains(e.FailMessage, "已结束") {
				t.Fatalf("status %d: failMessage %v", status, err)
			}
		}
		for typ := 1; typ <= 6; typ++ {
			if typ == 5 {
				continue
			}
			_, guid := h.initOp(typ, "secret message")
			carriesOn(guid, 0)
			appTok, _ := h.scan(guid)
			carriesOn(guid, 1)
			save(appTok, guid, 2, ptr("the plaintext"), nil)
			refused(guid, 2)
			// The system that made it still reads it.
			if tok, err := h.c.GrantToken(ctx, sysName, sysSecret, guid); err != nil {
				t.Fatalf("type %d: creator refused after the end: %v", typ, err)
			} else if res, err := h.c.GetCaMessageResult(ctx, tok, guid); err != nil || *res.Value != "the plaintext" {
				t.Fatalf("type %d: creator reads %+v, %v", typ, res, err)
			}

			_, cancelled := h.initOp(typ, "m")
			appTok, _ = h.scan(cancelled)
			save(appTok, cancelled, 3, nil, nil)
			refused(cancelled, 3)
		}

		sysTok, guid := h.initOp(5, "f7c54891-adad-4f32-9994-83d70a7204a2")
		appTok, _ := h.scan(guid)
		save(appTok, guid, 2, ptr(`{"signatureCompanyCode":"xx"}`), ptr(`{"caSerialId":"0A1B"}`))
		carriesOn(guid, 2)
		save(sysTok, guid, 5, nil, nil)
		carriesOn(guid, 5)
		save(sysTok, guid, 4, ptr(strings.Repeat("ab", 32)), nil)
		carriesOn(guid, 4)
		save(appTok, guid, 2, ptr("hash"), ptr("xxx")) // the guide's step 10 example, verbatim
		refused(guid, 2)
	})
}

// TestTokenScope: what each token may and may not reach.
func TestTokenScope(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		h := newHarness(t, st)
		ctx := context.Background()
		sysTok, guid := h.initOp(4, "n")
		_, otherGUID := h.initOp(4, "n2")
		appTok, _ := h.scan(guid)

		// A bound token cannot init again.
		_, err := h.c.InitMessage(ctx, sysTok, client.InitMessageRequest{Type: 4, Message: "again"})
		wantCode(t, err, CodeUnauthorized)
		// An unbound token can only init.
		unbound, _ := h.c.GrantToken(ctx, sysName, sysSecret, "")
		_, err = h.c.GetCaMessageResult(ctx, unbound, guid)
		wantCode(t, err, CodeUnauthorized)
		// A token never reaches another operation.
		_, err = h.c.GetCaMessageResult(ctx, sysTok, otherGUID)
		wantCode(t, err, CodeUnauthorized)
		_, err = h.c.GetInitMessage(ctx, appTok, otherGUID)
		wantCode(t, err, CodeUnauthorized)
		// Roles.
		_, err = h.c.GetInitMessage(ctx, sysTok, guid)
		wantCode(t, err, CodeForbidden)
		_, err = h.c.GrantToken(ctx, appName, appSecret, "")
		wantCode(t, err, CodeForbidden)
		// A system account binds only to its own operations; an app to any.
		_, err = h.c.GrantToken(ctx, sys2Name, sys2Secret, guid)
		wantCode(t, err, CodeForbidden)
		if _, err := h.c.GrantToken(ctx, sysName, sysSecret, guid); err != nil {
			t.Fatalf("creator re-granting for its own operation: %v", err)
		}
		if _, err := h.c.GrantToken(ctx, appName, appSecret, otherGUID); err != nil {
			t.Fatal(err)
		}
		// Unknown, malformed, missing.
		_, err = h.c.GrantToken(ctx, appName, appSecret, "bf1af3f2-97b0-4b04-a054-ad7ba824eb70")
		wantCode(t, err, CodeNotFound)
		_, err = h.c.GrantToken(ctx, appName, appSecret, "bflaf3f2-97b0-4b04-a054-ad7ba824eb70")
		wantCode(t, err, CodeBadRequest)
		_, err = h.c.GetCaMessageResult(ctx, "", guid)
		wantCode(t, err, CodeUnauthorized)
		_, err = h.c.GetCaMessageResult(ctx, "36b6a611-0c97-47f3-a070-7d3d0ffadd4", guid)
		wantCode(t, err, CodeUnauthorized)
		_, err = h.c.GetCaMessageResult(ctx, "00000000-0000-4000-8000-000000000000", guid)
		wantCode(t, err, CodeUnauthorized)
		_, err = h.c.GrantToken(ctx, sysName, "wrong", "")
		wantCode(t, err, CodeUnauthorized)
		_, err = h.c.GrantToken(ctx, "nobody", sysSecret, "")
		wantCode(t, err, CodeUnauthorized)

		// Tokens expire after 30 minutes; operations after 5 and then say so.
		h.clock.Advance(DefaultOperationTTL)
		_, err = h.c.GetCaMessageResult(ctx, sysTok, guid)
		if e, ok := err.(*client.Error); !ok || e.InvokeCode != CodeExpired || e.FailMessage != "二维码已过期" {
			t.Fatalf("expired operation: %v", err)
		}
		_, err = h.c.GrantToken(ctx, appName, appSecret, guid)
		wantCode(t, err, CodeExpired)
		h.clock.Advance(DefaultTokenTTL)
		_, err = h.c.InitMessage(ctx, unbound, client.InitMessageRequest{Type: 4, Message: "late"})
		wantCode(t, err, CodeUnauthorized)
	})
}

// TestExpiredKeptThenPurged: within the grace period an expired operation
// answers 410; after it, purge removes operation and tokens.
func TestExpiredKeptThenPurged(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		h := newHarness(t, st)
		ctx := context.Background()
		sysTok, guid := h.initOp(1, "text to sign")
		h.clock.Advance(DefaultOperationTTL + 10*time.Minute)
		if res, err := h.svc.Purge(ctx); err != nil || res.Operations != 0 {
			t.Fatalf("purge within grace: %+v, %v", res, err)
		}
		_, err := h.c.GetCaMessageResult(ctx, sysTok, guid)
		wantCode(t, err, CodeExpired)
		h.clock.Advance(DefaultExpiredGrace)
		res, err := h.svc.Purge(ctx)
		if err != nil || res.Operations != 1 || res.Tokens < 1 {
			t.Fatalf("purge after grace: %+v, %v", res, err)
		}
		if _, err := st.Operation(ctx, guid); err != store.ErrNotFound {
			t.Fatalf("purged operation still there: %v", err)
		}
	})
}

// TestThrottle: failed secrets per (account, client address) end in 429,
// even for the right secret, until the window passes; other addresses and
// accounts are unaffected.
func TestThrottle(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		addr := "192.0.2.1"
		h := newHarness(t, st, func(c *Config) {
			c.ClientAddr = func(*http.Request) string { return addr }
		})
		ctx := context.Background()
		for i := range DefaultMaxFailures {
			_, err := h.c.GrantToken(ctx, sysName, "guess", "")
			wantCode(t, err, CodeUnauthorized)
			_ = i
		}
		_, err := h.c.GrantToken(ctx, sysName, sysSecret, "")
		wantCode(t, err, CodeThrottled)
		if _, err := h.c.GrantToken(ctx, sys2Name, sys2Secret, ""); err != nil {
			t.Fatalf("other account throttled too: %v", err)
		}
		addr = "192.0.2.2"
		if _, err := h.c.GrantToken(ctx, sysName, sysSecret, ""); err != nil {
			t.Fatalf("other address throttled too: %v", err)
		}
		addr = "192.0.2.1"
		h.clock.Advance(DefaultFailureWindow)
		if _, err := h.c.GrantToken(ctx, sysName, sysSecret, ""); err != nil {
			t.Fatalf("still throttled after the window: %v", err)
		}
	})
}

// TestThrottleByAddress: failures from one client address count across
// account names, so trying one secret for each of many names (the audit's
// 12 names from one address were never slowed) ends in 429 for every
// account from that address, the right secret included, until the window
// passes; a success does not wipe the address's count, and other addresses
// are unaffected.
func TestThrottleByAddress(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		addr := "198.51.100.7"
		const perAddr = 12
		h := newHarness(t, st, func(c *Config) {
			c.ClientAddr = func(*http.Request) string { return addr }
			c.MaxFailuresPerAddr = perAddr
		})
		ctx := context.Background()
		for i := range perAddr {
			_, err := h.c.GrantToken(ctx, fmt.Sprintf("guess-%02d", i), "guess", "")
			wantCode(t, err, CodeUnauthorized)
			if i == perAddr/2 { // a good login halfway does not reset the address
				if _, err := h.c.GrantToken(ctx, sysName, sysSecret, ""); err != nil {
					t.Fatalf("good secret refused after %d failures: %v", i+1, err)
				}
			}
		}
		for _, acc := range []struct{ name, secret string }{{"guess-99", "guess"}, {sysName, sysSecret}, {appName, appSecret}} {
			_, err := h.c.GrantToken(ctx, acc.name, acc.secret, "")
			wantCode(t, err, CodeThrottled)
		}
		addr = "198.51.100.8"
		if _, err := h.c.GrantToken(ctx, sysName, sysSecret, ""); err != nil {
			t.Fatalf("other address throttled too: %v", err)
		}
		addr = "198.51.100.7"
		h.clock.Advance(DefaultFailureWindow)
		if _, err := h.c.GrantToken(ctx, sysName, sysSecret, ""); err != nil {
			t.Fatalf("still throttled after the window: %v", err)
		}
	})
}

// TestThrottleByAddressDefault: with the defaults, an address trying
// DefaultMaxFailuresPerAddr names is throttled on the next.
func TestThrottleByAddressDefault(t *testing.T) {
	st, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st, func(c *Config) { c.ClientAddr = func(*http.Request) string { return "203.0.113.5" } })
	ctx := context.Background()
	for i := range DefaultMaxFailuresPerAddr {
		_, err := h.c.GrantToken(ctx, fmt.Sprintf("name-%d", i), "guess", "")
		wantCode(t, err, CodeUnauthorized)
	}
	_, err = h.c.GrantToken(ctx, "name-next", "guess", "")
	wantCode(t, err, CodeThrottled)
}

// TestConcurrentSavesOneWins: two answers racing on one operation; the
// status machine lets exactly one land.
func TestConcurrentSavesOneWins(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		h := newHarness(t, st)
		ctx := context.Background()
		sysTok, guid := h.initOp(4, "n")
		appTok, _ := h.scan(guid)
		var wg sync.WaitGroup
		results := make([]error, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status := 2
				if i%2 == 1 {
					status = 3
				}
				results[i] = h.c.SaveCaMessageResult(ctx, appTok, client.SaveRequest{GUID: guid, Status: status, Value: ptr("v")})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range results {
			if err == nil {
				ok++
			} else if client.Code(err) != CodeConflict {
				t.Fatalf("racing save: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d saves landed, want 1", ok)
		}
		p, _ := h.svc.Authenticate(ctx, sysTok)
		op, _ := h.svc.Operation(ctx, p, guid)
		if op.Version != 3 {
			t.Fatalf("version %d, want 3 (create, scan, one save)", op.Version)
		}
	})
}

// TestWaitWakesOnSave: a waiter on the Go API wakes when the app saves.
func TestWaitWakesOnSave(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		h := newHarness(t, st)
		ctx := context.Background()
		sysTok, guid := h.initOp(4, "n")
		appTok, _ := h.scan(guid)
		p, _ := h.svc.Authenticate(ctx, sysTok)
		op, _ := h.svc.Operation(ctx, p, guid)
		done := make(chan store.Operation, 1)
		go func() {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			got, _ := h.svc.Wait(wctx, p, guid, op.Version)
			done <- got
		}()
		time.Sleep(50 * time.Millisecond)
		if err := h.c.SaveCaMessageResult(ctx, appTok, client.SaveRequest{GUID: guid, Status: 2, Value: ptr("sig")}); err != nil {
			t.Fatal(err)
		}
		if got := <-done; got.Status != 2 {
			t.Fatalf("woke with %+v", got)
		}
	})
}

// TestQRCode decodes the PNG with an independent QR decoder (gozxing) and
// compares the payload.
func TestQRCode(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		h := newHarness(t, st)
		ctx := context.Background()
		sysTok, guid := h.initOp(4, "n")
		for _, size := range []int{0, 128, 512} {
			img, err := h.c.QRCode(ctx, sysTok, guid, "P3401000001", size)
			if err != nil {
				t.Fatal(err)
			}
			pic, err := png.Decode(bytes.NewReader(img))
			if err != nil {
				t.Fatal(err)
			}
			want := size
			if want == 0 {
				want = DefaultQRSize
			}
			if b := pic.Bounds(); b.Dx() != want || b.Dy() != want {
				t.Fatalf("size %d: image %v", size, b)
			}
			bmp, err := gozxing.NewBinaryBitmapFromImage(pic)
			if err != nil {
				t.Fatal(err)
			}
			// PURE_BARCODE: the image is the code, squarely (ZXing's
			// finder search misses a clean code now and then; see
			// TestQRCodePNGReadable for a thousand codes and zbarimg).
			res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
			if err != nil {
				t.Fatalf("size %d: decode: %v", size, err)
			}
			wantJSON := `{"guid":"` + guid + `","url":"https://relay.example.cn/scan","city":"P3401000001"}`
			if res.GetText() != wantJSON {
				t.Fatalf("payload %s, want %s", res.GetText(), wantJSON)
			}
			p, err := client.ParsePayload(res.GetText())
			if err != nil || p.GUID != guid {
				t.Fatalf("ParsePayload: %+v, %v", p, err)
			}
		}
		for _, c := range []struct {
			city string
			size int
			code int
		}{{"P9999999999", 0, CodeBadRequest}, {"", 0, CodeBadRequest}, {"P3401000001", 20, CodeBadRequest}, {"P3401000001", 5000, CodeBadRequest}} {
			_, err := h.c.QRCode(ctx, sysTok, guid, c.city, c.size)
			wantCode(t, err, c.code)
		}
		appTok, _ := h.scan(guid)
		_, err := h.c.QRCode(ctx, appTok, guid, "P3401000001", 0)
		wantCode(t, err, CodeForbidden)
		// Refusals carry the code as HTTP status for <img> tags.
		resp, err := http.Get(h.srv.URL + "/qrcode?guid=" + guid + "&token=" + sysTok + "&city=nope")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
	})
}

// TestRESTMiddleware: the /api/v1 authentication. Operation routes want
// a system token bound to that operation; the routes on no operation take
// a system token bound to one of the account's operations or the system
// account's HTTP Basic credentials (checked and throttled like
// grantToken); an unbound token is refused as DESIGN.md says (it may only
// call initMessage). Every refusal has the real HTTP status and both
// {invokeCode, failMessage} and {code, message}.
func TestRESTMiddleware(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		addr := "192.0.2.10"
		h := newHarness(t, st, func(c *Config) { c.ClientAddr = func(*http.Request) string { return addr } })
		ctx := context.Background()
		sysTok, guid := h.initOp(4, "n")
		_, other := h.initOp(4, "n")
		appTok, _ := h.scan(guid)
		unbound, err := h.c.GrantToken(ctx, sysName, sysSecret, "")
		if err != nil {
			t.Fatal(err)
		}
		basic := func(name, secret string) string {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(name+":"+secret))
		}
		bearer := func(tok string) string { return "Bearer " + tok }
		get := func(path, auth string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest("GET", h.srv.URL+path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		for _, c := range []struct {
			name, path, auth string
			status           int
			contains         string
		}{
			// An operation route: a token bound to it, and nothing else.
			{"bearer", "/api/v1/operations/" + guid, bearer(sysTok), 200, `"stage":"scanned"`},
			{"query token", "/api/v1/operations/" + guid + "?token=" + sysTok, "", 200, `"status":1`},
			{"other guid", "/api/v1/operations/" + other, bearer(sysTok), 401, "授权码与该操作不匹配"},
			{"app token", "/api/v1/operations/" + guid, bearer(appTok), 403, `"code":"forbidden"`},
			{"unbound token on an operation", "/api/v1/operations/" + guid, bearer(unbound), 401, msgTokenUnbound},
			{"basic on an operation", "/api/v1/operations/" + guid, basic(sysName, sysSecret), 401, msgBasicNoOperation},
			{"malformed guid", "/api/v1/operations/xyz", bearer(sysTok), 400, `"code":"bad-request"`},
			// A route on no operation.
			{"no credentials", "/api/v1/whoami", "", 401, `"code":"unauthorized","message":"` + msgTokenMissing + `"`},
			{"bound token", "/api/v1/whoami", bearer(sysTok), 200, `"account":"dev-system","basic":false`},
			{"unbound token", "/api/v1/whoami", bearer(unbound), 401, `"invokeCode":401,"failMessage":"` + msgTokenUnbound + `","code":"unauthorized","message":"` + msgTokenUnbound + `"`},
			{"basic", "/api/v1/whoami", basic(sysName, sysSecret), 200, `"account":"dev-system","basic":true`},
			{"basic of an app account", "/api/v1/whoami", basic(appName, appSecret), 403, "只有交易系统"},
			{"basic, wrong secret", "/api/v1/whoami", basic(sysName, "guess"), 401, msgBadSecret},
			{"basic, garbage", "/api/v1/whoami", "Basic !!!", 401, "Authorization: Basic"},
			{"app token, no operation", "/api/v1/whoami", bearer(appTok), 403, "只有交易系统"},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, body := get(c.path, c.auth)
				if status != c.status || !strings.Contains(body, c.contains) {
					t.Fatalf("HTTP %d %s; want %d containing %s", status, body, c.status, c.contains)
				}
				if status != 200 {
					var f APIFailure
					if err := json.Unmarshal([]byte(body), &f); err != nil || f.InvokeCode != status || f.Code != RESTCode(status) ||
						f.Message == "" || f.Message != f.FailMessage {
						t.Fatalf("refusal body %s", body)
					}
				}
			})
		}

		// Basic credentials are throttled with grantToken: failures by
		// either count against both, per account and per address.
		addr = "192.0.2.11"
		for range DefaultMaxFailures {
			if status, _ := get("/api/v1/whoami", basic(sys2Name, "guess")); status != 401 {
				t.Fatalf("wrong secret: HTTP %d", status)
			}
		}
		if status, body := get("/api/v1/whoami", basic(sys2Name, sys2Secret)); status != 429 || !strings.Contains(body, `"code":"too-many-attempts"`) {
			t.Fatalf("after %d failures: HTTP %d %s", DefaultMaxFailures, status, body)
		}
		_, err = h.c.GrantToken(ctx, sys2Name, sys2Secret, "")
		wantCode(t, err, CodeThrottled)
		h.clock.Advance(DefaultFailureWindow)
		if status, body := get("/api/v1/whoami", basic(sys2Name, sys2Secret)); status != 200 {
			t.Fatalf("after the window: HTTP %d %s", status, body)
		}
	})
}

// TestBadInputChangesNothing sends malformed and oversized input to every
// endpoint; each gets a Chinese failMessage and the operation is untouched.
func TestBadInputChangesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		h := newHarness(t, st, func(c *Config) { c.Limits.BodyBytes = 64 << 10 })
		ctx := context.Background()
		sysTok, guid := h.initOp(4, "n")
		appTok, _ := h.scan(guid)
		unbound, _ := h.c.GrantToken(ctx, sysName, sysSecret, "")
		form := "application/x-www-form-urlencoded"
		big := strings.Repeat("x", 70<<10)
		for _, c := range []struct {
			name, path, ct, body string
			code                 int
		}{
			{"type word", "/initMessage", form, "type=abc&message=m&token=" + unbound, CodeBadRequest},
			{"certType 3", "/initMessage", form, "type=4&certType=3&message=m&token=" + unbound, CodeBadRequest},
			{"message missing", "/initMessage", form, "type=4&token=" + unbound, CodeBadRequest},
			{"type 7", "/initMessage", form, "type=7&message=m&token=" + unbound, CodeBadRequest},
			{"status 9", "/saveCaMessageResult", form, "guid=" + guid + "&status=9&value=v&token=" + appTok, CodeBadRequest},
			{"status missing", "/saveCaMessageResult", form, "guid=" + guid + "&value=v&token=" + appTok, CodeBadRequest},
			{"value missing", "/saveCaMessageResult", form, "guid=" + guid + "&status=2&token=" + appTok, CodeBadRequest},
			{"guid missing", "/saveCaMessageResult", form, "status=2&value=v&token=" + appTok, CodeBadRequest},
			{"bad escape", "/saveCaMessageResult", form, "guid=" + guid + "&status=2&value=%zz&token=" + appTok, CodeBadRequest},
			{"invalid utf-8", "/saveCaMessageResult", form, "guid=" + guid + "&status=2&value=%ff%fe&token=" + appTok, CodeBadRequest},
			{"nul", "/saveCaMessageResult", form, "guid=" + guid + "&status=2&value=a%00b&token=" + appTok, CodeBadRequest},
			{"two values", "/saveCaMessageResult", form, "guid=" + guid + "&status=2&status=3&value=v&token=" + appTok, CodeBadRequest},
			{"body too large", "/saveCaMessageResult", form, "guid=" + guid + "&status=2&token=" + appTok + "&value=" + big, CodeTooLarge},
			{"json broken", "/saveCaMessageResult", "application/json", `{"guid":"` + guid + `",`, CodeBadRequest},
			{"json array", "/saveCaMessageResult", "application/json", `[1,2]`, CodeBadRequest},
			{"json trailing", "/saveCaMessageResult", "application/json", `{"guid":"x"} {}`, CodeBadRequest},
			{"multipart", "/saveCaMessageResult", "multipart/form-data; boundary=x", "--x--", CodeBadRequest},
		} {
			t.Run(c.name, func(t *testing.T) {
				body := call(t, "POST", h.srv.URL+c.path, c.ct, c.body)
				var f Failure
				if err := json.Unmarshal([]byte(body), &f); err != nil || f.InvokeCode != c.code || f.FailMessage == "" {
					t.Fatalf("answer %s, want invokeCode %d with a failMessage", body, c.code)
				}
			})
		}
		res, err := h.c.GetCaMessageResult(ctx, sysTok, guid)
		if err != nil || res.Status != 1 || res.Value != nil {
			t.Fatalf("operation changed by refused calls: %+v, %v", res, err)
		}
	})
}

// Field limits hold below the body limit too.
func TestFieldLimits(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		h := newHarness(t, st, func(c *Config) { c.Limits.ValueBytes = 1000; c.Limits.MessageBytes = 100 })
		ctx := context.Background()
		tok, _ := h.c.GrantToken(ctx, sysName, sysSecret, "")
		_, err := h.c.InitMessage(ctx, tok, client.InitMessageRequest{Type: 4, Message: strings.Repeat("m", 101)})
		wantCode(t, err, CodeTooLarge)
		sysTok, guid := h.initOp(4, strings.Repeat("m", 100))
		appTok, _ := h.scan(guid)
		err = h.c.SaveCaMessageResult(ctx, appTok, client.SaveRequest{GUID: guid, Status: 2, Value: ptr(strings.Repeat("v", 1001))})
		wantCode(t, err, CodeTooLarge)
		if res, _ := h.c.GetCaMessageResult(ctx, sysTok, guid); res.Status != 1 {
			t.Fatalf("status %d", res.Status)
		}
		if err := h.c.SaveCaMessageResult(ctx, appTok, client.SaveRequest{GUID: guid, Status: 2, Value: ptr(strings.Repeat("v", 1000))}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestConcurrentGetInitMessage: an app fetching twice at once (a retry) gets
// the message both times; the operation moves to 1 once.
func TestConcurrentGetInitMessage(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		h := newHarness(t, st)
		ctx := context.Background()
		sysTok, guid := h.initOp(4, "n")
		appTok, err := h.c.GrantToken(ctx, appName, appSecret, guid)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = h.c.GetInitMessage(ctx, appTok, guid)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("concurrent getInitMessage: %v", err)
			}
		}
		p, _ := h.svc.Authenticate(ctx, sysTok)
		if op, _ := h.svc.Operation(ctx, p, guid); op.Status != 1 || op.Version != 2 {
			t.Fatalf("status %d version %d, want 1 and 2", op.Status, op.Version)
		}
	})
}
