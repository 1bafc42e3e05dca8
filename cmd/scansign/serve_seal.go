package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/scansign/scansign/phone"
	"github.com/scansign/scansign/relay"
	"github.com/scansign/scansign/seal"
	sealclient "github.com/scansign/scansign/seal/client"
	"github.com/scansign/scansign/seal/service"
	sealstore "github.com/scansign/scansign/seal/store"
)

// devSealCompany is the seal company `serve --dev` registers, pointing at
// its own /api/getSeal: the code the phone simulator names by default.
const devSealCompany = phone.DefaultSealCompanyCode

// sealCompaniesSetting is --seal-company CODE=URL (repeatable) and
// SCANSIGN_SEAL_COMPANIES: the registry of seal companies /getSealImg
// calls, keyed by the signatureCompanyCode apps save. The URL carries the
// account and password as its user info and an optional ?timeout=5s; the
// file's seal_companies list is the same with separate keys.
func (c *Config) sealCompaniesSetting() setting {
	return setting{flag: "seal-company", envName: "SCANSIGN_SEAL_COMPANIES",
		usage: "seal company CODE=https://ACCOUNT:PASSWORD@host[/prefix][?timeout=5s] that /getSealImg calls (repeatable)",
		list: func(v []string) error {
			c.SealCompanies = nil
			for _, s := range v {
				co, err := parseSealCompanyFlag(s)
				if err != nil {
					return err
				}
				c.SealCompanies = append(c.SealCompanies, co)
			}
			return nil
		}}
}

// parseSealCompanyFlag reads CODE=URL. Its errors never repeat the text:
// it holds a password.
func parseSealCompanyFlag(s string) (sealclient.Company, error) {
	const want = "want CODE=https://ACCOUNT:PASSWORD@host[:port][/prefix][?timeout=5s]"
	code, raw, ok := strings.Cut(s, "=")
	code = strings.TrimSpace(code)
	if !ok || code == "" {
		return sealclient.Company{}, fmt.Errorf("seal company: %s", want)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.User == nil || u.Host == "" {
		return sealclient.Company{}, fmt.Errorf("seal company %q: %s", code, want)
	}
	password, _ := u.User.Password()
	co := sealclient.Company{Code: code, Account: u.User.Username(), Password: password}
	q := u.Query()
	if t := q.Get("timeout"); t != "" {
		if co.Timeout, err = time.ParseDuration(t); err != nil || co.Timeout <= 0 {
			return sealclient.Company{}, fmt.Errorf("seal company %q: timeout %q: want a duration like 5s", code, t)
		}
		q.Del("timeout")
	}
	if len(q) > 0 {
		return sealclient.Company{}, fmt.Errorf("seal company %q: the URL's only query parameter may be timeout", code)
	}
	u.User, u.RawQuery = nil, ""
	co.URL = u.String()
	return co, nil
}

// devSealServiceAccount is the documented dev account of the seal service
// that `seal serve --dev` and `serve --dev` add, hashed cheaply: its
// password is public, and a slow hash would only slow the dev loop.
func devSealServiceAccount() (service.Account, error) {
	hash, err := service.HashPasswordIterations(devSealPassword, 10_000)
	return service.Account{Name: devSealAccount, PasswordHash: hash}, err
}

// sealParts are the seal company service (when enabled) and the registry
// /getSealImg calls.
type sealParts struct {
	store     seal.Store       // nil unless the service is enabled
	service   *service.Service // nil unless the service is enabled
	companies *sealclient.Registry
	images    *relay.SealImages
}

// newSealParts opens the seal store and service (seal.enabled) and builds
// the seal company registry; in dev mode the registry gets the company
// "dev", this very server. cfg.Listen must be the bound address.
func newSealParts(ctx context.Context, cfg *Config, svc *relay.Service, log *slog.Logger) (*sealParts, error) {
	p := &sealParts{}
	if cfg.Seal.Enabled {
		st, err := sealstore.Open(ctx, sealstore.Config{DataDir: cfg.Data, DatabaseURL: cfg.DatabaseURL})
		if err != nil {
			return nil, fmt.Errorf("seal store: %w", err)
		}
		if p.service, err = newSealService(cfg.Seal.SealServiceConfig, st, log); err != nil {
			st.Close()
			return nil, err
		}
		p.store = st
		log.Info("seal company service enabled", "endpoint", cfg.PathPrefix+service.Path, "accounts", len(cfg.Seal.Accounts))
	}
	companies := append([]sealclient.Company(nil), cfg.SealCompanies...)
	var transport http.RoundTripper
	if cfg.Dev && !hasCompany(companies, devSealCompany) {
		companies = append(companies, sealclient.Company{Code: devSealCompany, URL: cfg.selfURL(), Account: devSealAccount, Password: devSealPassword})
		if cfg.TLSCert != "" {
			t, err := trustingOwnCert(cfg.TLSCert)
			if err != nil {
				p.close()
				return nil, err
			}
			transport = t
		}
	}
	var err error
	if p.companies, err = sealclient.New(sealclient.Config{Companies: companies, Transport: transport}); err != nil {
		p.close()
		return nil, fmt.Errorf("seal companies: %w", err)
	}
	codes := make([]string, 0, len(companies))
	for _, c := range companies {
		codes = append(codes, c.Code)
	}
	log.Info("seal companies for /getSealImg", "codes", codes)
	if p.images, err = relay.NewSealImages(svc, p.companies); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *sealParts) close() error {
	if p.store != nil {
		return p.store.Close()
	}
	return nil
}

func hasCompany(cs []sealclient.Company, code string) bool {
	for _, c := range cs {
		if c.Code == code {
			return true
		}
	}
	return false
}

// trustingOwnCert is a transport that also trusts the server's own TLS
// certificate, so the dev seal company (this server) is reached over HTTPS.
func trustingOwnCert(certFile string) (http.RoundTripper, error) {
	pemData, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, errors.New("tls cert: no certificate in " + certFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t, nil
}
