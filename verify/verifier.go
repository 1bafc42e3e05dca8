package verify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/verify/cms"
)

// DefaultUserID is the SM2 user ID (distinguishing identifier) of GM/T
// 0009: every PKCS#7 SM2 signature uses it (GM/T 0010 has no field for
// another), and raw SM2 signatures use it unless configured otherwise.
var DefaultUserID = []byte("1234567812345678")

// Options configure a Verifier.
type Options struct {
	// AllowSHA1 accepts SHA-1 digests (refused by default).
	AllowSHA1 bool
	// UserID is the SM2 user ID of raw SM2 signatures (default
	// DefaultUserID). It never applies to PKCS#7: GM/T 0010 SignedData is
	// always signed with DefaultUserID. A raw signature that does not
	// verify with UserID is tried with DefaultUserID too — apps of other
	// CAs keep the default — and Result.SM2UserID says which one matched.
	UserID []byte
	// Classifier decides person or organisation; nil is the default rules.
	// Verifier.SetClassifier replaces it later.
	Classifier *certs.Classifier
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Verifier checks signatures against a trust store. It is safe for
// concurrent use.
type Verifier struct {
	trust      *certs.TrustStore
	opts       Options
	cache      *certCache
	classified atomic.Pointer[classified]
}

// New returns a Verifier. With a nil trust store every signature fails
// the chain check as untrusted.
func New(trust *certs.TrustStore, opts Options) *Verifier {
	if opts.UserID == nil {
		opts.UserID = DefaultUserID
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	v := &Verifier{trust: trust, opts: opts, cache: newCertCache()}
	v.classified.Store(newClassified(opts.Classifier))
	return v
}

// SetClassifier replaces the person/organisation rules (nil: the default)
// for the verifications that start after it; facts decided under the old
// rules are dropped. The server calls it when it reloads its rules file.
func (v *Verifier) SetClassifier(c *certs.Classifier) {
	v.classified.Store(newClassified(c))
}

// Trust returns the verifier's trust store.
func (v *Verifier) Trust() *certs.TrustStore { return v.trust }

// MaxSignatureSize bounds a signature (a PKCS#7 with its chain).
const MaxSignatureSize = 1 << 20

// Request is one verification.
type Request struct {
	// Signature is the PKCS#7 (DER or BER) or raw signature bytes; text
	// forms (base64, PEM, hex) are turned into bytes with certs.DecodeBinary.
	Signature []byte
	// Cert is the signer's certificate (PEM, DER or base64): required for
	// raw signatures, and used for a PKCS#7 that carries no certificate.
	Cert []byte
	// Expected is what the signer was asked to sign.
	Expected Expected
	// CertType requires a person (2) or organisation (1) certificate; 0 any.
	CertType certs.CertType
	// At is the verification time for the chain; zero means now. The
	// signer's claimed signing time is never used for it.
	At time.Time
	// Raw forces raw-signature handling even if Signature happens to parse
	// as a ContentInfo (it never does for real SM2/RSA signatures).
	Raw bool
}

// Verify checks one signature: PKCS#7 if it parses as a ContentInfo,
// otherwise a raw signature with req.Cert.
func (v *Verifier) Verify(ctx context.Context, req Request) *Result {
	res := &Result{VerifiedAt: v.at(req.At)}
	if len(req.Signature) == 0 {
		return res.fail(ReasonMalformed, "empty signature")
	}
	if len(req.Signature) > MaxSignatureSize {
		return res.fail(ReasonMalformed, fmt.Sprintf("signature of %d bytes is over the %d byte limit", len(req.Signature), MaxSignatureSize))
	}
	if !req.Raw && looksLikeContentInfo(req.Signature) {
		sd, err := cms.ParseSignedDataWith(req.Signature, v.cache.parse)
		if err != nil {
			return res.fail(ReasonMalformed, err.Error())
		}
		return v.VerifySignedData(ctx, sd, req)
	}
	return v.verifyRaw(ctx, req, res)
}

// looksLikeContentInfo tells a CMS structure (SEQUENCE starting with an
// OID) from a raw signature (an SM2 DER signature is a SEQUENCE of two
// INTEGERs; an RSA signature is random bytes).
func looksLikeContentInfo(b []byte) bool {
	if len(b) < 4 || b[0] != 0x30 {
		return false
	}
	i := 2
	switch {
	case b[1] == 0x80:
	case b[1] < 0x80:
	default:
		i += int(b[1] & 0x7f)
	}
	return i < len(b) && b[i] == 0x06
}

func (v *Verifier) at(t time.Time) time.Time {
	if t.IsZero() {
		return v.opts.Now().UTC()
	}
	return t.UTC()
}

// VerifySignedData checks an already parsed SignedData (the PDF verifier
// parses once and calls this). Every signer must verify; the result
// describes the first.
func (v *Verifier) VerifySignedData(ctx context.Context, sd *cms.SignedData, req Request) *Result {
	res := &Result{VerifiedAt: v.at(req.At), SignedData: sd, ContentChecked: req.Expected.IsSet()}
	res.Format = FormatPKCS7Attached
	if sd.Detached {
		res.Format = FormatPKCS7Detached
	}
	res.OIDStyle = "standard"
	if sd.GM {
		res.OIDStyle = "gm"
	}
	res.Content = sd.Content
	if len(sd.Signers) == 0 {
		return res.fail(ReasonMalformed, "the SignedData has no signer")
	}
	var extraCert *smx509.Certificate
	if len(req.Cert) > 0 {
		c, err := v.cache.parseAny(req.Cert)
		if err != nil {
			return res.failCertificate("the certificate given: " + err.Error())
		}
		extraCert = c
	}
	for i := range sd.Signers {
		si := &sd.Signers[i]
		r := res
		if i > 0 {
			r = &Result{VerifiedAt: res.VerifiedAt, SignedData: sd, ContentChecked: res.ContentChecked}
		}
		v.verifySigner(ctx, sd, si, extraCert, req, r)
		if i > 0 && !r.Valid {
			res.fail(r.Reason, fmt.Sprintf("signer %d: %s", i+1, r.Detail))
			return res
		}
		if i == 0 && !res.Valid {
			return res
		}
	}
	return res
}

func (v *Verifier) verifySigner(ctx context.Context, sd *cms.SignedData, si *cms.SignerInfo, extraCert *smx509.Certificate, req Request, res *Result) {
	res.SignerInfo = si
	res.SignedAttributes = si.HasSignedAttributes()
	res.SigningTime = si.SigningTime
	if si.MessageDigest != nil {
		res.MessageDigest = hex.EncodeToString(si.MessageDigest)
	}
	cert := cms.SignerCertificate(si, sd.Certificates)
	if cert == nil && extraCert != nil && cms.Identifies(si, extraCert) {
		cert = extraCert
	}
	if cert == nil {
		res.fail(ReasonNoSignerCert, "no certificate in the signature (or given) matches the signer identifier")
		return
	}
	v.setSigner(res, cert)

	kind, named, ok := cms.SignatureKind(si.SignatureAlgorithm.Algorithm)
	if !ok {
		res.fail(ReasonMalformed, fmt.Sprintf("signature algorithm %v is not supported", si.SignatureAlgorithm.Algorithm))
		return
	}
	keyKind := certKind(cert)
	if kind == cms.KindECDSA && keyKind == cms.KindSM2 {
		kind = cms.KindSM2 // ecPublicKey written for an SM2 key
	}
	if kind != keyKind {
		res.fail(ReasonMalformed, fmt.Sprintf("signature algorithm %v does not fit the certificate's %s key", si.SignatureAlgorithm.Algorithm, keyKind))
		return
	}
	d := si.Digest
	if d == cms.DigestUnknown {
		res.fail(ReasonMalformed, fmt.Sprintf("digest algorithm %v is not supported", si.DigestAlgorithm.Algorithm))
		return
	}
	if named != cms.DigestUnknown && named != d {
		res.fail(ReasonMalformed, fmt.Sprintf("signature algorithm names %v but the digest algorithm is %v", named, d))
		return
	}
	if kind == cms.KindSM2 && d != cms.SM3 {
		res.fail(ReasonMalformed, fmt.Sprintf("SM2 signatures use SM3, not %v", d))
		return
	}
	if d == cms.SHA1 && !v.opts.AllowSHA1 {
		res.fail(ReasonWeakAlgorithm, sha1Refused)
		return
	}
	res.DigestAlgorithm = d.String()
	res.SignatureAlgorithm = string(kind)

	if si.HasSignedAttributes() {
		if ct := si.ContentTypeAttr; ct != nil && !ct.Equal(sd.EContentType) && !isDataType(ct) {
			res.fail(ReasonMalformed, fmt.Sprintf("contentType attribute %v differs from the content type %v", ct, sd.EContentType))
			return
		}
		if err := v.checkSignature(cert, kind, d, candidate{data: si.SignedAttrsDER}, si.Signature, DefaultUserID); err != nil {
			res.fail(ReasonBadSignature, "signature over the signed attributes: "+err.Error())
			return
		}
		res.noteUserID(kind, DefaultUserID)
		if !sd.Detached {
			if !bytes.Equal(d.Sum(sd.Content), si.MessageDigest) {
				res.fail(ReasonBadSignature, "the attached content does not match the signed messageDigest (content altered after signing)")
				return
			}
			if req.Expected.IsSet() {
				form, ok, err := req.Expected.matchAttached(sd.Content, d)
				if err != nil {
					res.fail(ReasonContentMismatch, err.Error())
					return
				}
				if !ok {
					res.fail(ReasonContentMismatch, "the attached content is not the expected content")
					return
				}
				res.ContentForm = form
			}
		} else {
			if !req.Expected.IsSet() {
				res.fail(ReasonContentMismatch, "a detached signature needs the content it covers, and none was given")
				return
			}
			matched := false
			for _, c := range req.Expected.candidates() {
				sum, err := c.sum(d)
				if err != nil {
					continue
				}
				if bytes.Equal(sum, si.MessageDigest) {
					res.ContentForm, matched = c.form, true
					break
				}
			}
			if !matched {
				res.fail(ReasonContentMismatch, "the signed messageDigest matches none of the forms of the expected content")
				return
			}
		}
	} else {
		// No signed attributes: the signature covers the content itself.
		var cands []candidate
		switch {
		case !sd.Detached:
			cands = []candidate{{form: FormBytes, data: sd.Content}}
		case req.Expected.IsSet():
			cands = req.Expected.candidates()
		default:
			res.fail(ReasonContentMismatch, "a detached signature needs the content it covers, and none was given")
			return
		}
		var lastErr error
		matched := false
		for _, c := range cands {
			if err := v.checkSignature(cert, kind, d, c, si.Signature, DefaultUserID); err != nil {
				lastErr = err
				continue
			}
			res.ContentForm, matched = c.form, true
			if !c.prehashed {
				res.noteUserID(kind, DefaultUserID)
			}
			break
		}
		if !matched {
			if errors.Is(lastErr, errNeedContent) {
				res.fail(ReasonMalformed, lastErr.Error())
			} else if sd.Detached {
				res.fail(ReasonBadSignature, "the signature (without signed attributes) verifies over none of the forms of the expected content")
			} else {
				res.fail(ReasonBadSignature, "the signature does not verify over the attached content")
			}
			return
		}
		if !sd.Detached {
			res.ContentForm = ""
			if req.Expected.IsSet() {
				form, ok, err := req.Expected.matchAttached(sd.Content, d)
				if err != nil || !ok {
					res.fail(ReasonContentMismatch, "the attached content is not the expected content")
					return
				}
				res.ContentForm = form
			}
		}
	}
	if si.SigningTime != nil && (si.SigningTime.Before(cert.NotBefore) || si.SigningTime.After(cert.NotAfter)) {
		res.Warnings = append(res.Warnings, "claimed signing time "+si.SigningTime.UTC().Format(time.RFC3339)+" is outside the certificate's validity")
	}
	v.finish(ctx, res, cert, sd.Certificates, req)
}

func isDataType(oid asn1.ObjectIdentifier) bool {
	return oid.Equal(cms.OIDData) || oid.Equal(cms.OIDGMData)
}

func certKind(c *smx509.Certificate) cms.KeyKind {
	switch pub := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return cms.KindRSA
	case *ecdsa.PublicKey:
		if sm2.IsSM2PublicKey(pub) {
			return cms.KindSM2
		}
		return cms.KindECDSA
	}
	return ""
}

func (v *Verifier) setSigner(res *Result, cert *smx509.Certificate) {
	f := v.classified.Load().factsOf(cert)
	res.Signer = &f
	res.SignerCert = cert
}

// finish runs the chain and certificate-type checks and marks the result.
func (v *Verifier) finish(ctx context.Context, res *Result, cert *smx509.Certificate, extra []*smx509.Certificate, req Request) {
	if v.trust == nil {
		res.fail(ReasonUntrusted, "no trust store is configured")
		return
	}
	chain, err := v.trust.Verify(ctx, cert, extra, res.VerifiedAt)
	if err != nil {
		var ce *certs.ChainError
		switch {
		case errors.Is(err, certs.ErrExpired):
			res.fail(ReasonExpired, err.Error())
		case errors.Is(err, certs.ErrNotYetValid):
			res.fail(ReasonNotYetValid, err.Error())
		case errors.Is(err, certs.ErrRevoked):
			res.fail(ReasonRevoked, err.Error())
		case errors.As(err, &ce):
			res.fail(ReasonUntrusted, err.Error())
		default:
			res.fail(ReasonUntrusted, err.Error())
		}
		return
	}
	res.ChainCerts = chain.Certificates
	res.ChainCached = chain.Cached
	res.Warnings = append(res.Warnings, chain.Warnings...)
	res.Chain = make([]string, 0, len(chain.Certificates))
	for _, c := range chain.Certificates {
		res.Chain = append(res.Chain, v.classified.Load().factsOf(c).Subject)
	}
	if req.CertType != certs.CertTypeAny && res.Signer.CertType != req.CertType {
		res.fail(ReasonWrongCertType, fmt.Sprintf("a %v certificate is required, the signer's is a %v certificate", req.CertType, res.Signer.CertType))
		return
	}
	res.pass()
}

// checkSignature verifies sig over the candidate content with cert's key;
// uid is the SM2 user ID (unused by RSA and ECDSA).
func (v *Verifier) checkSignature(cert *smx509.Certificate, kind cms.KeyKind, d cms.Digest, c candidate, sig []byte, uid []byte) error {
	switch kind {
	case cms.KindSM2:
		pub := cert.PublicKey.(*ecdsa.PublicKey)
		e, err := c.sm2E(pub, uid)
		if err != nil {
			return err
		}
		if len(sig) == 64 {
			sig = rsToDER(sig)
		}
		if !sm2.VerifyASN1(pub, e, sig) {
			return errors.New("SM2 signature does not verify")
		}
		return nil
	case cms.KindRSA:
		sum, err := c.sum(d)
		if err != nil {
			return err
		}
		if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), d.CryptoHash(), sum, sig); err != nil {
			return errors.New("RSA signature does not verify")
		}
		return nil
	case cms.KindECDSA:
		sum, err := c.sum(d)
		if err != nil {
			return err
		}
		if !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), sum, sig) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("key type %s is not supported", kind)
}

func rsToDER(rs []byte) []byte {
	der, _ := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(rs[:32]), new(big.Int).SetBytes(rs[32:])})
	return der
}

// plausibleRaw tells a raw signature (SM2 DER or r||s, RSA of a usual
// size) from garbage when there is no certificate to check it with.
func plausibleRaw(sig []byte) bool {
	switch len(sig) {
	case 64, 128, 256, 384, 512:
		return true
	}
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(sig, &rs)
	return err == nil && len(rest) == 0
}

// verifyRaw checks a raw SM2 or RSA signature against req.Cert.
func (v *Verifier) verifyRaw(ctx context.Context, req Request, res *Result) *Result {
	res.ContentChecked = true
	if len(req.Cert) == 0 {
		if !plausibleRaw(req.Signature) {
			return res.fail(ReasonMalformed, "neither a PKCS#7 SignedData nor a raw SM2/RSA signature")
		}
		return res.fail(ReasonNoSignerCert, "a raw signature needs the signer's certificate (pubCert)")
	}
	cert, err := v.cache.parseAny(req.Cert)
	if err != nil {
		return res.failCertificate("the certificate given: " + err.Error())
	}
	v.setSigner(res, cert)
	if !req.Expected.IsSet() {
		return res.fail(ReasonContentMismatch, "a raw signature needs the content it covers, and none was given")
	}
	kind := certKind(cert)
	sig := req.Signature
	var digests []cms.Digest
	switch kind {
	case cms.KindSM2:
		res.Format, res.SignatureAlgorithm, res.DigestAlgorithm = FormatRawSM2, "SM2", "SM3"
		switch {
		case len(sig) == 64:
			sig = rsToDER(sig)
		default:
			var rs struct{ R, S *big.Int }
			if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) != 0 {
				return res.fail(ReasonMalformed, fmt.Sprintf("a raw SM2 signature is DER (70–72 bytes) or 64-byte r||s; got %d bytes", len(sig)))
			}
		}
		digests = []cms.Digest{cms.SM3}
	case cms.KindRSA:
		res.Format, res.SignatureAlgorithm = FormatRawRSA, "RSA"
		if n := cert.PublicKey.(*rsa.PublicKey).Size(); len(sig) != n {
			return res.fail(ReasonMalformed, fmt.Sprintf("an RSA-%d signature is %d bytes; got %d", n*8, n, len(sig)))
		}
		digests = []cms.Digest{cms.SHA256, cms.SHA384, cms.SHA512}
		if v.opts.AllowSHA1 {
			digests = append(digests, cms.SHA1)
		}
	default:
		return res.fail(ReasonMalformed, "raw signatures are SM2 or RSA; the certificate's key is "+string(kind))
	}
	// The configured SM2 user ID first, then the default (see Options.UserID).
	uids := [][]byte{v.opts.UserID}
	if kind == cms.KindSM2 && !bytes.Equal(v.opts.UserID, DefaultUserID) {
		uids = append(uids, DefaultUserID)
	}
	var lastErr error
	for _, c := range req.Expected.candidates() {
		for _, d := range digests {
			if c.prehashed && len(c.data) != d.Size() {
				continue
			}
			for i, uid := range uids {
				if i > 0 && c.prehashed {
					break // a prehashed digest does not involve the user ID
				}
				if err := v.checkSignature(cert, kind, d, c, sig, uid); err != nil {
					lastErr = err
					continue
				}
				res.ContentForm = c.form
				res.DigestAlgorithm = d.String()
				if !c.prehashed {
					res.noteUserID(kind, uid)
				}
				v.finish(ctx, res, cert, nil, req)
				return res
			}
		}
	}
	if errors.Is(lastErr, errNeedContent) {
		return res.fail(ReasonMalformed, lastErr.Error())
	}
	if kind == cms.KindRSA && !v.opts.AllowSHA1 && v.verifiesWithSHA1(cert, req.Expected, sig) {
		res.DigestAlgorithm = cms.SHA1.String()
		return res.fail(ReasonWeakAlgorithm, "the raw RSA signature is over a SHA-1 digest: "+sha1Refused)
	}
	return res.fail(ReasonBadSignature, "the signature verifies over none of the forms of the expected content")
}

// sha1Refused is the detail of a SHA-1 signature refused by policy.
const sha1Refused = "SHA-1 digests are refused by policy (allow_sha1 / --allow-sha1 accepts them)"

// verifiesWithSHA1 reports whether a raw RSA signature that failed with
// the accepted digests is a SHA-1 one, so that it is refused for what it
// is rather than as a bad signature.
func (v *Verifier) verifiesWithSHA1(cert *smx509.Certificate, exp Expected, sig []byte) bool {
	for _, c := range exp.candidates() {
		if c.prehashed && len(c.data) != cms.SHA1.Size() {
			continue
		}
		if v.checkSignature(cert, cms.KindRSA, cms.SHA1, c, sig, nil) == nil {
			return true
		}
	}
	return false
}
