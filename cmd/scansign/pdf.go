package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/emmansun/gmsm/smx509"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/pdfsign"
	"github.com/scansign/scansign/sign"
	"github.com/scansign/scansign/verify"
	vcms "github.com/scansign/scansign/verify/cms"
)

// runPDF is the PDF seal tool: prepare and complete for integrators,
// verify and seals for auditors (offline, no server), revoke, and sign,
// which prepares, signs with a local key and completes in one step.
func runPDF(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, `usage: scansign pdf <command> [flags]
  prepare  --in F --out G --seal IMG --page N --x CM --y CM [--width CM --height CM] --cert PEM (cms; optional for p7hash) [--trust DIR] [--shape cms|p7hash] [--digest SM3|SHA-256] [--placeholder BYTES] [--attrs-out FILE] [--json]
  complete --in G --out H --sig FILE [--cert PEM] [--attrs FILE] --trust DIR [--json]
  verify   --in F --trust DIR [--json] [--extract-seals DIR] [--at RFC3339]   (exit 0 all valid, 1 any invalid, 2 error)
  seals    --in F --trust DIR [--json]                                        (each seal's hash, for 撤章)
  revoke   --in F --out G --sig FILE [--cert PEM] [--field NAME] --trust DIR [--json]
  sign     --in F --out G (--pfx P [--password PW] | --key K --cert C) --seal IMG --page N --x CM --y CM [--width CM --height CM] [--trust DIR] [--shape cms|p7hash]
Positions are centimetres from the top-left corner of the page as it is seen.`)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage()
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"prepare": runPDFPrepare, "complete": runPDFComplete, "verify": runPDFVerify,
		"seals": runPDFSeals, "revoke": runPDFRevoke, "sign": runPDFSign,
	}
	run, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "scansign pdf: unknown command %q\n", args[0])
		usage()
		return exitUsage
	}
	return run(ctx, args[1:], stdout, stderr)
}

// pdfFailure prints a pdfsign refusal (Chinese and English) or an error
// and returns the exit code: 1 for a refusal about the document or
// signature, 2 for usage and I/O problems.
func pdfFailure(stderr io.Writer, cmd string, err error) int {
	var e *pdfsign.Error
	if errors.As(err, &e) {
		fmt.Fprintf(stderr, "scansign pdf %s: %s\n  %s (%s)\n", cmd, e.Message, e.English, e.Code)
		if e.Code == pdfsign.CodeBadRequest || e.Code == pdfsign.CodeInternal {
			return exitUsage
		}
		return exitInvalid
	}
	fmt.Fprintf(stderr, "scansign pdf %s: %v\n", cmd, err)
	return exitUsage
}

// openInput opens a PDF for reading at random offsets.
func openInput(path string) (*os.File, int64, error) {
	if path == "" {
		return nil, 0, errors.New("--in FILE is required")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// writeOutput runs write into a temporary file beside path and renames it
// into place only when write succeeds: a refused operation leaves nothing.
func writeOutput(path string, write func(w io.Writer) error) error {
	if path == "" {
		return errors.New("--out FILE is required")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".scansign-*.pdf")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// maxSealFile bounds a seal image file.
const maxSealFile = 8 << 20

// placementFlags are the flags prepare and sign share.
type placementFlags struct {
	seal                    *string
	page                    *int
	x, y, width, height     *float64
	sealWidth, sealHeight   *float64
	shape, digest           *string
	field, reason, location *string
	name                    *string
	placeholder             *int
}

func addPlacementFlags(fs *flag.FlagSet) placementFlags {
	return placementFlags{
		seal:        fs.String("seal", "", "seal image, PNG (transparency kept) or JPEG"),
		page:        fs.Int("page", 1, "page number, from 1"),
		x:           fs.Float64("x", 0, "left edge of the seal, cm from the page's visible left edge"),
		y:           fs.Float64("y", 0, "top edge of the seal, cm from the page's visible top edge"),
		width:       fs.Float64("width", 0, "seal width in cm (default --seal-width, else from the image's aspect)"),
		height:      fs.Float64("height", 0, "seal height in cm"),
		sealWidth:   fs.Float64("seal-width", 0, "the seal's own width in cm (signWidth)"),
		sealHeight:  fs.Float64("seal-height", 0, "the seal's own height in cm (signHeight)"),
		shape:       fs.String("shape", "cms", "cms (standard detached CMS, /adbe.pkcs7.detached) or p7hash (PKCS#7 over the hash, as the guide's apps)"),
		digest:      fs.String("digest", "", "SM3 or SHA-256 (default from --cert: SM2 → SM3, RSA → SHA-256; p7hash without --cert takes SM3)"),
		field:       fs.String("field", "", "signature field name (default Seal1, Seal2, …)"),
		reason:      fs.String("reason", "", "reason for signing"),
		location:    fs.String("location", "", "location"),
		name:        fs.String("name", "", "signer name"),
		placeholder: fs.Int("placeholder", 0, "bytes reserved for the signature (default generous)"),
	}
}

func (p placementFlags) request() (pdfsign.PrepareRequest, error) {
	var req pdfsign.PrepareRequest
	if *p.seal == "" {
		return req, errors.New("--seal IMG is required")
	}
	img, err := readLimited(*p.seal, maxSealFile)
	if err != nil {
		return req, err
	}
	shape, err := pdfsign.ParseShape(*p.shape)
	if err != nil {
		return req, err
	}
	digest, err := pdfsign.ParseDigestAlgorithm(*p.digest)
	if err != nil {
		return req, err
	}
	req = pdfsign.PrepareRequest{
		Seal:      pdfsign.SealImage{Image: img, Width: *p.sealWidth, Height: *p.sealHeight},
		Placement: pdfsign.Placement{Page: *p.page, X: *p.x, Y: *p.y, Width: *p.width, Height: *p.height},
		Shape:     shape, Digest: digest, FieldName: *p.field, Reason: *p.reason, Location: *p.location,
		SignerName: *p.name, PlaceholderSize: *p.placeholder,
	}
	return req, nil
}

func readCerts(path string) ([]*smx509.Certificate, []byte, error) {
	data, err := readLimited(path, certs.MaxBundleSize)
	if err != nil {
		return nil, nil, err
	}
	chain, err := certs.ParseCertificates(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(chain) == 0 {
		return nil, nil, fmt.Errorf("%s holds no certificate", path)
	}
	return chain, data, nil
}

func runPDFPrepare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pdf prepare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "PDF to seal")
	out := fs.String("out", "", "prepared PDF to write")
	certFile := fs.String("cert", "", "signer certificate (and chain), PEM/DER; required for the cms shape, whose signed attributes name it (signing-certificate-v2, PAdES-B-B); sizes the placeholder, picks the digest")
	attrsOut := fs.String("attrs-out", "", "write the DER signed attributes (what a raw signature must cover) to this file")
	trust := fs.String("trust", "", "trust directory complete will use: the placeholder is sized for the chain built from it (optional; without it each CA certificate not in --cert counts 2 KiB)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pf := addPlacementFlags(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitUsage
	}
	req, err := pf.request()
	if err != nil {
		return pdfFailure(stderr, "prepare", err)
	}
	if *trust != "" {
		if req.Verifier, err = loadVerifier(*trust, false); err != nil {
			return pdfFailure(stderr, "prepare", err)
		}
	}
	if *certFile != "" {
		chain, _, err := readCerts(*certFile)
		if err != nil {
			return pdfFailure(stderr, "prepare", err)
		}
		req.Signer, req.Chain = chain[0], chain[1:]
	}
	src, size, err := openInput(*in)
	if err != nil {
		return pdfFailure(stderr, "prepare", err)
	}
	defer src.Close()
	var p *pdfsign.Prepared
	err = writeOutput(*out, func(w io.Writer) error {
		var err error
		p, err = pdfsign.Prepare(ctx, src, size, req, w)
		return err
	})
	if err != nil {
		return pdfFailure(stderr, "prepare", err)
	}
	if *attrsOut != "" && p.SignedAttributes != nil {
		if err := os.WriteFile(*attrsOut, p.SignedAttributes, 0o644); err != nil {
			return pdfFailure(stderr, "prepare", err)
		}
	}
	// The fields the HTTP API answers, toSign as the app receives it.
	res := p.Response()
	if *asJSON {
		return printJSON(stdout, stderr, res)
	}
	fmt.Fprintf(stdout, "prepared %s: field %s, shape %s, %s digest\nhash: %s\n", *out, p.FieldName, p.Shape, p.DigestAlgorithm, p.DigestHex())
	if p.Shape == pdfsign.ShapeCMS {
		fmt.Fprintf(stdout, "toSign: the signed attributes (base64 DER), to sign raw:\n%s\n", res.ToSign)
	} else {
		fmt.Fprintln(stdout, "toSign: the hash above, as text (PKCS#7 with the content attached)")
	}
	return exitOK
}

func runPDFComplete(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pdf complete", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "prepared PDF")
	out := fs.String("out", "", "signed PDF to write")
	sigFile := fs.String("sig", "", "the app's answer: PKCS#7 or raw signature (binary, base64, hex or PEM)")
	certFile := fs.String("cert", "", "signer certificate, for a raw signature")
	attrsFile := fs.String("attrs", "", "the DER signed attributes prepare wrote (optional)")
	trust := fs.String("trust", "", "trust directory (CA roots, intermediates, CRLs)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitUsage
	}
	v, err := loadVerifier(*trust, false)
	if err != nil {
		return pdfFailure(stderr, "complete", err)
	}
	if *sigFile == "" {
		return pdfFailure(stderr, "complete", errors.New("--sig FILE is required"))
	}
	var ans pdfsign.Answer
	if ans.Signature, err = readLimited(*sigFile, 2*verify.MaxSignatureSize); err != nil {
		return pdfFailure(stderr, "complete", err)
	}
	if *certFile != "" {
		if _, ans.Cert, err = readCerts(*certFile); err != nil {
			return pdfFailure(stderr, "complete", err)
		}
	}
	if *attrsFile != "" {
		if ans.SignedAttributes, err = readLimited(*attrsFile, 1<<20); err != nil {
			return pdfFailure(stderr, "complete", err)
		}
	}
	src, size, err := openInput(*in)
	if err != nil {
		return pdfFailure(stderr, "complete", err)
	}
	defer src.Close()
	var c *pdfsign.Completed
	err = writeOutput(*out, func(w io.Writer) error {
		var err error
		c, err = pdfsign.Complete(ctx, src, size, ans, pdfsign.CompleteOptions{Verifier: v, Streaming: true}, w)
		return err
	})
	if err != nil {
		return pdfFailure(stderr, "complete", err)
	}
	return completed(stdout, stderr, *out, c, *asJSON)
}

func completed(stdout, stderr io.Writer, out string, c *pdfsign.Completed, asJSON bool) int {
	if asJSON {
		return printJSON(stdout, stderr, map[string]any{"fieldName": c.FieldName, "shape": c.Shape, "digestAlgorithm": c.DigestAlgorithm,
			"hash": fmt.Sprintf("%x", c.Digest), "signer": c.Verification.Signer})
	}
	who := "an unknown signer"
	if s := c.Verification.Signer; s != nil {
		who = fmt.Sprintf("%s (serial %s)", s.Subject, s.Serial)
	}
	fmt.Fprintf(stdout, "signed %s: field %s by %s\n", out, c.FieldName, who)
	return exitOK
}

func runPDFVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pdf verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "PDF to check")
	trust := fs.String("trust", "", "trust directory (CA roots, intermediates, CRLs)")
	at := fs.String("at", "", "verification time, RFC 3339 (default now)")
	extract := fs.String("extract-seals", "", "write each seal's image into this directory")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitUsage
	}
	rep, code := verifyFile(ctx, stderr, "verify", *in, *trust, *at, *extract != "")
	if rep == nil {
		return code
	}
	if *extract != "" {
		if err := os.MkdirAll(*extract, 0o755); err != nil {
			return pdfFailure(stderr, "verify", err)
		}
		for i, s := range rep.Signatures {
			if len(s.SealImage) == 0 {
				continue
			}
			name := filepath.Join(*extract, fmt.Sprintf("%d-%s.%s", i+1, safeName(s.FieldName), map[string]string{"png": "png", "jpeg": "jpg"}[s.SealImageFormat]))
			if err := os.WriteFile(name, s.SealImage, 0o644); err != nil {
				return pdfFailure(stderr, "verify", err)
			}
		}
	}
	if *asJSON {
		if code := printJSON(stdout, stderr, rep); code != exitOK {
			return code
		}
	} else {
		printReport(stdout, *in, rep)
	}
	if !rep.Valid {
		return exitInvalid
	}
	return exitOK
}

// safeName keeps a field name usable as a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' || r < 0x20 {
			return '_'
		}
		return r
	}, s)
}

func verifyFile(ctx context.Context, stderr io.Writer, cmd, in, trust, at string, extract bool) (*pdfsign.Report, int) {
	v, err := loadVerifier(trust, false)
	if err != nil {
		return nil, pdfFailure(stderr, cmd, err)
	}
	when, err := parseAtFlag(at)
	if err != nil {
		return nil, pdfFailure(stderr, cmd, err)
	}
	src, size, err := openInput(in)
	if err != nil {
		return nil, pdfFailure(stderr, cmd, err)
	}
	defer src.Close()
	rep, err := pdfsign.Verify(ctx, src, size, pdfsign.VerifyOptions{Verifier: v, At: when, ExtractSeals: extract})
	if err != nil {
		code := pdfFailure(stderr, cmd, err)
		if code == exitInvalid {
			code = exitUsage // an unreadable PDF is an error, not a verdict
		}
		return nil, code
	}
	return rep, exitOK
}

func printReport(w io.Writer, in string, rep *pdfsign.Report) {
	verdict := "VALID"
	if !rep.Valid {
		verdict = "NOT VALID"
	}
	fmt.Fprintf(w, "%s: %s — %d signature(s), %d page(s)\n", in, verdict, len(rep.Signatures), rep.Pages)
	for i, s := range rep.Signatures {
		mark := "valid"
		if !s.Valid {
			mark = "INVALID: " + s.Message + " / " + s.MessageEn
		}
		fmt.Fprintf(w, "\n#%d %s (page %d) — %s\n", i+1, s.FieldName, s.Page, mark)
		if s.Signer != nil {
			fmt.Fprintf(w, "  signer:    %s (serial %s, %s)\n", s.Signer.Subject, s.Signer.Serial, s.Signer.KeyAlgorithm)
		}
		if s.SigningTime != nil {
			fmt.Fprintf(w, "  time:      %s (claimed by the signer)\n", s.SigningTime.Format("2006-01-02 15:04:05 -07:00"))
		}
		fmt.Fprintf(w, "  type:      /%s, %s\n", s.SubFilter, s.DigestAlgorithm)
		fmt.Fprintf(w, "  hash:      %s\n", s.Hash)
		fmt.Fprintf(w, "  integrity: %v, signature: %v, trusted: %v\n", s.Intact, s.SignatureValid, s.Trusted)
		cover := "covers its whole revision"
		if !s.CoversRevision {
			cover = "does NOT cover a whole revision"
		}
		fmt.Fprintf(w, "  range:     %v %s", s.ByteRange, cover)
		switch {
		case !s.ModifiedAfter:
			fmt.Fprintln(w, ", the whole document")
		case s.LaterChangesOnlySignatures:
			fmt.Fprintln(w, "; later revisions only add signatures")
		default:
			fmt.Fprintf(w, "; the document CHANGED after it: %s\n", strings.Join(s.LaterChanges, "; "))
		}
	}
}

func runPDFSeals(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pdf seals", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "PDF")
	trust := fs.String("trust", "", "trust directory")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitUsage
	}
	rep, code := verifyFile(ctx, stderr, "seals", *in, *trust, "", false)
	if rep == nil {
		return code
	}
	type seal struct {
		FieldName string `json:"fieldName"`
		Page      int    `json:"page"`
		Hash      string `json:"hash"`
		Signer    string `json:"signer,omitempty"`
		Revocable bool   `json:"revocable"`
	}
	var out []seal
	for _, s := range rep.Signatures {
		se := seal{FieldName: s.FieldName, Page: s.Page, Hash: s.Hash, Revocable: s.Revocable}
		if s.Signer != nil {
			se.Signer = s.Signer.Subject
		}
		out = append(out, se)
	}
	if *asJSON {
		return printJSON(stdout, stderr, out)
	}
	for _, s := range out {
		fmt.Fprintf(stdout, "%s\tpage %d\t%s\trevocable=%v\t%s\n", s.FieldName, s.Page, s.Hash, s.Revocable, s.Signer)
	}
	return exitOK
}

func runPDFRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pdf revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "sealed PDF")
	out := fs.String("out", "", "PDF before the seal, to write")
	sigFile := fs.String("sig", "", "the app's signature over the seal's hash (PKCS#7; raw with --cert)")
	certFile := fs.String("cert", "", "signer certificate, for a raw signature")
	field := fs.String("field", "", "seal to take back (default the latest)")
	trust := fs.String("trust", "", "trust directory")
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitUsage
	}
	v, err := loadVerifier(*trust, false)
	if err != nil {
		return pdfFailure(stderr, "revoke", err)
	}
	if *sigFile == "" {
		return pdfFailure(stderr, "revoke", errors.New("--sig FILE is required"))
	}
	req := pdfsign.RevokeRequest{FieldName: *field}
	if req.Signature, err = readLimited(*sigFile, 2*verify.MaxSignatureSize); err != nil {
		return pdfFailure(stderr, "revoke", err)
	}
	if *certFile != "" {
		if _, req.Cert, err = readCerts(*certFile); err != nil {
			return pdfFailure(stderr, "revoke", err)
		}
	}
	src, size, err := openInput(*in)
	if err != nil {
		return pdfFailure(stderr, "revoke", err)
	}
	defer src.Close()
	var r *pdfsign.Revoked
	err = writeOutput(*out, func(w io.Writer) error {
		var err error
		r, err = pdfsign.Revoke(ctx, src, size, req, pdfsign.RevokeOptions{Verifier: v}, w)
		return err
	})
	if err != nil {
		return pdfFailure(stderr, "revoke", err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, r)
	}
	fmt.Fprintf(stdout, "took back %s: %s is the document before it (%d bytes)\n", r.FieldName, *out, r.Size)
	return exitOK
}

func runPDFSign(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pdf sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "PDF to seal")
	out := fs.String("out", "", "signed PDF to write")
	pfx := fs.String("pfx", "", "PKCS#12 (.pfx) with key, certificate and chain")
	password := fs.String("password", "", "password of the .pfx or encrypted key (default $SCANSIGN_PASSWORD)")
	keyFile := fs.String("key", "", "private key (PKCS#8 PEM, SM2 or RSA)")
	certFile := fs.String("cert", "", "certificate (and chain) for --key")
	trust := fs.String("trust", "", "trust directory: refuse a signer that does not chain to it (default: do not judge the chain)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pf := addPlacementFlags(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitUsage
	}
	pw := []byte(*password)
	if len(pw) == 0 {
		pw = []byte(os.Getenv("SCANSIGN_PASSWORD"))
	}
	var id *certs.Identity
	var err error
	switch {
	case *pfx != "":
		data, err := readLimited(*pfx, certs.MaxKeyFileSize)
		if err != nil {
			return pdfFailure(stderr, "sign", err)
		}
		id, err = certs.ParsePFX(data, pw)
		if err != nil {
			return pdfFailure(stderr, "sign", err)
		}
	case *keyFile != "" && *certFile != "":
		key, err := readLimited(*keyFile, certs.MaxKeyFileSize)
		if err != nil {
			return pdfFailure(stderr, "sign", err)
		}
		cert, err := readLimited(*certFile, certs.MaxBundleSize)
		if err != nil {
			return pdfFailure(stderr, "sign", err)
		}
		if id, err = certs.LoadIdentity(key, cert, pw); err != nil {
			return pdfFailure(stderr, "sign", err)
		}
	default:
		return pdfFailure(stderr, "sign", errors.New("give --pfx FILE, or --key FILE with --cert FILE"))
	}
	req, err := pf.request()
	if err != nil {
		return pdfFailure(stderr, "sign", err)
	}
	req.Signer, req.Chain = id.Certificate, id.Chain
	v, untrusted, err := signVerifier(*trust, stderr)
	if err != nil {
		return pdfFailure(stderr, "sign", err)
	}
	req.Verifier = v

	src, size, err := openInput(*in)
	if err != nil {
		return pdfFailure(stderr, "sign", err)
	}
	defer src.Close()
	// Prepare into memory-free temporary storage, sign, complete to --out.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".scansign-prepared-*.pdf")
	if err != nil {
		return pdfFailure(stderr, "sign", err)
	}
	defer func() { tmp.Close(); os.Remove(tmp.Name()) }()
	p, err := pdfsign.Prepare(ctx, src, size, req, tmp)
	if err != nil {
		return pdfFailure(stderr, "sign", err)
	}
	ans, err := signLocally(id, p)
	if err != nil {
		return pdfFailure(stderr, "sign", err)
	}
	var c *pdfsign.Completed
	err = writeOutput(*out, func(w io.Writer) error {
		var err error
		c, err = pdfsign.Complete(ctx, tmp, p.Size, ans, pdfsign.CompleteOptions{Verifier: v, Streaming: true, AllowUntrusted: untrusted}, w)
		return err
	})
	if err != nil {
		return pdfFailure(stderr, "sign", err)
	}
	return completed(stdout, stderr, *out, c, *asJSON)
}

// signLocally answers a prepared document the way an app would: a raw
// signature over the signed attributes (cms) or a PKCS#7 over the hash.
func signLocally(id *certs.Identity, p *pdfsign.Prepared) (pdfsign.Answer, error) {
	if p.Shape == pdfsign.ShapeP7Hash {
		sig, err := sign.PKCS7([]byte(p.DigestHex()), id.Signer, id.Certificate, sign.Options{Chain: id.Chain})
		return pdfsign.Answer{Signature: sig}, err
	}
	var sig []byte
	var err error
	if certs.IsSM2(id.Certificate) {
		sig, err = sign.SM2(id.Signer, p.SignedAttributes, sign.RawOptions{})
	} else {
		d := vcms.SHA256
		if p.DigestAlgorithm == pdfsign.SM3 {
			return pdfsign.Answer{}, errors.New("an RSA key signs with SHA-256: drop --digest SM3")
		}
		sig, err = sign.RSA(id.Signer, p.SignedAttributes, d)
	}
	if err != nil {
		return pdfsign.Answer{}, err
	}
	var chain bytes.Buffer
	for _, c := range append([]*smx509.Certificate{id.Certificate}, id.Chain...) {
		chain.Write(certs.EncodePEM(c))
	}
	return pdfsign.Answer{Signature: sig, Cert: chain.Bytes(), SignedAttributes: p.SignedAttributes}, nil
}

// signVerifier loads --trust; without it the signer's chain is not judged
// (the key holder seals their own file; whoever verifies it judges trust).
func signVerifier(trust string, stderr io.Writer) (*verify.Verifier, bool, error) {
	if trust != "" {
		v, err := loadVerifier(trust, false)
		return v, false, err
	}
	fmt.Fprintln(stderr, "scansign pdf sign: no --trust: the signer's certificate chain is not checked")
	return verify.New(nil, verify.Options{}), true, nil
}
