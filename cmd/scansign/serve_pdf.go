package main

import (
	"net/http"
	"time"

	"github.com/scansign/scansign/pdfsign"
)

// PDFConfig is serve's `pdf:` section: the PDF seal API for seal controls
// (/api/v1/pdf/…). Its uploads are far larger than anything the guide's
// endpoints take, so it has its own body limit and its own deadlines.
type PDFConfig struct {
	MaxBytes ByteSize      `yaml:"max_bytes"`
	Timeout  time.Duration `yaml:"timeout"`
	TempDir  string        `yaml:"temp_dir"`
}

// DefaultPDFTimeout is how long one PDF API request may take to arrive and
// be answered: 100 MiB up and ~133 MiB of base64 back at 2 Mbit/s.
const DefaultPDFTimeout = 15 * time.Minute

func defaultPDFConfig() PDFConfig {
	return PDFConfig{MaxBytes: pdfsign.DefaultMaxPDFBytes, Timeout: DefaultPDFTimeout}
}

func (p *PDFConfig) settings() []setting {
	return []setting{
		{flag: "pdf-max-bytes", usage: "largest PDF the seal API takes (bytes, or with MiB/GiB)",
			set: func(s string) error { return p.MaxBytes.parse(s) }},
		duration("pdf-timeout", "how long one PDF seal API request may take to upload and download", &p.Timeout),
		str("pdf-temp-dir", "directory for uploads while a PDF request runs (default: the system's)", &p.TempDir),
	}
}

// withDeadlines gives the requests it wraps their own read and write
// deadlines instead of the server's, so a large upload over a slow link is
// not cut off by the limits meant for the small guide endpoints.
func withDeadlines(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			until := time.Now().Add(d)
			// Errors mean the connection cannot take deadlines (tests'
			// recorders); the server's own then stay in force.
			_ = rc.SetReadDeadline(until)
			_ = rc.SetWriteDeadline(until)
			next.ServeHTTP(w, r)
		})
	}
}
