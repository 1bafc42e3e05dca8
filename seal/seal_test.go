package seal

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sampleImage(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "seals", "round-company.png"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPrepare(t *testing.T) {
	img := sampleImage(t)
	good := Seal{Serial: "00ab:cd", Name: "某某公司公章", WidthCM: 4.2, HeightCM: 4.2, Type: "公章", Image: img}
	got, err := good.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	if got.Serial != "ABCD" || got.Ext != "png" || got.ImageSize != len(img) {
		t.Fatalf("Prepare = serial %q ext %q size %d", got.Serial, got.Ext, got.ImageSize)
	}
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	bad := map[string]func(*Seal){
		"bad serial":         func(s *Seal) { s.Serial = "xyz" },
		"no name":            func(s *Seal) { s.Name = "" },
		"long name":          func(s *Seal) { s.Name = strings.Repeat("章", MaxNameRunes+1) },
		"control char":       func(s *Seal) { s.Description = "a\nb" },
		"bad utf8":           func(s *Seal) { s.Type = "\xff" },
		"zero width":         func(s *Seal) { s.WidthCM = 0 },
		"NaN height":         func(s *Seal) { s.HeightCM = math.NaN() },
		"huge height":        func(s *Seal) { s.HeightCM = MaxSizeCM + 1 },
		"to before from":     func(s *Seal) { s.ValidFrom, s.ValidTo = day, day.Add(-time.Hour) },
		"not an image":       func(s *Seal) { s.Image = []byte("GIF89a") },
		"no image":           func(s *Seal) { s.Image = nil },
		"long description":   func(s *Seal) { s.Description = strings.Repeat("x", MaxDescriptionRunes+1) },
		"type too long":      func(s *Seal) { s.Type = strings.Repeat("x", MaxTypeRunes+1) },
		"negative width":     func(s *Seal) { s.WidthCM = -1 },
		"infinite width":     func(s *Seal) { s.WidthCM = math.Inf(1) },
		"empty serial":       func(s *Seal) { s.Serial = "" },
		"serial with spaces": func(s *Seal) { s.Serial = "   " },
	}
	for name, mutate := range bad {
		s := good
		mutate(&s)
		if _, err := s.Prepare(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Prepare err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestUserPrepare(t *testing.T) {
	u, err := User{Serial: "0x0a", ID: "u1", Name: "张三", Phone: "13800000000"}.Prepare()
	if err != nil || u.Serial != "A" {
		t.Fatalf("Prepare = %+v, %v", u, err)
	}
	for name, u := range map[string]User{
		"bad serial": {Serial: "g"},
		"long phone": {Serial: "1", Phone: strings.Repeat("1", MaxPhoneRunes+1)},
		"dates":      {Serial: "1", ValidFrom: time.Unix(100, 0), ValidTo: time.Unix(50, 0)},
	} {
		if _, err := u.Prepare(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestValidAt(t *testing.T) {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		from, to, at time.Time
		want         bool
	}{
		{time.Time{}, time.Time{}, from, true},
		{from, to, from, true},
		{from, to, to, true},
		{from, to, from.Add(-time.Second), false},
		{from, to, to.Add(time.Second), false},
		{from, time.Time{}, to.AddDate(10, 0, 0), true},
		{time.Time{}, to, from.AddDate(-10, 0, 0), true},
	}
	for _, tt := range tests {
		if got := (Seal{ValidFrom: tt.from, ValidTo: tt.to}).ValidAt(tt.at); got != tt.want {
			t.Errorf("[%v, %v] at %v = %v", tt.from, tt.to, tt.at, got)
		}
	}
}

func TestDates(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	tests := []struct {
		in       string
		endOfDay bool
		want     time.Time
		ok       bool
	}{
		{"", false, time.Time{}, true},
		{"2025-03-04", false, time.Date(2025, 3, 4, 0, 0, 0, 0, cst), true},
		{"2025-03-04", true, time.Date(2025, 3, 4, 23, 59, 59, 0, cst), true},
		{"2025/03/04", false, time.Date(2025, 3, 4, 0, 0, 0, 0, cst), true},
		{"20250304", true, time.Date(2025, 3, 4, 23, 59, 59, 0, cst), true},
		{"2025-03-04 10:11:12", true, time.Date(2025, 3, 4, 10, 11, 12, 0, cst), true},
		{"2025-03-04T10:11:12Z", false, time.Date(2025, 3, 4, 10, 11, 12, 0, time.UTC), true},
		{"yesterday", false, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseDate(tt.in, tt.endOfDay)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseDate(%q, %v) = %v, %v", tt.in, tt.endOfDay, got, ok)
		}
	}
	if s := FormatDate(time.Date(2025, 3, 4, 2, 0, 0, 0, time.UTC)); s != "2025-03-04 10:00:00" {
		t.Errorf("FormatDate = %q", s)
	}
	if FormatDate(time.Time{}) != "" {
		t.Error("zero time not empty")
	}
	if FormatCM(4.2) != "4.2" || FormatCM(4) != "4" {
		t.Error("FormatCM")
	}
}

// TestWireNames pins the guide's field names and spelling (APPLYDate,
// overDate, signExt, signData …) and the 2.8 mapping.
func TestWireNames(t *testing.T) {
	a := GetSealAnswer{Code: CodeOK, Message: MsgOK, UserInfo: &UserInfo{UserID: "u", APPLYDate: "a", OverDate: "o", UserName: "n", Phone: "p"},
		SignInfos: []SignInfo{{SignName: "n", SignWidth: "4", SignHeight: "3", SignExt: "png", SignData: "ZGF0YQ==", Description: "d", APPLYDate: "a", OverDate: "o", SignType: "t"}}}
	b, _ := json.Marshal(a)
	want := `{"code":"0","message":"正常","userInfo":{"userId":"u","APPLYDate":"a","overDate":"o","userName":"n","phone":"p"},"signInfos":[{"signName":"n","signWidth":"4","signHeight":"3","signExt":"png","signData":"ZGF0YQ==","description":"d","APPLYDate":"a","overDate":"o","signType":"t"}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(SealImgs(a.SignInfos))
	if want := `[{"signName":"n","signWidth":"4","signHeight":"3","img":"ZGF0YQ==","description":"d"}]`; string(b) != want {
		t.Fatalf("2.8 got %s", b)
	}
	if b, _ := json.Marshal(SealImgs(nil)); string(b) != "[]" {
		t.Fatalf("empty 2.8 = %s", b)
	}
	if b, _ := json.Marshal(GetSealAnswer{Code: CodeNoSeals, Message: MsgNoSeals}); string(b) != `{"code":"404","message":"该证书没有有效的印章"}` {
		t.Fatalf("error answer = %s", b)
	}
}
