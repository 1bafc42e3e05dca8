package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/seal"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "seals", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestParseAnswer(t *testing.T) {
	img := sample(t, "oval-personal.png")
	std := base64.StdEncoding.EncodeToString(img)
	sign := func(extra string) string {
		return fmt.Sprintf(`{"signName":"张三","signWidth":"3","signHeight":"2","signExt":"png","signData":%q,"description":"个人章","APPLYDate":"","overDate":"","signType":"个人章"%s}`, std, extra)
	}
	wrapped := ""
	for i := 0; i < len(std); i += 76 {
		wrapped += std[i:min(i+76, len(std))] + "\r\n"
	}
	tests := []struct {
		name     string
		body     string
		kind     error // nil: success
		seals    int
		check    func(t *testing.T, r *Result)
		failText string
	}{
		{name: "guide shape", body: `{"code":"0","message":"正常","userInfo":{"userId":"u1","APPLYDate":"2024-01-01","overDate":"2026-01-01","userName":"张三","phone":"138"},"signInfos":[` + sign("") + `]}`, seals: 1,
			check: func(t *testing.T, r *Result) {
				want := seal.SignInfo{SignName: "张三", SignWidth: "3", SignHeight: "2", SignExt: "png", SignData: std, Description: "个人章", SignType: "个人章"}
				if r.Seals[0] != want || r.User != (seal.UserInfo{UserID: "u1", APPLYDate: "2024-01-01", OverDate: "2026-01-01", UserName: "张三", Phone: "138"}) {
					t.Fatalf("result %+v", r)
				}
			}},
		{name: "numeric code, no userInfo", body: `{"code":0,"signInfos":[` + sign("") + `]}`, seals: 1},
		{name: "double-encoded userInfo and signInfos", body: `{"code":"0","userInfo":` + quote(`{"userId":"u"}`) + `,"signInfos":` + quote("["+sign("")+"]") + `}`, seals: 1,
			check: func(t *testing.T, r *Result) {
				if r.User.UserID != "u" {
					t.Fatalf("user %+v", r.User)
				}
			}},
		{name: "data URL, sizes with cm, numbers", body: `{"code":"0","signInfos":[{"signName":"a","signWidth":4.2,"signHeight":"4.2cm","signData":"data:image/png;base64,` + std + `"}]}`, seals: 1,
			check: func(t *testing.T, r *Result) {
				if s := r.Seals[0]; s.SignWidth != "4.2" || s.SignHeight != "4.2" || s.SignData != std || s.SignExt != "png" {
					t.Fatalf("seal %+v", s)
				}
			}},
		{name: "line-wrapped base64", body: `{"code":"0","signInfos":[{"signName":"a","signWidth":"1","signHeight":"1","signData":` + quote(wrapped) + `}]}`, seals: 1},
		{name: "URL-safe unpadded base64", body: `{"code":"0","signInfos":[{"signName":"a","signWidth":"1","signHeight":"1","signData":"` + base64.RawURLEncoding.EncodeToString(img) + `"}]}`, seals: 1},
		{name: "ext label corrected to the bytes", body: `{"code":"0","signInfos":[` + strings.Replace(sign(""), `"signExt":"png"`, `"signExt":"gif"`, 1) + `]}`, seals: 1,
			check: func(t *testing.T, r *Result) {
				if r.Seals[0].SignExt != "png" {
					t.Fatalf("ext %q", r.Seals[0].SignExt)
				}
			}},
		{name: "expired and future seals dropped", body: `{"code":"0","signInfos":[` +
			strings.Replace(sign(""), `"overDate":""`, `"overDate":"2025-05-31"`, 1) + "," +
			strings.Replace(sign(""), `"APPLYDate":""`, `"APPLYDate":"2025-06-02 00:00:00"`, 1) + "," +
			strings.Replace(sign(""), `"overDate":""`, `"overDate":"2025-06-01"`, 1) + "," + // valid through that day
			strings.Replace(sign(""), `"overDate":""`, `"overDate":"someday"`, 1) + `]}`, seals: 2},
		{name: "all expired", body: `{"code":"0","signInfos":[` + strings.Replace(sign(""), `"overDate":""`, `"overDate":"2020-01-01"`, 1) + `]}`, kind: ErrNoSeals, failText: "没有可用的印章"},
		{name: "ok without seals", body: `{"code":"0","message":"正常","signInfos":[]}`, kind: ErrNoSeals},
		{name: "ok with null seals", body: `{"code":"0","signInfos":null}`, kind: ErrNoSeals},
		{name: "our no-seals code", body: `{"code":"404","message":"该证书没有有效的印章"}`, kind: ErrNoSeals},
		{name: "company error", body: `{"code":"401","message":"授权账号或密码错误"}`, kind: ErrCompanyError, failText: "签章服务返回错误：授权账号或密码错误"},
		{name: "company error, no message", body: `{"code":-1}`, kind: ErrCompanyError, failText: "签章服务返回错误码 -1"},
		{name: "company error, hostile message", body: `{"code":"9","message":"a\u0000b\nc` + strings.Repeat("长", 300) + `"}`, kind: ErrCompanyError},
		{name: "no code", body: `{"message":"x"}`, kind: ErrBadAnswer, failText: "无法识别"},
		{name: "html", body: `<html>502 Bad Gateway</html>`, kind: ErrBadAnswer},
		{name: "empty", body: ``, kind: ErrBadAnswer},
		{name: "code is an object", body: `{"code":{"a":1}}`, kind: ErrBadAnswer},
		{name: "signInfos not an array", body: `{"code":"0","signInfos":{"a":1}}`, kind: ErrBadAnswer},
		{name: "image not base64", body: `{"code":"0","signInfos":[{"signName":"a","signWidth":"1","signHeight":"1","signData":"%%%"}]}`, kind: ErrBadAnswer},
		{name: "image not an image", body: `{"code":"0","signInfos":[{"signName":"a","signWidth":"1","signHeight":"1","signData":"aGVsbG8="}]}`, kind: ErrBadAnswer},
		{name: "image missing", body: `{"code":"0","signInfos":[{"signName":"a","signWidth":"1","signHeight":"1"}]}`, kind: ErrBadAnswer},
		{name: "size missing", body: `{"code":"0","signInfos":[` + strings.Replace(sign(""), `"signWidth":"3"`, `"signWidth":""`, 1) + `]}`, kind: ErrBadAnswer},
		{name: "size negative", body: `{"code":"0","signInfos":[` + strings.Replace(sign(""), `"signHeight":"2"`, `"signHeight":"-2"`, 1) + `]}`, kind: ErrBadAnswer},
		{name: "size NaN", body: `{"code":"0","signInfos":[` + strings.Replace(sign(""), `"signHeight":"2"`, `"signHeight":"NaN"`, 1) + `]}`, kind: ErrBadAnswer},
		{name: "name too long", body: `{"code":"0","signInfos":[` + strings.Replace(sign(""), `"signName":"张三"`, `"signName":"`+strings.Repeat("x", maxTextRunes+1)+`"`, 1) + `]}`, kind: ErrBadAnswer},
		{name: "too many seals", body: `{"code":"0","signInfos":[` + strings.TrimSuffix(strings.Repeat(`{},`, maxSeals+1), ",") + `]}`, kind: ErrBadAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseAnswer([]byte(tt.body), now)
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) || r != nil {
					t.Fatalf("parseAnswer = %+v, %v; want %v", r, err, tt.kind)
				}
				msg := FailMessage(err)
				if tt.failText != "" && !strings.Contains(msg, tt.failText) {
					t.Fatalf("FailMessage = %q, want it to contain %q", msg, tt.failText)
				}
				for _, c := range msg {
					if c < 0x20 {
						t.Fatalf("FailMessage has a control character: %q", msg)
					}
				}
				if len([]rune(msg)) > 140 {
					t.Fatalf("FailMessage too long: %d runes", len([]rune(msg)))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Seals) != tt.seals {
				t.Fatalf("%d seals, want %d", len(r.Seals), tt.seals)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestFailMessages(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&Error{Kind: ErrUnknownCompany, Company: "ACME"}, "未配置的签章公司编码：ACME"},
		{&Error{Kind: ErrBadSerial}, "证书序列号格式不正确"},
		{&Error{Kind: ErrUnreachable}, "无法连接签章服务，请稍后重试"},
		{&Error{Kind: ErrTimeout}, "签章服务响应超时，请稍后重试"},
		{&Error{Kind: ErrNoSeals}, "该证书没有可用的印章"},
		{&Error{Kind: ErrBadAnswer}, "签章服务返回的数据无法识别"},
		{fmt.Errorf("wrapped: %w", &Error{Kind: ErrNoSeals}), "该证书没有可用的印章"},
		{fmt.Errorf("x: %w", context.Canceled), "请求已取消"},
		{errors.New("other"), "获取印章失败"},
	} {
		if got := FailMessage(tt.err); got != tt.want {
			t.Errorf("FailMessage(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// FuzzParseAnswer: no answer panics the parser, and whatever it accepts
// holds only canonical, checked seals.
func FuzzParseAnswer(f *testing.F) {
	img := sample(f, "oval-personal.png")
	f.Add([]byte(`{"code":"0","signInfos":[{"signName":"a","signWidth":"1","signHeight":"1","signData":"` + base64.StdEncoding.EncodeToString(img) + `"}]}`))
	f.Add([]byte(`{"code":0,"userInfo":"{\"userId\":1}","signInfos":"[]"}`))
	f.Add([]byte(`{"code":"401","message":"x"}`))
	f.Add([]byte(`{"code":"0","signInfos":[{"signWidth":"4cm","signData":"data:image/png;base64,AAAA"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseAnswer(body, now)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			_ = FailMessage(err)
			return
		}
		if len(r.Seals) == 0 || len(r.Seals) > maxSeals {
			t.Fatalf("accepted %d seals", len(r.Seals))
		}
		for _, s := range r.Seals {
			b, err := base64.StdEncoding.DecodeString(s.SignData)
			if err != nil || len(b) == 0 {
				t.Fatalf("accepted seal data that is not canonical base64")
			}
			if s.SignExt != "png" && s.SignExt != "jpg" {
				t.Fatalf("ext %q", s.SignExt)
			}
		}
	})
}
