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
		str("sm2-user-id", "SM2 user ID of raw SM2 signatures, tried before the default 1234567812345678 (PKCS#7 always uses the default)", &t.SM2UserID),
		boolean("allow-sha1", "accept SHA-1 digests in signatures", &t.AllowSHA1),
		str("cert-type-rules", "YAML/JSON file of per-CA person/organisation rules (certs.CertTypeRule)", &t.CertTypeRules),
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
	opts := verify.Options{AllowSHA1: t.AllowSHA1}
	if t.SM2UserID != "" {
		opts.UserID = []byte(t.SM2UserID)
	}
	if t.CertTypeRules != "" {
		data, err := readLimited(t.CertTypeRules, 1<<20)
		if err != nil {
			return nil, nil, fmt.Errorf("cert type rules: %w", err)
		}
		rules, err := certs.ParseCertTypeRules(data)
		if err != nil {
			return nil, nil, fmt.Errorf("cert type rules %s: %w", t.CertTypeRules, err)
		}
		if opts.Classifier, err = certs.NewClassifier(rules); err != nil {
			return nil, nil, fmt.Errorf("cert type rules %s: %w", t.CertTypeRules, err)
		}
	}
	st := ts.Status()
	log.Info("trust store loaded", "dir", st.Dir, "roots", len(st.Roots), "intermediates", len(st.Intermediates), "crls", len(st.CRLs), "problems", len(st.Problems))
	return ts, verify.New(ts, opts), nil
}

// reloadTrust re-reads the trust directory (SIGHUP). A failed reload keeps
// the set in force; either way the outcome is logged.
func (s *server) reloadTrust() {
	if s.trust == nil {
		s.log.Warn("SIGHUP: no trust directory configured (--trust), nothing to reload")
		return
	}
	if err := s.trust.Reload(); err != nil {
		s.log.Error("trust store reload failed: keeping the previous set", "dir", s.cfg.Trust.Dir, "err", err)
		return
	}
	st := s.trust.Status()
	s.log.Info("trust store reloaded", "dir", st.Dir, "roots", len(st.Roots), "intermediates", len(st.Intermediates), "crls", len(st.CRLs), "problems", len(st.Problems))
}
