package certs_test

import (
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/testtool"
)

func TestParseCertificateEncodings(t *testing.T) {
	m := testPKI(t)
	l, _ := m.Leaf("sm2-person")
	pemData, _ := os.ReadFile(l.CertPath)
	c, err := certs.ParseCertificate(pemData)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(c.Raw)
	wrapped := ""
	for i := 0; i < len(b64); i += 64 {
		wrapped += b64[i:min(i+64, len(b64))] + "\r\n"
	}
	url := base64.RawURLEncoding.EncodeToString(c.Raw)
	chainPEM, _ := os.ReadFile(l.ChainPath)
	for name, in := range map[string][]byte{
		"PEM":           pemData,
		"DER":           c.Raw,
		"base64":        []byte(b64),
		"base64 lines":  []byte(wrapped),
		"base64url raw": []byte(url),
		"JSON escaped":  []byte(strings.ReplaceAll(wrapped, "\r\n", `\n`)),
		"chain PEM":     chainPEM,
	} {
		got, err := certs.ParseCertificate(in)
		if err != nil || !got.Equal(c) {
			t.Errorf("%s: %v", name, err)
		}
	}
	all, err := certs.ParseCertificates(chainPEM)
	if err != nil || len(all) != 2 {
		t.Errorf("chain: %d, %v", len(all), err)
	}
	for name, in := range map[string][]byte{
		"empty": nil, "garbage": []byte("hello world"), "truncated DER": c.Raw[:100],
		"PEM without cert": []byte("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n"),
		"too big":          make([]byte, certs.MaxCertificateSize+1),
	} {
		if _, err := certs.ParseCertificate(in); !errors.Is(err, certs.ErrMalformedCertificate) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestFacts(t *testing.T) {
	m := testPKI(t)
	for _, name := range []string{"sm2-person", "sm2-org", "rsa-person", "rsa-org"} {
		l, _ := m.Leaf(name)
		c := leafCert(t, m, name)
		f := certs.FactsOf(c, nil)
		wantType := certs.CertTypePerson
		if l.Kind == "organisation" {
			wantType = certs.CertTypeOrganisation
			if f.CreditCode != l.CreditCode || !certs.ValidCreditCode(f.CreditCode) {
				t.Errorf("%s: credit code %q, manifest %q", name, f.CreditCode, l.CreditCode)
			}
		} else if f.CreditCode != "" {
			t.Errorf("%s: person has credit code %q", name, f.CreditCode)
		}
		if f.CertType != wantType {
			t.Errorf("%s: certType %v want %v", name, f.CertType, wantType)
		}
		if f.Serial != l.Serial || f.Serial != certs.SerialHex(c.SerialNumber) || f.SerialDecimal != c.SerialNumber.String() {
			t.Errorf("%s: serial %s/%s manifest %s", name, f.Serial, f.SerialDecimal, l.Serial)
		}
		if f.SubjectFields.CN != l.CommonName || !strings.Contains(f.Subject, "CN="+l.CommonName) {
			t.Errorf("%s: subject %q fields %+v", name, f.Subject, f.SubjectFields)
		}
		if !strings.Contains(f.IssuerFields.CN, "Issuing CA") || f.SubjectFields.C != "CN" {
			t.Errorf("%s: issuer %+v", name, f.IssuerFields)
		}
		wantAlg := map[string]string{"sm2": "SM2", "rsa": "RSA"}[l.Algorithm]
		if f.KeyAlgorithm != wantAlg || len(f.FingerprintSHA256) != 64 || len(f.FingerprintSM3) != 64 || !strings.HasPrefix(f.PEM, "-----BEGIN CERTIFICATE") {
			t.Errorf("%s: %+v", name, f)
		}
		js, _ := json.Marshal(f)
		var back map[string]any
		json.Unmarshal(js, &back)
		if back["certType"] != float64(wantType) || back["serial"] != l.Serial {
			t.Errorf("%s: JSON %s", name, js)
		}
	}
}

func TestClassifierRules(t *testing.T) {
	m := testPKI(t)
	person := leafCert(t, m, "sm2-person")
	org := leafCert(t, m, "sm2-org")
	rules, err := certs.ParseCertTypeRules([]byte(`
- issuer: "SM2 Issuing CA"
  field: CN
  match: "^张"
  certType: 1
- field: serialNumber
  match: "^91"
  certType: 2
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.NewClassifier(rules)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.CertType(person); got != certs.CertTypeOrganisation {
		t.Errorf("rule 1: %v", got)
	}
	if got := c.CertType(org); got != certs.CertTypePerson {
		t.Errorf("rule 2: %v", got)
	}
	if got := c.CertType(leafCert(t, m, "rsa-person")); got != certs.CertTypePerson {
		t.Errorf("default: %v", got)
	}
	for _, bad := range []certs.CertTypeRule{{Match: "x", CertType: 3}, {Match: "(", CertType: 1}, {CertType: 1}} {
		if _, err := certs.NewClassifier([]certs.CertTypeRule{bad}); err == nil {
			t.Errorf("rule %+v accepted", bad)
		}
	}
}

func TestCreditCode(t *testing.T) {
	// Published example codes with valid check characters.
	for _, good := range []string{"91350100M000100Y43", "91110000802100433B"} {
		if !certs.ValidCreditCode(good) {
			t.Errorf("%s should be valid", good)
		}
		if certs.FindCreditCode("统一社会信用代码:"+good) != good {
			t.Errorf("FindCreditCode misses %s", good)
		}
	}
	for _, bad := range []string{"91350100M000100Y44", "9135010OM000100Y43", "short", "91350100M000100Y4", "I1350100M000100Y43"} {
		if certs.ValidCreditCode(bad) {
			t.Errorf("%s should be invalid", bad)
		}
	}
	if !certs.ValidResidentID("11010519491231002X") || certs.ValidResidentID("110105194912310021") {
		t.Error("resident id check")
	}
	if certs.FindCreditCode("11010519491231002X") != "" {
		t.Error("a resident ID is not a credit code")
	}
}

func TestKeysAndPFX(t *testing.T) {
	m := testPKI(t)
	for _, name := range []string{"sm2-person", "rsa-org"} {
		l, _ := m.Leaf(name)
		c := leafCert(t, m, name)
		plain, _ := os.ReadFile(l.KeyPath)
		enc, _ := os.ReadFile(l.EncKeyPath)
		k1, err := certs.ParsePrivateKey(plain, nil)
		if err != nil || !certs.KeyMatches(k1, c) {
			t.Fatalf("%s plain key: %v", name, err)
		}
		k2, err := certs.ParsePrivateKey(enc, []byte(m.Password))
		if err != nil || !certs.KeyMatches(k2, c) {
			t.Fatalf("%s encrypted key: %v", name, err)
		}
		if _, err := certs.ParsePrivateKey(enc, []byte("wrong")); !errors.Is(err, certs.ErrBadPassword) {
			t.Errorf("%s wrong password: %v", name, err)
		}
		pfx, _ := os.ReadFile(l.PFXPath)
		id, err := certs.ParsePFX(pfx, []byte(m.Password))
		if err != nil || !id.Certificate.Equal(c) || len(id.Chain) != 1 || !certs.KeyMatches(id.Signer, c) {
			t.Fatalf("%s pfx: %v", name, err)
		}
		if _, err := certs.ParsePFX(pfx, []byte("wrong")); !errors.Is(err, certs.ErrBadPassword) {
			t.Errorf("%s pfx wrong password: %v", name, err)
		}
	}
	if _, err := certs.ParsePrivateKey([]byte("nope"), nil); !errors.Is(err, certs.ErrMalformedKey) {
		t.Errorf("garbage key: %v", err)
	}
}

// TestPFXWithOpenSSL checks our .pfx against OpenSSL both ways: OpenSSL
// opens what we write, and we open what OpenSSL writes (its default PBES2
// files and -legacy 3DES ones).
func TestPFXWithOpenSSL(t *testing.T) {
	testtool.Need(t, "openssl")
	m := testPKI(t)
	l, _ := m.Leaf("rsa-person")
	dir := t.TempDir()
	out := filepath.Join(dir, "out.pem")
	cmd := exec.Command("openssl", "pkcs12", "-in", l.PFXPath, "-passin", "pass:"+m.Password, "-nodes", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl cannot open our pfx: %v\n%s", err, b)
	}
	ours, _ := os.ReadFile(out)
	if !strings.Contains(string(ours), "PRIVATE KEY") || strings.Count(string(ours), "BEGIN CERTIFICATE") != 2 {
		t.Fatalf("openssl output lacks key or chain:\n%s", ours)
	}
	// SM2 pfx: OpenSSL 3 reads SM2 PKCS#8 keys too.
	sl, _ := m.Leaf("sm2-org")
	cmd = exec.Command("openssl", "pkcs12", "-in", sl.PFXPath, "-passin", "pass:"+m.Password, "-nodes", "-nocerts")
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "PRIVATE KEY") {
		t.Fatalf("openssl cannot open our SM2 pfx: %v\n%s", err, b)
	}
	for _, legacy := range []bool{false, true} {
		p12 := filepath.Join(dir, "openssl.p12")
		args := []string{"pkcs12", "-export", "-inkey", l.KeyPath, "-in", l.ChainPath, "-passout", "pass:secret", "-out", p12}
		if legacy {
			args = append(args, "-legacy", "-certpbe", "PBE-SHA1-3DES")
		}
		if b, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl pkcs12 -export (legacy=%v): %v\n%s", legacy, err, b)
		}
		data, _ := os.ReadFile(p12)
		id, err := certs.ParsePFX(data, []byte("secret"))
		if err != nil {
			t.Fatalf("reading OpenSSL pfx (legacy=%v): %v", legacy, err)
		}
		if certs.SerialHex(id.Certificate.SerialNumber) != l.Serial || len(id.Chain) != 1 {
			t.Fatalf("legacy=%v: wrong certificate or chain", legacy)
		}
	}
}

// TestHugeIterationCountRefused: a key file asking for billions of PBKDF2
// iterations is refused at once instead of hanging the reader.
func TestHugeIterationCountRefused(t *testing.T) {
	m := testPKI(t)
	l, _ := m.Leaf("rsa-person")
	enc, _ := os.ReadFile(l.EncKeyPath)
	block, _ := pem.Decode(enc)
	type algID struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue
	}
	var epki struct {
		Alg  algID
		Data []byte
	}
	var pbes2 struct{ KDF, Enc algID }
	var kdf struct {
		Salt       []byte
		Iterations int
		PRF        algID `asn1:"optional"`
	}
	must := func(_ []byte, err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(asn1.Unmarshal(block.Bytes, &epki))
	must(asn1.Unmarshal(epki.Alg.Parameters.FullBytes, &pbes2))
	must(asn1.Unmarshal(pbes2.KDF.Parameters.FullBytes, &kdf))
	kdf.Iterations = 1 << 30
	b, _ := asn1.Marshal(kdf)
	pbes2.KDF.Parameters = asn1.RawValue{FullBytes: b}
	b, _ = asn1.Marshal(pbes2)
	epki.Alg.Parameters = asn1.RawValue{FullBytes: b}
	der, _ := asn1.Marshal(epki)
	crafted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
	start := time.Now()
	if _, err := certs.ParsePrivateKey(crafted, []byte(m.Password)); !errors.Is(err, certs.ErrMalformedKey) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	// The unmodified key still opens.
	if _, err := certs.ParsePrivateKey(enc, []byte(m.Password)); err != nil {
		t.Fatal(err)
	}
}
