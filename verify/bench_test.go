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
