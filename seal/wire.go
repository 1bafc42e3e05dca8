package seal

import (
	"strconv"
	"time"
)

// Answer codes of /api/getSeal; see the package documentation.
const (
	CodeOK           = "0"
	CodeBadRequest   = "400"
	CodeUnauthorized = "401"
	CodeNoSeals      = "404"
	CodeTooLarge     = "413"
	CodeThrottled    = "429"
	CodeInternal     = "500"
)

// Messages of /api/getSeal, one per code.
const (
	MsgOK           = "正常"
	MsgBadRequest   = "参数错误"
	MsgUnauthorized = "授权账号或密码错误"
	MsgNoSeals      = "该证书没有有效的印章"
	MsgTooLarge     = "请求数据过大"
	MsgThrottled    = "认证失败次数过多，请稍后再试"
	MsgInternal     = "签章服务内部错误"
)

// GetSealAnswer is the body of /api/getSeal (guide 二.3.1). UserInfo and
// SignInfos are present only when Code is "0".
type GetSealAnswer struct {
	Code      string     `json:"code"`
	Message   string     `json:"message"`
	UserInfo  *UserInfo  `json:"userInfo,omitempty"`
	SignInfos []SignInfo `json:"signInfos,omitempty"`
}

// UserInfo is the answer's userInfo, field names as the guide spells them.
type UserInfo struct {
	UserID    string `json:"userId"`
	APPLYDate string `json:"APPLYDate"`
	OverDate  string `json:"overDate"`
	UserName  string `json:"userName"`
	Phone     string `json:"phone"`
}

// SignInfo is one element of the answer's signInfos.
type SignInfo struct {
	SignName    string `json:"signName"`
	SignWidth   string `json:"signWidth"`  // centimetres
	SignHeight  string `json:"signHeight"` // centimetres
	SignExt     string `json:"signExt"`    // "png" or "jpg"
	SignData    string `json:"signData"`   // base64 of the image file
	Description string `json:"description"`
	APPLYDate   string `json:"APPLYDate"`
	OverDate    string `json:"overDate"`
	SignType    string `json:"signType"`
}

// SealImg is one element of the relay's /getSealImg signInfos (guide 二.2.8).
type SealImg struct {
	SignName    string `json:"signName"`
	SignWidth   string `json:"signWidth"`
	SignHeight  string `json:"signHeight"`
	Img         string `json:"img"` // base64 of the image file
	Description string `json:"description"`
}

// SealImgs maps a seal company's signInfos to the relay's 2.8 signInfos.
// It never returns nil, so the relay answers "signInfos":[] rather than null.
func SealImgs(infos []SignInfo) []SealImg {
	out := make([]SealImg, 0, len(infos))
	for _, in := range infos {
		out = append(out, SealImg{
			SignName:    in.SignName,
			SignWidth:   in.SignWidth,
			SignHeight:  in.SignHeight,
			Img:         in.SignData,
			Description: in.Description,
		})
	}
	return out
}

// China Standard Time, fixed (China keeps no daylight saving time), so the
// dates need no time zone database on the machine.
var chinaTime = time.FixedZone("CST", 8*3600)

// DateLayout is how APPLYDate and overDate are written: China Standard Time
// to the second, the common form in Chinese CA and seal systems.
const DateLayout = "2006-01-02 15:04:05"

// FormatDate writes t for APPLYDate/overDate; the zero time is "".
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(chinaTime).Format(DateLayout)
}

// dateLayouts are the forms ParseDate reads, the ones seal companies and
// people type: with or without the time, dashes or slashes, compact digits.
var dateLayouts = []string{
	DateLayout,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006/01/02 15:04:05",
	"20060102150405",
}

// dayLayouts name a whole day.
var dayLayouts = []string{"2006-01-02", "2006/01/02", "20060102"}

// ParseDate reads an APPLYDate/overDate (or a CLI --from/--to) in China
// Standard Time unless it carries its own zone (RFC 3339). A bare day means
// its first second, or, with endOfDay, its last second, so "--to 2026-12-31"
// keeps a seal valid all that day. "" is the zero time.
func ParseDate(s string, endOfDay bool) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, chinaTime); err == nil {
			return t, true
		}
	}
	for _, l := range dayLayouts {
		if t, err := time.ParseInLocation(l, s, chinaTime); err == nil {
			if endOfDay {
				t = t.AddDate(0, 0, 1).Add(-time.Second)
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// FormatCM writes a size in centimetres the shortest way ("4.2", "4").
func FormatCM(cm float64) string {
	return strconv.FormatFloat(cm, 'f', -1, 64)
}
