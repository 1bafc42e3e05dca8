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
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/scansign/scansign/internal/testpki"
	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify"
	"github.com/scansign/scansign/verify/cms"
)

// BenchmarkVerifyInterleaved runs the primitive, the raw path and the
// PKCS#7 path in turn inside every iteration and times each call, so
// machine load hits all three alike; it reports the median time of each
// and the ops/s ratios against the primitive (goal for PKCS#7 attached
// with a cached chain: ≥ 0.8), which stay meaningful on a busy machine.
func BenchmarkVerifyInterleaved(b *testing.B) {
	m := testpki.Manifest(b)
	v := newVerifier(b)
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
			var tPrim, tRaw, tP7 []time.Duration
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
				tPrim = append(tPrim, t1.Sub(t0))
				tRaw = append(tRaw, t2.Sub(t1))
				tP7 = append(tP7, t3.Sub(t2))
			}
			// Medians: robust against preemption on a shared machine.
			mp, mr, m7 := median(tPrim), median(tRaw), median(tP7)
			b.ReportMetric(float64(mp.Nanoseconds()), "primitive-ns/op")
			b.ReportMetric(float64(mr.Nanoseconds()), "raw-ns/op")
			b.ReportMetric(float64(m7.Nanoseconds()), "pkcs7-ns/op")
			b.ReportMetric(float64(mp)/float64(mr), "raw/primitive")
			b.ReportMetric(float64(mp)/float64(m7), "pkcs7/primitive")
		})
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// BenchmarkAPIVerify measures POST /api/v1/verify over loopback HTTP
// (keep-alive clients, an SM2 PKCS#7 attached signature per request)
// beside the same verification called in process, both on all cores.
func BenchmarkAPIVerify(b *testing.B) {
	m := testpki.Manifest(b)
	l, _ := m.Leaf("sm2-person")
	id, _ := l.Identity()
	msg := "f7c54891-adad-4f32-9994-83d70a7204a2"
	p7, _ := sign.PKCS7([]byte(msg), id.Signer, id.Certificate, sign.Options{})
	body, _ := json.Marshal(map[string]any{"signature": base64.StdEncoding.EncodeToString(p7), "content": msg})
	v := newVerifier(b)
	srv := httptest.NewServer(verify.NewHandler(v, verify.HandlerOptions{}))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	b.Run("in-process", func(b *testing.B) {
		var bad atomic.Int64
		req := verify.Request{Signature: p7, Expected: verify.ExpectText(msg)}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !v.Verify(context.Background(), req).Valid {
					bad.Add(1)
				}
			}
		})
		if bad.Load() > 0 {
			b.Fatalf("%d verifications failed", bad.Load())
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verify/s")
	})
	b.Run("http", func(b *testing.B) {
		var bad atomic.Int64
		b.SetParallelism(4)
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
		if bad.Load() > 0 {
			b.Fatalf("%d requests failed", bad.Load())
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
}
