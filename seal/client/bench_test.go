package client

import (
	"context"
	"encoding/base64"
	"testing"
	"time"
)

// BenchmarkGetSeals is the relay's side of one seal lookup over loopback
// HTTP against the real seal service (embedded store, one valid seal):
// request, answer parsing and the image check, 16 callers at once.
func BenchmarkGetSeals(b *testing.B) {
	url, _ := sealCompany(b)
	r, err := New(Config{Companies: []Company{{Code: "C", URL: url, Account: account, Password: password, Timeout: 10 * time.Second}}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.GetSeals(context.Background(), "C", "0A1B2C"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkParseAnswer is the answer check alone: JSON, base64 and a full
// PNG decode of one 30 KB seal.
func BenchmarkParseAnswer(b *testing.B) {
	body := []byte(`{"code":"0","signInfos":[{"signName":"a","signWidth":"4.2","signHeight":"4.2","signData":"` +
		base64.StdEncoding.EncodeToString(sample(b, "round-company.png")) + `"}]}`)
	for b.Loop() {
		if _, err := parseAnswer(body, now); err != nil {
			b.Fatal(err)
		}
	}
}
