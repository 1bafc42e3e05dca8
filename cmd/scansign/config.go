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
// Server-wide settings (those `seal serve` shares, and the relay's public
// URL and trusted proxies) sit at the top; each part of scansign has its
// own section, with its settings in (*Config).settings, and so a key in
// the file, an environment variable and a flag.
type Config struct {
	ServerConfig   `yaml:",inline"`
	PublicURL      string   `yaml:"public_url"`
	TrustedProxies []string `yaml:"trusted_proxies"`

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
	// MaxFailuresPerAddr bounds failures from one client address over all
	// account names (relay.Config.MaxFailuresPerAddr).
	MaxFailuresPerAddr int `yaml:"max_failures_per_addr"`
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
		ServerConfig: defaultServerConfig("127.0.0.1:8080"),
		Relay: RelayConfig{
			OpTTL:        relay.DefaultOperationTTL,
			TokenTTL:     relay.DefaultTokenTTL,
			ExpiredGrace: relay.DefaultExpiredGrace,
			BodyLimit:    relay.DefaultBodyBytes,
			MaxFailures:  relay.DefaultMaxFailures,

			MaxFailuresPerAddr: relay.DefaultMaxFailuresPerAddr,
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

// settings lists every setting bound to c: the server's, the relay's,
// then each section's.
func (c *Config) settings() []setting {
	all := c.ServerConfig.settings(serverWords{
		storeFile: "relay.db", served: "the endpoints", prefixExample: "/scan",
		dev: "the dev-system / dev-app accounts, the seal service with dev-seal, seal company \"dev\" (this server)",
	})
	all = append(all,
		str("public-url", "手机扫码服务地址 put in QR payloads, e.g. https://relay.example.cn (include the path prefix)", &c.PublicURL),
		setting{flag: "trusted-proxies", usage: "CIDRs of reverse proxies whose X-Forwarded-For names the client (repeatable)",
			list: func(v []string) error { c.TrustedProxies = v; return nil }},
		setting{flag: "account", envName: "SCANSIGN_ACCOUNTS", usage: "relay account NAME:ROLE:SECRET_HASH, from 'scansign account add' (repeatable)",
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
		setting{flag: "city", envName: "SCANSIGN_CITIES", usage: "platform table entry CODE=NAME for QR codes (repeatable; default: the guide's table)",
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
		setting{flag: "body-limit", usage: "largest request body of the guide's endpoints (bytes, or with KiB/MiB)",
			set: func(s string) error { return c.Relay.BodyLimit.parse(s) }},
		setting{flag: "max-failures", usage: "failed grantToken attempts per account and client address before 429",
			set: func(s string) error { return setInt(&c.Relay.MaxFailures, s) }},
		setting{flag: "max-failures-per-addr", usage: "failed grantToken and /api/v1 Basic attempts per client address, whatever the account, before 429",
			set: func(s string) error { return setInt(&c.Relay.MaxFailuresPerAddr, s) }},
	)
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

// loadConfig reads serve's configuration: defaults, then the YAML file
// (--config or SCANSIGN_CONFIG), then SCANSIGN_* environment variables,
// then flags; each overrides the one before. getenv is os.Getenv outside
// tests.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	cfg := defaultConfig()
	if err := loadSettings("scansign serve", "SCANSIGN_CONFIG", &cfg, cfg.settings(), args, getenv, stderr); err != nil {
		return nil, err
	}
	if err := cfg.finish(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// loadSettings fills cfg, which holds the defaults, with what the YAML file
// (--config or the variable configEnv), the environment and the flags say,
// each overriding the one before, setting by setting. `serve` and `seal
// serve` both read their configuration this way.
func loadSettings(command, configEnv string, cfg any, settings []setting, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file ["+configEnv+"]")
	given := make(map[string]*recorded, len(settings))
	for _, s := range settings {
		r := &recorded{isBool: s.bool}
		given[s.flag] = r
		fs.Var(r, s.flag, s.usage+" ["+s.env()+"]")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s [--config FILE] [flags]\n", command)
		fmt.Fprintln(stderr, "\nEvery setting is also an environment variable (in brackets) and a key of the YAML file;")
		fmt.Fprintln(stderr, "a flag beats the environment, which beats the file, which beats the default.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	path := *configPath
	if path == "" {
		path = getenv(configEnv)
	}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true) // a misspelt key is an error, not a silent default
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("config %s: %w", path, err)
		}
	}
	for _, s := range settings {
		if v := getenv(s.env()); v != "" {
			if err := s.apply([]string{v}); err != nil {
				return fmt.Errorf("%s: %w", s.env(), err)
			}
		}
	}
	for _, s := range settings {
		if r := given[s.flag]; len(r.values) > 0 {
			if err := s.apply(r.values); err != nil {
				return fmt.Errorf("--%s: %w", s.flag, err)
			}
		}
	}
	return nil
}

// apply sets what one source gave: a list setting takes every value
// (each comma-separated), a scalar the last.
func (s setting) apply(values []string) error {
	if s.list == nil {
		return s.set(values[len(values)-1])
	}
	var all []string
	for _, v := range values {
		all = append(all, splitList(v)...)
	}
	return s.list(all)
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
	if err := c.ServerConfig.check(); err != nil {
		return err
	}
	if c.Dev {
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
	if c.PublicURL == "" {
		if host, _, err := net.SplitHostPort(c.Listen); err != nil || host == "" || host == "0.0.0.0" || host == "::" {
			return fmt.Errorf("set --public-url: the QR codes must carry the address apps reach this server at, and %q does not say it", c.Listen)
		}
		c.PublicURL = c.selfURL()
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
