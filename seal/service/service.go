package service

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/scansign/scansign/certs"
	"github.com/scansign/scansign/internal/httpjson"
	"github.com/scansign/scansign/internal/throttle"
	"github.com/scansign/scansign/seal"
)

// Path is where the guide puts the service: mount the Service there.
const Path = "/api/getSeal"

// Defaults of Config.
const (
	DefaultMaxBodyBytes  = 64 << 10
	DefaultMaxFailures   = 5
	DefaultFailureWindow = time.Minute
	DefaultLookupTimeout = 10 * time.Second
	maxThrottledKeys     = 100_000 // (account, address) pairs and addresses with failures, at once
)

// Account is one caller of the seal service (the relay, usually), as it
// appears in the configuration.
type Account struct {
	Name         string `yaml:"name" json:"name"`
	PasswordHash string `yaml:"password_hash" json:"password_hash"` // HashPassword's output
}

// Config configures a Service. Zero values take the defaults above.
type Config struct {
	Accounts     []Account
	MaxBodyBytes int64 // request body limit
	// MaxFailures failed logins of one account from one client address
	// within FailureWindow are allowed; the next attempts of that account
	// from that address answer 429 until the window ends.
	MaxFailures int
	// MaxFailuresPerAddr failed logins from one client address, whatever
	// the accounts, are allowed within FailureWindow before every attempt
	// from it answers 429 (default twice MaxFailures: a relay mistyping
	// two accounts stays under it, a guesser trying account after account
	// does not).
	MaxFailuresPerAddr int
	FailureWindow      time.Duration // how long failures count
	LookupTimeout      time.Duration // bound on one store lookup
	Logger             *slog.Logger  // nil: slog.Default()
	Now                func() time.Time
}

// Service answers /api/getSeal. It implements http.Handler for GET and
// POST on whatever path it is mounted at (Path, per the guide).
type Service struct {
	store    seal.Store
	accounts *accounts
	// pairs counts failures per (account, client address), addrs per
	// client address. Never per account alone: an account is shared by
	// the relays that call the company, so anyone who knew its name could
	// lock them all out by failing on purpose; counting by address still
	// stops a guesser, who has to come from somewhere.
	pairs   *throttle.Throttle
	addrs   *throttle.Throttle
	maxBody int64
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time
}

// New builds the service over st. It refuses a configuration without
// accounts or with a malformed password hash.
func New(cfg Config, st seal.Store) (*Service, error) {
	if st == nil {
		return nil, errors.New("seal service: no store")
	}
	if len(cfg.Accounts) == 0 {
		return nil, errors.New("seal service: no accounts configured (make one with: scansign seal account NAME)")
	}
	acc, err := newAccounts(cfg.Accounts)
	if err != nil {
		return nil, err
	}
	s := &Service{store: st, accounts: acc, maxBody: cfg.MaxBodyBytes, timeout: cfg.LookupTimeout, log: cfg.Logger, now: cfg.Now}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.timeout <= 0 {
		s.timeout = DefaultLookupTimeout
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	maxFail, perAddr, window := cfg.MaxFailures, cfg.MaxFailuresPerAddr, cfg.FailureWindow
	if maxFail <= 0 {
		maxFail = DefaultMaxFailures
	}
	if perAddr <= 0 {
		perAddr = 2 * maxFail
	}
	if window <= 0 {
		window = DefaultFailureWindow
	}
	s.pairs = throttle.New(maxFail, window, maxThrottledKeys)
	s.addrs = throttle.New(perAddr, window, maxThrottledKeys)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		s.write(w, http.StatusMethodNotAllowed, fail(seal.CodeBadRequest, "仅支持 POST 或 GET 请求"))
		return
	}
	s.write(w, http.StatusOK, s.answer(r))
}

func fail(code, msg string) seal.GetSealAnswer { return seal.GetSealAnswer{Code: code, Message: msg} }

// answer does the work of one request; every outcome is an answer.
func (s *Service) answer(r *http.Request) seal.GetSealAnswer {
	req, err := decodeRequest(r, s.maxBody)
	var br *badRequest
	switch {
	case errors.Is(err, errTooLarge):
		return fail(seal.CodeTooLarge, seal.MsgTooLarge)
	case errors.As(err, &br):
		return fail(seal.CodeBadRequest, seal.MsgBadRequest+"："+br.msg)
	case err != nil:
		return fail(seal.CodeBadRequest, seal.MsgBadRequest)
	}
	for _, f := range []struct{ name, v string }{{fieldAccount, req.AccountName}, {fieldPassword, req.Password}, {fieldSerial, req.CASerialID}} {
		if f.v == "" {
			return fail(seal.CodeBadRequest, seal.MsgBadRequest+"：缺少 "+f.name)
		}
	}

	addr := throttle.ClientAddr(r)
	pairKey := req.AccountName + "\x00" + addr
	if now := s.now(); s.addrs.Blocked(now, addr) || s.pairs.Blocked(now, pairKey) {
		s.log.Warn("seal service: throttled", "account", quoteForLog(req.AccountName), "remote", addr)
		return fail(seal.CodeThrottled, seal.MsgThrottled)
	}
	if !s.accounts.check(req.AccountName, req.Password) {
		now := s.now()
		s.pairs.Fail(now, pairKey)
		s.addrs.Fail(now, addr)
		s.log.Warn("seal service: authentication failed", "account", quoteForLog(req.AccountName), "remote", addr)
		return fail(seal.CodeUnauthorized, seal.MsgUnauthorized)
	}
	// A success clears this pair's count, not the address's: a caller
	// with one good account must not reset its guesses at others.
	s.pairs.Forget(pairKey)

	serial, err := certs.NormalizeSerial(req.CASerialID)
	if err != nil {
		return fail(seal.CodeBadRequest, seal.MsgBadRequest+"：证书序列号 caSerialId 不是十六进制")
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	entry, err := s.store.Lookup(ctx, serial)
	if err != nil {
		s.log.Error("seal service: store lookup failed", "serial", serial, "err", err)
		return fail(seal.CodeInternal, seal.MsgInternal)
	}
	return s.build(serial, entry)
}

// build turns a store entry into the answer: only seals valid now, dates
// and sizes as the guide's strings, images as base64 of the stored bytes.
func (s *Service) build(serial string, e seal.Entry) seal.GetSealAnswer {
	now := s.now()
	var infos []seal.SignInfo
	for _, sl := range e.Seals {
		if !sl.ValidAt(now) {
			continue
		}
		infos = append(infos, seal.SignInfo{
			SignName:    sl.Name,
			SignWidth:   seal.FormatCM(sl.WidthCM),
			SignHeight:  seal.FormatCM(sl.HeightCM),
			SignExt:     sl.Ext,
			SignData:    base64.StdEncoding.EncodeToString(sl.Image),
			Description: sl.Description,
			APPLYDate:   seal.FormatDate(sl.ValidFrom),
			OverDate:    seal.FormatDate(sl.ValidTo),
			SignType:    sl.Type,
		})
	}
	if len(infos) == 0 {
		s.log.Info("seal service: no valid seals", "serial", serial, "registered", len(e.Seals))
		return fail(seal.CodeNoSeals, seal.MsgNoSeals)
	}
	user := &seal.UserInfo{}
	if u := e.User; u != nil {
		user = &seal.UserInfo{UserID: u.ID, APPLYDate: seal.FormatDate(u.ValidFrom), OverDate: seal.FormatDate(u.ValidTo), UserName: u.Name, Phone: u.Phone}
	}
	return seal.GetSealAnswer{Code: seal.CodeOK, Message: seal.MsgOK, UserInfo: user, SignInfos: infos}
}

func (s *Service) write(w http.ResponseWriter, status int, a seal.GetSealAnswer) {
	if err := httpjson.Write(w, status, a); err != nil {
		s.log.Error("seal service: encode answer", "err", err)
	}
}
