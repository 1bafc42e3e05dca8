package testpki

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/certs/devpki"
)

// Dir is the committed PKI's directory (absolute).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "pki")
}

var load = sync.OnceValues(func() (*devpki.Manifest, error) { return devpki.Load(Dir()) })

// Manifest is the committed PKI, loaded once per test binary.
func Manifest(t testing.TB) *devpki.Manifest {
	t.Helper()
	m, err := load()
	if err != nil {
		t.Fatalf("testpki: %v", err)
	}
	return m
}

// Leaf is the committed PKI's leaf called name (e.g. "sm2-person").
func Leaf(t testing.TB, name string) *devpki.Leaf {
	t.Helper()
	l, ok := Manifest(t).Leaf(name)
	if !ok {
		t.Fatalf("testpki: no leaf %s", name)
	}
	return l
}

// Identity is leaf name's key, certificate and chain.
func Identity(t testing.TB, name string) *certs.Identity {
	t.Helper()
	id, err := Leaf(t, name).Identity()
	if err != nil {
		t.Fatalf("testpki: %s: %v", name, err)
	}
	return id
}

// Certificate is leaf name's certificate.
func Certificate(t testing.TB, name string) *smx509.Certificate {
	t.Helper()
	data, err := os.ReadFile(Leaf(t, name).CertPath)
	if err != nil {
		t.Fatalf("testpki: %v", err)
	}
	c, err := certs.ParseCertificate(data)
	if err != nil {
		t.Fatalf("testpki: %s: %v", name, err)
	}
	return c
}

// TrustDirWithFlippedCRL copies the trust directory src to a temporary
// directory with one bit of the CRL file crlName's signature flipped: a
// CRL that no longer verifies, for the crl-invalid checks.
func TrustDirWithFlippedCRL(t testing.TB, src, crlName string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == crlName {
			block, _ := pem.Decode(data)
			if block == nil {
				t.Fatalf("%s is not PEM", crlName)
			}
			block.Bytes[len(block.Bytes)-1] ^= 0x01 // the last byte of the signature
			data = pem.EncodeToMemory(block)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
