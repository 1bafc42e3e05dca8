package certs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/certs/devpki"
	"github.com/scansign/scansign/internal/testpki"
)

var (
	pkiOnce sync.Once
	pkiM    *devpki.Manifest
	pkiErr  error
)

// testPKI makes one dev PKI per test binary: key generation dominates.
func testPKI(t testing.TB) *devpki.Manifest {
	t.Helper()
	pkiOnce.Do(func() {
		dir, err := os.MkdirTemp("", "certs-devpki-")
		if err != nil {
			pkiErr = err
			return
		}
		pkiM, pkiErr = devpki.Generate(dir, devpki.Options{})
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiM
}

func leafCert(t testing.TB, m *devpki.Manifest, name string) *smx509.Certificate {
	t.Helper()
	l, ok := m.Leaf(name)
	if !ok {
		t.Fatalf("no leaf %s", name)
	}
	data, err := os.ReadFile(l.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.ParseCertificate(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTrustStoreVerdicts(t *testing.T) {
	m := testPKI(t)
	ts, err := certs.LoadTrustStore(m.TrustDir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := ts.Status()
	if len(st.Roots) != 2 || len(st.Intermediates) != 2 || len(st.CRLs) != 4 || len(st.Problems) != 0 {
		t.Fatalf("status = %+v", st)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		leaf string
		want error
	}{
		{"sm2-person", nil}, {"sm2-org", nil}, {"rsa-person", nil}, {"rsa-org", nil},
		{"sm2-expired", certs.ErrExpired}, {"rsa-expired", certs.ErrExpired},
		{"sm2-revoked", certs.ErrRevoked}, {"rsa-revoked", certs.ErrRevoked},
		{"sm2-untrusted", certs.ErrUntrusted}, {"rsa-untrusted", certs.ErrUntrusted},
	} {
		chain, err := ts.Verify(ctx, leafCert(t, m, tc.leaf), nil, time.Time{})
		if tc.want == nil {
			if err != nil || len(chain.Certificates) != 3 {
				t.Errorf("%s: chain %v, err %v", tc.leaf, chain, err)
			}
			continue
		}
		var ce *certs.ChainError
		if !errors.Is(err, tc.want) || !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want %v", tc.leaf, err, tc.want)
		}
	}
	// The revoked leaf was good before its revocation time.
	if _, err := ts.Verify(ctx, leafCert(t, m, "sm2-revoked"), nil, m.Created.Add(-45*time.Minute)); err != nil {
		t.Errorf("revoked leaf before revocation: %v", err)
	}
	// Not yet valid.
	if _, err := ts.Verify(ctx, leafCert(t, m, "sm2-person"), nil, m.Created.Add(-48*time.Hour)); !errors.Is(err, certs.ErrNotYetValid) {
		t.Errorf("before notBefore: %v", err)
	}
}

func TestTrustStoreCacheAndReload(t *testing.T) {
	m := testPKI(t)
	dir := t.TempDir()
	for _, name := range []string{"sm2-root.pem", "sm2-issuing.pem", "sm2-issuing.crl"} {
		data, err := os.ReadFile(filepath.Join(m.TrustDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts, err := certs.LoadTrustStore(dir, certs.TrustOptions{CacheSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	leaf := leafCert(t, m, "sm2-person")
	c1, err := ts.Verify(ctx, leaf, nil, time.Time{})
	if err != nil || c1.Cached {
		t.Fatalf("first: %v %v", c1, err)
	}
	c2, err := ts.Verify(ctx, leaf, nil, time.Time{})
	if err != nil || !c2.Cached {
		t.Fatalf("second should be cached: %v %v", c2, err)
	}
	// A cached chain is still checked against the verification time.
	if _, err := ts.Verify(ctx, leaf, nil, time.Now().Add(10*365*24*time.Hour)); !errors.Is(err, certs.ErrExpired) {
		t.Fatalf("cached chain far in the future: %v", err)
	}
	for _, n := range []string{"sm2-org", "sm2-expired"} {
		ts.Verify(ctx, leafCert(t, m, n), nil, time.Time{})
	}
	if n := ts.CacheLen(); n > 2 {
		t.Fatalf("cache holds %d, bound is 2", n)
	}
	// RSA leaves are untrusted until their CA is added and the store reloaded.
	rsa := leafCert(t, m, "rsa-person")
	if _, err := ts.Verify(ctx, rsa, nil, time.Time{}); !errors.Is(err, certs.ErrUntrusted) {
		t.Fatalf("rsa before reload: %v", err)
	}
	for _, name := range []string{"rsa-root.pem", "rsa-issuing.pem"} {
		data, _ := os.ReadFile(filepath.Join(m.TrustDir, name))
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	if err := ts.Reload(); err != nil {
		t.Fatal(err)
	}
	if ts.CacheLen() != 0 {
		t.Fatal("reload must empty the cache")
	}
	if _, err := ts.Verify(ctx, rsa, nil, time.Time{}); err != nil {
		t.Fatalf("rsa after reload: %v", err)
	}
	// Intermediates carried by the signature (extra) are used too.
	os.Remove(filepath.Join(dir, "rsa-issuing.pem"))
	if err := ts.Reload(); err != nil {
		t.Fatal(err)
	}
	inter, _ := os.ReadFile(filepath.Join(m.TrustDir, "rsa-issuing.pem"))
	ic, _ := certs.ParseCertificate(inter)
	if _, err := ts.Verify(ctx, rsa, []*smx509.Certificate{ic}, time.Time{}); err != nil {
		t.Fatalf("intermediate from extra: %v", err)
	}
	// A reload that fails keeps the old set.
	os.Remove(filepath.Join(dir, "sm2-root.pem"))
	os.Remove(filepath.Join(dir, "rsa-root.pem"))
	if err := ts.Reload(); err == nil {
		t.Fatal("reload of a directory without roots should fail")
	}
	if _, err := ts.Verify(ctx, leaf, nil, time.Time{}); err != nil {
		t.Fatalf("old set should stay in force: %v", err)
	}
}

func TestCRLChecks(t *testing.T) {
	m := testPKI(t)
	dir := t.TempDir()
	copyFile := func(src, dst string) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, dst), data, 0o644)
	}
	copyFile(filepath.Join(m.TrustDir, "sm2-root.pem"), "root.pem")
	copyFile(filepath.Join(m.TrustDir, "sm2-issuing.pem"), "issuing.pem")
	// A CRL signed by someone else (the RSA issuing CA's CRL renamed, with
	// the SM2 issuer's name nowhere) is skipped and reported.
	copyFile(filepath.Join(m.TrustDir, "rsa-issuing.crl"), "bogus.crl")
	ts, err := certs.LoadTrustStore(dir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st := ts.Status(); len(st.CRLs) != 0 || len(st.Problems) != 1 {
		t.Fatalf("status %+v", st)
	}
	// Without the CRLs the revoked leaf cannot be caught: it passes, but
	// never silently — a warning for each CA whose CRL is missing.
	ctx := context.Background()
	revoked := leafCert(t, m, "sm2-revoked")
	chain, err := ts.Verify(ctx, revoked, nil, time.Time{})
	if err != nil || !hasWarnings(chain.Warnings, "crl-missing: no CRL of CN=scansign Dev SM2 Issuing CA", "crl-missing: no CRL of CN=scansign Dev SM2 Root CA") {
		t.Fatalf("no CRLs: %+v %v", chain, err)
	}
	// From the cache, the same warnings.
	if chain, err := ts.Verify(ctx, revoked, nil, time.Time{}); err != nil || !chain.Cached || len(chain.Warnings) != 2 {
		t.Fatalf("no CRLs, cached: %+v %v", chain, err)
	}
	strict, _ := certs.LoadTrustStore(dir, certs.TrustOptions{RequireFreshCRL: true})
	if _, err := strict.Verify(ctx, revoked, nil, time.Time{}); !errors.Is(err, certs.ErrUntrusted) || !strings.Contains(err.Error(), "crl-missing") {
		t.Fatalf("no CRLs, strict: %v", err)
	}

	copyFile(filepath.Join(m.TrustDir, "sm2-issuing.crl"), "issuing.crl")
	copyFile(filepath.Join(m.TrustDir, "sm2-root.crl"), "root.crl")
	ts.Reload()
	if chain, err := ts.Verify(ctx, leafCert(t, m, "sm2-person"), nil, time.Time{}); err != nil || len(chain.Warnings) != 0 {
		t.Fatalf("with both CRLs: %+v %v", chain, err)
	}
	// Past the CRLs' nextUpdate: a warning by default, a failure when asked.
	late := time.Now().Add(60 * 24 * time.Hour)
	chain, err = ts.Verify(ctx, leafCert(t, m, "sm2-person"), nil, late)
	if err != nil || !hasWarnings(chain.Warnings, "crl-stale: the CRL of CN=scansign Dev SM2 Issuing CA", "crl-stale: the CRL of CN=scansign Dev SM2 Root CA") {
		t.Fatalf("stale CRL: %v %v", chain, err)
	}
	strict, _ = certs.LoadTrustStore(dir, certs.TrustOptions{RequireFreshCRL: true})
	if _, err := strict.Verify(ctx, leafCert(t, m, "sm2-person"), nil, late); !errors.Is(err, certs.ErrUntrusted) {
		t.Fatalf("stale CRL, strict: %v", err)
	}
	if _, err := strict.Verify(ctx, leafCert(t, m, "sm2-person"), nil, time.Time{}); err != nil {
		t.Fatalf("fresh CRLs, strict: %v", err)
	}
}

// TestCRLInvalid: in a copy of the trust directory the issuing CA's CRL has
// one byte of its signature flipped. It is skipped, so the revoked leaf
// cannot be caught: it passes with a crl-invalid warning naming the file,
// and under RequireFreshCRL it is untrusted.
func TestCRLInvalid(t *testing.T) {
	m := testPKI(t)
	dir := testpki.TrustDirWithFlippedCRL(t, m.TrustDir, "sm2-issuing.crl")
	ctx := context.Background()
	ts, err := certs.LoadTrustStore(dir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st := ts.Status(); len(st.CRLs) != 3 || len(st.Problems) != 1 || !strings.Contains(st.Problems[0], "sm2-issuing.crl") {
		t.Fatalf("status %+v", st)
	}
	chain, err := ts.Verify(ctx, leafCert(t, m, "sm2-revoked"), nil, time.Time{})
	if err != nil || !hasWarnings(chain.Warnings, "crl-invalid: the CRL of CN=scansign Dev SM2 Issuing CA") || !strings.Contains(chain.Warnings[0], "sm2-issuing.crl") {
		t.Fatalf("flipped CRL: %+v %v", chain, err)
	}
	if strings.Contains(chain.Warnings[0], dir) {
		t.Errorf("the warning shows where the trust directory is: %s", chain.Warnings[0])
	}
	// The RSA side, whose CRLs are intact, still catches its revoked leaf.
	if _, err := ts.Verify(ctx, leafCert(t, m, "rsa-revoked"), nil, time.Time{}); !errors.Is(err, certs.ErrRevoked) {
		t.Fatalf("rsa revoked: %v", err)
	}
	strict, err := certs.LoadTrustStore(dir, certs.TrustOptions{RequireFreshCRL: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, leaf := range []string{"sm2-revoked", "sm2-person"} {
		if _, err := strict.Verify(ctx, leafCert(t, m, leaf), nil, time.Time{}); !errors.Is(err, certs.ErrUntrusted) || !strings.Contains(err.Error(), "crl-invalid") {
			t.Fatalf("%s, strict: %v", leaf, err)
		}
	}
}

// hasWarnings reports whether warnings are exactly as many as prefixes and
// each starts with its prefix, in order.
func hasWarnings(warnings []string, prefixes ...string) bool {
	if len(warnings) != len(prefixes) {
		return false
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(warnings[i], p) {
			return false
		}
	}
	return true
}

// TestChainCacheKeepsNoInput: a leaf parsed out of a large buffer (a PKCS#7,
// a PDF) is cached as a copy of its own DER, so the cached chain does not
// keep the buffer alive. Before, every trusted leaf kept its whole input.
func TestChainCacheKeepsNoInput(t *testing.T) {
	m := testPKI(t)
	ts, err := certs.LoadTrustStore(m.TrustDir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const bufSize = 8 << 20
	leaves := []string{"sm2-person", "sm2-org", "rsa-person", "rsa-org"}
	before := heapAlloc()
	for _, name := range leaves {
		der := leafCert(t, m, name).Raw
		buf := make([]byte, bufSize)
		copy(buf, der)
		leaf, err := smx509.ParseCertificate(buf[:len(der)])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.Verify(context.Background(), leaf, nil, time.Time{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	grown := int64(heapAlloc()) - int64(before)
	n, size := ts.CacheSize()
	t.Logf("heap grew %d KiB; %d chains cached, %d KiB", grown>>10, n, size>>10)
	if n != len(leaves) {
		t.Fatalf("%d chains cached, want %d", n, len(leaves))
	}
	if grown > bufSize/2 {
		t.Errorf("the chain cache keeps %d MiB for %d leaves", grown>>20, len(leaves))
	}
	// Cached chains answer as before.
	for _, name := range leaves {
		chain, err := ts.Verify(context.Background(), leafCert(t, m, name), nil, time.Time{})
		if err != nil || !chain.Cached || len(chain.Certificates) != 3 {
			t.Fatalf("%s from the cache: %+v %v", name, chain, err)
		}
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
