package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/phone"
	"github.com/scansign/scansign/relay/client"
)

const appUsage = `usage: scansign app (--qr JSON | --qr-image FILE) --account NAME --secret SECRET
                    (--key PEM --cert PEM [--key-password P] | --pfx FILE --pfx-password P)
                    [--relay URL] [--cancel] [--oid-style gm|standard] [--raw]
                    [--seal-company CODE] [--timeout 6m] [--json]

Plays a CA mobile app (数字证书 APP): scans the QR code, fetches the operation,
checks the certificate fits its certType and answers it as the guide's
section 三 says (login, sign, encrypt, decrypt, seal, revoke), printing each
step. --qr - reads the QR text from standard input. The secret may come from
SCANSIGN_APP_SECRET instead of --secret (kept out of the process list).

--relay URL calls this relay address instead of the QR code's url, for when
the address in the QR code is not reachable from here (a proxy, a container,
a public name without DNS on this machine).

Exit status: 0 answered (or declined with --cancel), 1 refused (by the
relay: expired, already finished, …; or the certificate does not fit),
2 bad flags, unreadable files or a network error.
`

// runApp is `scansign app`: the phone simulator on the command line.
func runApp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scansign app", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, appUsage, "\nFlags:\n"); fs.PrintDefaults() }
	qrText := fs.String("qr", "", "the QR code's text, the guide's JSON {\"guid\",\"url\",\"city\"} (- reads standard input)")
	qrImage := fs.String("qr-image", "", "a PNG or JPEG image of the QR code")
	account := fs.String("account", "", "the app's relay account (role app)")
	secret := fs.String("secret", "", "the account's secret (or SCANSIGN_APP_SECRET)")
	keyFile := fs.String("key", "", "private key (PKCS#8/SEC 1/PKCS#1 PEM or DER, SM2 or RSA)")
	certFile := fs.String("cert", "", "certificate (PEM; may hold the chain after it)")
	keyPassword := fs.String("key-password", "", "password of an encrypted --key")
	pfxFile := fs.String("pfx", "", "PKCS#12 file (.pfx/.p12) with key and certificate, instead of --key/--cert")
	pfxPassword := fs.String("pfx-password", "", "password of --pfx")
	relayURL := fs.String("relay", "", "call this relay base URL instead of the QR code's url")
	cancel := fs.Bool("cancel", false, "decline the operation (saves status 3 已取消)")
	oidStyle := fs.String("oid-style", "gm", "OIDs of SM2 PKCS#7 signatures: gm (GM/T 0010) or standard")
	raw := fs.Bool("raw", false, "raw SM2/RSA signature instead of PKCS#7 where the value carries pubCert (login, seal)")
	sealCompany := fs.String("seal-company", phone.DefaultSealCompanyCode, "signatureCompanyCode named in the seal flow")
	timeout := fs.Duration("timeout", 6*time.Minute, "give up after this long (the seal flow waits for the seal control)")
	asJSON := fs.Bool("json", false, "print the outcome as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "scansign app: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() != 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if (*qrText == "") == (*qrImage == "") {
		return usageErr("give one of --qr JSON or --qr-image FILE")
	}
	if *secret == "" {
		*secret = os.Getenv("SCANSIGN_APP_SECRET")
	}
	if *account == "" || *secret == "" {
		return usageErr("--account and --secret (or SCANSIGN_APP_SECRET) are required")
	}
	style, err := phone.ParseOIDStyle(*oidStyle)
	if err != nil {
		return usageErr("%v", err)
	}
	if *relayURL != "" && !strings.HasPrefix(*relayURL, "http://") && !strings.HasPrefix(*relayURL, "https://") {
		return usageErr("--relay %q is not an http(s) URL", *relayURL)
	}
	id, err := loadAppIdentity(*keyFile, *certFile, *keyPassword, *pfxFile, *pfxPassword)
	if err != nil {
		return usageErr("%v", err)
	}
	text, err := readQR(*qrText, *qrImage)
	if err != nil {
		return usageErr("%v", err)
	}
	payload, err := phone.ParsePayload(text)
	if err != nil {
		return usageErr("%v", err)
	}

	a := &phone.App{
		Account: *account, Secret: *secret, Identity: id, RelayURL: *relayURL,
		HTTP:    &http.Client{Timeout: 30 * time.Second},
		Options: phone.Options{Cancel: *cancel, OIDStyle: style, Raw: *raw, SealCompanyCode: *sealCompany},
	}
	if !*asJSON {
		a.Report = func(s phone.Step) { fmt.Fprintf(stdout, "  %-20s %s\n", s.Name, s.Detail) }
	}
	ctx, stop := context.WithTimeout(ctx, *timeout)
	defer stop()
	out, err := a.Handle(ctx, payload)
	code := appExitCode(err)
	if *asJSON {
		writeAppJSON(stdout, out, err)
		return code
	}
	switch {
	case err == nil && out.Status == phone.StatusCancelled:
		fmt.Fprintln(stdout, "declined: the operation is cancelled (status 3)")
	case err == nil:
		fmt.Fprintf(stdout, "done: %s answered (status 2 已确认)\n", out.TypeName)
	case code == exitInvalid:
		fmt.Fprintf(stdout, "refused: %s\n", describeAppErr(err))
	default:
		fmt.Fprintf(stderr, "scansign app: %v\n", err)
	}
	return code
}

// loadAppIdentity reads the key and certificate the app signs with.
func loadAppIdentity(keyFile, certFile, keyPassword, pfxFile, pfxPassword string) (*certs.Identity, error) {
	switch {
	case pfxFile != "" && (keyFile != "" || certFile != ""):
		return nil, errors.New("give --pfx or --key with --cert, not both")
	case pfxFile != "":
		data, err := readLimited(pfxFile, certs.MaxKeyFileSize)
		if err != nil {
			return nil, err
		}
		id, err := certs.ParsePFX(data, []byte(pfxPassword))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pfxFile, err)
		}
		return id, nil
	case keyFile != "" && certFile != "":
		key, err := readLimited(keyFile, certs.MaxKeyFileSize)
		if err != nil {
			return nil, err
		}
		cert, err := readLimited(certFile, certs.MaxBundleSize)
		if err != nil {
			return nil, err
		}
		var pw []byte
		if keyPassword != "" {
			pw = []byte(keyPassword)
		}
		id, err := certs.LoadIdentity(key, cert, pw)
		if err != nil {
			return nil, fmt.Errorf("%s with %s: %w", keyFile, certFile, err)
		}
		return id, nil
	}
	return nil, errors.New("give --key and --cert, or --pfx with --pfx-password")
}

// readQR returns the QR code's text from the flag, standard input or an
// image.
func readQR(text, image string) (string, error) {
	if image != "" {
		f, err := os.Open(image)
		if err != nil {
			return "", err
		}
		defer f.Close()
		return phone.DecodeQRImage(f)
	}
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 4097))
		if err != nil {
			return "", fmt.Errorf("read standard input: %w", err)
		}
		return string(b), nil
	}
	return text, nil
}

// appExitCode: 0 done, 1 refused (the relay said no, or the operation
// cannot be answered with this certificate), 2 anything else.
func appExitCode(err error) int {
	var ce *client.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce), errors.Is(err, phone.ErrCertType), errors.Is(err, phone.ErrBadOperation),
		errors.Is(err, phone.ErrCancelled), errors.Is(err, phone.ErrUnknownType):
		return exitInvalid
	}
	return exitUsage
}

func describeAppErr(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		return fmt.Sprintf("the relay answered invokeCode %d: %s", ce.InvokeCode, ce.FailMessage)
	}
	return err.Error()
}

// writeAppJSON prints the outcome, with the error when there is one.
func writeAppJSON(w io.Writer, out *phone.Outcome, err error) {
	type appError struct {
		Message     string `json:"message"`
		InvokeCode  int    `json:"invokeCode,omitempty"`
		FailMessage string `json:"failMessage,omitempty"`
	}
	doc := struct {
		OK bool `json:"ok"`
		*phone.Outcome
		Error *appError `json:"error,omitempty"`
	}{OK: err == nil, Outcome: out}
	if err != nil {
		doc.Error = &appError{Message: err.Error()}
		var ce *client.Error
		if errors.As(err, &ce) {
			doc.Error.InvokeCode, doc.Error.FailMessage = ce.InvokeCode, ce.FailMessage
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(doc)
	w.Write(buf.Bytes())
}
