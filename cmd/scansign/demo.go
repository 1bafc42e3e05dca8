package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/scansign/scansign/certs/devpki"
	"github.com/scansign/scansign/pdfsign"
	"github.com/scansign/scansign/phone"
	"github.com/scansign/scansign/relay/client"
	sealstore "github.com/scansign/scansign/seal/store"
	"github.com/scansign/scansign/verify"
)

const demoUsage = `usage: scansign demo [--once] [--listen 127.0.0.1:8080] [--keep] [-v]

Starts 'scansign serve --dev' in-process on loopback (embedded store in a
temporary directory, the documented dev accounts, a fresh dev PKI that it
trusts, dev seals for its certificates at the seal company "dev"), then
plays every flow of the guide with a simulated phone over real HTTP,
printing each step: the QR code, who scanned it, what was signed, the
verified identity; sealing a contract PDF twice (a company seal as a
standard detached CMS, a personal seal as the guide's PKCS#7 over the
hash) and taking the second seal back. Then it keeps serving and prints
commands to try, until Ctrl-C.

--once exits after the flows: status 0 only if every flow verified.
`

// demoCity is the platform the demo's QR codes name (合肥市公共资源交易平台).
const demoCity = "P3401000001"

// runDemo is `scansign demo`, the README's first command.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scansign demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, demoUsage, "\nFlags:\n"); fs.PrintDefaults() }
	once := fs.Bool("once", false, "exit after the flows (0 only if every flow verified)")
	listen := fs.String("listen", "127.0.0.1:8080", "loopback address to serve on (a free port is taken if it is busy)")
	keep := fs.Bool("keep", false, "keep the temporary directory (store and dev PKI) on exit")
	verbose := fs.Bool("v", false, "show the server's request log")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "scansign demo: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if !isLoopback(*listen) {
		fmt.Fprintf(stderr, "scansign demo: --listen %q: the demo serves on loopback only (its accounts are public)\n", *listen)
		return exitUsage
	}
	d, err := startDemo(ctx, demoOptions{listen: *listen, verbose: *verbose}, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "scansign demo: %v\n", err)
		return exitUsage
	}
	defer func() {
		d.stop()
		if *keep {
			fmt.Fprintf(stdout, "\nkept %s (store, dev PKI and sealed PDFs)\n", d.dir)
		} else if err := os.RemoveAll(d.dir); err != nil {
			fmt.Fprintf(stderr, "scansign demo: removing the temporary directory: %v\n", err)
		} else {
			fmt.Fprintf(stdout, "\nremoved %s (store, dev PKI and sealed PDFs); --keep keeps it\n", d.dir)
		}
	}()

	failed := d.runFlows(ctx, demoFlows())
	if *once {
		if failed > 0 {
			fmt.Fprintf(stdout, "\n%d flow(s) did not verify.\n", failed)
			return exitInvalid
		}
		fmt.Fprintln(stdout, "\nEvery flow verified.")
		return exitOK
	}
	d.printTryIt(*keep)
	select {
	case <-ctx.Done():
	case err := <-d.served:
		fmt.Fprintf(stderr, "scansign demo: server stopped: %v\n", err)
		return exitUsage
	}
	fmt.Fprintln(stdout, "\nstopping")
	if failed > 0 {
		return exitInvalid
	}
	return exitOK
}

// demo is a running dev server and what the flows need.
type demo struct {
	out     *lockedWriter
	dir     string
	baseURL string
	pki     *devpki.Manifest
	srv     *server
	c       *client.Client
	served  chan error // the server stopped by itself (an error)
	stopped chan struct{}
	cancel  context.CancelFunc
	// carried from one flow to the next: the encrypt flow envelopes a
	// secret to the bidder's certificate, the decrypt flow opens it; the
	// seal flows seal the contract in turn, the revoke flow takes the last
	// seal back.
	envelope, secret string
	contract         []byte       // the PDF as it stands
	versions         [][]byte     // the PDF before each seal, oldest first
	prepared         *preparedPDF // the seal flow's PDF between prepare and complete
	qrShown          bool         // the QR code is drawn once; later flows print its text
}

// preparedPDF is what the seal control keeps between prepare and complete.
type preparedPDF struct {
	pdf              []byte
	signedAttributes string // cms shape
}

// lockedWriter lets the phone and the seal control, running side by side
// in the seal flows, print whole lines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// demoOptions are the demo's flags; pki, when set, is a dev PKI to use
// instead of making one (tests share one: key generation is the slow part).
type demoOptions struct {
	listen  string
	verbose bool
	pki     *devpki.Manifest
}

// startDemo makes the temporary directory and the dev PKI, registers dev
// seals for its certificates, and starts `serve --dev --trust PKI/trust`
// on listen with serve's own configuration and server.
func startDemo(ctx context.Context, opts demoOptions, stdout, stderr io.Writer) (*demo, error) {
	listen, verbose := opts.listen, opts.verbose
	dir, err := os.MkdirTemp("", "scansign-demo-")
	if err != nil {
		return nil, err
	}
	d := &demo{out: &lockedWriter{w: stdout}, dir: dir, served: make(chan error, 1), stopped: make(chan struct{}), contract: demoPDF()}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(d.out, "(%s is busy: %v; taking a free port)\n", listen, err)
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
	}
	defer func() {
		if !ok {
			ln.Close()
		}
	}()

	if d.pki = opts.pki; d.pki == nil {
		fmt.Fprintf(d.out, "Making a development PKI (SM2 and RSA roots, CAs, people and companies) in %s …\n", dir)
		if d.pki, err = devpki.Generate(filepath.Join(dir, "pki"), devpki.Options{}); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	// What `pki init --dev-seals` does: the seal company "dev" (this
	// server's /api/getSeal) has seals for every dev certificate.
	if _, err := registerDevSeals(ctx, sealstore.Config{DataDir: data}, d.pki); err != nil {
		return nil, err
	}

	// The configuration serve reads from `scansign serve --dev --listen
	// ADDR --data DIR --trust PKI/trust`, ignoring the environment: the
	// demo is the same on every machine.
	level := "warn"
	if verbose {
		level = "info"
	}
	cfg, err := loadConfig([]string{"--dev", "--listen", ln.Addr().String(), "--data", data, "--trust", d.pki.TrustDir, "--log-level", level},
		func(string) string { return "" }, stderr)
	if err != nil {
		return nil, err
	}
	cfg.bound(ln.Addr())
	log := newLogger(&cfg.ServerConfig, stderr)
	if !verbose { // the dev-mode warning is the demo's premise; keep the screen for the flows
		log = slog.New(slog.DiscardHandler)
	}
	if d.srv, err = newServer(ctx, cfg, log); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() {
		if err := d.srv.serve(sctx, ln); err != nil {
			d.served <- err
		}
		close(d.stopped)
	}()
	d.baseURL = cfg.PublicURL
	d.c = client.New(d.baseURL, &http.Client{Timeout: 30 * time.Second})
	fmt.Fprintf(d.out, "Relay (手机扫码服务) listening at %s with the dev accounts %s (trading system) and %s (CA app),\n"+
		"the seal company service beside it (seal company %q), trusting the dev PKI's roots.\n\n",
		d.baseURL, devSystemAccount, devAppAccount, devSealCompany)
	ok = true
	return d, nil
}

// stop shuts the server down (letting requests finish) and closes it.
func (d *demo) stop() {
	d.cancel()
	<-d.stopped
	d.srv.close()
}

// demoFlow is one flow of the guide as the demo plays it; adding a flow is
// one more entry in demoFlows.
type demoFlow struct {
	title    string // e.g. "登录 login"
	story    string // one line saying what it is for
	typ      int
	certType int
	leaf     string // the dev PKI certificate the phone holds
	message  func(ctx context.Context, d *demo) (string, error)
	// options for the phone (seal flows: how often it polls).
	phone phone.Options
	// alongside, if set, runs while the phone answers: the seal control's
	// part of the seal flow (status 5, then the PDF hash at status 4).
	alongside func(ctx context.Context, d *demo, sysTok, guid string) error
	// verified reads the results API's answer (and may do the trading
	// system's next step); it returns what to print, or why it failed.
	verified func(ctx context.Context, d *demo, sysTok, guid string, res *client.OperationResult) ([]string, error)
}

func demoFlows() []demoFlow {
	return []demoFlow{
		{
			title: "登录 login", story: "a bidder logs in to the trading system by scanning with their certificate app",
			typ: phone.TypeLogin, leaf: "sm2-person",
			message: func(context.Context, *demo) (string, error) { return randomNonce() },
			verified: func(_ context.Context, d *demo, _, _ string, res *client.OperationResult) ([]string, error) {
				return signerLines(res, "logged in as")
			},
		},
		{
			title: "签名 sign", story: "a company signs its bid summary (the operation asks for an organisation certificate)",
			typ: phone.TypeSign, certType: 1, leaf: "rsa-org",
			message: func(context.Context, *demo) (string, error) {
				return "投标文件摘要：项目 2026-001，报价 1,234,567.00 元", nil
			},
			verified: func(_ context.Context, d *demo, _, _ string, res *client.OperationResult) ([]string, error) {
				return signerLines(res, "signed by")
			},
		},
		{
			title: "加密 encrypt", story: "the trading system gets a bidder's certificate and encrypts the bid to it",
			typ: phone.TypeEncrypt, leaf: "sm2-person",
			message: func(_ context.Context, d *demo) (string, error) {
				d.secret = "投标报价 1,234,567.00 元（开标前保密）"
				return d.secret, nil
			},
			verified: func(ctx context.Context, d *demo, sysTok, guid string, res *client.OperationResult) ([]string, error) {
				lines, err := signerLines(res, "certificate of")
				if err != nil {
					return lines, err
				}
				env, err := d.c.Encrypt(ctx, sysTok, guid, client.EncryptRequest{})
				if err != nil {
					return lines, fmt.Errorf("POST /api/v1/operations/%s/encrypt: %w", guid, err)
				}
				d.envelope = env.Envelope
				return append(lines, fmt.Sprintf("POST /api/v1/operations/…/encrypt → %s envelope of %d bytes (base64) for %s; only their phone can open it",
					env.Format, len(env.Envelope), env.Recipient.SubjectFields.CN)), nil
			},
		},
		{
			title: "解密 decrypt", story: "at bid opening the trading system asks the bidder's phone to open the envelope",
			typ: phone.TypeDecrypt, leaf: "sm2-person",
			message: func(_ context.Context, d *demo) (string, error) {
				if d.envelope == "" {
					return "", errors.New("no envelope: the encrypt flow did not finish")
				}
				return d.envelope, nil
			},
			verified: func(_ context.Context, d *demo, _, _ string, res *client.OperationResult) ([]string, error) {
				o := res.Outcome
				if o == nil || o.Plaintext == nil {
					return nil, errors.New("no plaintext in the result")
				}
				if *o.Plaintext != d.secret {
					return nil, fmt.Errorf("plaintext %q is not the secret %q", *o.Plaintext, d.secret)
				}
				return []string{fmt.Sprintf("plaintext: %q (the bid encrypted in the previous flow)", *o.Plaintext)}, nil
			},
		},
		sealFlow("the tendering agency seals the contract PDF as a standard detached CMS (an RSA one pdfsig checks too)",
			"rsa-org", 1, pdfsign.ShapeCMS, 3.5, 11.8),
		sealFlow("张三 adds a personal seal the way the guide's apps sign: a PKCS#7 with the file hash attached",
			"sm2-person", 2, pdfsign.ShapeP7Hash, 13.5, 12.2),
		revokeFlow(),
	}
}

// signerLines describes a verified signer or certificate.
func signerLines(res *client.OperationResult, verb string) ([]string, error) {
	o := res.Outcome
	if o == nil {
		return nil, errors.New("no outcome in the result")
	}
	if !o.Valid {
		return nil, fmt.Errorf("NOT VALID: %s — %s (%s)", o.Reason, o.Message, o.MessageEn)
	}
	f := o.Signer
	lines := []string{fmt.Sprintf("✓ %s %s (%s)", verb, f.SubjectFields.CN, phone.CertTypeName(int(f.CertType)))}
	if f.CreditCode != "" {
		lines = append(lines, "  统一社会信用代码 "+f.CreditCode)
	}
	lines = append(lines,
		fmt.Sprintf("  certificate serial %s, %s %d-bit, issued by %s", f.Serial, f.KeyAlgorithm, f.KeyBits, f.IssuerFields.CN),
		fmt.Sprintf("  valid %s to %s; chains to a trusted root", f.NotBefore.Format("2006-01-02"), f.NotAfter.Format("2006-01-02")))
	if v := o.Verification; v != nil && v.Format != verify.FormatCertificate {
		what := "signature verified"
		if v.ContentChecked {
			what += ", over exactly the message the trading system asked to sign"
		}
		lines = append(lines, fmt.Sprintf("  %s (%s, %s/%s)", what, v.Format, v.SignatureAlgorithm, v.DigestAlgorithm))
	}
	return lines, nil
}

// runFlows plays each flow and returns how many failed.
func (d *demo) runFlows(ctx context.Context, flows []demoFlow) int {
	failed := 0
	for i, f := range flows {
		fmt.Fprintf(d.out, "━━ %d/%d %s ━━ %s\n", i+1, len(flows), f.title, f.story)
		if err := d.runFlow(ctx, f); err != nil {
			failed++
			fmt.Fprintf(d.out, "  ✗ %v\n", err)
		}
		fmt.Fprintln(d.out)
	}
	return failed
}

func (d *demo) runFlow(ctx context.Context, f demoFlow) error {
	say := func(who, format string, a ...any) { fmt.Fprintf(d.out, "%-15s %s\n", who, fmt.Sprintf(format, a...)) }
	msg, err := f.message(ctx, d)
	if err != nil {
		return err
	}
	sysTok, err := d.c.GrantToken(ctx, devSystemAccount, devSystemSecret, "")
	if err != nil {
		return fmt.Errorf("grantToken: %w", err)
	}
	say("trading system", "grantToken as %s → a token for initMessage", devSystemAccount)
	guid, err := d.c.InitMessage(ctx, sysTok, client.InitMessageRequest{Type: f.typ, Message: msg, Title: "xx 系统" + strings.Fields(f.title)[0], CertType: f.certType})
	if err != nil {
		return fmt.Errorf("initMessage: %w", err)
	}
	say("trading system", "initMessage type=%d message=%s certType=%d → guid %s", f.typ, shorten(msg, 48), f.certType, guid)

	payload, err := d.srv.relay.Payload(guid, demoCity)
	if err != nil {
		return err
	}
	if !d.qrShown {
		say("trading system", "shows this QR code and polls getCaMessageResult (every 3–5 s, as the guide suggests):")
		if art, err := phone.TerminalQR(string(payload)); err == nil {
			fmt.Fprint(d.out, indent(art, "    "))
			d.qrShown = true
		}
		fmt.Fprintf(d.out, "    %s\n", payload)
	} else {
		say("trading system", "shows the QR code %s (drawn like the first one) and polls", payload)
	}

	leaf, ok := d.pki.Leaf(f.leaf)
	if !ok {
		return fmt.Errorf("dev PKI has no %s", f.leaf)
	}
	id, err := leaf.Identity()
	if err != nil {
		return err
	}
	say("phone", "the %s app (account %s) holding %s's %s certificate scans it:", "CA", devAppAccount, leaf.CommonName, strings.ToUpper(leaf.Algorithm))
	app := &phone.App{Account: devAppAccount, Secret: devAppSecret, Identity: id, HTTP: &http.Client{Timeout: 30 * time.Second},
		Options: f.phone,
		Report:  func(s phone.Step) { fmt.Fprintf(d.out, "    %-19s %s\n", s.Name, s.Detail) }}
	side := make(chan error, 1)
	sctx, stopSide := context.WithCancel(ctx)
	defer stopSide()
	if f.alongside != nil {
		go func() { side <- f.alongside(sctx, d, sysTok, guid) }()
	} else {
		side <- nil
	}
	if _, err := app.Scan(ctx, string(payload)); err != nil {
		stopSide()
		return fmt.Errorf("phone: %w", err)
	}
	if err := <-side; err != nil {
		return err
	}

	polled, err := d.c.GetCaMessageResult(ctx, sysTok, guid)
	if err != nil {
		return fmt.Errorf("getCaMessageResult: %w", err)
	}
	say("trading system", "getCaMessageResult → status %d, value %s", polled.Status, shortPtr(polled.Value, 56))
	res, err := d.c.OperationResult(ctx, sysTok, guid)
	if err != nil {
		return fmt.Errorf("GET /api/v1/operations/%s: %w", guid, err)
	}
	say("trading system", "GET /api/v1/operations/{guid} (one call: status and the verified outcome):")
	lines, err := f.verified(ctx, d, sysTok, guid, res)
	for _, l := range lines {
		fmt.Fprintf(d.out, "    %s\n", l)
	}
	return err
}

// readmeSealSection is the README heading the demo sends readers to for
// the seal flow by hand (TestDemoKeepsServing checks it is there).
const readmeSealSection = "Try it: the seal flow (三.5) with curl"

// printTryIt prints commands to play with the running relay; keep is
// --keep (whether the sealed contracts outlive the demo).
func (d *demo) printTryIt(keep bool) {
	u := d.baseURL
	pfx := "PKI/leaves/sm2-person.pfx"
	if l, ok := d.pki.Leaf("sm2-person"); ok {
		pfx = l.PFXPath
	}
	gone := "; the directory is removed when the demo stops (--keep keeps it)"
	if keep {
		gone = "; --keep keeps them after the demo stops"
	}
	fmt.Fprintf(d.out, `The relay keeps running at %[1]s until Ctrl-C. Try the guide's login (三.1) by hand:

  # the trading system: a token, a login operation, its QR code
  curl -s -X POST '%[1]s/grantToken' --data 'accountName=%[2]s&password=%[3]s'
  curl -s -X POST '%[1]s/initMessage' --data 'type=4&message=f7c54891-adad-4f32-9994-83d70a7204a2&title=xx系统登录&certType=0&token=TOKEN'
  curl -s '%[1]s/qrcode?guid=GUID&token=TOKEN&city=%[4]s' -o qr.png

  # the phone
  go run ./cmd/scansign app --qr-image qr.png --account %[5]s --secret %[6]s \
      --pfx %[7]s --pfx-password %[8]s

  # the trading system again: poll, or ask for the verified outcome in one call
  curl -s -X POST '%[1]s/getCaMessageResult' --data 'guid=GUID&token=TOKEN'
  curl -s -H 'Authorization: Bearer TOKEN' '%[1]s/api/v1/operations/GUID'

  # routes on no operation (verify, certs/inspect, the PDF API) take the account itself, HTTP Basic
  curl -s -u '%[2]s:%[3]s' '%[1]s/api/v1/pdf/verify' -F 'pdf=@%[11]s/contract-revoked.pdf'

Other certificates (organisations, RSA, expired, revoked, untrusted) are in %[9]s;
each has seals at the seal company %[10]q (this server's /api/getSeal), so the seal flow
(三.5: getSealImg, POST /api/v1/pdf/prepare with the guid, the app, complete) works with
any of them: README.md, "%[13]s". The sealed contracts are in %[11]s
(pdfsig checks the RSA seal; scansign pdf verify --trust %[12]s checks both)%[14]s.
`, u, devSystemAccount, devSystemSecret, demoCity, devAppAccount, devAppSecret, pfx, d.pki.Password, filepath.Join(d.pki.Dir, "leaves"),
		devSealCompany, d.dir, d.pki.TrustDir, readmeSealSection, gone)
}

func randomNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func shortPtr(s *string, n int) string {
	if s == nil {
		return "null"
	}
	return shorten(*s, n)
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}
