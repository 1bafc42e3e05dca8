package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scansign/scansign/relay"
	sealclient "github.com/scansign/scansign/seal/client"
)

// Config is `scansign serve`'s configuration: the shape of the YAML file.
// Server-wide settings sit at the top; each part of scansign has its own
// section. A later part adds its section as a field here and its settings
// in (*Config).settings, and gets file, environment and flag for free.
type Config struct {
	Listen          string        `yaml:"listen"`
	TLSCert         string        `yaml:"tls_cert"`
	TLSKey          string        `yaml:"tls_key"`
	PublicURL       string        `yaml:"public_url"`
	PathPrefix      string        `yaml:"path_prefix"`
	Data            string        `yaml:"data"`
	DatabaseURL     string        `yaml:"database_url"`
	Dev             bool          `yaml:"dev"`
	LogLevel        string        `yaml:"log_level"`
	LogFormat       string        `yaml:"log_format"`
	TrustedProxies  []string      `yaml:"trusted_proxies"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`

	Relay RelayConfig `yaml:"relay"`
	Trust TrustConfig `yaml:"trust"`
	PDF   PDFConfig   `yaml:"pdf"`
	// Seal is the seal company service (/api/getSeal) mounted beside the
	// relay; SealCompanies the companies the relay's /getSealImg calls.
	Seal          SealSection          `yaml:"seal"`
	SealCompanies []sealclient.Company `yaml:"seal_companies"`

	// publicURLDerived: PublicURL was made from Listen (not configured),
	// so it follows the address actually bound (see bound).
	publicURLDerived bool
}

// RelayConfig is the relay's (手机扫码服务) section.
type RelayConfig struct {
	Accounts     []AccountConfig `yaml:"accounts"`
	Cities       []relay.City    `yaml:"cities"`
	OpTTL        time.Duration   `yaml:"op_ttl"`
	TokenTTL     time.Duration   `yaml:"token_ttl"`
	ExpiredGrace time.Duration   `yaml:"expired_grace"`
	BodyLimit    ByteSize        `yaml:"body_limit"`
	MaxFailures  int             `yaml:"max_failures"`
}

// AccountConfig is one relay account; SecretHash comes from `scansign
// account add`.
type AccountConfig struct {
	Name       string `yaml:"name"`
	Role       string `yaml:"role"`
	SecretHash string `yaml:"secret_hash"`
}

// The documented development accounts of `serve --dev`.
const (
	devSystemAccount, devSystemSecret = "dev-system", "dev-system-secret"
	devAppAccount, devAppSecret       = "dev-app", "dev-app-secret"
)

func defaultConfig() Config {
	return Config{
		Listen:          "127.0.0.1:8080",
		Data:            "./data",
		LogLevel:        "info",
		LogFormat:       "text",
		ShutdownTimeout: 20 * time.Second,
		Relay: RelayConfig{
			OpTTL:        relay.DefaultOperationTTL,
			TokenTTL:     relay.DefaultTokenTTL,
			ExpiredGrace: relay.DefaultExpiredGrace,
			BodyLimit:    relay.DefaultBodyBytes,
			MaxFailures:  relay.DefaultMaxFailures,
		},
		PDF:  defaultPDFConfig(),
		Seal: DefaultSealSection(),
	}
}

// setting is one configuration value reachable from the command line
// (--flag) and the environment (SCANSIGN_FLAG, dashes as underscores).
// A list setting takes a comma-separated environment value and a
// repeatable flag; either replaces the list from the file.
type setting struct {
	flag  string
	usage string
	set   func(string) error   // scalar settings
	list  func([]string) error // list settings (set is nil)
	bool  bool                 // a flag given without a value means true
	// envName overrides the derived environment variable name (lists read
	// better plural: SCANSIGN_ACCOUNTS for --account).
	envName string
}

func (s setting) env() string {
	if s.envName != "" {
		return s.envName
	}
	return "SCANSIGN_" + strings.ToUpper(strings.ReplaceAll(s.flag, "-", "_"))
}

// settings lists every setting bound to c. Later parts append theirs.
func (c *Config) settings() []setting {
	all := []setting{
		str("listen", "address to listen on, host:port", &c.Listen),
		str("tls-cert", "TLS certificate chain (PEM); with --tls-key serves HTTPS as the guide asks", &c.TLSCert),
		str("tls-key", "TLS private key (PEM)", &c.TLSKey),
		str("public-url", "手机扫码服务地址 put in QR payloads, e.g. https://relay.example.cn (include the path prefix)", &c.PublicURL),
		str("path-prefix", "serve the endpoints under this path, e.g. /scan", &c.PathPrefix),
		str("data", "data directory of the embedded store (DATA/relay.db)", &c.Data),
		str("database-url", "PostgreSQL URL (postgres://…); when set, used instead of --data", &c.DatabaseURL),
		boolean("dev", "development mode: the dev-system / dev-app accounts, the seal service with dev-seal, seal company \"dev\" (this server); loopback only", &c.Dev),
		str("log-level", "debug, info, warn or error", &c.LogLevel),
		str("log-format", "text or json", &c.LogFormat),
		{flag: "trusted-proxies", usage: "CIDRs of reverse proxies whose X-Forwarded-For names the client (repeatable)",
			list: func(v []string) error { c.TrustedProxies = v; return nil }},
		duration("shutdown-timeout", "how long to let in-flight requests finish on SIGTERM", &c.ShutdownTimeout),

		{flag: "account", envName: "SCANSIGN_ACCOUNTS", usage: "relay account NAME:ROLE:SECRET_HASH, from 'scansign account add' (repeatable)",
			list: func(v []string) error {
				c.Relay.Accounts = nil
				for _, s := range v {
					a, err := parseAccountFlag(s)
					if err != nil {
						return err
					}
					c.Relay.Accounts = append(c.Relay.Accounts, a)
				}
				return nil
			}},
		{flag: "city", envName: "SCANSIGN_CITIES", usage: "platform table entry CODE=NAME for QR codes (repeatable; default: the guide's table)",
			list: func(v []string) error {
				c.Relay.Cities = nil
				for _, s := range v {
					code, name, ok := strings.Cut(s, "=")
					if !ok {
						return fmt.Errorf("city %q: want CODE=NAME", s)
					}
					c.Relay.Cities = append(c.Relay.Cities, relay.City{Code: strings.TrimSpace(code), Name: strings.TrimSpace(name)})
				}
				return nil
			}},
		duration("op-ttl", "operation lifetime after initMessage", &c.Relay.OpTTL),
		duration("token-ttl", "token lifetime after grantToken", &c.Relay.TokenTTL),
		duration("expired-grace", "how long expired operations are kept to answer 二维码已过期", &c.Relay.ExpiredGrace),
		{flag: "body-limit", usage: "largest request body of the guide's endpoints (bytes, or with KiB/MiB)",
			set: func(s string) error { return c.Relay.BodyLimit.parse(s) }},
		{flag: "max-failures", usage: "failed grantToken attempts per account and client address before 429",
			set: func(s string) error { return setInt(&c.Relay.MaxFailures, s) }},
	}
	all = append(all, c.Trust.settings()...)
	all = append(all, c.PDF.settings()...)
	all = append(all, c.Seal.settings()...)
	return append(all, c.sealCompaniesSetting())
}

func str(name, usage string, p *string) setting {
	return setting{flag: name, usage: usage, set: func(s string) error { *p = s; return nil }}
}

func boolean(name, usage string, p *bool) setting {
	return setting{flag: name, usage: usage, bool: true, set: func(s string) error {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false, not %q", s)
		}
		*p = v
		return nil
	}}
}

func duration(name, usage string, p *time.Duration) setting {
	return setting{flag: name, usage: usage, set: func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("want a duration like 5m or 30s, not %q", s)
		}
		*p = d
		return nil
	}}
}

func setInt(p *int, s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("want a whole number, not %q", s)
	}
	*p = v
	return nil
}

func parseAccountFlag(s string) (AccountConfig, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return AccountConfig{}, fmt.Errorf("account %q: want NAME:ROLE:SECRET_HASH", s)
	}
	return AccountConfig{Name: parts[0], Role: parts[1], SecretHash: parts[2]}, nil
}

// ByteSize is a size in bytes that reads "1048576", "1MiB", "512KiB".
type ByteSize int64

func (b *ByteSize) parse(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 || v > (1<<40)/mult {
		return fmt.Errorf("want a size like 1MiB or 1048576")
	}
	*b = ByteSize(v * mult)
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error { return b.parse(n.Value) }

// recorded is a flag.Value that only records what was given, so flags can
// be applied after the file and the environment (flag > env > file >
// default).
type recorded struct {
	values []string
	isBool bool
}

func (r *recorded) String() string { return strings.Join(r.values, ",") }
func (r *recorded) Set(s string) error {
	r.values = append(r.values, s)
	return nil
}
func (r *recorded) IsBoolFlag() bool { return r.isBool }

// loadConfig reads the configuration: defaults, then the YAML file
// (--config or SCANSIGN_CONFIG), then SCANSIGN_* environment variables,
// then flags; each overrides the one before. getenv is os.Getenv outside
// tests.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	cfg := defaultConfig()
	settings := cfg.settings()
	fs := flag.NewFlagSet("scansign serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (also SCANSIGN_CONFIG)")
	given := make(map[string]*recorded, len(settings))
	for _, s := range settings {
		r := &recorded{isBool: s.bool}
		given[s.flag] = r
		fs.Var(r, s.flag, s.usage+" ["+s.env()+"]")
	}
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: scansign serve [--config FILE] [flags]")
		fmt.Fprintln(stderr, "\nEvery setting is also an environment variable (in brackets) and a key of the YAML file;")
		fmt.Fprintln(stderr, "a flag beats the environment, which beats the file, which beats the default.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	path := *configPath
	if path == "" {
		path = getenv("SCANSIGN_CONFIG")
	}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true) // a misspelt key is an error, not a silent default
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	for _, s := range settings {
		v := getenv(s.env())
		if v == "" {
			continue
		}
		var err error
		if s.list != nil {
			err = s.list(splitList(v))
		} else {
			err = s.set(v)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.env(), err)
		}
	}
	for _, s := range settings {
		r := given[s.flag]
		if len(r.values) == 0 {
			continue
		}
		var err error
		if s.list != nil {
			var all []string
			for _, v := range r.values {
				all = append(all, splitList(v)...)
			}
			err = s.list(all)
		} else {
			err = s.set(r.values[len(r.values)-1])
		}
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", s.flag, err)
		}
	}
	if err := cfg.finish(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// finish applies --dev and checks what cannot work.
func (c *Config) finish() error {
	if c.PathPrefix != "" {
		c.PathPrefix = "/" + strings.Trim(c.PathPrefix, "/")
		if c.PathPrefix == "/" {
			c.PathPrefix = ""
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if c.Dev {
		if !isLoopback(c.Listen) {
			return fmt.Errorf("--dev listens on loopback only (its accounts are public); %q is not a loopback address", c.Listen)
		}
		c.Relay.Accounts = append(c.Relay.Accounts,
			AccountConfig{Name: devSystemAccount, Role: string(relay.RoleSystem), SecretHash: relay.HashSecret(devSystemSecret)},
			AccountConfig{Name: devAppAccount, Role: string(relay.RoleApp), SecretHash: relay.HashSecret(devAppSecret)})
		// The seal company service runs here too, with the account the dev
		// seal company entry (newSealParts) logs in with.
		c.Seal.Enabled = true
		acc, err := devSealServiceAccount()
		if err != nil {
			return err
		}
		c.Seal.Accounts = append(c.Seal.Accounts, acc)
	}
	if c.Seal.Enabled && len(c.Seal.Accounts) == 0 {
		return errors.New("seal.enabled needs a seal service account. Create one with\n\n" +
			"    scansign seal account NAME\n\n" +
			"and put the entry it prints under seal.accounts in the config file (or pass --seal-account)")
	}
	if c.PDF.Timeout <= 0 {
		return errors.New("--pdf-timeout must be positive")
	}
	if len(c.Relay.Accounts) == 0 {
		return errors.New("no relay accounts configured. Create one with\n\n" +
			"    scansign account add NAME --role system   (and one with --role app)\n\n" +
			"and put the line it prints under relay.accounts in the config file (or pass --account),\n" +
			"or try it out with: scansign serve --dev")
	}
	for _, cidr := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			return fmt.Errorf("trusted proxy %q is not a CIDR prefix like 10.0.0.0/8", cidr)
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log format %q: want text or json", c.LogFormat)
	}
	if c.PublicURL == "" {
		if host, _, err := net.SplitHostPort(c.Listen); err != nil || host == "" || host == "0.0.0.0" || host == "::" {
			return fmt.Errorf("set --public-url: the QR codes must carry the address apps reach this server at, and %q does not say it", c.Listen)
		}
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		c.PublicURL = scheme + "://" + c.Listen + c.PathPrefix
		c.publicURLDerived = true
	}
	return nil
}

// bound records the address the listener actually got (a port of 0 in
// --listen takes a free one): Listen, and PublicURL when it was derived
// from Listen, follow it, so QR codes and the dev seal company name a
// reachable address.
func (c *Config) bound(addr net.Addr) {
	c.Listen = addr.String()
	if c.publicURLDerived {
		c.PublicURL = c.selfURL()
	}
}

// selfURL is this server's base URL as seen from this machine.
func (c *Config) selfURL() string {
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + c.Listen + c.PathPrefix
}

// isLoopback reports whether a listen address can only be reached from
// this machine.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
