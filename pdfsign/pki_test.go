package pdfsign

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/certs/devpki"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/internal/testtool"
	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify"
	vcms "github.com/scansign/scansign/verify/cms"
)

// testPKI is the committed test PKI with a verifier trusting its roots,
// shared by the package's tests.
type testPKI struct {
	m        *devpki.Manifest
	verifier *verify.Verifier
	nssDir   string // NSS database trusting the RSA root, for pdfsig
}

var (
	pkiOnce sync.Once
	pkiVal  *testPKI
	pkiErr  error
	pkiDir  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pdfsign-pki-")
	if err != nil {
		panic(err)
	}
	pkiDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func thePKI(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() {
		m, err := devpki.Load(testpki.Dir())
		if err != nil {
			pkiErr = err
			return
		}
		trust, err := certs.LoadTrustStore(m.TrustDir, certs.TrustOptions{})
		if err != nil {
			pkiErr = err
			return
		}
		pkiVal = &testPKI{m: m, verifier: verify.New(trust, verify.Options{})}
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

func (p *testPKI) identity(t testing.TB, leaf string) (*certs.Identity, *devpki.Leaf) {
	t.Helper()
	l, ok := p.m.Leaf(leaf)
	if !ok {
		t.Fatalf("no leaf %s", leaf)
	}
	id, err := l.Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id, l
}

// nss returns an NSS database that trusts the dev RSA root (built once).
func (p *testPKI) nss(t testing.TB) string {
	t.Helper()
	testtool.Need(t, "certutil")
	if p.nssDir != "" {
		return p.nssDir
	}
	dir := filepath.Join(pkiDir, "nss")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "certutil", "-N", "-d", "sql:"+dir, "--empty-password"); err != nil {
		t.Fatalf("certutil -N: %v\n%s", err, out)
	}
	root, _ := p.m.CA("rsa-root")
	if out, err := run(t, "certutil", "-A", "-d", "sql:"+dir, "-n", "root", "-t", "CT,C,C", "-i", root.CertPath); err != nil {
		t.Fatalf("certutil -A: %v\n%s", err, out)
	}
	p.nssDir = dir
	return dir
}

// answer signs a prepared document the way an app would, in the shape the
// document was prepared for: raw over the signed attributes (cms) or a
// PKCS#7 attached over the digest's hex (p7hash).
func answer(t testing.TB, id *certs.Identity, p *Prepared) Answer {
	t.Helper()
	if p.Shape == ShapeP7Hash {
		sig, err := sign.PKCS7([]byte(p.DigestHex()), id.Signer, id.Certificate, sign.Options{Chain: id.Chain})
		if err != nil {
			t.Fatal(err)
		}
		return Answer{Signature: sig}
	}
	var sig []byte
	var err error
	if certs.IsSM2(id.Certificate) {
		sig, err = sign.SM2(id.Signer, p.SignedAttributes, sign.RawOptions{})
	} else {
		sig, err = sign.RSA(id.Signer, p.SignedAttributes, vcms.SHA256)
	}
	if err != nil {
		t.Fatal(err)
	}
	return Answer{Signature: sig, Cert: certs.EncodePEM(id.Certificate)}
}

// seal prepares and completes one seal by leaf on in.
func seal(t testing.TB, pki *testPKI, in []byte, leaf string, shape Shape, pl Placement) ([]byte, *Completed) {
	t.Helper()
	id, _ := pki.identity(t, leaf)
	prepared, p := prepareFile(t, in, PrepareRequest{
		Seal: SealImage{Image: redSeal(t), Width: 4, Height: 4}, Placement: pl, Shape: shape,
		Signer: id.Certificate, Chain: id.Chain, Reason: "测试签章", Location: "合肥",
	})
	var out bytes.Buffer
	c, err := Complete(context.Background(), bytes.NewReader(prepared), int64(len(prepared)), answer(t, id, p), CompleteOptions{Verifier: pki.verifier}, &out)
	if err != nil {
		t.Fatalf("complete (%s, %s): %v", leaf, shape, err)
	}
	if !bytes.Equal(out.Bytes()[:p.ByteRange[1]], prepared[:p.ByteRange[1]]) {
		t.Fatal("complete changed bytes outside /Contents")
	}
	return out.Bytes(), c
}

// redSeal is one of the committed sample seals, or a drawn one.
func redSeal(t testing.TB) []byte {
	if b, err := os.ReadFile(filepath.Join("..", "testdata", "seals", "round-company.png")); err == nil {
		return b
	}
	return quadrantSeal(t)
}

// pdfsigReport runs pdfsig with the NSS database and returns its output
// split per signature.
func pdfsigReport(t testing.TB, pki *testPKI, path string) []string {
	t.Helper()
	testtool.Need(t, "pdfsig")
	out, _ := run(t, "pdfsig", "-nssdir", "sql:"+pki.nss(t), "-no-ocsp", path)
	parts := regexp.MustCompile(`(?m)^Signature #\d+:`).Split(out, -1)
	if len(parts) < 2 {
		t.Fatalf("pdfsig sees no signature in %s:\n%s", filepath.Base(path), out)
	}
	return parts[1:]
}

func hexOf(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// vfychain fails the test unless NSS, with the test database, finds the
// leaf's chain good for signing.
func vfychain(t testing.TB, pki *testPKI, leaf string) {
	t.Helper()
	testtool.Need(t, "vfychain")
	_, l := pki.identity(t, leaf)
	issuing, _ := pki.m.CA(l.Issuer)
	out, err := run(t, "vfychain", "-d", "sql:"+pki.nss(t), "-u", "4", "-a", l.CertPath, "-a", issuing.CertPath)
	if err != nil || !strings.Contains(out, "Chain is good") {
		t.Fatalf("vfychain %s: %v\n%s", leaf, err, out)
	}
}
