package verify_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify"
	"github.com/scansign/scansign/verify/cms"
)

// newVerifier trusts the committed test PKI's roots.
func newVerifier(t testing.TB) *verify.Verifier {
	t.Helper()
	ts, err := certs.LoadTrustStore(testpki.Manifest(t).TrustDir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return verify.New(ts, verify.Options{})
}

func TestOwnSignaturesRoundTrip(t *testing.T) {
	v := newVerifier(t)
	ctx := context.Background()
	content := []byte("f7c54891-adad-4f32-9994-83d70a7204a2")
	for _, leaf := range []string{"sm2-person", "sm2-org", "rsa-person", "rsa-org"} {
		id := testpki.Identity(t, leaf)
		for _, opts := range []sign.Options{
			{}, {Detached: true}, {NoSignedAttributes: true}, {Detached: true, NoSignedAttributes: true},
			{StandardOIDs: true}, {StandardOIDs: true, Detached: true}, {BySubjectKeyID: true},
			{BySubjectKeyID: true, Detached: true, NoSignedAttributes: true}, {Chain: id.Chain},
		} {
			sig, err := sign.PKCS7(content, id.Signer, id.Certificate, opts)
			if err != nil {
				t.Fatalf("%s %+v: %v", leaf, opts, err)
			}
			res := v.Verify(ctx, verify.Request{Signature: sig, Expected: verify.ExpectBytes(content)})
			if !res.Valid || res.ContentForm != verify.FormBytes || res.Signer == nil {
				t.Errorf("%s %+v: %+v", leaf, opts, res)
				continue
			}
			wantGM := certs.IsSM2(id.Certificate) && !opts.StandardOIDs
			if (res.OIDStyle == "gm") != wantGM || res.SignedAttributes == opts.NoSignedAttributes {
				t.Errorf("%s %+v: oidStyle %s signedAttrs %v", leaf, opts, res.OIDStyle, res.SignedAttributes)
			}
			// Wrong content.
			bad := v.Verify(ctx, verify.Request{Signature: sig, Expected: verify.ExpectText("something else")})
			want := verify.ReasonContentMismatch
			if opts.Detached && opts.NoSignedAttributes {
				want = verify.ReasonBadSignature
			}
			if bad.Valid || bad.Reason != want {
				t.Errorf("%s %+v wrong content: %s (%s)", leaf, opts, bad.Reason, bad.Detail)
			}
		}
	}
}

func TestHashForms(t *testing.T) {
	v := newVerifier(t)
	ctx := context.Background()
	for _, leaf := range []string{"sm2-org", "rsa-org"} {
		id := testpki.Identity(t, leaf)
		alg := cms.SHA256
		if certs.IsSM2(id.Certificate) {
			alg = cms.SM3
		}
		pdfHash := alg.Sum([]byte("%PDF-1.7 pretend byte ranges"))
		hexHash := hex.EncodeToString(pdfHash)
		exp, err := verify.ExpectHashHex(hexHash)
		if err != nil {
			t.Fatal(err)
		}
		type mk func() ([]byte, error)
		for _, tc := range []struct {
			name string
			make mk
			want verify.ContentForm
		}{
			{"pkcs7 over hex text", func() ([]byte, error) { return sign.PKCS7([]byte(hexHash), id.Signer, id.Certificate, sign.Options{}) }, verify.FormHexText},
			{"pkcs7 detached over raw hash", func() ([]byte, error) {
				return sign.PKCS7(pdfHash, id.Signer, id.Certificate, sign.Options{Detached: true})
			}, verify.FormRawHash},
			{"pkcs7 over digest", func() ([]byte, error) {
				return sign.PKCS7Digest(pdfHash, alg, id.Signer, id.Certificate, sign.Options{})
			}, verify.FormPrehashed},
			{"raw over hex text", func() ([]byte, error) { return rawSign(id, []byte(hexHash)) }, verify.FormHexText},
			{"raw over raw hash", func() ([]byte, error) { return rawSign(id, pdfHash) }, verify.FormRawHash},
		} {
			sig, err := tc.make()
			if err != nil {
				t.Fatal(err)
			}
			res := v.Verify(ctx, verify.Request{Signature: sig, Cert: id.Certificate.Raw, Expected: exp})
			if !res.Valid || res.ContentForm != tc.want {
				t.Errorf("%s %s: valid=%v form=%s reason=%s %s", leaf, tc.name, res.Valid, res.ContentForm, res.Reason, res.Detail)
			}
		}
		// A PDF verifier passes only the digest of the byte ranges.
		sig, _ := sign.PKCS7Digest(pdfHash, alg, id.Signer, id.Certificate, sign.Options{})
		res := v.Verify(ctx, verify.Request{Signature: sig, Expected: verify.ExpectDigest(func(d cms.Digest) ([]byte, error) {
			if d != alg {
				t.Errorf("digest asked for %v, want %v", d, alg)
			}
			return pdfHash, nil
		})})
		if !res.Valid || res.SignerInfo == nil || !bytes.Equal(res.SignerInfo.MessageDigest, pdfHash) || res.SigningTime == nil {
			t.Errorf("%s ExpectDigest: %+v", leaf, res)
		}
	}
}

func rawSign(id *certs.Identity, msg []byte) ([]byte, error) {
	if certs.IsSM2(id.Certificate) {
		return sign.SM2(id.Signer, msg, sign.RawOptions{})
	}
	return sign.RSA(id.Signer, msg, cms.SHA256)
}

func TestRawSignatures(t *testing.T) {
	v := newVerifier(t)
	ctx := context.Background()
	msg := []byte("登录随机数 8a1f")
	sm2ID := testpki.Identity(t, "sm2-person")
	der, _ := sign.SM2(sm2ID.Signer, msg, sign.RawOptions{})
	rs, _ := sign.SM2(sm2ID.Signer, msg, sign.RawOptions{RS: true})
	otherUID, _ := sign.SM2(sm2ID.Signer, msg, sign.RawOptions{UserID: []byte("alice@example")})
	rsaID := testpki.Identity(t, "rsa-person")
	rsaSig, _ := sign.RSA(rsaID.Signer, msg, cms.SHA256)
	e := sm3.Sum(msg)
	pre, _ := sign.SM2Digest(sm2ID.Signer, e[:], sign.RawOptions{})
	flip := func(b []byte) []byte { c := bytes.Clone(b); c[len(c)/2] ^= 1; return c }
	for _, tc := range []struct {
		name   string
		sig    []byte
		cert   *smx509.Certificate
		exp    verify.Expected
		reason verify.Reason
		format string
	}{
		{"sm2 der", der, sm2ID.Certificate, verify.ExpectBytes(msg), verify.ReasonNone, verify.FormatRawSM2},
		{"sm2 r||s", rs, sm2ID.Certificate, verify.ExpectBytes(msg), verify.ReasonNone, verify.FormatRawSM2},
		{"sm2 other user id", otherUID, sm2ID.Certificate, verify.ExpectBytes(msg), verify.ReasonBadSignature, verify.FormatRawSM2},
		{"sm2 flipped", flip(der), sm2ID.Certificate, verify.ExpectBytes(msg), verify.ReasonBadSignature, verify.FormatRawSM2},
		{"sm2 wrong content", der, sm2ID.Certificate, verify.ExpectText("x"), verify.ReasonBadSignature, verify.FormatRawSM2},
		{"sm2 wrong cert", der, rsaID.Certificate, verify.ExpectBytes(msg), verify.ReasonMalformed, verify.FormatRawRSA},
		{"sm2 garbage", []byte{1, 2, 3}, sm2ID.Certificate, verify.ExpectBytes(msg), verify.ReasonMalformed, verify.FormatRawSM2},
		{"rsa", rsaSig, rsaID.Certificate, verify.ExpectBytes(msg), verify.ReasonNone, verify.FormatRawRSA},
		{"rsa flipped", flip(rsaSig), rsaID.Certificate, verify.ExpectBytes(msg), verify.ReasonBadSignature, verify.FormatRawRSA},
		{"sm2 no cert", der, nil, verify.ExpectBytes(msg), verify.ReasonNoSignerCert, ""},
	} {
		var certDER []byte
		if tc.cert != nil {
			certDER = tc.cert.Raw
		}
		res := v.Verify(ctx, verify.Request{Signature: tc.sig, Cert: certDER, Expected: tc.exp})
		if res.Reason != tc.reason || res.Valid != (tc.reason == verify.ReasonNone) || res.Format != tc.format {
			t.Errorf("%s: reason %q format %q (%s), want %q %q", tc.name, res.Reason, res.Format, res.Detail, tc.reason, tc.format)
		}
	}
	hexE, _ := verify.ExpectHashHex(hex.EncodeToString(e[:]))
	if res := v.Verify(ctx, verify.Request{Signature: pre, Cert: sm2ID.Certificate.Raw, Expected: hexE}); !res.Valid || res.ContentForm != verify.FormPrehashed {
		t.Errorf("sm2 prehashed: %+v", res)
	}
}

func TestChainVerdicts(t *testing.T) {
	m := testpki.Manifest(t)
	v := newVerifier(t)
	ctx := context.Background()
	content := []byte("hello")
	for leaf, want := range map[string]verify.Reason{
		"sm2-expired": verify.ReasonExpired, "rsa-expired": verify.ReasonExpired,
		"sm2-revoked": verify.ReasonRevoked, "rsa-revoked": verify.ReasonRevoked,
		"sm2-untrusted": verify.ReasonUntrusted, "rsa-untrusted": verify.ReasonUntrusted,
	} {
		id := testpki.Identity(t, leaf)
		sig, err := sign.PKCS7(content, id.Signer, id.Certificate, sign.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := v.Verify(ctx, verify.Request{Signature: sig, Expected: verify.ExpectBytes(content)})
		if res.Valid || res.Reason != want || res.Signer == nil || res.Message == "" || res.MessageEn == "" {
			t.Errorf("%s: %s (%s), want %s", leaf, res.Reason, res.Detail, want)
		}
	}
	// --at: the expired leaf was good while it was valid.
	l, _ := m.Leaf("sm2-expired")
	id := testpki.Identity(t, "sm2-expired")
	sig, _ := sign.PKCS7(content, id.Signer, id.Certificate, sign.Options{})
	at, _ := time.Parse(time.RFC3339, l.NotAfter)
	if res := v.Verify(ctx, verify.Request{Signature: sig, Expected: verify.ExpectBytes(content), At: at.Add(-time.Hour)}); !res.Valid {
		t.Errorf("expired leaf at a time it was valid: %s %s", res.Reason, res.Detail)
	}
	// The claimed signing time does not rescue an expired certificate.
	sig, _ = sign.PKCS7(content, id.Signer, id.Certificate, sign.Options{SigningTime: at.Add(-time.Hour)})
	if res := v.Verify(ctx, verify.Request{Signature: sig, Expected: verify.ExpectBytes(content)}); res.Reason != verify.ReasonExpired {
		t.Errorf("backdated signing time: %s", res.Reason)
	}
	// certType.
	org := testpki.Identity(t, "sm2-org")
	sig, _ = sign.PKCS7(content, org.Signer, org.Certificate, sign.Options{})
	if res := v.Verify(ctx, verify.Request{Signature: sig, Expected: verify.ExpectBytes(content), CertType: certs.CertTypePerson}); res.Reason != verify.ReasonWrongCertType {
		t.Errorf("org cert for person: %s", res.Reason)
	}
	if res := v.Verify(ctx, verify.Request{Signature: sig, Expected: verify.ExpectBytes(content), CertType: certs.CertTypeOrganisation}); !res.Valid || res.Signer.CreditCode == "" {
		t.Errorf("org cert for organisation: %s", res.Reason)
	}
}

func TestNoCertificatesInSignature(t *testing.T) {
	v := newVerifier(t)
	id := testpki.Identity(t, "sm2-person")
	sig, _ := sign.PKCS7([]byte("x"), id.Signer, id.Certificate, sign.Options{NoCertificates: true})
	ctx := context.Background()
	if res := v.Verify(ctx, verify.Request{Signature: sig, Expected: verify.ExpectText("x")}); res.Reason != verify.ReasonNoSignerCert {
		t.Errorf("without cert: %s", res.Reason)
	}
	if res := v.Verify(ctx, verify.Request{Signature: sig, Cert: id.Certificate.Raw, Expected: verify.ExpectText("x")}); !res.Valid {
		t.Errorf("with pubCert: %s %s", res.Reason, res.Detail)
	}
	other := testpki.Identity(t, "sm2-org")
	if res := v.Verify(ctx, verify.Request{Signature: sig, Cert: other.Certificate.Raw, Expected: verify.ExpectText("x")}); res.Reason != verify.ReasonNoSignerCert {
		t.Errorf("with someone else's pubCert: %s", res.Reason)
	}
}

func TestExpectStream(t *testing.T) {
	v := newVerifier(t)
	id := testpki.Identity(t, "sm2-person")
	big := bytes.Repeat([]byte("0123456789"), 100000)
	sig, _ := sign.PKCS7(big, id.Signer, id.Certificate, sign.Options{Detached: true, NoSignedAttributes: true})
	stream := verify.ExpectStream(func(w io.Writer) error { _, err := w.Write(big); return err })
	if res := v.Verify(context.Background(), verify.Request{Signature: sig, Expected: stream}); !res.Valid {
		t.Errorf("stream: %s %s", res.Reason, res.Detail)
	}
	digestOnly := verify.ExpectDigest(func(cms.Digest) ([]byte, error) { s := sm3.Sum(big); return s[:], nil })
	if res := v.Verify(context.Background(), verify.Request{Signature: sig, Expected: digestOnly}); res.Reason != verify.ReasonMalformed {
		t.Errorf("SM2 without attributes from a digest: %s", res.Reason)
	}
	rid := testpki.Identity(t, "rsa-person")
	rsig, _ := sign.PKCS7(big, rid.Signer, rid.Certificate, sign.Options{Detached: true, NoSignedAttributes: true})
	rdigest := verify.ExpectDigest(func(cms.Digest) ([]byte, error) { s := sha256.Sum256(big); return s[:], nil })
	if res := v.Verify(context.Background(), verify.Request{Signature: rsig, Expected: rdigest}); !res.Valid {
		t.Errorf("RSA without attributes from a digest: %s %s", res.Reason, res.Detail)
	}
}

// TestSetClassifier: new rules apply to the next verification, though the
// signer's facts were cached under the old ones.
func TestSetClassifier(t *testing.T) {
	v := newVerifier(t)
	pem, err := os.ReadFile(testpki.Leaf(t, "sm2-person").CertPath)
	if err != nil {
		t.Fatal(err)
	}
	certType := func() certs.CertType {
		res := v.CheckCertificate(context.Background(), pem, time.Time{}, certs.CertTypeAny)
		if !res.Valid {
			t.Fatalf("%s: %s", res.Reason, res.Detail)
		}
		return res.Signer.CertType
	}
	if got := certType(); got != certs.CertTypePerson {
		t.Fatalf("default rules: %v", got)
	}
	c, err := certs.NewClassifier([]certs.CertTypeRule{{Field: "CN", Match: "^张三$", CertType: certs.CertTypeOrganisation}})
	if err != nil {
		t.Fatal(err)
	}
	v.SetClassifier(c)
	if got := certType(); got != certs.CertTypeOrganisation {
		t.Fatalf("after SetClassifier: %v", got)
	}
	v.SetClassifier(nil)
	if got := certType(); got != certs.CertTypePerson {
		t.Fatalf("back to the default: %v", got)
	}
}
