package verify

import (
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/verify/cms"
)

// Reason says which check failed. The empty reason means valid.
type Reason string

// Reason codes, in the order the checks run.
const (
	ReasonNone            Reason = ""
	ReasonMalformed       Reason = "malformed"        // not a signature we can read
	ReasonNoSignerCert    Reason = "no-signer-cert"   // the signer's certificate is missing
	ReasonWeakAlgorithm   Reason = "weak-algorithm"   // an algorithm refused by policy (SHA-1 unless allowed)
	ReasonBadSignature    Reason = "bad-signature"    // the signature value does not verify
	ReasonContentMismatch Reason = "content-mismatch" // it signs something other than what was asked
	ReasonUntrusted       Reason = "untrusted"        // no chain to a trusted root
	ReasonExpired         Reason = "expired"          // a certificate of the chain has expired
	ReasonNotYetValid     Reason = "not-yet-valid"    // a certificate of the chain is not valid yet
	ReasonRevoked         Reason = "revoked"          // revoked by its issuer's CRL
	ReasonWrongCertType   Reason = "wrong-cert-type"  // person/organisation not the one required
)

// Messages returns the Chinese and English messages for a reason.
func (r Reason) Messages() (zh, en string) {
	switch r {
	case ReasonNone:
		return "签名有效", "the signature is valid"
	case ReasonMalformed:
		return "签名数据格式错误，无法解析", "the signature is malformed"
	case ReasonNoSignerCert:
		return "未找到签名证书", "the signer's certificate is missing"
	case ReasonWeakAlgorithm:
		return "签名算法强度不足，不予接受", "the signature uses an algorithm refused by policy"
	case ReasonBadSignature:
		return "签名值验证失败", "the signature value does not verify"
	case ReasonContentMismatch:
		return "签名原文与待签名内容不一致", "the signed content differs from what was asked to be signed"
	case ReasonUntrusted:
		return "签名证书不受信任", "the signer's certificate does not chain to a trusted root"
	case ReasonExpired:
		return "签名证书已过期", "the signer's certificate has expired"
	case ReasonNotYetValid:
		return "签名证书尚未生效", "the signer's certificate is not yet valid"
	case ReasonRevoked:
		return "签名证书已被吊销", "the signer's certificate has been revoked"
	case ReasonWrongCertType:
		return "证书类型不符合要求", "the certificate is not of the required type (person/organisation)"
	}
	return "验证失败", "verification failed"
}

// ContentForm says how the signed content matched what was expected.
type ContentForm string

// Content forms.
const (
	// FormBytes: the signed content is the expected bytes (or, for
	// ExpectDigest/ExpectStream, the content those describe).
	FormBytes ContentForm = "bytes"
	// FormHexText: a hash was expected as hex and the app signed the hex text.
	FormHexText ContentForm = "hex-text"
	// FormRawHash: a hash was expected as hex and the app signed its raw bytes.
	FormRawHash ContentForm = "raw-hash"
	// FormPrehashed: a hash was expected and the app used it as the
	// message digest itself (PKCS#7 messageDigest, or the digest signed
	// directly by a raw signature).
	FormPrehashed ContentForm = "prehashed"
)

// Signature formats.
const (
	FormatPKCS7Attached = "pkcs7-attached"
	FormatPKCS7Detached = "pkcs7-detached"
	FormatRawSM2        = "raw-sm2"
	FormatRawRSA        = "raw-rsa"
)

// Result is the one answer of every verification.
type Result struct {
	Valid  bool   `json:"valid"`
	Reason Reason `json:"reason"`
	// Message (Chinese) and MessageEn say the reason to people; Detail is
	// the technical cause (English).
	Message   string `json:"message"`
	MessageEn string `json:"messageEn"`
	Detail    string `json:"detail,omitempty"`

	Format           string `json:"format,omitempty"`   // pkcs7-attached, pkcs7-detached, raw-sm2, raw-rsa
	OIDStyle         string `json:"oidStyle,omitempty"` // "gm" (GM/T 0010) or "standard", PKCS#7 only
	SignedAttributes bool   `json:"signedAttributes"`

	Signer *certs.Facts `json:"signer,omitempty"`

	// ContentChecked is false when no expected content was given (an
	// attached signature checked on its own).
	ContentChecked     bool        `json:"contentChecked"`
	ContentForm        ContentForm `json:"contentForm,omitempty"`
	DigestAlgorithm    string      `json:"digestAlgorithm,omitempty"`    // "SM3", "SHA-256", …
	SignatureAlgorithm string      `json:"signatureAlgorithm,omitempty"` // "SM2", "RSA", "ECDSA"
	MessageDigest      string      `json:"messageDigest,omitempty"`      // hex, from the signed attributes
	// SM2UserID is the SM2 user ID the signature verified with: always
	// the default 1234567812345678 for PKCS#7; for a raw signature the
	// configured one, or the default when it verified only with that.
	// Empty for RSA, and when the app signed a given digest directly.
	SM2UserID string `json:"sm2UserId,omitempty"`
	// SigningTime is the time the signer claims (signed attribute); it is
	// reported, not trusted: the chain is checked at VerifiedAt.
	SigningTime *time.Time `json:"signingTime,omitempty"`
	VerifiedAt  time.Time  `json:"verifiedAt"`
	Chain       []string   `json:"chain,omitempty"` // subjects, leaf first
	Warnings    []string   `json:"warnings,omitempty"`

	// For Go callers: the attached content, the signer's certificate and
	// chain, and the parsed structure (so a PDF verifier need not parse
	// the CMS again).
	Content     []byte                `json:"-"`
	SignerCert  *smx509.Certificate   `json:"-"`
	ChainCerts  []*smx509.Certificate `json:"-"`
	ChainCached bool                  `json:"-"`
	SignedData  *cms.SignedData       `json:"-"`
	SignerInfo  *cms.SignerInfo       `json:"-"`
}

// failCertificate is fail(ReasonMalformed) for a certificate that cannot
// be read: the messages say the certificate, not the signature, is bad.
func (r *Result) failCertificate(detail string) *Result {
	r.fail(ReasonMalformed, detail)
	r.Message, r.MessageEn = "证书格式错误，无法解析", "the certificate is malformed"
	return r
}

// fail sets the reason and messages.
func (r *Result) fail(reason Reason, detail string) *Result {
	r.Valid = false
	r.Reason = reason
	r.Message, r.MessageEn = reason.Messages()
	r.Detail = detail
	return r
}

// noteUserID records the SM2 user ID a signature verified with.
func (r *Result) noteUserID(kind cms.KeyKind, uid []byte) {
	if kind == cms.KindSM2 {
		r.SM2UserID = string(uid)
	}
}

func (r *Result) pass() *Result {
	r.Valid = true
	r.Reason = ReasonNone
	r.Message, r.MessageEn = ReasonNone.Messages()
	r.Detail = ""
	return r
}
