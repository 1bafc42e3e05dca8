package verify

import (
	"context"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/sign"
)

// junkCertificate is a self-signed SM2 certificate padded to about pad
// bytes with a private extension, as anyone can make and send.
func junkCertificate(t testing.TB, key *sm2.PrivateKey, serial int64, pad int) *smx509.Certificate {
	t.Helper()
	tmpl := &smx509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: fmt.Sprintf("junk %d", serial)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	if pad > 0 {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Value: make([]byte, pad)}}
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestCachesBoundedInBytes: signatures anyone can send — each with its own
// ~900 KB certificate, or a small certificate inside a ~900 KB signature —
// leave the verifier's caches (and the heap) small. Before the caches were
// bounded in bytes and parsed from copies, these 80 signatures kept over
// 100 MiB alive.
func TestCachesBoundedInBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 80 signatures of 900 KB")
	}
	ts, err := certs.LoadTrustStore(testpki.Manifest(t).TrustDir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := New(ts, Options{})
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const n, big = 40, 900 << 10
	bigContent := []byte(strings.Repeat("x", big))
	sigs := make([][]byte, 0, 2*n)
	for i := range n {
		// A large certificate signs a small content; a small one a large content.
		for _, shape := range []struct {
			pad     int
			content []byte
		}{{big, []byte("nonce")}, {0, bigContent}} {
			cert := junkCertificate(t, key, int64(len(sigs)+1), shape.pad)
			sig, err := sign.PKCS7(shape.content, key, cert, sign.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(sig) > MaxSignatureSize {
				t.Fatalf("signature %d of %d bytes is over the limit", i, len(sig))
			}
			sigs = append(sigs, sig)
		}
	}
	before := heapInUse()
	for i, sig := range sigs {
		res := v.Verify(context.Background(), Request{Signature: sig})
		if res.Reason != ReasonUntrusted || res.Signer == nil {
			t.Fatalf("signature %d: %q (%s)", i, res.Reason, res.Detail)
		}
	}
	after := heapInUse()
	runtime.KeepAlive(sigs)
	grown := int64(after) - int64(before)
	certN, certBytes := v.cache.certs.Size()
	factsN, factsBytes := v.classified.Load().facts.Size()
	t.Logf("heap grew %d KiB; certificate cache %d entries %d KiB, facts cache %d entries %d KiB", grown>>10, certN, certBytes>>10, factsN, factsBytes>>10)
	if certN != n || factsN != n {
		t.Errorf("cached %d certificates and %d facts, want the %d small ones only", certN, factsN, n)
	}
	if grown > 8<<20 {
		t.Errorf("the heap grew by %d MiB verifying %d junk signatures", grown>>20, 2*n)
	}
	runtime.KeepAlive(v)
}

// TestCertificateBagBounded: a signature carrying more certificates than
// cms.MaxCertificates is refused as malformed before they are all parsed.
func TestCertificateBagBounded(t *testing.T) {
	ts, err := certs.LoadTrustStore(testpki.Manifest(t).TrustDir, certs.TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := New(ts, Options{})
	id := testpki.Identity(t, "sm2-person")
	for _, tc := range []struct {
		extra int
		want  Reason
	}{{62, ReasonNone}, {63, ReasonNone}, {64, ReasonMalformed}} {
		chain := make([]*smx509.Certificate, tc.extra)
		for i := range chain {
			chain[i] = id.Certificate
		}
		sig, err := sign.PKCS7([]byte("nonce"), id.Signer, id.Certificate, sign.Options{Chain: chain})
		if err != nil {
			t.Fatal(err)
		}
		res := v.Verify(context.Background(), Request{Signature: sig})
		if res.Reason != tc.want {
			t.Errorf("%d certificates: %q (%s), want %q", tc.extra+1, res.Reason, res.Detail, tc.want)
		}
	}
}
