package relay

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/internal/testclock"
	"github.com/scansign/scansign/relay/client"
	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/seal"
	sealclient "github.com/scansign/scansign/seal/client"
	"github.com/scansign/scansign/seal/service"
	sealstore "github.com/scansign/scansign/seal/store"
)

// The certificate serial the test seal company has seals for, and the
// timeout of the company that never answers.
const (
	sealedSerial = "1A2B3C"
	hangTimeout  = 300 * time.Millisecond
)

// sealImgEnv is a relay with /getSealImg behind one real HTTP listener and
// seal companies behind others: "acme" a real seal company service with
// two seals for sealedSerial, and companies that are down, hang, refuse
// the relay's account, or answer garbage.
type sealImgEnv struct {
	t       *testing.T
	svc     *Service
	st      store.Store
	srv     *httptest.Server
	c       *client.Client
	clock   *testclock.Clock
	company *seal.Seal // acme's first seal, as registered
}

func newSealImgEnv(t *testing.T, st store.Store) *sealImgEnv {
	t.Helper()
	ctx := context.Background()
	// The seal company: its own store, service and listener.
	sealSt, err := sealstore.OpenEmbedded(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var first seal.Seal
	for i, f := range []struct {
		name, file string
		w, h       float64
	}{{"某某公司公章", "round-company.png", 4.2, 4.2}, {"财务专用章", "oval-finance.png", 4, 3}} {
		img, err := os.ReadFile("../testdata/seals/" + f.file)
		if err != nil {
			t.Fatal(err)
		}
		s, err := sealSt.AddSeal(ctx, seal.Seal{Serial: sealedSerial, Name: f.name, WidthCM: f.w, HeightCM: f.h, Type: "公章", Description: "合同用印", Image: img})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = s
		}
	}
	hash, err := service.HashPasswordIterations("relay-secret", 10_000)
	if err != nil {
		t.Fatal(err)
	}
	sealSvc, err := service.New(service.Config{Accounts: []service.Account{{Name: "relay", PasswordHash: hash}}, Logger: slog.New(slog.DiscardHandler)}, sealSt)
	if err != nil {
		t.Fatal(err)
	}
	acme := httptest.NewServer(sealSvc)
	// A company that takes the connection and never answers.
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<html>maintenance</html>")
	}))
	// A company whose address takes no connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()

	reg, err := sealclient.New(sealclient.Config{Companies: []sealclient.Company{
		{Code: "acme", URL: acme.URL, Account: "relay", Password: "relay-secret", Timeout: 5 * time.Second},
		{Code: "down", URL: down, Account: "relay", Password: "relay-secret", Timeout: 2 * time.Second},
		{Code: "hang", URL: hang.URL, Account: "relay", Password: "relay-secret", Timeout: hangTimeout},
		{Code: "wrong-account", URL: acme.URL, Account: "someone", Password: "guess", Timeout: 5 * time.Second},
		{Code: "garbage", URL: garbage.URL, Account: "relay", Password: "relay-secret", Timeout: 5 * time.Second},
	}})
	if err != nil {
		t.Fatal(err)
	}

	clk := newClock()
	svc := newService(t, st, clk)
	images, err := NewSealImages(svc, reg)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	svc.Mount(r)
	images.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close()
		close(release)
		hang.Close()
		acme.Close()
		garbage.Close()
		sealSt.Close()
		st.Close()
	})
	return &sealImgEnv{t: t, svc: svc, st: st, srv: srv, c: client.New(srv.URL, srv.Client()), clock: clk, company: &first}
}

// sealOp starts a seal operation and plays the app up to status 2 with
// the company code and serial: the point where the seal control asks for
// the seals. It returns the system token and the app token.
func (e *sealImgEnv) sealOp(company, serial string) (guid, sysTok, appTok string) {
	e.t.Helper()
	ctx := context.Background()
	sysTok, err := e.c.GrantToken(ctx, sysName, sysSecret, "")
	if err != nil {
		e.t.Fatal(err)
	}
	if guid, err = e.c.InitMessage(ctx, sysTok, client.InitMessageRequest{Type: int(TypeSeal), Message: "f7c54891-adad-4f32-9994-83d70a7204a2", Title: "xx 系统签章"}); err != nil {
		e.t.Fatal(err)
	}
	if appTok, err = e.c.GrantToken(ctx, appName, appSecret, guid); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.c.GetInitMessage(ctx, appTok, guid); err != nil {
		e.t.Fatal(err)
	}
	if company != "" {
		v, x := `{"signatureCompanyCode":"`+company+`"}`, `{"caSerialId":"`+serial+`"}`
		if err := e.c.SaveCaMessageResult(ctx, appTok, client.SaveRequest{GUID: guid, Status: 2, Value: &v, ExtMessage: &x}); err != nil {
			e.t.Fatal(err)
		}
	}
	return guid, sysTok, appTok
}

func (e *sealImgEnv) stored(guid string) store.Operation {
	e.t.Helper()
	op, err := e.st.Operation(context.Background(), guid)
	if err != nil {
		e.t.Fatal(err)
	}
	return op
}

// getSealImg posts the guide's form and returns the raw answer.
func (e *sealImgEnv) getSealImg(guid, token string) (string, map[string]any) {
	e.t.Helper()
	resp, err := e.srv.Client().Post(e.srv.URL+"/getSealImg", "Application/x-www-form-urlencoded;utf-8",
		strings.NewReader(url.Values{"guid": {guid}, "token": {token}}.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ContentTypeJSON {
		e.t.Fatalf("HTTP %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		e.t.Fatalf("not JSON: %s", body)
	}
	return string(body), m
}

// TestGetSealImg: the seal control gets the certificate's seals from its
// seal company in the guide's 2.8 shape and the operation moves to 5;
// asking again is allowed; the app cannot ask; a token of another
// operation cannot.
func TestGetSealImg(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		e := newSealImgEnv(t, st)
		// Any form of the serial the app saves finds the seals.
		guid, sysTok, appTok := e.sealOp("acme", "00:1a:2b:3c")
		raw, m := e.getSealImg(guid, sysTok)
		img, _ := os.ReadFile("../testdata/seals/round-company.png")
		want := `{"invokeCode":1,"signInfos":[{"signName":"某某公司公章","signWidth":"4.2","signHeight":"4.2","img":"` +
			base64.StdEncoding.EncodeToString(img) + `","description":"合同用印"},{"signName":"财务专用章","signWidth":"4","signHeight":"3","img":"`
		if !strings.HasPrefix(raw, want) || len(m["signInfos"].([]any)) != 2 {
			t.Fatalf("getSealImg answered\n%.300s\nwant it to start\n%.300s", raw, want)
		}
		// Field for field the guide's example: these keys, in this order.
		keys := regexp.MustCompile(`"(\w+)":`).FindAllStringSubmatch(raw, -1)
		var order []string
		for _, k := range keys[:7] {
			order = append(order, k[1])
		}
		if strings.Join(order, ",") != "invokeCode,signInfos,signName,signWidth,signHeight,img,description" {
			t.Fatalf("keys %v", order)
		}
		op := e.stored(guid)
		if op.Status != int(StatusSealCert) || op.Stage != string(StageSealCertFetched) {
			t.Fatalf("after getSealImg: status %d stage %s", op.Status, op.Stage)
		}
		// Both the control and the app see 5 on getCaMessageResult.
		if r, err := e.c.GetCaMessageResult(context.Background(), appTok, guid); err != nil || r.Status != 5 {
			t.Fatalf("app polls: %+v %v", r, err)
		}
		// The control may ask again (a page reload) and stays at 5.
		if _, m := e.getSealImg(guid, sysTok); m["invokeCode"] != float64(1) || e.stored(guid).Status != 5 {
			t.Fatalf("again: %v", m)
		}
		// The Go client reads the same.
		seals, err := e.c.GetSealImg(context.Background(), sysTok, guid)
		if err != nil || len(seals) != 2 || seals[1].SignName != "财务专用章" || seals[1].SignHeight != "3" {
			t.Fatalf("client: %+v %v", seals, err)
		}

		before := e.stored(guid)
		for _, tc := range []struct {
			name, token string
			code        int
		}{
			{"the app's own token", appTok, CodeForbidden},
			{"no token", "", CodeUnauthorized},
		} {
			if _, m := e.getSealImg(guid, tc.token); m["invokeCode"] != float64(tc.code) || m["failMessage"] == "" {
				t.Errorf("%s: %v", tc.name, m)
			}
		}
		otherGUID, otherTok, _ := e.sealOp("acme", sealedSerial)
		if _, m := e.getSealImg(guid, otherTok); m["invokeCode"] != float64(CodeUnauthorized) || m["failMessage"] != msgTokenOtherOp {
			t.Errorf("another operation's token: %v", m)
		}
		if got := e.stored(guid); got.Version != before.Version || e.stored(otherGUID).Status != 2 {
			t.Error("a refused getSealImg changed an operation")
		}
	})
}

// TestGetSealImgRefusals: everything that can go wrong with the seal
// company or the operation is a clear Chinese failMessage with its own
// invokeCode, and the operation is exactly as it was.
func TestGetSealImgRefusals(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		st, _ := k.open(t)
		e := newSealImgEnv(t, st)
		for _, tc := range []struct {
			name, company, serial string
			code                  int
			message               string
		}{
			{"unknown company code", "nobody", sealedSerial, CodeUnknownCompany, "未配置的签章公司编码：nobody"},
			{"company down", "down", sealedSerial, CodeBadGateway, "无法连接签章服务，请稍后重试"},
			{"company hangs", "hang", sealedSerial, CodeGatewayTimeout, "签章服务响应超时，请稍后重试"},
			{"company refuses the relay's account", "wrong-account", sealedSerial, CodeBadGateway, "签章服务返回错误：授权账号或密码错误"},
			{"company answers garbage", "garbage", sealedSerial, CodeBadGateway, "签章服务返回的数据无法识别"},
			{"no seals for the certificate", "acme", "FFFF01", CodeNoSeals, "该证书没有可用的印章"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				guid, sysTok, _ := e.sealOp(tc.company, tc.serial)
				before := e.stored(guid)
				start := time.Now()
				raw, m := e.getSealImg(guid, sysTok)
				took := time.Since(start)
				if m["invokeCode"] != float64(tc.code) || m["failMessage"] != tc.message || len(m) != 2 {
					t.Fatalf("answered %s, want invokeCode %d %q", raw, tc.code, tc.message)
				}
				if after := e.stored(guid); after.Version != before.Version || after.Stage != string(StageSealCompanyChosen) {
					t.Fatalf("the operation changed: %+v → %+v", before, after)
				}
				if tc.company == "hang" && took > hangTimeout+time.Second {
					t.Fatalf("a hanging company held the request %v (timeout %v)", took, hangTimeout)
				}
			})
		}

		t.Run("wrong status or type", func(t *testing.T) {
			// Not yet chosen (status 1), hash already in (4), cancelled (3),
			// finished (2), not a seal operation, expired.
			scanned, scannedTok, _ := e.sealOp("", "")
			atFour, fourTok, _ := e.sealOp("acme", sealedSerial)
			e.getSealImg(atFour, fourTok)
			hash := strings.Repeat("ab", 32)
			if err := e.c.SaveCaMessageResult(context.Background(), fourTok, client.SaveRequest{GUID: atFour, Status: 4, Value: &hash}); err != nil {
				t.Fatal(err)
			}
			cancelled, cancelledTok, cancelledApp := e.sealOp("acme", sealedSerial)
			if err := e.c.SaveCaMessageResult(context.Background(), cancelledApp, client.SaveRequest{GUID: cancelled, Status: 3}); err != nil {
				t.Fatal(err)
			}
			loginTok, err := e.c.GrantToken(context.Background(), sysName, sysSecret, "")
			if err != nil {
				t.Fatal(err)
			}
			login, err := e.c.InitMessage(context.Background(), loginTok, client.InitMessageRequest{Type: 4, Message: "nonce"})
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name, guid, token string
				code              int
				message           string
			}{
				{"status 1", scanned, scannedTok, CodeConflict, "APP 尚未选择签章公司和证书（当前状态 1 已扫码），请稍后再试"},
				{"status 4", atFour, fourTok, CodeConflict, "签章 hash 已存入（状态 4 二次放入签章hash），不能再获取签章图片"},
				{"cancelled", cancelled, cancelledTok, CodeConflict, "操作已结束（状态 3 已取消），不能再获取签章图片"},
				{"a login", login, loginTok, CodeConflict, "该操作是登录操作，不是签章操作，不能获取签章图片"},
			} {
				before := e.stored(tc.guid)
				if _, m := e.getSealImg(tc.guid, tc.token); m["invokeCode"] != float64(tc.code) || m["failMessage"] != tc.message {
					t.Errorf("%s: %v", tc.name, m)
				}
				if after := e.stored(tc.guid); after.Version != before.Version {
					t.Errorf("%s: the operation changed", tc.name)
				}
			}
			expired, expiredTok, _ := e.sealOp("acme", sealedSerial)
			e.clock.Advance(DefaultOperationTTL + time.Second)
			if _, m := e.getSealImg(expired, expiredTok); m["invokeCode"] != float64(CodeExpired) || m["failMessage"] != msgExpired {
				t.Errorf("expired: %v", m)
			}
			if _, m := e.getSealImg("not-a-guid", expiredTok); m["invokeCode"] != float64(CodeBadRequest) {
				t.Errorf("bad guid: %v", m)
			}
		})
	})
}
