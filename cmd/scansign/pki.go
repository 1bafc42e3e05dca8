package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/scansign/scansign/certs/devpki"
	"github.com/scansign/scansign/seal"
	sealstore "github.com/scansign/scansign/seal/store"
)

// runPKI makes development PKIs: `pki init` writes a complete one,
// `pki issue` adds a leaf. Both are thin wrappers around certs/devpki.
func runPKI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: scansign pki init --dir DIR [--password P] [--leaf-days N] [--crl-days N] [--dev-seals [--data DIR | --database-url URL]] [--json]")
		fmt.Fprintln(stderr, "       scansign pki issue --dir DIR --name NAME [--alg sm2|rsa] [--kind person|organisation] [--cn NAME] [--credit-code CODE] [--days N] [--json]")
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "init":
		return runPKIInit(ctx, args[1:], stdout, stderr)
	case "issue":
		return runPKIIssue(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "scansign pki: unknown subcommand %q (init, issue)\n", args[0])
	return exitUsage
}

func runPKIInit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pki init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	devSeals := fs.Bool("dev-seals", false, "register dev seals for every leaf in the seal store (what serve --dev's seal company \"dev\" answers)")
	sf := addSealStoreFlags(fs)
	dir := fs.String("dir", "", "directory to write the PKI into (created if missing)")
	password := fs.String("password", devpki.DefaultPassword, "password of every .pfx and encrypted key")
	leafDays := fs.Int("leaf-days", 730, "validity of the leaves in days")
	crlDays := fs.Int("crl-days", 30, "CRL validity (nextUpdate) in days")
	asJSON := fs.Bool("json", false, "print the manifest as JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *dir == "" || fs.NArg() != 0 || *leafDays < 2 || *crlDays < 1 {
		fmt.Fprintln(stderr, "scansign pki init: --dir is required; --leaf-days ≥ 2, --crl-days ≥ 1")
		return exitUsage
	}
	m, err := devpki.Generate(*dir, devpki.Options{
		Password:     *password,
		LeafValidity: time.Duration(*leafDays) * 24 * time.Hour,
		CRLValidity:  time.Duration(*crlDays) * 24 * time.Hour,
	})
	if err != nil {
		fmt.Fprintf(stderr, "scansign pki init: %v\n", err)
		return exitUsage
	}
	var added []seal.Seal
	if *devSeals {
		if added, err = registerDevSeals(ctx, sf.config(), m); err != nil {
			fmt.Fprintf(stderr, "scansign pki init: the PKI is in %s, but its dev seals are not registered: %v\n", m.Dir, err)
			return exitUsage
		}
	}
	if *asJSON {
		return printJSON(stdout, stderr, m)
	}
	fmt.Fprintf(stdout, "dev PKI written to %s (manifest.json lists every file)\n", m.Dir)
	fmt.Fprintf(stdout, "trust directory: %s\n", m.TrustDir)
	fmt.Fprintf(stdout, ".pfx / encrypted key password: %s\n\n", m.Password)
	fmt.Fprintf(stdout, "%-16s %-4s %-13s %-34s %s\n", "leaf", "alg", "kind", "serial", "status")
	for _, l := range m.Leaves {
		status := "good"
		switch {
		case l.Expired:
			status = "expired"
		case l.Revoked:
			status = "revoked"
		case !l.Trusted:
			status = "untrusted root"
		}
		fmt.Fprintf(stdout, "%-16s %-4s %-13s %-34s %s\n", l.Name, l.Algorithm, l.Kind, l.Serial, status)
	}
	if *devSeals {
		where := filepath.Join(*sf.data, sealstore.EmbeddedFile)
		if *sf.databaseURL != "" {
			where = "the PostgreSQL database (tables seal_*)"
		}
		fmt.Fprintf(stdout, "\n%d dev seals registered in %s (leaves that had them already are left as they are):\n", len(added), where)
		for _, s := range added {
			fmt.Fprintf(stdout, "  %-34s %s, %s×%s cm\n", s.Serial, s.Name, seal.FormatCM(s.WidthCM), seal.FormatCM(s.HeightCM))
		}
	}
	return exitOK
}

// registerDevSeals gives every leaf of a dev PKI its dev seals in the seal
// store (seal.RegisterDevSeals, idempotent): what `pki init --dev-seals`
// and the demo do, so serve --dev's seal company "dev" has seals for them.
func registerDevSeals(ctx context.Context, cfg sealstore.Config, m *devpki.Manifest) ([]seal.Seal, error) {
	st, err := sealstore.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	added, err := seal.RegisterDevSeals(ctx, st, seal.DevHoldersFromManifest(m))
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return added, err
}

func runPKIIssue(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pki issue", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "a directory made by 'scansign pki init'")
	name := fs.String("name", "", "leaf name (letters, digits, '-', '_'), unique in the PKI")
	alg := fs.String("alg", "sm2", "sm2 or rsa")
	kind := fs.String("kind", "person", "person or organisation")
	cn := fs.String("cn", "", "subject common name (default: the name)")
	credit := fs.String("credit-code", "", "统一社会信用代码 for an organisation (default: a random valid one)")
	days := fs.Int("days", 730, "validity in days")
	asJSON := fs.Bool("json", false, "print the new leaf as JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *dir == "" || *name == "" || fs.NArg() != 0 || *days < 1 {
		fmt.Fprintln(stderr, "scansign pki issue: --dir and --name are required")
		return exitUsage
	}
	leaf, err := devpki.Issue(*dir, devpki.IssueRequest{
		Name: *name, Algorithm: *alg, Kind: *kind, CommonName: *cn, CreditCode: *credit,
		Validity: time.Duration(*days) * 24 * time.Hour,
	})
	if err != nil {
		fmt.Fprintf(stderr, "scansign pki issue: %v\n", err)
		return exitUsage
	}
	if *asJSON {
		return printJSON(stdout, stderr, leaf)
	}
	fmt.Fprintf(stdout, "issued %s (%s %s) serial %s\n  cert %s\n  key  %s\n  pfx  %s (password %s)\n",
		leaf.Name, leaf.Algorithm, leaf.Kind, leaf.Serial, leaf.CertPath, leaf.KeyPath, leaf.PFXPath, leaf.PFXPass)
	return exitOK
}

func printJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "scansign: %v\n", err)
		return exitUsage
	}
	return exitOK
}
