package pdfsign

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/emmansun/gmsm/sm3"

	vcms "github.com/scansign/scansign/verify/cms"
)

// DigestAlgorithm is the digest of a signature's byte ranges.
type DigestAlgorithm string

// The digests: SM3 for SM2 signers, SHA-256 for RSA.
const (
	SM3    DigestAlgorithm = "SM3"
	SHA256 DigestAlgorithm = "SHA-256"
)

// ParseDigestAlgorithm accepts "SM3", "SHA-256", "sha256" and the like.
func ParseDigestAlgorithm(s string) (DigestAlgorithm, error) {
	switch strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "")) {
	case "SM3":
		return SM3, nil
	case "SHA256":
		return SHA256, nil
	case "":
		return "", nil
	}
	return "", fail(CodeBadRequest, "不支持的摘要算法 "+s+"（支持 SM3、SHA-256）", "unsupported digest algorithm "+s+" (SM3 or SHA-256)", nil)
}

// New returns a fresh hash.
func (a DigestAlgorithm) New() hash.Hash {
	if a == SHA256 {
		return sha256.New()
	}
	return sm3.New()
}

// copyBufSize is the chunk streamed through the hash: large enough that a
// 100 MB file costs a hundred reads, small enough to stay out of the way.
const copyBufSize = 1 << 20

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// copyRange streams [off, off+n) of src into w.
func copyRange(ctx context.Context, w io.Writer, src io.ReaderAt, off, n int64, buf []byte) error {
	if n <= 0 {
		return nil
	}
	got, err := io.CopyBuffer(w, ctxReader{ctx, io.NewSectionReader(src, off, n)}, buf)
	if err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("short read: %d of %d bytes", got, n)
	}
	return nil
}

// rangeDigests hashes a signature's two byte ranges, once per algorithm.
type rangeDigests struct {
	ctx  context.Context
	src  io.ReaderAt
	br   [4]int64
	sums map[vcms.Digest][]byte
}

func newRangeDigests(ctx context.Context, src io.ReaderAt, br [4]int64) *rangeDigests {
	return &rangeDigests{ctx: ctx, src: src, br: br, sums: map[vcms.Digest][]byte{}}
}

// sum returns the digest of the byte ranges with d.
func (r *rangeDigests) sum(d vcms.Digest) ([]byte, error) {
	if v, ok := r.sums[d]; ok {
		return v, nil
	}
	h := d.New()
	if h == nil {
		return nil, fail(CodeBadSignature, "签名使用了不支持的摘要算法", "the signature uses an unsupported digest", nil)
	}
	buf := make([]byte, copyBufSize)
	if err := copyRange(r.ctx, h, r.src, r.br[0], r.br[1], buf); err != nil {
		return nil, fmt.Errorf("pdfsign: hash: %w", err)
	}
	if err := copyRange(r.ctx, h, r.src, r.br[2], r.br[3], buf); err != nil {
		return nil, fmt.Errorf("pdfsign: hash: %w", err)
	}
	r.sums[d] = h.Sum(nil)
	return r.sums[d], nil
}

// onlyWriter hides any ReadFrom of w so io.CopyBuffer uses our buffer.
type onlyWriter struct{ io.Writer }

// copyHashing streams [off, off+n) of src into dst while another goroutine
// reads the same range and hashes it into h: on two cores the hash costs
// no extra wall time.
func copyHashing(ctx context.Context, dst io.Writer, h hash.Hash, src io.ReaderAt, off, n int64) error {
	var hashErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		hashErr = copyRange(ctx, h, src, off, n, make([]byte, copyBufSize))
	}()
	err := copySpan(ctx, dst, src, off, n)
	wg.Wait()
	if err != nil {
		return err
	}
	return hashErr
}

// copySpan copies [off, off+n) of src to dst. File to file it lets the
// kernel copy (copy_file_range), in pieces so cancellation is noticed.
func copySpan(ctx context.Context, dst io.Writer, src io.ReaderAt, off, n int64) error {
	sf, srcFile := src.(*os.File)
	_, dstFile := dst.(*os.File)
	if !srcFile || !dstFile {
		return copyRange(ctx, onlyWriter{dst}, src, off, n, make([]byte, copyBufSize))
	}
	// Reading through the file offset: other readers of sf use ReadAt
	// (pread), which the offset does not disturb.
	if _, err := sf.Seek(off, io.SeekStart); err != nil {
		return err
	}
	const piece = 64 << 20
	for left := n; left > 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		m := min(left, piece)
		got, err := io.Copy(dst, io.LimitReader(sf, m))
		if err != nil {
			return err
		}
		if got != m {
			return fmt.Errorf("short read: %d of %d bytes", got, m)
		}
		left -= m
	}
	return nil
}
