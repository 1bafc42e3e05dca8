package certs

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/internal/lru"
)

// Chain verification failures. A *ChainError carries one of these as its
// Reason and matches it with errors.Is.
var (
	ErrUntrusted   = errors.New("certs: certificate does not chain to a trusted root")
	ErrExpired     = errors.New("certs: certificate has expired")
	ErrNotYetValid = errors.New("certs: certificate is not yet valid")
	ErrRevoked     = errors.New("certs: certificate is revoked")
)

// ChainError says why a chain was refused and which certificate failed.
type ChainError struct {
	Reason  error               // ErrUntrusted, ErrExpired, ErrNotYetValid or ErrRevoked
	Cert    *smx509.Certificate // the certificate that failed (leaf or CA)
	At      time.Time           // the verification time
	Detail  string              // what the underlying check said
	Revoked *time.Time          // revocation time, for ErrRevoked
}

func (e *ChainError) Error() string {
	who := ""
	if e.Cert != nil {
		who = fmt.Sprintf(" (serial %s, %s)", SerialHex(e.Cert.SerialNumber), rdnOf(e.Cert.RawSubject).String())
	}
	msg := e.Reason.Error() + who
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *ChainError) Unwrap() error { return e.Reason }

// Chain is a verified path from a leaf to a trusted root.
type Chain struct {
	// Certificates runs leaf first, trusted root last.
	Certificates []*smx509.Certificate
	// Warnings are problems that did not fail the chain, each starting
	// with its code: "crl-stale: …" (a CRL past its nextUpdate),
	// "crl-missing: …" (a CA of the path has no CRL in the store, so the
	// certificate it issued is not checked for revocation) and
	// "crl-invalid: …" (the CA's CRL is there but does not verify, and was
	// skipped). Under TrustOptions.RequireFreshCRL each fails the chain.
	Warnings []string
	// Cached is true when the path came from the cache of verified chains.
	Cached bool
}

// TrustOptions tune a TrustStore.
type TrustOptions struct {
	// CacheSize bounds the cache of verified chains (default 4096; a
	// negative value disables the cache). The cache is also bounded to
	// 32 MiB, and leaves over 16 KiB are not cached.
	CacheSize int
	// RequireFreshCRL makes a CRL past its nextUpdate, a CA without a CRL
	// and a CA whose CRL does not verify fail the chain as untrusted
	// instead of adding a warning: revocation must have been checked.
	RequireFreshCRL bool
	// Logger receives load problems (files skipped); default slog.Default().
	Logger *slog.Logger
}

// TrustStore is the set of mutually recognised CAs: roots (self-signed
// certificates), intermediates and CRLs read from a directory, SM2 and RSA
// mixed. It is safe for concurrent use; Reload swaps the whole set at once.
type TrustStore struct {
	dir  string
	opts TrustOptions

	mu    sync.RWMutex
	state *trustState
	cache *lru.Cache[[]*smx509.Certificate] // verified paths by leaf DER
}

type trustState struct {
	roots         *smx509.CertPool
	intermediates *smx509.CertPool
	rootList      []*smx509.Certificate
	interList     []*smx509.Certificate
	crls          map[string]*crlInfo // by the issuer certificate's DER
	// badCRLs says, by the issuer's subject DER, why a CRL naming that
	// issuer was skipped (its signature does not verify).
	badCRLs  map[string]string
	problems []string
	loadedAt time.Time
}

type crlInfo struct {
	issuer     *smx509.Certificate
	thisUpdate time.Time
	nextUpdate time.Time
	revoked    map[string]time.Time // serialKey → revocation time
	path       string
}

// TrustStatus describes what a TrustStore holds, for logs and health checks.
type TrustStatus struct {
	Dir           string    `json:"dir"`
	Roots         []string  `json:"roots"`
	Intermediates []string  `json:"intermediates"`
	CRLs          []string  `json:"crls"`
	Problems      []string  `json:"problems,omitempty"`
	LoadedAt      time.Time `json:"loadedAt"`
}

// Files larger than this in a trust directory are skipped.
const maxTrustFile = 16 << 20

// LoadTrustStore reads dir (recursively, at most 4 levels): *.pem, *.crt,
// *.cer, *.der certificates — self-signed ones become trusted roots, the
// others intermediates — and *.crl files (PEM or DER). A CRL is kept only
// if its signature verifies against a CA certificate in the store. It
// fails if dir cannot be read or holds no root.
func LoadTrustStore(dir string, opts TrustOptions) (*TrustStore, error) {
	t := &TrustStore{dir: dir, opts: opts}
	if t.opts.Logger == nil {
		t.opts.Logger = slog.Default()
	}
	if err := t.Reload(); err != nil {
		return nil, err
	}
	return t, nil
}

// NewTrustStore builds a store from certificates and CRLs in memory (tests,
// and callers that keep their CAs elsewhere). Reload is then a no-op.
func NewTrustStore(roots, intermediates []*smx509.Certificate, crlDER [][]byte, opts TrustOptions) (*TrustStore, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	t := &TrustStore{opts: opts}
	st, err := buildState(roots, intermediates, crlDER, nil, nil)
	if err != nil {
		return nil, err
	}
	t.state = st
	t.cache = newChainCache(opts.CacheSize)
	return t, nil
}

// Reload re-reads the directory and swaps in the new set (the server calls
// it on SIGHUP). On error the old set stays in force. The chain cache is
// emptied so no chain verified under the old set is reused.
func (t *TrustStore) Reload() error {
	if t.dir == "" {
		return nil
	}
	var roots, inters []*smx509.Certificate
	var crls [][]byte
	var crlPaths, problems []string
	root := filepath.Clean(t.dir)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel, _ := filepath.Rel(root, path); strings.Count(rel, string(filepath.Separator)) >= 4 {
				return fs.SkipDir
			}
			return nil
		}
		ext := strings.ToLower(filepath.Ext(path))
		switch ext {
		case ".pem", ".crt", ".cer", ".der", ".crl":
		default:
			return nil
		}
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() || info.Size() > maxTrustFile {
			problems = append(problems, fmt.Sprintf("%s: skipped (not a regular file under %d bytes)", path, maxTrustFile))
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if ext == ".crl" || bytes.Contains(data, []byte("-----BEGIN X509 CRL")) {
			for _, der := range crlBlocks(data) {
				crls = append(crls, der)
				crlPaths = append(crlPaths, path)
			}
			return nil
		}
		certs, err := ParseCertificates(data)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", path, err))
			return nil
		}
		for _, c := range certs {
			if isSelfSigned(c) {
				roots = append(roots, c)
			} else {
				inters = append(inters, c)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("certs: reading trust directory %s: %w", t.dir, err)
	}
	st, err := buildState(roots, inters, crls, crlPaths, problems)
	if err != nil {
		return fmt.Errorf("certs: trust directory %s: %w", t.dir, err)
	}
	for _, p := range st.problems {
		t.opts.Logger.Warn("trust store: file skipped", "problem", p)
	}
	t.mu.Lock()
	t.state = st
	t.cache = newChainCache(t.opts.CacheSize)
	t.mu.Unlock()
	return nil
}

func crlBlocks(data []byte) [][]byte {
	trimmed := bytes.TrimSpace(data)
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		return [][]byte{trimmed}
	}
	var out [][]byte
	rest := trimmed
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			return out
		}
		rest = r
		if block.Type == "X509 CRL" {
			out = append(out, block.Bytes)
		}
	}
}

func isSelfSigned(c *smx509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil
}

func buildState(roots, inters []*smx509.Certificate, crls [][]byte, crlPaths, problems []string) (*trustState, error) {
	if len(roots) == 0 {
		return nil, errors.New("no trusted root certificate")
	}
	st := &trustState{
		roots:         smx509.NewCertPool(),
		intermediates: smx509.NewCertPool(),
		crls:          map[string]*crlInfo{},
		badCRLs:       map[string]string{},
		problems:      problems,
		loadedAt:      time.Now(),
	}
	for _, r := range roots {
		st.roots.AddCert(r)
		st.rootList = append(st.rootList, r)
	}
	for _, c := range inters {
		st.intermediates.AddCert(c)
		st.interList = append(st.interList, c)
	}
	cas := append(append([]*smx509.Certificate{}, st.rootList...), st.interList...)
	for i, der := range crls {
		path := ""
		if i < len(crlPaths) {
			path = crlPaths[i]
		}
		info, err := parseCRL(der, cas)
		if err != nil {
			problem := fmt.Sprintf("%s: %v", path, err)
			st.problems = append(st.problems, problem)
			if issuer, ok := crlIssuer(der); ok {
				// Results carry this: the file's name, not where it lives.
				st.badCRLs[string(issuer)] = fmt.Sprintf("%s: %v", filepath.Base(path), err)
			}
			continue
		}
		info.path = path
		key := string(info.issuer.Raw)
		if old, ok := st.crls[key]; ok && !info.thisUpdate.After(old.thisUpdate) {
			continue // keep the newest CRL per issuer
		}
		st.crls[key] = info
	}
	return st, nil
}

func parseCRL(der []byte, cas []*smx509.Certificate) (*crlInfo, error) {
	rl, err := smx509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("not a CRL: %w", err)
	}
	for _, ca := range cas {
		if !bytes.Equal(ca.RawSubject, rl.RawIssuer) {
			continue
		}
		if err := rl.CheckSignatureFrom(ca); err != nil {
			continue
		}
		info := &crlInfo{issuer: ca, thisUpdate: rl.ThisUpdate, nextUpdate: rl.NextUpdate, revoked: map[string]time.Time{}}
		for _, e := range rl.RevokedCertificateEntries {
			info.revoked[serialKey(e.SerialNumber)] = e.RevocationTime
		}
		return info, nil
	}
	return nil, errors.New("CRL signature does not verify against any CA certificate in the store (CRL skipped)")
}

// crlIssuer is the issuer name (DER) of a CRL that parses, whatever its
// signature.
func crlIssuer(der []byte) ([]byte, bool) {
	rl, err := smx509.ParseRevocationList(der)
	if err != nil {
		return nil, false
	}
	return rl.RawIssuer, true
}

// serialKey keys serial numbers in maps without formatting them.
func serialKey(n *big.Int) string {
	if n == nil {
		return ""
	}
	if n.Sign() < 0 {
		return "-" + string(n.Bytes())
	}
	return string(n.Bytes())
}

// Status reports what the store holds.
func (t *TrustStore) Status() TrustStatus {
	t.mu.RLock()
	st := t.state
	t.mu.RUnlock()
	s := TrustStatus{Dir: t.dir, LoadedAt: st.loadedAt, Problems: append([]string(nil), st.problems...)}
	for _, r := range st.rootList {
		s.Roots = append(s.Roots, rdnOf(r.RawSubject).String())
	}
	for _, c := range st.interList {
		s.Intermediates = append(s.Intermediates, rdnOf(c.RawSubject).String())
	}
	for _, c := range st.crls {
		s.CRLs = append(s.CRLs, fmt.Sprintf("%s (next update %s)", rdnOf(c.issuer.RawSubject).String(), c.nextUpdate.UTC().Format(time.RFC3339)))
	}
	sort.Strings(s.CRLs)
	return s
}

// Roots returns the trusted roots (for tools that export them, e.g. to an
// NSS database for pdfsig).
func (t *TrustStore) Roots() []*smx509.Certificate {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return append([]*smx509.Certificate(nil), t.state.rootList...)
}

// Verify builds and checks a chain from leaf to a trusted root at time at
// (the zero time means now), using the store's intermediates and extra
// (e.g. the certificates a PKCS#7 carries). Every certificate must be valid
// at that time and none revoked by a CRL of its issuer. A repeat leaf is
// answered from the cache: only its validity period and the CRLs are
// checked again. Failures are *ChainError.
func (t *TrustStore) Verify(ctx context.Context, leaf *smx509.Certificate, extra []*smx509.Certificate, at time.Time) (*Chain, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if at.IsZero() {
		at = time.Now()
	}
	t.mu.RLock()
	st, cache := t.state, t.cache
	t.mu.RUnlock()

	if path, ok := cache.Get(leaf.Raw); ok {
		if err := checkValidity(path, at); err != nil {
			return nil, err
		}
		warnings, err := t.checkRevocation(st, path, at)
		if err != nil {
			return nil, err
		}
		return &Chain{Certificates: path, Warnings: warnings, Cached: true}, nil
	}

	inter := st.intermediates
	if len(extra) > 0 {
		inter = smx509.NewCertPool()
		for _, c := range st.interList {
			inter.AddCert(c)
		}
		for _, c := range extra {
			if c != leaf {
				inter.AddCert(c)
			}
		}
	}
	// Build the path ignoring time first, so that "expired" is told apart
	// from "untrusted": verify at a moment inside the leaf's validity, then
	// check every certificate of the path at the real time.
	probe := leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	if !at.Before(leaf.NotBefore) && !at.After(leaf.NotAfter) {
		probe = at
	}
	chains, err := leaf.Verify(smx509.VerifyOptions{
		Roots:         st.roots,
		Intermediates: inter,
		CurrentTime:   probe,
		KeyUsages:     []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny},
	})
	if err != nil && probe != at {
		// A path through CAs valid only at the real time.
		chains, err = leaf.Verify(smx509.VerifyOptions{
			Roots: st.roots, Intermediates: inter, CurrentTime: at,
			KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny},
		})
	}
	if err != nil || len(chains) == 0 {
		return nil, chainFailure(leaf, at, err)
	}
	// Prefer a path whose every certificate is valid now.
	path := chains[0]
	for _, c := range chains {
		if checkValidity(c, at) == nil {
			path = c
			break
		}
	}
	if err := checkValidity(path, at); err != nil {
		return nil, err
	}
	warnings, err := t.checkRevocation(st, path, at)
	if err != nil {
		return nil, err
	}
	if cache != nil && len(leaf.Raw) <= maxCachedLeaf {
		if kept, cost, err := compactPath(st, path); err == nil {
			cache.Put(leaf.Raw, kept, cost)
		}
	}
	return &Chain{Certificates: path, Warnings: warnings}, nil
}

func chainFailure(leaf *smx509.Certificate, at time.Time, err error) error {
	var inv smx509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == smx509.Expired {
		if inv.Cert != nil && at.Before(inv.Cert.NotBefore) {
			return &ChainError{Reason: ErrNotYetValid, Cert: inv.Cert, At: at, Detail: inv.Error()}
		}
		return &ChainError{Reason: ErrExpired, Cert: inv.Cert, At: at, Detail: inv.Error()}
	}
	detail := "no path to a trusted root"
	if err != nil {
		detail = err.Error()
	}
	return &ChainError{Reason: ErrUntrusted, Cert: leaf, At: at, Detail: detail}
}

func checkValidity(path []*smx509.Certificate, at time.Time) error {
	for _, c := range path {
		if at.Before(c.NotBefore) {
			return &ChainError{Reason: ErrNotYetValid, Cert: c, At: at,
				Detail: fmt.Sprintf("valid from %s, checked at %s", c.NotBefore.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))}
		}
		if at.After(c.NotAfter) {
			return &ChainError{Reason: ErrExpired, Cert: c, At: at,
				Detail: fmt.Sprintf("expired %s, checked at %s", c.NotAfter.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))}
		}
	}
	return nil
}

// checkRevocation looks each non-root certificate up in its issuer's CRL.
// A certificate whose issuer has no usable CRL cannot be checked: that is
// a warning (crl-missing, crl-invalid), or under RequireFreshCRL a failure,
// never silence — a revoked certificate would otherwise pass unnoticed.
func (t *TrustStore) checkRevocation(st *trustState, path []*smx509.Certificate, at time.Time) ([]string, error) {
	var warnings []string
	for i := 0; i+1 < len(path); i++ {
		cert, issuer := path[i], path[i+1]
		crl, ok := st.crls[string(issuer.Raw)]
		if !ok {
			issuerName := rdnOf(issuer.RawSubject).String()
			msg := "crl-missing: no CRL of " + issuerName + " in the trust store, so revocation of the certificate it issued is not checked"
			if problem, bad := st.badCRLs[string(issuer.RawSubject)]; bad {
				msg = "crl-invalid: the CRL of " + issuerName + " was skipped (" + problem + "), so revocation of the certificate it issued is not checked"
			}
			if t.opts.RequireFreshCRL {
				return warnings, &ChainError{Reason: ErrUntrusted, Cert: cert, At: at, Detail: msg}
			}
			warnings = append(warnings, msg)
			continue
		}
		if when, revoked := crl.revoked[serialKey(cert.SerialNumber)]; revoked && !when.After(at) {
			w := when
			return warnings, &ChainError{Reason: ErrRevoked, Cert: cert, At: at, Revoked: &w,
				Detail: "revoked at " + when.UTC().Format(time.RFC3339)}
		}
		if !crl.nextUpdate.IsZero() && at.After(crl.nextUpdate) {
			msg := fmt.Sprintf("crl-stale: the CRL of %s was due for update at %s", rdnOf(issuer.RawSubject).String(), crl.nextUpdate.UTC().Format(time.RFC3339))
			if t.opts.RequireFreshCRL {
				return warnings, &ChainError{Reason: ErrUntrusted, Cert: cert, At: at, Detail: msg}
			}
			warnings = append(warnings, msg)
		}
	}
	return warnings, nil
}

// Bounds of the chain cache beyond its entry count: only leaves that
// chain to a trusted root are cached, but a caller still chooses the
// certificates it sends, so the cache is bounded in bytes too, and a leaf
// over maxCachedLeaf (certificates in the wild are 1–2 KiB) is verified
// anew each time.
const (
	maxCachedLeaf       = 16 << 10
	chainCacheBytes     = 32 << 20
	ParsedCertOverhead  = 4 << 10 // a parsed certificate beyond its DER, estimated (cache costs)
	defaultChainEntries = 4096
)

// newChainCache is the cache of verified paths keyed by the leaf's DER:
// size entries (0: the default), none when size is negative (a nil cache).
func newChainCache(size int) *lru.Cache[[]*smx509.Certificate] {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = defaultChainEntries
	}
	return lru.New[[]*smx509.Certificate](size, chainCacheBytes)
}

// compactPath returns path with every certificate that is not one of the
// store's own re-parsed from a copy of its DER, and what the copies cost.
// A parsed certificate points into the bytes it was parsed from — for a
// leaf or an intermediate out of a PKCS#7 or a PDF, the whole signature or
// file — which a cached path must not keep alive.
func compactPath(st *trustState, path []*smx509.Certificate) ([]*smx509.Certificate, int64, error) {
	out := make([]*smx509.Certificate, len(path))
	var cost int64
	for i, c := range path {
		if st.holds(c) {
			out[i] = c
			continue
		}
		cc, err := smx509.ParseCertificate(bytes.Clone(c.Raw))
		if err != nil {
			return nil, 0, err
		}
		out[i] = cc
		cost += int64(len(c.Raw)) + ParsedCertOverhead
	}
	return out, cost, nil
}

// holds reports whether c is one of the store's own certificates.
func (st *trustState) holds(c *smx509.Certificate) bool {
	for _, list := range [][]*smx509.Certificate{st.rootList, st.interList} {
		for _, s := range list {
			if s == c {
				return true
			}
		}
	}
	return false
}

// CacheLen reports how many verified chains are cached (for tests and
// metrics).
func (t *TrustStore) CacheLen() int {
	n, _ := t.CacheSize()
	return n
}

// CacheSize reports how many verified chains are cached and the bytes they
// are estimated to hold (for tests and metrics).
func (t *TrustStore) CacheSize() (entries int, bytes int64) {
	t.mu.RLock()
	c := t.cache
	t.mu.RUnlock()
	return c.Size()
}
