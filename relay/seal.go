package relay

import (
	"encoding/json"
	"strings"

	"github.com/scansign/scansign/certs"
)

// parseSealCompany reads what the app saves in the seal flow's first status
// 2 (guide 三.5 step 6): value {"signatureCompanyCode":…} and extMessage
// {"caSerialId":…}. The relay needs both to fetch the seals later, so
// anything else is refused.
func parseSealCompany(value, ext *string) (code, serial string, err error) {
	const want = `签章操作选择签章公司时，value 须为 {"signatureCompanyCode":"…"}，extMessage 须为 {"caSerialId":"…"}`
	if value == nil || ext == nil {
		return "", "", fail(CodeBadRequest, want)
	}
	var v struct {
		Code *string `json:"signatureCompanyCode"`
	}
	var e struct {
		Serial *string `json:"caSerialId"`
	}
	if json.Unmarshal([]byte(*value), &v) != nil || v.Code == nil || strings.TrimSpace(*v.Code) == "" {
		return "", "", fail(CodeBadRequest, want)
	}
	if json.Unmarshal([]byte(*ext), &e) != nil || e.Serial == nil {
		return "", "", fail(CodeBadRequest, want)
	}
	serial, serr := certs.NormalizeSerial(*e.Serial)
	if serr != nil {
		return "", "", fail(CodeBadRequest, "caSerialId 不是十六进制的证书序列号")
	}
	code = strings.TrimSpace(*v.Code)
	if len(code) > 128 {
		return "", "", fail(CodeBadRequest, "signatureCompanyCode 过长")
	}
	return code, serial, nil
}
