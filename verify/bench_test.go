package verify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify"
	"github.com/scansign/scansign/verify/cms"
)

// BenchmarkVerify puts the primitives (a bare SM2 / RSA-2048 signature
// check) beside what a trading system pays per request: a raw signature
// with pubCert and a PKCS#7 attached signature, each through the Verifier
// with the chain already cached. Figures and ratios: BENCHMARKS.md.
func BenchmarkVerify(b *testing.B) {
	m := fixedManifest(b)
	v := fixedVerifier(b)
	ctx := context.Background()
	msg := []byte("f7c54891-adad-4f32-9994-83d70a7204a2")
	for _, alg := range []string{"sm2", "rsa"} {
		l, _ := m.Leaf(alg + "-person")
		id, err := l.Identity()
		if err != nil {
			b.Fatal(err)
		}
		var raw []byte
		if alg == "sm2" {
			raw, _ = sign.SM2(id.Signer, msg, sign.RawOptions{})
		} else {
			raw, _ = sign.RSA(id.Signer, msg, cms.SHA256)
		}
		p7, err := sign.PKCS7(msg, id.Signer, id.Certificate, sign.Options{})
		if err != nil {
			b.Fatal(err)
		}
		cert := id.Certificate
		b.Run(alg+"/primitive", func(b *testing.B) {
			for b.Loop() {
				if alg == "sm2" {
					if !sm2.VerifyASN1WithSM2(cert.PublicKey.(*ecdsa.PublicKey), nil, msg, raw) {
						b.Fatal("bad")
					}
				} else {
					h := sha256.Sum256(msg)
					if rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), cms.SHA256.CryptoHash(), h[:], raw) != nil {
						b.Fatal("bad")
					}
				}
			}
		})
		rawReq := verify.Request{Signature: raw, Cert: cert.Raw, Expected: verify.ExpectBytes(msg)}
		p7Req := verify.Request{Signature: p7, Expected: verify.ExpectBytes(msg)}
		if !v.Verify(ctx, rawReq).Valid || !v.Verify(ctx, p7Req).Valid {
			b.Fatal("warm-up verification failed")
		}
		b.Run(alg+"/raw-verifier", func(b *testing.B) {
			for b.Loop() {
				if r := v.Verify(ctx, rawReq); !r.Valid || !r.ChainCached {
					b.Fatal(r.Reason)
				}
			}
		})
		b.Run(alg+"/pkcs7-attached-verifier", func(b *testing.B) {
			for b.Loop() {
				if r := v.Verify(ctx, p7Req); !r.Valid || !r.ChainCached {
					b.Fatal(r.Reason)
				}
			}
		})
	}
}

// BenchmarkVerifyInterleaved runs the primitive, the raw path and the
// PKCS#7 path in turn inside every iteration and times each, so machine
// load hits all three alike and the ratios stay meaningful on a busy
// 2-core machine. Reported: ns per op of each and ops/s ratios against the
// primitive (goal for PKCS#7 attached with a cached chain: ≥ 0.8).
func BenchmarkVerifyInterleaved(b *testing.B) {
	m := fixedManifest(b)
	v := fixedVerifier(b)
	ctx := context.Background()
	msg := []byte("f7c54891-adad-4f32-9994-83d70a7204a2")
	for _, alg := range []string{"sm2", "rsa"} {
		l, _ := m.Leaf(alg + "-person")
		id, err := l.Identity()
		if err != nil {
			b.Fatal(err)
		}
		cert := id.Certificate
		var raw []byte
		var primitive func() bool
		if alg == "sm2" {
			raw, _ = sign.SM2(id.Signer, msg, sign.RawOptions{})
			pub := cert.PublicKey.(*ecdsa.PublicKey)
			primitive = func() bool { return sm2.VerifyASN1WithSM2(pub, nil, msg, raw) }
		} else {
			raw, _ = sign.RSA(id.Signer, msg, cms.SHA256)
			pub := cert.PublicKey.(*rsa.PublicKey)
			primitive = func() bool {
				h := sha256.Sum256(msg)
				return rsa.VerifyPKCS1v15(pub, cms.SHA256.CryptoHash(), h[:], raw) == nil
			}
		}
		p7, _ := sign.PKCS7(msg, id.Signer, id.Certificate, sign.Options{})
		rawReq := verify.Request{Signature: raw, Cert: cert.Raw, Expected: verify.ExpectBytes(msg)}
		p7Req := verify.Request{Signature: p7, Expected: verify.ExpectBytes(msg)}
		if !v.Verify(ctx, rawReq).Valid || !v.Verify(ctx, p7Req).Valid {
			b.Fatal("warm-up verification failed")
		}
		b.Run(alg, func(b *testing.B) {
			var tPrim, tRaw, tP7 time.Duration
			for b.Loop() {
				t0 := time.Now()
				ok := primitive()
				t1 := time.Now()
				r1 := v.Verify(ctx, rawReq)
				t2 := time.Now()
				r2 := v.Verify(ctx, p7Req)
				t3 := time.Now()
				if !ok || !r1.Valid || !r2.Valid || !r2.ChainCached {
					b.Fatal("verification failed")
				}
				tPrim += t1.Sub(t0)
				tRaw += t2.Sub(t1)
				tP7 += t3.Sub(t2)
			}
			n := float64(b.N)
			b.ReportMetric(float64(tPrim.Nanoseconds())/n, "primitive-ns/op")
			b.ReportMetric(float64(tRaw.Nanoseconds())/n, "raw-ns/op")
			b.ReportMetric(float64(tP7.Nanoseconds())/n, "pkcs7-ns/op")
			b.ReportMetric(float64(tPrim)/float64(tRaw), "raw/primitive")
			b.ReportMetric(float64(tPrim)/float64(tP7), "pkcs7/primitive")
		})
	}
}

// BenchmarkAPIVerify measures POST /api/v1/verify over loopback HTTP with
// keep-alive clients, an SM2 PKCS#7 attached signature per request.
func BenchmarkAPIVerify(b *testing.B) {
	m := fixedManifest(b)
	l, _ := m.Leaf("sm2-person")
	id, _ := l.Identity()
	msg := "f7c54891-adad-4f32-9994-83d70a7204a2"
	p7, _ := sign.PKCS7([]byte(msg), id.Signer, id.Certificate, sign.Options{})
	body, _ := json.Marshal(map[string]any{"signature": base64.StdEncoding.EncodeToString(p7), "content": msg})
	srv := httptest.NewServer(verify.NewHandler(fixedVerifier(b), verify.HandlerOptions{}))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	var bad atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(srv.URL+"/api/v1/verify", "application/json", bytes.NewReader(body))
			if err != nil {
				bad.Add(1)
				continue
			}
			var out struct {
				Valid bool `json:"valid"`
			}
			if json.NewDecoder(resp.Body).Decode(&out) != nil || !out.Valid {
				bad.Add(1)
			}
			resp.Body.Close()
		}
	})
	b.StopTimer()
	if bad.Load() > 0 {
		b.Fatalf("%d requests failed", bad.Load())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
