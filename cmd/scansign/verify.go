package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/verify"
)

// runVerify is the offline verifier for auditors and integrators:
// `verify sig` checks a PKCS#7 or raw signature, `verify cert` a
// certificate. Exit 0 valid, 1 invalid (including input that was read but
// is no signature or certificate at all), 2 usage or I/O error.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: scansign verify sig --in FILE [--content-file F | --content-text T | --content-hex H] [--cert PEM] --trust DIR [--at RFC3339] [--cert-type 0|1|2] [--allow-sha1] [--require-fresh-crl] [--sm2-user-id ID] [--cert-type-rules FILE] [--json]")
		fmt.Fprintln(stderr, "       scansign verify cert --in PEM --trust DIR [--at RFC3339] [--cert-type 0|1|2] [--require-fresh-crl] [--cert-type-rules FILE] [--json]")
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "sig":
		return runVerifySig(ctx, args[1:], stdout, stderr)
	case "cert":
		return runVerifyCert(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "scansign verify: unknown subcommand %q (sig, cert)\n", args[0])
	return exitUsage
}

// The help of the flags verify and serve share.
const (
	requireFreshCRLUsage = "treat a CA whose CRL is missing, does not verify or is past its nextUpdate as untrusted instead of a warning"
	sm2UserIDUsage       = "SM2 user ID of raw SM2 signatures, tried before the default 1234567812345678 (PKCS#7 always uses the default)"
	certTypeRulesUsage   = "YAML/JSON file of per-CA person/organisation rules (certs.CertTypeRule)"
)

// readLimited reads a file of at most max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return data, nil
}

// loadVerifier is the verifier of the offline commands (pdf, verify):
// the trust directory, and SHA-1 only when asked.
func loadVerifier(trustDir string, allowSHA1 bool) (*verify.Verifier, error) {
	return loadVerifierWith(TrustConfig{Dir: trustDir, AllowSHA1: allowSHA1})
}

// loadVerifierWith builds a verifier from the settings serve's trust
// section has, for the commands that take them as flags.
func loadVerifierWith(t TrustConfig) (*verify.Verifier, error) {
	if t.Dir == "" {
		return nil, errors.New("--trust DIR is required (a directory of CA roots, intermediates and CRLs)")
	}
	ts, err := certs.LoadTrustStore(t.Dir, certs.TrustOptions{RequireFreshCRL: t.RequireFreshCRL})
	if err != nil {
		return nil, err
	}
	opts, err := t.verifierOptions()
	if err != nil {
		return nil, err
	}
	return verify.New(ts, opts), nil
}

// trustFlags are the verifier settings verify sig and verify cert take,
// named as serve's.
func trustFlags(fs *flag.FlagSet, t *TrustConfig) {
	fs.StringVar(&t.Dir, "trust", "", "trust directory (CA roots, intermediates, CRLs)")
	fs.BoolVar(&t.RequireFreshCRL, "require-fresh-crl", false, requireFreshCRLUsage)
	fs.StringVar(&t.SM2UserID, "sm2-user-id", "", sm2UserIDUsage)
	fs.StringVar(&t.CertTypeRules, "cert-type-rules", "", certTypeRulesUsage)
}

func runVerifySig(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify sig", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "signature file: PKCS#7 (DER, BER, PEM or base64) or a raw signature (binary, base64 or hex)")
	contentFile := fs.String("content-file", "", "the content that was signed (for detached and raw signatures, or to check an attached one)")
	contentText := fs.String("content-text", "", "the content that was signed, as text")
	contentHex := fs.String("content-hex", "", "a hash that was signed, as hex (hex text, raw bytes and digest forms are all accepted)")
	certFile := fs.String("cert", "", "the signer's certificate for raw signatures (PEM, DER or base64)")
	var trust TrustConfig
	trustFlags(fs, &trust)
	fs.BoolVar(&trust.AllowSHA1, "allow-sha1", false, "accept SHA-1 digests")
	at := fs.String("at", "", "verification time, RFC 3339 (default now; never the signer's claimed time)")
	certType := fs.String("cert-type", "0", "required certificate type: 0 any, 1 organisation, 2 person")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *in == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "scansign verify sig: --in FILE is required")
		return exitUsage
	}
	given := 0
	for _, s := range []string{*contentFile, *contentText, *contentHex} {
		if s != "" {
			given++
		}
	}
	if given > 1 {
		fmt.Fprintln(stderr, "scansign verify sig: give at most one of --content-file, --content-text, --content-hex")
		return exitUsage
	}
	ct, err := certs.ParseCertType(*certType)
	if err != nil {
		fmt.Fprintf(stderr, "scansign verify sig: %v\n", err)
		return exitUsage
	}
	when, err := parseAtFlag(*at)
	if err != nil {
		fmt.Fprintf(stderr, "scansign verify sig: %v\n", err)
		return exitUsage
	}
	v, err := loadVerifierWith(trust)
	if err != nil {
		fmt.Fprintf(stderr, "scansign verify sig: %v\n", err)
		return exitUsage
	}
	raw, err := readLimited(*in, 2*verify.MaxSignatureSize)
	if err != nil {
		fmt.Fprintf(stderr, "scansign verify sig: %v\n", err)
		return exitUsage
	}
	sig, err := certs.DecodeBinary(raw)
	if err != nil {
		// Read, but no signature (empty, blank, a broken PEM block): the
		// verifier says malformed and the exit code is 1, as for any
		// other input that is not a valid signature.
		sig = raw
	}
	req := verify.Request{Signature: sig, CertType: ct, At: when}
	switch {
	case *contentFile != "":
		data, err := readLimited(*contentFile, 1<<30)
		if err != nil {
			fmt.Fprintf(stderr, "scansign verify sig: %v\n", err)
			return exitUsage
		}
		req.Expected = verify.ExpectBytes(data)
	case *contentText != "":
		req.Expected = verify.ExpectText(*contentText)
	case *contentHex != "":
		exp, err := verify.ExpectHashHex(*contentHex)
		if err != nil {
			fmt.Fprintf(stderr, "scansign verify sig: --content-hex: %v\n", err)
			return exitUsage
		}
		req.Expected = exp
	}
	if *certFile != "" {
		data, err := readLimited(*certFile, certs.MaxCertificateSize)
		if err != nil {
			fmt.Fprintf(stderr, "scansign verify sig: %v\n", err)
			return exitUsage
		}
		req.Cert = data
	}
	res := v.Verify(ctx, req)
	return report(stdout, stderr, res, *asJSON)
}

func runVerifyCert(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify cert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "certificate file (PEM, DER or base64)")
	var trust TrustConfig
	trustFlags(fs, &trust)
	at := fs.String("at", "", "verification time, RFC 3339 (default now)")
	certType := fs.String("cert-type", "0", "required certificate type: 0 any, 1 organisation, 2 person")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *in == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "scansign verify cert: --in FILE is required")
		return exitUsage
	}
	ct, err := certs.ParseCertType(*certType)
	if err != nil {
		fmt.Fprintf(stderr, "scansign verify cert: %v\n", err)
		return exitUsage
	}
	when, err := parseAtFlag(*at)
	if err != nil {
		fmt.Fprintf(stderr, "scansign verify cert: %v\n", err)
		return exitUsage
	}
	v, err := loadVerifierWith(trust)
	if err != nil {
		fmt.Fprintf(stderr, "scansign verify cert: %v\n", err)
		return exitUsage
	}
	data, err := readLimited(*in, certs.MaxCertificateSize)
	if err != nil {
		fmt.Fprintf(stderr, "scansign verify cert: %v\n", err)
		return exitUsage
	}
	return report(stdout, stderr, v.CheckCertificate(ctx, data, when, ct), *asJSON)
}

func parseAtFlag(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q is not an RFC 3339 time (e.g. 2026-01-02T15:04:05+08:00)", s)
	}
	return t, nil
}

func report(stdout, stderr io.Writer, res *verify.Result, asJSON bool) int {
	code := exitOK
	if !res.Valid {
		code = exitInvalid
	}
	if asJSON {
		if printJSON(stdout, stderr, res) != exitOK {
			return exitUsage
		}
		return code
	}
	verdict := "VALID"
	if !res.Valid {
		verdict = "INVALID [" + string(res.Reason) + "]"
	}
	fmt.Fprintf(stdout, "%s  %s (%s)\n", verdict, res.Message, res.MessageEn)
	if res.Detail != "" {
		fmt.Fprintf(stdout, "  detail:     %s\n", res.Detail)
	}
	if res.Format != "" {
		desc := res.Format
		var extra []string
		if res.OIDStyle != "" {
			extra = append(extra, res.OIDStyle+" OIDs")
		}
		if strings.HasPrefix(res.Format, "pkcs7") {
			if res.SignedAttributes {
				extra = append(extra, "signed attributes")
			} else {
				extra = append(extra, "no signed attributes")
			}
		}
		if len(extra) > 0 {
			desc += " (" + strings.Join(extra, ", ") + ")"
		}
		fmt.Fprintf(stdout, "  format:     %s\n", desc)
	}
	if s := res.Signer; s != nil {
		kind := map[certs.CertType]string{certs.CertTypePerson: "person 个人", certs.CertTypeOrganisation: "organisation 机构"}[s.CertType]
		fmt.Fprintf(stdout, "  signer:     %s\n", s.Subject)
		fmt.Fprintf(stdout, "  serial:     %s (decimal %s)\n", s.Serial, s.SerialDecimal)
		fmt.Fprintf(stdout, "  certType:   %d %s\n", s.CertType, kind)
		if s.CreditCode != "" {
			fmt.Fprintf(stdout, "  creditCode: %s\n", s.CreditCode)
		}
		fmt.Fprintf(stdout, "  issuer:     %s\n", s.Issuer)
		fmt.Fprintf(stdout, "  validity:   %s – %s\n", s.NotBefore.Format(time.RFC3339), s.NotAfter.Format(time.RFC3339))
		fmt.Fprintf(stdout, "  key:        %s-%d\n", s.KeyAlgorithm, s.KeyBits)
	}
	if res.DigestAlgorithm != "" {
		fmt.Fprintf(stdout, "  digest:     %s %s\n", res.SignatureAlgorithm, res.DigestAlgorithm)
	}
	if res.SM2UserID != "" {
		fmt.Fprintf(stdout, "  user ID:    %s (SM2)\n", res.SM2UserID)
	}
	if res.ContentForm != "" {
		fmt.Fprintf(stdout, "  content:    matched as %s\n", res.ContentForm)
	} else if !res.ContentChecked && res.Format != verify.FormatCertificate {
		fmt.Fprintf(stdout, "  content:    not checked (no --content-* given)\n")
	}
	if res.SigningTime != nil {
		fmt.Fprintf(stdout, "  signed at:  %s (claimed by the signer)\n", res.SigningTime.Format(time.RFC3339))
	}
	fmt.Fprintf(stdout, "  checked at: %s\n", res.VerifiedAt.Format(time.RFC3339))
	if len(res.Chain) > 0 {
		fmt.Fprintf(stdout, "  chain:      %s\n", strings.Join(res.Chain, "  →  "))
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stdout, "  warning:    %s\n", w)
	}
	return code
}
