package boltstore

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/scansign/scansign/relay/store"
)

// BenchmarkWrites: 64 goroutines storing tokens at once, through the
// committer and through bbolt's DB.Batch (default 10 ms delay, and 1 ms).
func BenchmarkWrites(b *testing.B) {
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"committer", Options{}},
		{"boltBatch10ms", Options{UseBoltBatch: true}},
		{"boltBatch1ms", Options{UseBoltBatch: true, BoltBatchDelay: time.Millisecond}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := OpenWith(b.TempDir(), c.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetParallelism(32)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var h store.TokenHash
					rand.Read(h[:])
					now := time.Now()
					if err := s.PutToken(context.Background(), store.Token{Hash: h, Account: "a", Role: "system", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
		})
	}
}
