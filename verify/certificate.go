package verify

import (
	"context"
	"time"

	"github.com/scansign/scansign/certs"
)

// FormatCertificate marks a Result about a certificate alone.
const FormatCertificate = "certificate"

// CheckCertificate answers "whose certificate is this, and is it good?"
// without a signature: the facts, and the chain at time at (zero: now).
// certType, if not 0, must match. Reasons are those of Verify (malformed,
// untrusted, expired, not-yet-valid, revoked, wrong-cert-type).
func (v *Verifier) CheckCertificate(ctx context.Context, cert []byte, at time.Time, certType certs.CertType) *Result {
	res := &Result{VerifiedAt: v.at(at), Format: FormatCertificate}
	c, err := certs.ParseCertificate(cert)
	if err != nil {
		return res.failCertificate(err.Error())
	}
	v.setSigner(res, c)
	v.finish(ctx, res, c, nil, Request{CertType: certType})
	if res.Valid {
		res.Message, res.MessageEn = "证书有效", "the certificate is valid"
	}
	return res
}
