package e2e

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scansign/scansign/phone"
)

// BenchmarkSaveToSeen measures how long a trading system polling
// getCaMessageResult every 3 s, as the guide suggests, takes to see status
// 2 after the app's save returned: 200 login flows at once, each with its
// own random polling phase and a phone that answers at a random moment
// within 6 s, over real HTTP on each store. It is the baseline that pushing
// results (long-poll, server-sent events) will cut; with 3 s polling it is
// about uniform on 0–3 s by construction, plus the server's own time.
//
//	go test ./e2e -run '^$' -bench SaveToSeen -benchtime 1x
func BenchmarkSaveToSeen(b *testing.B) {
	const (
		flows    = 200
		interval = 3 * time.Second
		answerIn = 6 * time.Second
	)
	for _, k := range storeKinds() {
		b.Run(k.name, func(b *testing.B) {
			e := newEnv(b, k.open(b))
			var all []time.Duration
			for b.Loop() {
				all = append(all, saveToSeen(b, e, flows, interval, answerIn)...)
			}
			slices.Sort(all)
			b.ReportMetric(ms(all[len(all)/2]), "median-ms")
			b.ReportMetric(ms(all[(len(all)*99+99)/100-1]), "p99-ms")
			b.ReportMetric(ms(all[len(all)-1]), "max-ms")
			b.ReportMetric(float64(len(all)), "flows")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// saveToSeen runs n flows concurrently and returns each one's delay from
// the app's save to the trading system's poll that saw status 2.
func saveToSeen(b *testing.B, e *env, n int, interval, answerIn time.Duration) []time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 2*(interval+answerIn)+30*time.Second)
	defer cancel()
	var (
		mu  sync.Mutex
		out []time.Duration
		wg  sync.WaitGroup
	)
	for i := 0; i < n; i++ {
		tok, guid, qr := e.start(phone.TypeLogin, "f7c54891-adad-4f32-9994-83d70a7204a2", 0)
		started := time.Now()
		saved := make(chan time.Time, 1)
		wg.Add(2)
		go func() { // the phone
			defer wg.Done()
			time.Sleep(time.Until(started.Add(rand.N(answerIn))))
			app := e.app("sm2-person", phone.Options{})
			app.Report = func(s phone.Step) {
				if s.Name == "save" {
					saved <- time.Now()
				}
			}
			if _, err := app.Scan(ctx, qr); err != nil {
				b.Error(err)
				close(saved)
			}
		}()
		go func() { // the trading system, polling from a random phase
			defer wg.Done()
			next := started.Add(rand.N(interval))
			for ctx.Err() == nil {
				time.Sleep(time.Until(next))
				next = next.Add(interval)
				r, err := e.c.GetCaMessageResult(ctx, tok, guid)
				if err != nil {
					b.Error(err)
					return
				}
				if r.Status == phone.StatusConfirmed {
					seen := time.Now()
					if at, ok := <-saved; ok {
						mu.Lock()
						out = append(out, seen.Sub(at))
						mu.Unlock()
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(out) != n {
		b.Fatalf("%d of %d flows finished", len(out), n)
	}
	return out
}
