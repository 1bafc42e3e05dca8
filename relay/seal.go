package relay

import (
	"bytes"
	"encoding/json"
	"errors"
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

// sealAnswer is the seal flow's final value (guide 三.5, 参数定义说明):
// the signature of the file hash, the seal company, and the signer's
// certificate.
type sealAnswer struct {
	SignStr              string `json:"signStr"`
	SignatureCompanyCode string `json:"signatureCompanyCode"`
	PubCert              string `json:"pubCert"`
}

// checkSealSigner is the relay's check of the app's final seal answer
// (status 4 → 2): when value is the guide's JSON, its pubCert must be the
// certificate the app named in step 6 (caSerialId, whose seals the seal
// control was given and placed), compared as certs.SerialHex. A value
// that is no JSON object — the guide's own step 10 example saves the bare
// "hash" — is let through as the guide shows it; the results API never
// calls such an answer valid.
func checkSealSigner(value, caSerialID string) error {
	v := bytes.TrimSpace([]byte(value))
	if len(v) == 0 || v[0] != '{' {
		return nil
	}
	var a sealAnswer
	if err := json.Unmarshal(v, &a); err != nil {
		return fail(CodeBadRequest, "签章结果 value 不是有效的 JSON")
	}
	if strings.TrimSpace(a.PubCert) == "" {
		return fail(CodeBadRequest, `签章结果 value 须为 {"signStr":…,"signatureCompanyCode":…,"pubCert":…}，缺少 pubCert`)
	}
	cert, err := certs.ParseCertificate([]byte(a.PubCert))
	if err != nil {
		return fail(CodeBadRequest, "签章结果中的 pubCert 不是有效的证书")
	}
	if caSerialID == "" {
		return internal(errors.New("seal operation at status 4 without the caSerialId of status 2"))
	}
	if got := certs.SerialHex(cert.SerialNumber); got != caSerialID {
		return fail(CodeCertMismatch, "签名证书（序列号 %s）不是选择印章时声明的证书（caSerialId %s），不能用他人证书的印章签章", got, caSerialID)
	}
	return nil
}
