package pdfsign

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/sign"
	vcms "github.com/scansign/scansign/verify/cms"
)

// bigPDF writes a valid one-page PDF of about size bytes to dir: a page
// drawing an uncompressed grey image of random (incompressible) pixels.
func bigPDF(b testing.TB, dir string, size int) string {
	b.Helper()
	side := 1
	for side*side < size {
		side++
	}
	path := filepath.Join(dir, fmt.Sprintf("big-%d.pdf", size))
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var offs []int64
	var n int64
	w := func(s string) {
		m, _ := io.WriteString(f, s)
		n += int64(m)
	}
	obj := func(s string) { offs = append(offs, n); w(s) }
	w("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	obj("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	obj("2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n")
	obj("3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im 4 0 R >> >> /Contents 5 0 R >>\nendobj\n")
	obj(fmt.Sprintf("4 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\nstream\n", side, side, side*side))
	chunk := make([]byte, 1<<20)
	for left := side * side; left > 0; left -= len(chunk) {
		c := chunk[:min(left, len(chunk))]
		rand.Read(c)
		m, _ := f.Write(c)
		n += int64(m)
	}
	w("\nendstream\nendobj\n")
	content := "q 400 0 0 400 100 300 cm /Im Do Q"
	obj(fmt.Sprintf("5 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(content), content))
	xref := n
	w("xref\n0 6\n0000000000 65535 f \n")
	for _, o := range offs {
		w(fmt.Sprintf("%010d 00000 n \n", o))
	}
	w(fmt.Sprintf("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", xref))
	return path
}

// BenchmarkSealLarge puts beside each other, for 1, 20 and 100 MB files on
// disk (tmpfs when there is one): hashing the file with the seal's digest,
// and prepare + the app's signature + complete (file in, files out). Each
// iteration times both back to back, so a busy machine slows both alike;
// it reports their times, the ratio, and the peak heap above the baseline.
func BenchmarkSealLarge(b *testing.B) {
	pki := thePKI(b)
	dir := benchDir(b)
	// Encoded once, as the HTTP API's cache holds it for a seal in use.
	seal, err := EncodeSeal(redSeal(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, mb := range []int{1, 20, 100} {
		path := bigPDF(b, dir, mb<<20)
		st, _ := os.Stat(path)
		for _, leaf := range []string{"sm2-org", "rsa-org"} {
			id, _ := pki.identity(b, leaf)
			alg := SM3
			if !certs.IsSM2(id.Certificate) {
				alg = SHA256
			}
			b.Run(fmt.Sprintf("%dMB/%s", mb, alg), func(b *testing.B) {
				var hashTime, sealTime time.Duration
				var peak uint64
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					hashFile(b, path, alg)
					t1 := time.Now()
					runtime.GC()
					stop := sampleHeap()
					sealTime += sealOnDisk(b, pki, id, path, filepath.Join(dir, "prepared.pdf"), filepath.Join(dir, "signed.pdf"), seal)
					peak = max(peak, stop())
					hashTime += t1.Sub(t0)
				}
				n := float64(b.N)
				b.ReportMetric(hashTime.Seconds()*1000/n, "hash-ms")
				b.ReportMetric(sealTime.Seconds()*1000/n, "prepare+complete-ms")
				b.ReportMetric(sealTime.Seconds()/hashTime.Seconds(), "ratio")
				b.ReportMetric(float64(peak)/(1<<20), "peak-extra-heap-MiB")
				b.ReportMetric(float64(st.Size())/(1<<20), "file-MiB")
			})
		}
	}
}

// hashFile hashes a file the plain way: the baseline.
func hashFile(b testing.TB, path string, alg DigestAlgorithm) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h := alg.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, copyBufSize)); err != nil {
		b.Fatal(err)
	}
	h.Sum(nil)
}

// sealOnDisk prepares, signs as the app would, and completes; it returns
// the time of prepare and complete (the app's signature is the phone's).
func sealOnDisk(b testing.TB, pki *testPKI, id *certs.Identity, in, preparedPath, signedPath string, seal *EncodedSeal) time.Duration {
	t0 := time.Now()
	src, err := os.Open(in)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	st, _ := src.Stat()
	prepared, err := os.Create(preparedPath)
	if err != nil {
		b.Fatal(err)
	}
	defer prepared.Close()
	p, err := Prepare(context.Background(), src, st.Size(), PrepareRequest{
		Seal: SealImage{Encoded: seal}, Placement: Placement{Page: 1, X: 2, Y: 2, Width: 4, Height: 4}, Signer: id.Certificate,
	}, prepared)
	if err != nil {
		b.Fatal(err)
	}
	prepareTime := time.Since(t0)
	var sig []byte
	if certs.IsSM2(id.Certificate) {
		sig, err = sign.SM2(id.Signer, p.SignedAttributes, sign.RawOptions{})
	} else {
		sig, err = sign.RSA(id.Signer, p.SignedAttributes, vcms.SHA256)
	}
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	signed, err := os.Create(signedPath)
	if err != nil {
		b.Fatal(err)
	}
	defer signed.Close()
	ans := Answer{Signature: sig, Cert: certs.EncodePEM(id.Certificate), SignedAttributes: p.SignedAttributes}
	if _, err := Complete(context.Background(), prepared, p.Size, ans, CompleteOptions{Verifier: pki.verifier, Streaming: true}, signed); err != nil {
		b.Fatal(err)
	}
	return prepareTime + time.Since(t1)
}

// benchDir is where the benchmark's files live: $SCANSIGN_BENCH_DIR, else
// tmpfs (/dev/shm) when there is one, so the figures measure the work, not
// the disk; else a temporary directory.
func benchDir(b *testing.B) string {
	base := os.Getenv("SCANSIGN_BENCH_DIR")
	if base == "" {
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			base = "/dev/shm"
		}
	}
	if base == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(base, "pdfsign-bench-")
	if err != nil {
		return b.TempDir()
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// sampleHeap watches the live heap every millisecond until the returned
// function is called, which reports the highest value seen above the heap
// at the start (the test PKI, the trust store).
func sampleHeap() func() uint64 {
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(sample)
		base := sample[0].Value.Uint64()
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				done <- peak - min(peak, base)
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}
