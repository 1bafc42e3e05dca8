package main

import (
	"fmt"
	"log/slog"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/verify"
)

// TrustConfig is serve's `trust:` section: the mutually recognised CAs and
// how signatures are checked. Everything that verifies — the one-call
// results API, the verification API, the PDF seal API — needs Dir; without
// it serve still runs the relay and answers those routes 503 (see
// unconfiguredTrust).
type TrustConfig struct {
	Dir             string `yaml:"dir"`
	SM2UserID       string `yaml:"sm2_user_id"`
	AllowSHA1       bool   `yaml:"allow_sha1"`
	CertTypeRules   string `yaml:"cert_type_rules"`
	RequireFreshCRL bool   `yaml:"require_fresh_crl"`
}

func (t *TrustConfig) settings() []setting {
	return []setting{
		withEnv(str("trust", "trust directory: CA roots, intermediates and CRLs (scansign pki init writes one); reloaded on SIGHUP", &t.Dir), "SCANSIGN_TRUST"),
		str("sm2-user-id", sm2UserIDUsage, &t.SM2UserID),
		boolean("allow-sha1", "accept SHA-1 digests in signatures", &t.AllowSHA1),
		str("cert-type-rules", certTypeRulesUsage+"; reloaded on SIGHUP", &t.CertTypeRules),
		boolean("require-fresh-crl", requireFreshCRLUsage, &t.RequireFreshCRL),
	}
}

// loadTrust reads the trust directory and builds the verifier every
// verifying route shares. It returns nils when no directory is configured.
func loadTrust(t TrustConfig, log *slog.Logger) (*certs.TrustStore, *verify.Verifier, error) {
	if t.Dir == "" {
		return nil, nil, nil
	}
	ts, err := certs.LoadTrustStore(t.Dir, certs.TrustOptions{RequireFreshCRL: t.RequireFreshCRL, Logger: log})
	if err != nil {
		return nil, nil, fmt.Errorf("trust directory: %w", err)
	}
	opts, err := t.verifierOptions()
	if err != nil {
		return nil, nil, err
	}
	st := ts.Status()
	log.Info("trust store loaded", "dir", st.Dir, "roots", len(st.Roots), "intermediates", len(st.Intermediates), "crls", len(st.CRLs), "problems", len(st.Problems))
	return ts, verify.New(ts, opts), nil
}

// verifierOptions are the verifier's options the section sets: SHA-1, the
// SM2 user ID, the person/organisation rules (read from their file).
func (t TrustConfig) verifierOptions() (verify.Options, error) {
	opts := verify.Options{AllowSHA1: t.AllowSHA1}
	if t.SM2UserID != "" {
		opts.UserID = []byte(t.SM2UserID)
	}
	var err error
	opts.Classifier, err = loadCertTypeRules(t.CertTypeRules)
	return opts, err
}

// loadCertTypeRules reads a rules file (YAML or JSON, certs.CertTypeRule);
// the empty path means the default rules (nil).
func loadCertTypeRules(path string) (*certs.Classifier, error) {
	if path == "" {
		return nil, nil
	}
	data, err := readLimited(path, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("cert type rules: %w", err)
	}
	rules, err := certs.ParseCertTypeRules(data)
	if err != nil {
		return nil, fmt.Errorf("cert type rules %s: %w", path, err)
	}
	c, err := certs.NewClassifier(rules)
	if err != nil {
		return nil, fmt.Errorf("cert type rules %s: %w", path, err)
	}
	return c, nil
}

// reloadTrust re-reads the trust directory and the cert type rules file
// (SIGHUP). Each is replaced only if it loads: a failed one keeps what is
// in force (a typo in the rules must not hold back a new CRL, nor the
// reverse). Every outcome is logged.
func (s *server) reloadTrust() {
	if s.trust == nil {
		s.log.Warn("SIGHUP: no trust directory configured (--trust), nothing to reload")
		return
	}
	if err := s.trust.Reload(); err != nil {
		s.log.Error("trust store reload failed: keeping the previous set", "dir", s.cfg.Trust.Dir, "err", err)
	} else {
		st := s.trust.Status()
		s.log.Info("trust store reloaded", "dir", st.Dir, "roots", len(st.Roots), "intermediates", len(st.Intermediates), "crls", len(st.CRLs), "problems", len(st.Problems))
	}
	if path := s.cfg.Trust.CertTypeRules; path != "" {
		c, err := loadCertTypeRules(path)
		if err != nil {
			s.log.Error("cert type rules reload failed: keeping the previous rules", "file", path, "err", err)
			return
		}
		s.verifier.SetClassifier(c)
		s.log.Info("cert type rules reloaded", "file", path)
	}
}
