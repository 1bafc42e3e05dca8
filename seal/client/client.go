package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/seal"
)

// Defaults of Config and Company.
const (
	DefaultTimeout        = 5 * time.Second
	DefaultMaxAnswerBytes = 8 << 20 // a few seal images in base64, with room
	DefaultRetries        = 2
	DefaultRetryBackoff   = 100 * time.Millisecond
	maxCodeLen            = 64
)

// Company is one seal company the relay may call, as configured.
type Company struct {
	Code     string        `yaml:"code" json:"code"`         // the signatureCompanyCode apps save
	URL      string        `yaml:"url" json:"url"`           // base URL; /api/getSeal is appended unless already there
	Account  string        `yaml:"account" json:"account"`   // accountName at the company
	Password string        `yaml:"password" json:"password"` // sent to the company; never logged
	Timeout  time.Duration `yaml:"timeout" json:"timeout"`   // whole call, retries included; zero: DefaultTimeout
}

// String leaves the password out, so a Company can be printed or logged.
func (c Company) String() string {
	return fmt.Sprintf("{code:%s url:%s account:%s timeout:%v}", c.Code, c.URL, c.Account, c.Timeout)
}

// LogValue leaves the password out of slog output.
func (c Company) LogValue() slog.Value {
	return slog.GroupValue(slog.String("code", c.Code), slog.String("url", c.URL), slog.String("account", c.Account), slog.Duration("timeout", c.Timeout))
}

// Config configures a Registry. Zero values take the defaults above.
type Config struct {
	Companies      []Company
	MaxAnswerBytes int64             // answers larger than this are refused
	Retries        int               // extra attempts after a failure to connect; negative: none
	RetryBackoff   time.Duration     // wait before the first retry, doubled each time
	Transport      http.RoundTripper // nil: a transport of the Registry's own
	Now            func() time.Time  // validity of seals; nil: time.Now
}

// Registry holds the configured seal companies and calls them.
type Registry struct {
	companies map[string]company
	http      *http.Client
	maxAnswer int64
	retries   int
	backoff   time.Duration
	now       func() time.Time
}

type company struct {
	Company
	endpoint string
}

// Result is what a company answered for a certificate: its user data and
// its seals valid now (at least one), in the company's order.
type Result struct {
	Company string
	User    seal.UserInfo
	Seals   []seal.SignInfo
}

// SealImgs gives the seals in the relay's 二.2.8 shape.
func (r *Result) SealImgs() []seal.SealImg { return seal.SealImgs(r.Seals) }

// New checks the configuration and builds the registry.
func New(cfg Config) (*Registry, error) {
	r := &Registry{companies: make(map[string]company, len(cfg.Companies)), maxAnswer: cfg.MaxAnswerBytes,
		retries: cfg.Retries, backoff: cfg.RetryBackoff, now: cfg.Now}
	if r.maxAnswer <= 0 {
		r.maxAnswer = DefaultMaxAnswerBytes
	}
	if r.retries == 0 {
		r.retries = DefaultRetries
	} else if r.retries < 0 {
		r.retries = 0
	}
	if r.backoff <= 0 {
		r.backoff = DefaultRetryBackoff
	}
	if r.now == nil {
		r.now = time.Now
	}
	for _, c := range cfg.Companies {
		if c.Code == "" || len(c.Code) > maxCodeLen {
			return nil, fmt.Errorf("seal company code %q: must be 1–%d bytes", c.Code, maxCodeLen)
		}
		if _, dup := r.companies[c.Code]; dup {
			return nil, fmt.Errorf("seal company %q configured twice", c.Code)
		}
		endpoint, err := endpointOf(c.URL)
		if err != nil {
			return nil, fmt.Errorf("seal company %q: %w", c.Code, err)
		}
		if c.Account == "" || c.Password == "" {
			return nil, fmt.Errorf("seal company %q: account and password are required", c.Code)
		}
		if c.Timeout < 0 {
			return nil, fmt.Errorf("seal company %q: negative timeout", c.Code)
		}
		if c.Timeout == 0 {
			c.Timeout = DefaultTimeout
		}
		r.companies[c.Code] = company{Company: c, endpoint: endpoint}
	}
	rt := cfg.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 16
		rt = t
	}
	r.http = &http.Client{
		Transport: rt,
		// A redirect would turn the POST into a GET without credentials:
		// take a 3xx as the answer (and refuse it).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return r, nil
}

func endpointOf(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("url %q: want http(s)://host[:port][/prefix]", raw)
	}
	if u.User != nil {
		return "", errors.New("url must not carry credentials: use account and password")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("url must not have a query or fragment")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if !strings.HasSuffix(u.Path, "/api/getSeal") {
		u.Path += "/api/getSeal"
	}
	u.RawPath = ""
	return u.String(), nil
}

// Has reports whether code is a configured company.
func (r *Registry) Has(code string) bool { _, ok := r.companies[code]; return ok }

// Company returns a configured company (for the relay's readiness page or logs).
func (r *Registry) Company(code string) (Company, bool) {
	c, ok := r.companies[code]
	return c.Company, ok
}

// GetSeals asks company companyCode for the seals of the certificate with
// serial caSerialID. It returns within the company's timeout; failures are
// *Error (see the Err* kinds), or the caller's own context error.
func (r *Registry) GetSeals(ctx context.Context, companyCode, caSerialID string) (*Result, error) {
	c, ok := r.companies[companyCode]
	if !ok {
		return nil, &Error{Kind: ErrUnknownCompany, Company: printable(companyCode, maxCodeLen)}
	}
	serial, err := certs.NormalizeSerial(strings.TrimSpace(caSerialID))
	if err != nil {
		return nil, &Error{Kind: ErrBadSerial, Company: c.Code, Err: err}
	}
	callCtx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()

	// The serial goes normalised (certs.NormalizeSerial: uppercase hex,
	// no leading zeros or separators), the way CAs print serials and seal
	// companies register them, whatever spelling the app saved. (The relay
	// has normalised it already; doing it here holds for every caller.)
	form := url.Values{"caSerialId": {serial}, "accountName": {c.Account}, "password": {c.Password}}.Encode()
	var resp *http.Response
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(callCtx, http.MethodPost, c.endpoint, strings.NewReader(form))
		if err != nil {
			return nil, &Error{Kind: ErrUnreachable, Company: c.Code, Err: err}
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
		req.Header.Set("Accept", "application/json")
		resp, err = r.http.Do(req)
		if err == nil {
			break
		}
		failed := r.classify(ctx, callCtx, c, err)
		if !errors.Is(failed, ErrUnreachable) || !isConnectError(err) || attempt >= r.retries {
			return nil, failed
		}
		// Nothing reached the company: wait a little and try again, within the budget.
		select {
		case <-time.After(r.backoff << attempt):
		case <-callCtx.Done():
			return nil, r.classify(ctx, callCtx, c, callCtx.Err())
		}
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxAnswer+1))
	if err != nil {
		return nil, r.classify(ctx, callCtx, c, err)
	}
	switch {
	case resp.StatusCode >= 500:
		return nil, &Error{Kind: ErrUnreachable, Company: c.Code, Err: fmt.Errorf("HTTP %s", resp.Status)}
	case resp.StatusCode != http.StatusOK:
		return nil, &Error{Kind: ErrBadAnswer, Company: c.Code, Err: fmt.Errorf("HTTP %s", resp.Status)}
	case int64(len(body)) > r.maxAnswer:
		return nil, &Error{Kind: ErrBadAnswer, Company: c.Code, Err: fmt.Errorf("answer larger than %d bytes", r.maxAnswer)}
	}
	res, err := parseAnswer(body, r.now())
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Company = c.Code
		}
		return nil, err
	}
	res.Company = c.Code
	return res, nil
}

// classify turns a transport error into the caller's own context error (the
// relay's request went away), ErrTimeout (our budget ran out) or
// ErrUnreachable.
func (r *Registry) classify(parent, call context.Context, c company, err error) error {
	if parent.Err() != nil {
		return fmt.Errorf("seal company %q: %w", c.Code, parent.Err())
	}
	if call.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: ErrTimeout, Company: c.Code, Err: fmt.Errorf("no answer within %v", c.Timeout)}
	}
	return &Error{Kind: ErrUnreachable, Company: c.Code, Err: err}
}

// isConnectError reports a failure to open the connection (refused, no
// route, name not resolved): the request never left, so retrying is safe.
func isConnectError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
