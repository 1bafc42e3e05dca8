package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/seal"
	"github.com/scansign/scansign/seal/sealimg"
	"github.com/scansign/scansign/seal/service"
	sealstore "github.com/scansign/scansign/seal/store"
)

// The documented development account of `seal serve --dev`: what a relay in
// dev mode configures for its dev seal company.
const devSealAccount, devSealPassword = "dev-seal", "dev-seal-secret"

// runSeal is `scansign seal`: the seal company service and its seal store.
func runSeal(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, `usage: scansign seal <command> [flags]

  serve     run the seal company service (POST /api/getSeal, guide 二.3.1)
  add       register a seal image for a certificate serial
  list      list registered seals (and user data)
  remove    remove seals by ID, or everything of a serial (--serial)
  account   make a service account: a random password and its config entry
  draw      draw a development seal PNG

The store is the embedded file DATA/seals.db (--data, default ./data) or
PostgreSQL (--database-url); also SCANSIGN_SEAL_DATA / SCANSIGN_SEAL_DATABASE_URL.
Run 'scansign seal <command> -h' for a command's flags.`)
	}
	if len(args) == 0 {
		usage()
		return exitUsage
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "serve":
		return runSealServe(ctx, rest, stdout, stderr)
	case "add":
		return runSealAdd(ctx, rest, stdout, stderr)
	case "list":
		return runSealList(ctx, rest, stdout, stderr)
	case "remove":
		return runSealRemove(ctx, rest, stdout, stderr)
	case "account":
		return runSealAccount(rest, os.Stdin, stdout, stderr)
	case "draw":
		return runSealDraw(rest, stdout, stderr)
	case "-h", "--help", "help":
		usage()
		return exitOK
	}
	fmt.Fprintf(stderr, "scansign seal: unknown command %q\n\n", sub)
	usage()
	return exitUsage
}

// sealStoreFlags are the store selection flags shared by add, list and remove.
type sealStoreFlags struct {
	data, databaseURL *string
}

func addSealStoreFlags(fs *flag.FlagSet) sealStoreFlags {
	return sealStoreFlags{
		data:        fs.String("data", envOr("SCANSIGN_SEAL_DATA", "./data"), "data directory of the embedded store (DATA/seals.db) [SCANSIGN_SEAL_DATA]"),
		databaseURL: fs.String("database-url", os.Getenv("SCANSIGN_SEAL_DATABASE_URL"), "PostgreSQL URL; when set, used instead of --data [SCANSIGN_SEAL_DATABASE_URL]"),
	}
}

func (f sealStoreFlags) config() sealstore.Config {
	return sealstore.Config{DataDir: *f.data, DatabaseURL: *f.databaseURL}
}

func (f sealStoreFlags) open(ctx context.Context) (seal.Store, error) {
	return sealstore.Open(ctx, f.config())
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// parseSealFlags parses a subcommand's flags, which may come before, after
// or between its positional arguments (`seal remove ID --data DIR`); done is
// true when the caller should return code (help shown, or a usage error).
func parseSealFlags(fs *flag.FlagSet, args []string) (positional []string, code int, done bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, true
			}
			return nil, exitUsage, true
		}
		if fs.NArg() == 0 {
			return positional, 0, false
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func runSealAdd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scansign seal add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addSealStoreFlags(fs)
	serial := fs.String("serial", "", "certificate serial number, hex (any case, leading zeros or colons)")
	name := fs.String("name", "", "seal name (signName), e.g. 某某公司公章")
	imagePath := fs.String("image", "", "seal image, PNG (transparent background) or JPEG")
	width := fs.String("width-cm", "", "printed width in centimetres (signWidth)")
	height := fs.String("height-cm", "", "printed height in centimetres (signHeight)")
	typ := fs.String("type", "", "seal type (signType), e.g. 公章, 财务章, 个人章")
	desc := fs.String("description", "", "description")
	from := fs.String("from", "", "valid from (APPLYDate): 2006-01-02 or '2006-01-02 15:04:05', China time; empty: always")
	to := fs.String("to", "", "valid to (overDate), a bare day means through its end; empty: never expires")
	userID := fs.String("user-id", "", "userInfo userId of the certificate holder")
	userName := fs.String("user-name", "", "userInfo userName")
	phone := fs.String("phone", "", "userInfo phone")
	userFrom := fs.String("user-from", "", "userInfo APPLYDate")
	userTo := fs.String("user-to", "", "userInfo overDate")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: scansign seal add --serial HEX --name NAME --image FILE --width-cm W --height-cm H [--type T] [--from D --to D] [--user-id … --user-name … --phone …]")
		fs.PrintDefaults()
	}
	pos, code, done := parseSealFlags(fs, args)
	if done {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "scansign seal add: "+format+"\n", a...)
		return code
	}
	if len(pos) > 0 {
		return fail(exitUsage, "unexpected argument %q", pos[0])
	}
	if *serial == "" || *name == "" || *imagePath == "" || *width == "" || *height == "" {
		return fail(exitUsage, "--serial, --name, --image, --width-cm and --height-cm are required")
	}
	w, err := strconv.ParseFloat(*width, 64)
	if err != nil {
		return fail(exitUsage, "--width-cm %q is not a number", *width)
	}
	h, err := strconv.ParseFloat(*height, 64)
	if err != nil {
		return fail(exitUsage, "--height-cm %q is not a number", *height)
	}
	var validFrom, validTo, uFrom, uTo time.Time
	for _, d := range []struct {
		flag, v  string
		endOfDay bool
		dst      *time.Time
	}{{"from", *from, false, &validFrom}, {"to", *to, true, &validTo}, {"user-from", *userFrom, false, &uFrom}, {"user-to", *userTo, true, &uTo}} {
		t, ok := seal.ParseDate(strings.TrimSpace(d.v), d.endOfDay)
		if !ok {
			return fail(exitUsage, "--%s %q: want 2006-01-02 or '2006-01-02 15:04:05'", d.flag, d.v)
		}
		*d.dst = t
	}
	img, err := readLimited(*imagePath, sealimg.MaxImageBytes)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	info, err := sealimg.Check(img)
	if err != nil {
		return fail(exitInvalid, "%s: %v", *imagePath, err)
	}
	s := seal.Seal{Serial: *serial, Name: *name, WidthCM: w, HeightCM: h, Type: *typ, Description: *desc, Image: img, ValidFrom: validFrom, ValidTo: validTo}
	if _, err := s.Prepare(); err != nil { // refuse before touching the store
		return fail(exitInvalid, "%v", err)
	}
	withUser := *userID != "" || *userName != "" || *phone != "" || *userFrom != "" || *userTo != ""
	u := seal.User{Serial: *serial, ID: *userID, Name: *userName, Phone: *phone, ValidFrom: uFrom, ValidTo: uTo}
	if withUser {
		if _, err := u.Prepare(); err != nil {
			return fail(exitInvalid, "%v", err)
		}
	}

	st, err := sf.open(ctx)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	defer st.Close()
	added, err := st.AddSeal(ctx, s)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	if withUser {
		if _, err := st.PutUser(ctx, u); err != nil {
			return fail(exitUsage, "seal %s added, but the user data was not: %v", added.ID, err)
		}
	}
	fmt.Fprintf(stdout, "added seal %s for serial %s: %s, %s×%s cm, %s %d×%d px, %d bytes\n",
		added.ID, added.Serial, added.Name, seal.FormatCM(w), seal.FormatCM(h), info.Format, info.Width, info.Height, len(img))
	if !info.Transparent {
		fmt.Fprintln(stderr, "warning: the image has no transparent pixels; placed on a PDF it will hide the text under it")
	}
	return exitOK
}

// sealListing is `seal list --json`: the seals (without image bytes) and users.
type sealListing struct {
	Seals []sealListed `json:"seals"`
	Users []userListed `json:"users"`
}

type sealListed struct {
	ID          string `json:"id"`
	Serial      string `json:"serial"`
	Name        string `json:"signName"`
	Width       string `json:"signWidth"`
	Height      string `json:"signHeight"`
	Type        string `json:"signType"`
	Description string `json:"description"`
	Ext         string `json:"signExt"`
	Bytes       int    `json:"bytes"`
	From        string `json:"APPLYDate"`
	To          string `json:"overDate"`
	Status      string `json:"status"` // valid, expired, not yet valid
	Created     string `json:"created"`
}

type userListed struct {
	Serial string `json:"serial"`
	ID     string `json:"userId"`
	Name   string `json:"userName"`
	Phone  string `json:"phone"`
	From   string `json:"APPLYDate"`
	To     string `json:"overDate"`
}

func sealStatus(s seal.Seal, now time.Time) string {
	switch {
	case s.ValidAt(now):
		return "valid"
	case !s.ValidTo.IsZero() && now.After(s.ValidTo):
		return "expired"
	}
	return "not yet valid"
}

func runSealList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scansign seal list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addSealStoreFlags(fs)
	serial := fs.String("serial", "", "only this certificate serial")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code, done := parseSealFlags(fs, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "scansign seal list: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	st, err := sf.open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "scansign seal list: %v\n", err)
		return exitUsage
	}
	defer st.Close()
	seals, users, err := st.List(ctx, *serial)
	if err != nil {
		fmt.Fprintf(stderr, "scansign seal list: %v\n", err)
		return exitUsage
	}
	now := time.Now()
	out := sealListing{Seals: []sealListed{}, Users: []userListed{}}
	for _, s := range seals {
		out.Seals = append(out.Seals, sealListed{ID: s.ID, Serial: s.Serial, Name: s.Name, Width: seal.FormatCM(s.WidthCM), Height: seal.FormatCM(s.HeightCM),
			Type: s.Type, Description: s.Description, Ext: s.Ext, Bytes: s.ImageSize, From: seal.FormatDate(s.ValidFrom), To: seal.FormatDate(s.ValidTo),
			Status: sealStatus(s, now), Created: seal.FormatDate(s.Created)})
	}
	for _, u := range users {
		out.Users = append(out.Users, userListed{Serial: u.Serial, ID: u.ID, Name: u.Name, Phone: u.Phone, From: seal.FormatDate(u.ValidFrom), To: seal.FormatDate(u.ValidTo)})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return exitUsage
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSERIAL\tNAME\tTYPE\tSIZE (cm)\tIMAGE\tVALID FROM\tVALID TO\tSTATUS")
	for _, s := range out.Seals {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s×%s\t%s %d B\t%s\t%s\t%s\n", s.ID, s.Serial, s.Name, dash(s.Type), s.Width, s.Height, s.Ext, s.Bytes, dash(s.From), dash(s.To), s.Status)
	}
	tw.Flush()
	if len(out.Users) > 0 {
		fmt.Fprintln(stdout)
		fmt.Fprintln(tw, "SERIAL\tUSER ID\tUSER NAME\tPHONE\tFROM\tTO")
		for _, u := range out.Users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Serial, dash(u.ID), dash(u.Name), dash(u.Phone), dash(u.From), dash(u.To))
		}
		tw.Flush()
	}
	return exitOK
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runSealRemove(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scansign seal remove", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addSealStoreFlags(fs)
	serial := fs.String("serial", "", "remove every seal and the user data of this certificate serial")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: scansign seal remove ID... | scansign seal remove --serial HEX")
		fs.PrintDefaults()
	}
	ids, code, done := parseSealFlags(fs, args)
	if done {
		return code
	}
	if (*serial == "") == (len(ids) == 0) {
		fs.Usage()
		return exitUsage
	}
	st, err := sf.open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "scansign seal remove: %v\n", err)
		return exitUsage
	}
	defer st.Close()
	if *serial != "" {
		// Say the serial as it is keyed and as CAs print it, whatever
		// spelling was typed (00abcd is ABCD).
		norm, err := certs.NormalizeSerial(*serial)
		if err != nil {
			fmt.Fprintf(stderr, "scansign seal remove: --serial: %v\n", err)
			return exitUsage
		}
		n, err := st.RemoveSerial(ctx, norm)
		switch {
		case errors.Is(err, seal.ErrNotFound):
			fmt.Fprintf(stderr, "scansign seal remove: nothing registered for serial %s\n", norm)
			return exitInvalid
		case errors.Is(err, seal.ErrInvalid):
			fmt.Fprintf(stderr, "scansign seal remove: %v\n", err)
			return exitUsage
		case err != nil:
			fmt.Fprintf(stderr, "scansign seal remove: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "removed %d seal(s) and the user data of serial %s\n", n, norm)
		return exitOK
	}
	code = exitOK
	for _, id := range ids {
		switch err := st.RemoveSeal(ctx, id); {
		case errors.Is(err, seal.ErrNotFound):
			fmt.Fprintf(stderr, "scansign seal remove: no seal %s\n", id)
			code = max(code, exitInvalid)
		case err != nil:
			fmt.Fprintf(stderr, "scansign seal remove: %v\n", err)
			return exitUsage
		default:
			fmt.Fprintf(stdout, "removed seal %s\n", id)
		}
	}
	return code
}

// runSealAccount is `seal account NAME [--password-stdin]`: a new service
// account for a caller (the relay). It prints the password once and the
// configuration entry holding only its hash.
func runSealAccount(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scansign seal account", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fromStdin := fs.Bool("password-stdin", false, "hash the password read from standard input instead of drawing one")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: scansign seal account NAME [--password-stdin]")
		fmt.Fprintln(stderr, "\nPrints a new random password (once) and the config entry holding its PBKDF2 hash.")
		fs.PrintDefaults()
	}
	pos, code, done := parseSealFlags(fs, args)
	if done {
		return code
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitUsage
	}
	name := pos[0]
	if len(name) > 64 || strings.ContainsAny(name, ":, \t\r\n") {
		fmt.Fprintln(stderr, "scansign seal account: NAME must be at most 64 bytes without ':', ',' or spaces")
		return exitUsage
	}
	var password string
	if *fromStdin {
		b, err := io.ReadAll(io.LimitReader(stdin, 1024))
		if err != nil {
			fmt.Fprintf(stderr, "scansign seal account: %v\n", err)
			return exitUsage
		}
		password = strings.TrimRight(string(b), "\r\n")
	} else {
		raw := make([]byte, 24)
		if _, err := rand.Read(raw); err != nil {
			fmt.Fprintf(stderr, "scansign seal account: %v\n", err)
			return exitUsage
		}
		password = base64.RawURLEncoding.EncodeToString(raw)
	}
	hash, err := service.HashPassword(password)
	if err != nil {
		fmt.Fprintf(stderr, "scansign seal account: %v\n", err)
		return exitUsage
	}
	if !*fromStdin {
		fmt.Fprintf(stdout, "Seal service account %s. Its password, shown only now; configure it at the caller\n(the relay's seal company entry):\n\n    %s\n\n", name, password)
	}
	fmt.Fprintf(stdout, `Add this entry under accounts in the seal service's config file:

    - {name: %[1]s, password_hash: "%[2]s"}

or pass it as --account '%[1]s:%[2]s'
(or in SCANSIGN_SEAL_ACCOUNTS, comma-separated).
`, name, hash)
	return exitOK
}

// runSealDraw is `seal draw --name NAME [--shape round|oval] --out FILE`.
func runSealDraw(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scansign seal draw", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the holder's name (Latin letters: the built-in font has no Chinese glyphs)")
	shape := fs.String("shape", "round", "round (company) or oval (personal)")
	out := fs.String("out", "", "PNG file to write ('-' for standard output)")
	pos, code, done := parseSealFlags(fs, args)
	if done {
		return code
	}
	sh, err := sealimg.ParseShape(*shape)
	if err != nil || *name == "" || *out == "" || len(pos) > 0 {
		fmt.Fprintln(stderr, "usage: scansign seal draw --name NAME [--shape round|oval] --out FILE.png")
		return exitUsage
	}
	png, err := sealimg.DevSeal(*name, sh)
	if err != nil {
		fmt.Fprintf(stderr, "scansign seal draw: %v\n", err)
		return exitUsage
	}
	if *out == "-" {
		_, err = stdout.Write(png)
	} else {
		err = os.WriteFile(*out, png, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "scansign seal draw: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// SealServiceConfig is the seal company service's own settings: the top
// level of `seal serve`'s file, and (inside SealSection) the `seal:` section
// of `serve`'s.
type SealServiceConfig struct {
	Accounts    []service.Account `yaml:"accounts"`
	BodyLimit   ByteSize          `yaml:"body_limit"`
	MaxFailures int               `yaml:"max_failures"`
	// MaxFailuresPerAddr 0 means twice MaxFailures (see service.Config).
	MaxFailuresPerAddr int           `yaml:"max_failures_per_addr"`
	FailureWindow      time.Duration `yaml:"failure_window"`
}

func defaultSealServiceConfig() SealServiceConfig {
	return SealServiceConfig{BodyLimit: service.DefaultMaxBodyBytes, MaxFailures: service.DefaultMaxFailures, FailureWindow: service.DefaultFailureWindow}
}

// settings binds the service's settings to flags named flagPrefix+name
// ("" in `seal serve`, "seal-" in `serve`) and to SCANSIGN_SEAL_* variables.
func (c *SealServiceConfig) settings(flagPrefix string) []setting {
	return sealEnv([]setting{
		{flag: flagPrefix + "account", envName: "SCANSIGN_SEAL_ACCOUNTS", usage: "seal service account NAME:PASSWORD_HASH, from 'scansign seal account' (repeatable)",
			list: func(v []string) error {
				c.Accounts = nil
				for _, a := range v {
					name, hash, ok := strings.Cut(a, ":")
					if !ok {
						return fmt.Errorf("account %q: want NAME:PASSWORD_HASH", a)
					}
					c.Accounts = append(c.Accounts, service.Account{Name: name, PasswordHash: hash})
				}
				return nil
			}},
		{flag: flagPrefix + "body-limit", envName: "SCANSIGN_SEAL_BODY_LIMIT", usage: "largest /api/getSeal request body (bytes, or with KiB/MiB)",
			set: func(v string) error { return c.BodyLimit.parse(v) }},
		{flag: flagPrefix + "max-failures", envName: "SCANSIGN_SEAL_MAX_FAILURES", usage: "failed seal service logins of one account from one client address before code 429 (never per account alone: relays share accounts)",
			set: func(v string) error { return setInt(&c.MaxFailures, v) }},
		{flag: flagPrefix + "max-failures-per-addr", envName: "SCANSIGN_SEAL_MAX_FAILURES_PER_ADDR", usage: "failed seal service logins from one client address, whatever the accounts, before code 429 (default twice max-failures)",
			set: func(v string) error { return setInt(&c.MaxFailuresPerAddr, v) }},
		withEnv(duration(flagPrefix+"failure-window", "how long failed seal service logins count", &c.FailureWindow), "SCANSIGN_SEAL_FAILURE_WINDOW"),
	})
}

func withEnv(s setting, env string) setting {
	s.envName = env
	return s
}

// sealEnv names the environment variables of settings that have none yet
// SCANSIGN_SEAL_<FLAG>.
func sealEnv(s []setting) []setting {
	for i := range s {
		if s[i].envName == "" {
			s[i].envName = "SCANSIGN_SEAL_" + strings.ToUpper(strings.ReplaceAll(s[i].flag, "-", "_"))
		}
	}
	return s
}

// SealSection is what `serve` needs to mount the seal company service next
// to the relay: `seal: {enabled: true, accounts: […]}` in its file, or
// --seal-enabled --seal-account …; the store is serve's own data directory
// (DATA/seals.db) or database.
type SealSection struct {
	Enabled           bool `yaml:"enabled"`
	SealServiceConfig `yaml:",inline"`
}

// DefaultSealSection is the section's default: disabled, service defaults.
func DefaultSealSection() SealSection {
	return SealSection{SealServiceConfig: defaultSealServiceConfig()}
}

// settings are the section's flags (--seal-…) and variables (SCANSIGN_SEAL_…).
func (s *SealSection) settings() []setting {
	return append([]setting{withEnv(boolean("seal-enabled", "mount the seal company service (/api/getSeal) on this server", &s.Enabled), "SCANSIGN_SEAL_ENABLED")},
		s.SealServiceConfig.settings("seal-")...)
}

// newSealService builds the /api/getSeal handler from the settings.
func newSealService(c SealServiceConfig, st seal.Store, log *slog.Logger) (*service.Service, error) {
	return service.New(service.Config{
		Accounts:           c.Accounts,
		MaxBodyBytes:       int64(c.BodyLimit),
		MaxFailures:        c.MaxFailures,
		MaxFailuresPerAddr: c.MaxFailuresPerAddr,
		FailureWindow:      c.FailureWindow,
		Logger:             log,
	}, st)
}

// SealServeConfig is `scansign seal serve`'s configuration.
type SealServeConfig struct {
	ServerConfig      `yaml:",inline"`
	SealServiceConfig `yaml:",inline"`
}

func (c *SealServeConfig) settings() []setting {
	return sealEnv(append(c.ServerConfig.settings(serverWords{
		storeFile: "seals.db", served: "/api/getSeal", prefixExample: "/seal",
		dev: "adds the account " + devSealAccount + " / " + devSealPassword,
	}), c.SealServiceConfig.settings("")...))
}

// loadSealServeConfig reads defaults, then the YAML file (--config or
// SCANSIGN_SEAL_CONFIG), then SCANSIGN_SEAL_* variables, then flags.
func loadSealServeConfig(args []string, getenv func(string) string, stderr io.Writer) (*SealServeConfig, error) {
	cfg := SealServeConfig{ServerConfig: defaultServerConfig("127.0.0.1:8090"), SealServiceConfig: defaultSealServiceConfig()}
	if err := loadSettings("scansign seal serve", "SCANSIGN_SEAL_CONFIG", &cfg, cfg.settings(), args, getenv, stderr); err != nil {
		return nil, err
	}
	if err := cfg.ServerConfig.check(); err != nil {
		return nil, err
	}
	if cfg.Dev {
		acc, err := devSealServiceAccount()
		if err != nil {
			return nil, err
		}
		cfg.Accounts = append(cfg.Accounts, acc)
	}
	if len(cfg.Accounts) == 0 {
		return nil, errors.New("no seal service accounts configured. Create one with\n\n" +
			"    scansign seal account NAME\n\n" +
			"and put the entry it prints under accounts in the config file (or pass --account),\n" +
			"or try it out with: scansign seal serve --dev")
	}
	return &cfg, nil
}

func runSealServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := loadSealServeConfig(args, os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "scansign seal serve: %v\n", err)
		return exitUsage
	}
	log := newLogger(&cfg.ServerConfig, stderr)
	if cfg.Dev {
		log.Warn("DEVELOPMENT MODE: the documented account " + devSealAccount + " is enabled (its password is public); loopback only")
	}
	st, err := sealstore.Open(ctx, sealstore.Config{DataDir: cfg.Data, DatabaseURL: cfg.DatabaseURL})
	if err != nil {
		fmt.Fprintf(stderr, "scansign seal serve: %v\n", err)
		return exitUsage
	}
	defer st.Close()
	svc, err := newSealService(cfg.SealServiceConfig, st, log)
	if err != nil {
		fmt.Fprintf(stderr, "scansign seal serve: %v\n", err)
		return exitUsage
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "scansign seal serve: %v\n", err)
		return exitUsage
	}
	hs := &http.Server{
		Handler:           sealRoutes(cfg.PathPrefix, svc, st, log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10, // a GET carries its fields in the query
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("seal service listening", "addr", ln.Addr().String(), "endpoint", cfg.PathPrefix+service.Path, "tls", cfg.TLSCert != "")
	if err := runHTTP(ctx, hs, ln, &cfg.ServerConfig, log); err != nil {
		log.Error("seal service stopped", "err", err)
		return exitUsage
	}
	return exitOK
}

// sealRoutes is the standalone service's router: the guide's endpoint and
// the health probes.
func sealRoutes(prefix string, svc http.Handler, st seal.Store, log *slog.Logger) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, withRequestID, accessLog(log))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	r.Get("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 3*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			log.Warn("readyz: store unreachable", "err", err)
			http.Error(w, "store unreachable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	r.Handle(prefix+service.Path, svc)
	return r
}
