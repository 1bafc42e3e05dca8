package verify_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/internal/testtool"
	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify"
	"github.com/scansign/scansign/verify/cms"
	"github.com/scansign/scansign/verify/envelope"
)

// The interop fixtures are made by BouncyCastle (SM2) and the OpenSSL CLI
// (RSA, raw signatures) from the committed test PKI; see
// testdata/interop/generate.sh. This table is the verdict each must get.

const (
	interopDir = "../testdata/interop"
	fixtures   = interopDir + "/fixtures"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInteropFixtureVerdicts(t *testing.T) {
	v := newVerifier(t)
	m := testpki.Manifest(t)
	content := readFixture(t, "content.txt")
	leafPEM := func(name string) []byte {
		l, _ := m.Leaf(name)
		b, err := os.ReadFile(l.CertPath)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	type row struct {
		fixture  string
		expect   string // "content", "none", "other"
		cert     string // leaf whose certificate goes with a raw signature
		certType certs.CertType
		reason   verify.Reason
		format   string
	}
	var rows []row
	// Every BouncyCastle SM2 variant of the good person leaf.
	for _, style := range []string{"std", "gm"} {
		for _, att := range []string{"attached", "detached"} {
			for _, attrs := range []string{"", "-noattrs"} {
				for _, ski := range []string{"", "-ski"} {
					name := fmt.Sprintf("bc-sm2-person-%s-%s%s%s.p7s", style, att, attrs, ski)
					format := verify.FormatPKCS7Attached
					if att == "detached" {
						format = verify.FormatPKCS7Detached
					}
					rows = append(rows, row{fixture: name, expect: "content", reason: verify.ReasonNone, format: format})
					wrong := verify.ReasonContentMismatch
					if att == "detached" && attrs != "" {
						wrong = verify.ReasonBadSignature // without signed attributes the two cannot be told apart
					}
					rows = append(rows, row{fixture: name, expect: "other", reason: wrong, format: format})
					if att == "attached" {
						rows = append(rows, row{fixture: name, expect: "none", reason: verify.ReasonNone, format: format})
					} else {
						rows = append(rows, row{fixture: name, expect: "none", reason: verify.ReasonContentMismatch, format: format})
					}
				}
			}
		}
	}
	a, d := verify.FormatPKCS7Attached, verify.FormatPKCS7Detached
	rows = append(rows,
		row{fixture: "bc-sm2-org-std-attached.p7s", expect: "content", certType: certs.CertTypeOrganisation, format: a},
		row{fixture: "bc-sm2-org-std-attached.p7s", expect: "content", certType: certs.CertTypePerson, reason: verify.ReasonWrongCertType, format: a},
		row{fixture: "bc-sm2-person-gm-attached.p7s", expect: "content", certType: certs.CertTypeOrganisation, reason: verify.ReasonWrongCertType, format: a},
		row{fixture: "bc-sm2-expired-std-attached.p7s", expect: "content", reason: verify.ReasonExpired, format: a},
		row{fixture: "bc-sm2-revoked-std-attached.p7s", expect: "content", reason: verify.ReasonRevoked, format: a},
		row{fixture: "bc-sm2-untrusted-std-attached.p7s", expect: "content", reason: verify.ReasonUntrusted, format: a},
		row{fixture: "bc-sm2-tampered-content-gm-attached.p7s", expect: "none", reason: verify.ReasonBadSignature, format: a},
		row{fixture: "bc-sm2-tampered-content-std-attached-noattrs.p7s", expect: "none", reason: verify.ReasonBadSignature, format: a},
		row{fixture: "bc-sm2-flipped-signature-gm-attached.p7s", expect: "content", reason: verify.ReasonBadSignature, format: a},

		row{fixture: "openssl-rsa-person-attached.p7s", expect: "content", format: a},
		row{fixture: "openssl-rsa-person-attached.pem", expect: "content", format: a},
		row{fixture: "openssl-rsa-person-attached-ber.p7s", expect: "content", format: a},
		row{fixture: "openssl-rsa-person-attached-nosmimecap.p7s", expect: "content", format: a},
		row{fixture: "openssl-rsa-person-attached-noattr.p7s", expect: "content", format: a},
		row{fixture: "openssl-rsa-person-detached.p7s", expect: "content", format: d},
		row{fixture: "openssl-rsa-person-detached.p7s", expect: "other", reason: verify.ReasonContentMismatch, format: d},
		row{fixture: "openssl-rsa-person-detached-keyid.p7s", expect: "content", format: d},
		row{fixture: "openssl-rsa-org-attached.p7s", expect: "content", certType: certs.CertTypeOrganisation, format: a},
		row{fixture: "openssl-rsa-expired-attached.p7s", expect: "content", reason: verify.ReasonExpired, format: a},
		row{fixture: "openssl-rsa-revoked-attached.p7s", expect: "content", reason: verify.ReasonRevoked, format: a},
		row{fixture: "openssl-rsa-untrusted-attached.p7s", expect: "content", reason: verify.ReasonUntrusted, format: a},
		row{fixture: "openssl-rsa-tampered-content-attached.p7s", expect: "none", reason: verify.ReasonBadSignature, format: a},
		row{fixture: "openssl-rsa-flipped-signature-attached.p7s", expect: "content", reason: verify.ReasonBadSignature, format: a},

		row{fixture: "openssl-sm2-raw.sig", expect: "content", cert: "sm2-person", format: verify.FormatRawSM2},
		row{fixture: "openssl-sm2-raw.sig", expect: "other", cert: "sm2-person", reason: verify.ReasonBadSignature, format: verify.FormatRawSM2},
		row{fixture: "openssl-sm2-raw.sig", expect: "content", cert: "sm2-revoked", reason: verify.ReasonBadSignature, format: verify.FormatRawSM2},
		row{fixture: "openssl-sm2-raw-other-distid.sig", expect: "content", cert: "sm2-person", reason: verify.ReasonBadSignature, format: verify.FormatRawSM2},
		row{fixture: "openssl-rsa-raw.sig", expect: "content", cert: "rsa-person", format: verify.FormatRawRSA},
		row{fixture: "openssl-rsa-person-attached-sha1.p7s", expect: "content", reason: verify.ReasonWeakAlgorithm, format: a},
		row{fixture: "openssl-rsa-raw-sha1.sig", expect: "content", cert: "rsa-person", reason: verify.ReasonWeakAlgorithm, format: verify.FormatRawRSA},
		row{fixture: "openssl-rsa-raw-sha1.sig", expect: "other", cert: "rsa-person", reason: verify.ReasonBadSignature, format: verify.FormatRawRSA},
		row{fixture: "openssl-rsa-raw.sig", expect: "content", cert: "sm2-person", reason: verify.ReasonMalformed, format: verify.FormatRawSM2},
		row{fixture: "openssl-sm2-raw.sig", expect: "content", reason: verify.ReasonNoSignerCert},

		row{fixture: "garbage-random.bin", expect: "content", reason: verify.ReasonMalformed},
		row{fixture: "garbage-random.bin", expect: "content", cert: "sm2-person", reason: verify.ReasonMalformed, format: verify.FormatRawSM2},
		row{fixture: "garbage-truncated.p7s", expect: "content", reason: verify.ReasonMalformed},
		row{fixture: "garbage-certificate.pem", expect: "content", reason: verify.ReasonMalformed},
		row{fixture: "garbage-empty.bin", expect: "content", reason: verify.ReasonMalformed},
	)
	ctx := context.Background()
	for _, r := range rows {
		name := fmt.Sprintf("%s/%s/%s", r.fixture, r.expect, r.cert)
		t.Run(name, func(t *testing.T) {
			raw := readFixture(t, r.fixture)
			sig, err := certs.DecodeBinary(raw)
			if err != nil {
				sig = raw
			}
			req := verify.Request{Signature: sig, CertType: r.certType}
			switch r.expect {
			case "content":
				req.Expected = verify.ExpectBytes(content)
			case "other":
				req.Expected = verify.ExpectText("some other nonce")
			}
			if r.cert != "" {
				req.Cert = leafPEM(r.cert)
			}
			res := v.Verify(ctx, req)
			if res.Reason != r.reason || res.Valid != (r.reason == verify.ReasonNone) {
				t.Fatalf("reason %q (%s), want %q", res.Reason, res.Detail, r.reason)
			}
			if r.format != "" && res.Format != r.format {
				t.Errorf("format %q, want %q", res.Format, r.format)
			}
			if res.Message == "" || res.MessageEn == "" {
				t.Error("missing messages")
			}
			if res.Valid {
				if res.Signer == nil || res.Signer.Serial == "" || len(res.Chain) != 3 {
					t.Errorf("valid result without signer facts or chain: %+v", res)
				}
				if strings.HasPrefix(r.fixture, "bc-sm2-person") {
					wantStyle := "standard"
					if strings.Contains(r.fixture, "-gm-") {
						wantStyle = "gm"
					}
					if res.OIDStyle != wantStyle || res.DigestAlgorithm != "SM3" || res.SignatureAlgorithm != "SM2" {
						t.Errorf("style %s digest %s alg %s", res.OIDStyle, res.DigestAlgorithm, res.SignatureAlgorithm)
					}
					if res.SignedAttributes && res.SigningTime == nil {
						t.Error("signing time not reported")
					}
				}
			}
		})
	}
}

// TestInteropAllowSHA1: OpenSSL's SHA-1 signatures, refused by default as
// weak-algorithm, are valid once SHA-1 is allowed.
func TestInteropAllowSHA1(t *testing.T) {
	ts, err := certs.LoadTrustStore(testpki.Manifest(t).TrustDir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := verify.New(ts, verify.Options{AllowSHA1: true})
	l, _ := testpki.Manifest(t).Leaf("rsa-person")
	certPEM, err := os.ReadFile(l.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	content := readFixture(t, "content.txt")
	for _, req := range []verify.Request{
		{Signature: readFixture(t, "openssl-rsa-person-attached-sha1.p7s"), Expected: verify.ExpectBytes(content)},
		{Signature: readFixture(t, "openssl-rsa-raw-sha1.sig"), Cert: certPEM, Expected: verify.ExpectBytes(content)},
	} {
		if res := v.Verify(context.Background(), req); !res.Valid || res.DigestAlgorithm != "SHA-1" {
			t.Errorf("%s: %q (%s), digest %s", res.Format, res.Reason, res.Detail, res.DigestAlgorithm)
		}
	}
}

// TestInteropConfiguredUserID: a configured SM2 user ID is that of raw
// signatures only. PKCS#7 SM2 signatures (BouncyCastle's, both OID styles,
// with and without signed attributes) still verify with the GM/T 0010
// default, and a raw signature made with the default is still accepted,
// the result naming the ID that matched.
func TestInteropConfiguredUserID(t *testing.T) {
	ts, err := certs.LoadTrustStore(testpki.Manifest(t).TrustDir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const alice = "alice@example.com" // the distid of openssl-sm2-raw-other-distid.sig
	v := verify.New(ts, verify.Options{UserID: []byte(alice)})
	m := testpki.Manifest(t)
	l, _ := m.Leaf("sm2-person")
	certPEM, err := os.ReadFile(l.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	content := readFixture(t, "content.txt")
	const dflt = "1234567812345678"
	for _, tc := range []struct {
		fixture string
		raw     bool
		userID  string
	}{
		{"bc-sm2-person-std-attached.p7s", false, dflt},
		{"bc-sm2-person-gm-attached.p7s", false, dflt},
		{"bc-sm2-person-gm-attached-noattrs.p7s", false, dflt},
		{"bc-sm2-person-std-detached-noattrs.p7s", false, dflt},
		{"bc-sm2-person-gm-detached-ski.p7s", false, dflt},
		{"openssl-sm2-raw-other-distid.sig", true, alice},
		{"openssl-sm2-raw.sig", true, dflt},
	} {
		req := verify.Request{Signature: readFixture(t, tc.fixture), Expected: verify.ExpectBytes(content)}
		if tc.raw {
			req.Cert = certPEM
		}
		res := v.Verify(context.Background(), req)
		if !res.Valid || res.SM2UserID != tc.userID {
			t.Errorf("%s: valid %v reason %q (%s), user ID %q, want valid with %q", tc.fixture, res.Valid, res.Reason, res.Detail, res.SM2UserID, tc.userID)
		}
	}
	// A raw signature with a third ID matches neither.
	id := testpki.Identity(t, "sm2-person")
	other, err := sign.SM2(id.Signer, content, sign.RawOptions{UserID: []byte("bob@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if res := v.Verify(context.Background(), verify.Request{Signature: other, Cert: certPEM, Expected: verify.ExpectBytes(content)}); res.Reason != verify.ReasonBadSignature {
		t.Errorf("third user ID: %q (%s)", res.Reason, res.Detail)
	}
}

func TestInteropEnvelopes(t *testing.T) {
	m := testpki.Manifest(t)
	want := readFixture(t, "envelope-plaintext.txt")
	load := func(name string) *certs.Identity {
		l, _ := m.Leaf(name)
		id, err := l.Identity()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	sm2ID, rsaID := load("sm2-person"), load("rsa-person")
	for _, tc := range []struct {
		fixture string
		id      *certs.Identity
	}{
		{"bc-sm2-envelope-gm.p7m", sm2ID},
		{"bc-sm2-envelope-std.p7m", sm2ID},
		{"openssl-rsa-envelope.p7m", rsaID},
		{"openssl-rsa-envelope-aes128-keyid.p7m", rsaID},
		{"openssl-rsa-envelope-ber.p7m", rsaID},
	} {
		got, err := envelope.Decrypt(readFixture(t, tc.fixture), tc.id.Signer, tc.id.Certificate)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %q, %v", tc.fixture, got, err)
		}
	}
	// The pfx opens the same envelope.
	l, _ := m.Leaf("sm2-person")
	pfx, _ := os.ReadFile(l.PFXPath)
	id, err := certs.ParsePFX(pfx, []byte(l.PFXPass))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := envelope.Decrypt(readFixture(t, "bc-sm2-envelope-gm.p7m"), id.Signer, nil); err != nil || !bytes.Equal(got, want) {
		t.Errorf("pfx: %v", err)
	}
	if got, err := envelope.DecryptWithPFX(readFixture(t, "bc-sm2-envelope-std.p7m"), pfx, []byte(l.PFXPass)); err != nil || !bytes.Equal(got, want) {
		t.Errorf("DecryptWithPFX: %v", err)
	}
	for _, f := range []string{"bc-sm2-raw-c1c3c2.bin", "bc-sm2-raw-c1c2c3.bin", "bc-sm2-raw-asn1.bin"} {
		got, err := envelope.DecryptSM2(readFixture(t, f), sm2ID.Signer.(*sm2.PrivateKey))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v", f, err)
		}
	}
	ct := readFixture(t, "bc-sm2-raw-c1c3c2.bin")
	if got, err := envelope.DecryptSM2(ct[1:], sm2ID.Signer.(*sm2.PrivateKey)); err != nil || !bytes.Equal(got, want) {
		t.Errorf("C1C3C2 without 04: %v", err)
	}
}

// verdicts parses "name<TAB>verdict..." lines.
func verdicts(out string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), "\t")
		if ok {
			m[name] = rest
		}
	}
	return m
}

// TestReverseBouncyCastle: what scansign makes for SM2 — PKCS#7 in both OID
// styles, attached and detached, with and without signed attributes, by
// issuer+serial and by SKI; raw signatures; envelopes — is accepted by
// BouncyCastle.
func TestReverseBouncyCastle(t *testing.T) {
	run := testtool.BouncyCastle(t)
	m := testpki.Manifest(t)
	dir := t.TempDir()
	content := []byte("scansign → BouncyCastle 登录随机数 " + t.Name())
	contentPath := filepath.Join(dir, "content.txt")
	os.WriteFile(contentPath, content, 0o644)
	var jobs strings.Builder
	want := map[string]string{}
	for _, leaf := range []string{"sm2-person", "sm2-org", "rsa-person"} {
		l, _ := m.Leaf(leaf)
		id, err := l.Identity()
		if err != nil {
			t.Fatal(err)
		}
		ca, _ := m.CA(l.Issuer)
		for _, opts := range []sign.Options{
			{}, {Detached: true}, {NoSignedAttributes: true}, {Detached: true, NoSignedAttributes: true},
			{StandardOIDs: true}, {StandardOIDs: true, Detached: true}, {StandardOIDs: true, NoSignedAttributes: true},
			{BySubjectKeyID: true}, {BySubjectKeyID: true, Detached: true, StandardOIDs: true},
		} {
			sig, err := sign.PKCS7(content, id.Signer, id.Certificate, opts)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s-%+v", leaf, opts)
			name = strings.NewReplacer(" ", "_", "{", "", "}", "", ":", "=").Replace(name)
			p := filepath.Join(dir, name+".p7s")
			os.WriteFile(p, sig, 0o644)
			c := "-"
			if opts.Detached {
				c = contentPath
			}
			fmt.Fprintf(&jobs, "%s\t%s\t%s\t%s\n", name, p, c, ca.CertPath)
			want[name] = "VALID"
		}
		// A tampered signature must be refused by BouncyCastle too, so the
		// check above cannot pass by accident.
		sig, _ := sign.PKCS7(content, id.Signer, id.Certificate, sign.Options{})
		sig[len(sig)-1] ^= 1
		p := filepath.Join(dir, leaf+"-flipped.p7s")
		os.WriteFile(p, sig, 0o644)
		fmt.Fprintf(&jobs, "%s\t%s\t-\t%s\n", leaf+"-flipped", p, ca.CertPath)
		want[leaf+"-flipped"] = "INVALID"
	}
	jobsPath := filepath.Join(dir, "verify.tsv")
	os.WriteFile(jobsPath, []byte(jobs.String()), 0o644)
	got := verdicts(run("verify", jobsPath))
	for name, w := range want {
		if !strings.HasPrefix(got[name], w) {
			t.Errorf("BouncyCastle says %q for %s, want %s", got[name], name, w)
		}
	}

	// Raw SM2 signatures, DER and r||s.
	l, _ := m.Leaf("sm2-person")
	id, _ := l.Identity()
	jobs.Reset()
	for _, rs := range []bool{false, true} {
		sig, err := sign.SM2(id.Signer, content, sign.RawOptions{RS: rs})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("raw-%v.sig", rs))
		os.WriteFile(p, sig, 0o644)
		fmt.Fprintf(&jobs, "raw-rs=%v\t%s\t%s\t%s\n", rs, p, contentPath, l.CertPath)
	}
	os.WriteFile(jobsPath, []byte(jobs.String()), 0o644)
	got = verdicts(run("rawverify", jobsPath))
	for _, name := range []string{"raw-rs=false", "raw-rs=true"} {
		if got[name] != "VALID" {
			t.Errorf("BouncyCastle says %q for %s", got[name], name)
		}
	}

	// SM2 envelopes in both OID styles.
	jobs.Reset()
	secret := []byte("scansign → BouncyCastle 需加密的字符串")
	for _, std := range []bool{false, true} {
		env, err := envelope.Encrypt(secret, id.Certificate, envelope.Options{StandardOIDs: std})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("env-%v.p7m", std))
		os.WriteFile(p, env, 0o644)
		fmt.Fprintf(&jobs, "env-std=%v\t%s\t%s\n", std, p, l.KeyPath)
	}
	os.WriteFile(jobsPath, []byte(jobs.String()), 0o644)
	got = verdicts(run("decrypt", jobsPath))
	for _, name := range []string{"env-std=false", "env-std=true"} {
		if got[name] != "OK\t"+hex.EncodeToString(secret) {
			t.Errorf("BouncyCastle decrypts %s to %q", name, got[name])
		}
	}
}

// TestReverseOpenSSL: scansign's RSA CMS signatures verify with `openssl
// cms -verify` against the test PKI, its RSA envelopes open with `openssl
// cms -decrypt`, raw SM2 signatures verify with `openssl pkeyutl -verify`
// and the default distid, raw RSA with `openssl dgst -verify`.
func TestReverseOpenSSL(t *testing.T) {
	testtool.Need(t, "openssl")
	m := testpki.Manifest(t)
	dir := t.TempDir()
	content := []byte("scansign → OpenSSL " + t.Name())
	contentPath := filepath.Join(dir, "content.txt")
	os.WriteFile(contentPath, content, 0o644)
	ossl := func(args ...string) ([]byte, error) {
		return exec.Command("openssl", args...).CombinedOutput()
	}
	l, _ := m.Leaf("rsa-person")
	id, err := l.Identity()
	if err != nil {
		t.Fatal(err)
	}
	// OpenSSL 3.0's cms -verify has no -untrusted: give it the root and
	// the issuing CA as one CA file.
	root := filepath.Join(dir, "rsa-cas.pem")
	rootPEM, _ := os.ReadFile(filepath.Join(m.TrustDir, "rsa-root.pem"))
	issuingPEM, _ := os.ReadFile(filepath.Join(m.TrustDir, "rsa-issuing.pem"))
	os.WriteFile(root, append(rootPEM, issuingPEM...), 0o644)
	for i, opts := range []sign.Options{
		{}, {Detached: true}, {NoSignedAttributes: true}, {Detached: true, NoSignedAttributes: true},
		{BySubjectKeyID: true}, {Chain: id.Chain},
	} {
		sig, err := sign.PKCS7(content, id.Signer, id.Certificate, opts)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("sig%d.p7s", i))
		os.WriteFile(p, sig, 0o644)
		args := []string{"cms", "-verify", "-binary", "-inform", "DER", "-in", p, "-CAfile", root, "-purpose", "any", "-out", filepath.Join(dir, "out.txt")}
		if opts.Detached {
			args = append(args, "-content", contentPath)
		}
		if out, err := ossl(args...); err != nil {
			t.Errorf("openssl cms -verify refuses %+v: %v\n%s", opts, err, out)
		} else if opts.Detached == false {
			if got, _ := os.ReadFile(filepath.Join(dir, "out.txt")); !bytes.Equal(got, content) {
				t.Errorf("%+v: openssl extracted %q", opts, got)
			}
		}
		// And refuses it once a byte of the signature is flipped.
		sig[len(sig)-1] ^= 1
		os.WriteFile(p, sig, 0o644)
		if _, err := ossl(args...); err == nil {
			t.Errorf("openssl accepted a flipped signature (%+v)", opts)
		}
	}
	// RSA envelope, by issuer+serial and by SKI.
	secret := []byte("scansign → OpenSSL 需加密的字符串")
	for _, ski := range []bool{false, true} {
		env, err := envelope.Encrypt(secret, id.Certificate, envelope.Options{BySubjectKeyID: ski})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "env.p7m")
		os.WriteFile(p, env, 0o644)
		out, err := ossl("cms", "-decrypt", "-binary", "-inform", "DER", "-in", p, "-recip", l.CertPath, "-inkey", l.KeyPath)
		if err != nil || !bytes.Equal(out, secret) {
			t.Errorf("openssl cms -decrypt (ski=%v): %v\n%s", ski, err, out)
		}
	}
	// Raw RSA.
	rawRSA, _ := sign.RSA(id.Signer, content, cms.SHA256)
	os.WriteFile(filepath.Join(dir, "rsa.sig"), rawRSA, 0o644)
	pub := filepath.Join(dir, "rsa-pub.pem")
	if out, err := ossl("x509", "-in", l.CertPath, "-pubkey", "-noout", "-out", pub); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if out, err := ossl("dgst", "-sha256", "-verify", pub, "-signature", filepath.Join(dir, "rsa.sig"), contentPath); err != nil {
		t.Errorf("openssl dgst -verify: %v\n%s", err, out)
	}
	// Raw SM2 with the default distid.
	sl, _ := m.Leaf("sm2-person")
	sid, _ := sl.Identity()
	spub := filepath.Join(dir, "sm2-pub.pem")
	if out, err := ossl("x509", "-in", sl.CertPath, "-pubkey", "-noout", "-out", spub); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	rawSM2, _ := sign.SM2(sid.Signer, content, sign.RawOptions{})
	os.WriteFile(filepath.Join(dir, "sm2.sig"), rawSM2, 0o644)
	if out, err := ossl("pkeyutl", "-verify", "-pubin", "-inkey", spub, "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678",
		"-in", contentPath, "-sigfile", filepath.Join(dir, "sm2.sig")); err != nil || !strings.Contains(string(out), "Success") {
		t.Errorf("openssl pkeyutl -verify (SM2): %v\n%s", err, out)
	}
	// SM2 envelope with standard OIDs: OpenSSL 3 opens those (not GM/T ones).
	env, _ := envelope.Encrypt(secret, sid.Certificate, envelope.Options{StandardOIDs: true})
	os.WriteFile(filepath.Join(dir, "sm2env.p7m"), env, 0o644)
	if out, err := ossl("cms", "-decrypt", "-binary", "-inform", "DER", "-in", filepath.Join(dir, "sm2env.p7m"), "-recip", sl.CertPath, "-inkey", sl.KeyPath); err != nil || !bytes.Equal(out, secret) {
		t.Errorf("openssl cms -decrypt (SM2, standard OIDs): %v\n%s", err, out)
	}
}
