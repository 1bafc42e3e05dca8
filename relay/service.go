package relay

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/scansign/scansign/internal/throttle"
	"github.com/scansign/scansign/relay/store"
)

// Defaults for Config's zero values.
const (
	DefaultOperationTTL = 5 * time.Minute
	DefaultTokenTTL     = 30 * time.Minute
	DefaultExpiredGrace = time.Hour
	DefaultMaxFailures  = 10
	// DefaultMaxFailuresPerAddr is twice DefaultMaxFailures: one caller
	// mistyping two accounts' secrets stays under it, a caller trying
	// account after account does not.
	DefaultMaxFailuresPerAddr = 2 * DefaultMaxFailures
	DefaultFailureWindow      = 5 * time.Minute
	DefaultPurgeInterval      = time.Minute
	defaultThrottleMaxKeys    = 100_000
)

// Config is what a Service needs. Store and Accounts are required; every
// other zero value means the default.
type Config struct {
	Store    store.Store
	Accounts []Account
	// PublicURL is the 手机扫码服务地址 the QR payload's url carries: the
	// base URL apps call the guide's endpoints under (with the path prefix).
	PublicURL string
	// Cities is the platform table a QR code's city is checked against;
	// nil means DefaultCities.
	Cities []City

	OperationTTL time.Duration // initMessage to expiry (default 5 min)
	TokenTTL     time.Duration // grantToken to expiry (default 30 min)
	// ExpiredGrace is how long an expired operation is kept, so late calls
	// hear "二维码已过期" rather than "unknown guid" (default 1 h).
	ExpiredGrace time.Duration

	Limits Limits

	// MaxFailures failed grantToken attempts per (account, client address)
	// within FailureWindow are allowed before answering 429.
	MaxFailures int
	// MaxFailuresPerAddr failed attempts from one client address, whatever
	// account names they try, are allowed within FailureWindow before that
	// address gets 429 for every account (default
	// DefaultMaxFailuresPerAddr): without it, guessing one secret for each
	// of many names is never slowed down.
	MaxFailuresPerAddr int
	FailureWindow      time.Duration

	// Now is the clock (default time.Now); tests move it to expire things.
	Now func() time.Time
	// Logger gets operational logs, never a secret, token, message or value.
	Logger *slog.Logger
	// ClientAddr names the caller for throttling (default: the address the
	// router's client-IP middleware found, else the connection's peer).
	ClientAddr func(*http.Request) string
}

// Service is the relay. It is safe for concurrent use.
type Service struct {
	cfg      Config
	store    store.Store
	accounts accounts
	machine  machine
	cities   map[string]City
	// throttle counts failed secrets per (account, client address);
	// addrThrottle per client address alone (see checkSecret).
	throttle     *throttle.Throttle
	addrThrottle *throttle.Throttle
	now          func() time.Time
	log          *slog.Logger
}

// New checks cfg and builds the Service. It does not own cfg.Store: the
// caller closes it.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("relay: Config.Store is required")
	}
	if len(cfg.Accounts) == 0 {
		return nil, errors.New("relay: no accounts configured (add one with: scansign account add NAME --role system|app)")
	}
	acc, err := newAccounts(cfg.Accounts)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("relay: public URL %q must be an absolute http(s) URL", cfg.PublicURL)
		}
	}
	if cfg.Cities == nil {
		cfg.Cities = DefaultCities()
	}
	cities := make(map[string]City, len(cfg.Cities))
	for _, c := range cfg.Cities {
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		cities[c.Code] = c
	}
	for _, d := range []struct {
		p   *time.Duration
		def time.Duration
	}{{&cfg.OperationTTL, DefaultOperationTTL}, {&cfg.TokenTTL, DefaultTokenTTL}, {&cfg.ExpiredGrace, DefaultExpiredGrace}, {&cfg.FailureWindow, DefaultFailureWindow}} {
		if *d.p < 0 {
			return nil, errors.New("relay: durations must not be negative")
		}
		if *d.p == 0 {
			*d.p = d.def
		}
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = DefaultMaxFailures
	}
	if cfg.MaxFailuresPerAddr <= 0 {
		cfg.MaxFailuresPerAddr = DefaultMaxFailuresPerAddr
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ClientAddr == nil {
		cfg.ClientAddr = throttle.ClientAddr
	}
	return &Service{
		cfg: cfg, store: cfg.Store, accounts: acc, machine: newMachine(), cities: cities,
		throttle:     throttle.New(cfg.MaxFailures, cfg.FailureWindow, defaultThrottleMaxKeys),
		addrThrottle: throttle.New(cfg.MaxFailuresPerAddr, cfg.FailureWindow, defaultThrottleMaxKeys),
		now:          cfg.Now, log: cfg.Logger,
	}, nil
}

// Config returns the configuration in force, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Principal is who a token speaks for: the account, its role, and the
// operation the token is bound to ("" before initMessage binds it).
type Principal struct {
	Account   string
	Role      Role
	GUID      string
	ExpiresAt time.Time
	hash      store.TokenHash
	// basic: the caller showed the account's credentials (HTTP Basic on
	// /api/v1), not a token; such a Principal reaches no operation.
	basic bool
}

// BoundTo checks the token may act on guid (401 otherwise).
func (p Principal) BoundTo(guid string) error {
	switch {
	case p.basic:
		return fail(CodeUnauthorized, msgBasicNoOperation)
	case p.GUID == "":
		return fail(CodeUnauthorized, msgTokenUnbound)
	case p.GUID != guid:
		return fail(CodeUnauthorized, msgTokenOtherOp)
	}
	return nil
}

func hashToken(canonical string) store.TokenHash { return sha256.Sum256([]byte(canonical)) }

// canonicalUUID parses a token or guid as UUID text and returns it in
// canonical lower-case form; ok is false for anything else.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 { // only the plain 8-4-4-4-12 form, as we hand them out
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// GrantRequest is /grantToken's input.
type GrantRequest struct {
	AccountName string
	Password    string
	GUID        string // optional: bind the token to this operation
	ClientAddr  string // for throttling
}

// GrantToken checks the account's secret and issues a token: unbound (for
// initMessage only) without GUID; bound to GUID with one. A system account
// may bind only to operations it created; an app account to any live one
// that has not ended (409 once it is final: 2 for types 1–4 and 6, the
// last 2 of a seal, or 3).
func (s *Service) GrantToken(ctx context.Context, req GrantRequest) (string, error) {
	if req.AccountName == "" || req.Password == "" {
		return "", fail(CodeBadRequest, "缺少参数 accountName 或 password")
	}
	acc, err := s.checkSecret(ctx, "grantToken", req.AccountName, req.Password, req.ClientAddr)
	if err != nil {
		return "", err
	}
	now := s.now()

	guid := ""
	if req.GUID != "" {
		g, ok := canonicalUUID(req.GUID)
		if !ok {
			return "", fail(CodeBadRequest, "guid 格式不正确")
		}
		op, err := s.load(ctx, g)
		if err != nil {
			return "", err
		}
		if acc.role == RoleSystem && op.Creator != acc.name {
			return "", fail(CodeForbidden, "该操作不是此账号创建的，不能为它获取授权码")
		}
		// The guid is public (it is in the QR code): a token granted after
		// the end would let any app account read the result (a decrypt's
		// plaintext). Before the end an app that restarts may carry on.
		if stage := Stage(op.Stage); acc.role == RoleApp && stage.Final() {
			return "", fail(CodeConflict, "该操作已结束（状态 %s），APP 不能再为它获取授权码", stage.Status())
		}
		guid = g
	} else if acc.role == RoleApp {
		return "", fail(CodeForbidden, "APP 账号须为扫码得到的操作（guid）获取授权码")
	}

	u, err := uuid.NewRandom()
	if err != nil {
		return "", internal(fmt.Errorf("draw token: %w", err))
	}
	tok := u.String()
	t := store.Token{Hash: hashToken(tok), Account: acc.name, Role: string(acc.role), GUID: guid,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.TokenTTL)}
	if err := s.store.PutToken(ctx, t); err != nil {
		return "", internal(fmt.Errorf("store token: %w", err))
	}
	return tok, nil
}

// checkSecret is the one place an account's secret is checked (grantToken
// and HTTP Basic on /api/v1): refused with 429 while the (account, client
// address) or the client address alone has used up its failures, 401 for
// an unknown name or a wrong secret (which counts against both). A success
// clears the (account, address) count only: an attacker holding one good
// account cannot wipe the address's count with it.
func (s *Service) checkSecret(ctx context.Context, via, name, secret, addr string) (account, error) {
	now := s.now()
	key := name + "\x00" + addr
	if s.addrThrottle.Blocked(now, addr) || s.throttle.Blocked(now, key) {
		return account{}, fail(CodeThrottled, msgThrottled)
	}
	acc, ok := s.accounts.check(name, secret)
	if !ok {
		s.throttle.Fail(now, key)
		s.addrThrottle.Fail(now, addr)
		s.log.WarnContext(ctx, via+" refused: bad account or secret", "account", logName(name), "client", addr)
		return account{}, fail(CodeUnauthorized, msgBadSecret)
	}
	s.throttle.Forget(key)
	return acc, nil
}

// logName keeps an attacker-chosen account name from flooding a log line.
func logName(s string) string {
	if len(s) > MaxAccountNameLen || !utf8.ValidString(s) {
		return "(invalid)"
	}
	return s
}

// Authenticate resolves a token to its Principal (401 if missing, unknown
// or expired).
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, fail(CodeUnauthorized, msgTokenMissing)
	}
	canon, ok := canonicalUUID(strings.TrimSpace(token))
	if !ok {
		return Principal{}, fail(CodeUnauthorized, msgTokenInvalid)
	}
	t, err := s.store.Token(ctx, hashToken(canon))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fail(CodeUnauthorized, msgTokenInvalid)
	}
	if err != nil {
		return Principal{}, internal(fmt.Errorf("read token: %w", err))
	}
	return s.principal(t)
}

// principal checks a stored token is still valid and makes its Principal.
func (s *Service) principal(t store.Token) (Principal, error) {
	if !s.now().Before(t.ExpiresAt) {
		return Principal{}, fail(CodeUnauthorized, msgTokenExpired)
	}
	role := Role(t.Role)
	if !role.Valid() {
		return Principal{}, internal(fmt.Errorf("token with unknown role %q", t.Role))
	}
	return Principal{Account: t.Account, Role: role, GUID: t.GUID, ExpiresAt: t.ExpiresAt, hash: t.Hash}, nil
}

// AuthenticateOperation is Authenticate followed by Operation, in one
// store read: the token must be valid (401) and bound to guid (401), the
// operation must exist (404) and not have expired (410). Handlers of
// per-operation endpoints start with it.
func (s *Service) AuthenticateOperation(ctx context.Context, token, guid string) (Principal, store.Operation, error) {
	if token == "" {
		return Principal{}, store.Operation{}, fail(CodeUnauthorized, msgTokenMissing)
	}
	canon, ok := canonicalUUID(strings.TrimSpace(token))
	if !ok {
		return Principal{}, store.Operation{}, fail(CodeUnauthorized, msgTokenInvalid)
	}
	t, op, err := s.store.TokenWithOperation(ctx, hashToken(canon), guid)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, store.Operation{}, fail(CodeUnauthorized, msgTokenInvalid)
	}
	if err != nil {
		return Principal{}, store.Operation{}, internal(fmt.Errorf("read token and operation: %w", err))
	}
	p, err := s.principal(t)
	if err != nil {
		return p, store.Operation{}, err
	}
	if err := p.BoundTo(guid); err != nil {
		return p, store.Operation{}, err
	}
	if op == nil {
		return p, store.Operation{}, fail(CodeNotFound, msgUnknownGUID)
	}
	if !s.now().Before(op.ExpiresAt) {
		return p, *op, fail(CodeExpired, msgExpired)
	}
	return p, *op, nil
}

// load reads an operation and refuses an expired one (404, 410).
func (s *Service) load(ctx context.Context, guid string) (store.Operation, error) {
	op, err := s.store.Operation(ctx, guid)
	if errors.Is(err, store.ErrNotFound) {
		return op, fail(CodeNotFound, msgUnknownGUID)
	}
	if err != nil {
		return op, internal(fmt.Errorf("read operation: %w", err))
	}
	if !s.now().Before(op.ExpiresAt) {
		return op, fail(CodeExpired, msgExpired)
	}
	return op, nil
}

// Operation loads the operation guid for p: the token must be bound to it
// (401) and it must not have expired (410). Either role may read its own
// bound operation.
func (s *Service) Operation(ctx context.Context, p Principal, guid string) (store.Operation, error) {
	if err := p.BoundTo(guid); err != nil {
		return store.Operation{}, err
	}
	return s.load(ctx, guid)
}

// InitRequest is /initMessage's input.
type InitRequest struct {
	Type       OpType
	Message    string
	Title      string
	CertType   int     // 0 any, 1 organisation, 2 person
	ExtMessage *string // optional
}

// InitMessage creates an operation and binds p's token to it. Only an
// unbound system token may do this, once.
func (s *Service) InitMessage(ctx context.Context, p Principal, req InitRequest) (store.Operation, error) {
	if p.Role != RoleSystem {
		return store.Operation{}, fail(CodeForbidden, "只有交易系统（system）账号可以初始化操作")
	}
	if p.GUID != "" {
		return store.Operation{}, fail(CodeUnauthorized, "授权码已绑定操作，不能再次初始化，请重新获取授权码")
	}
	if !req.Type.Valid() {
		return store.Operation{}, fail(CodeBadRequest, "type 取值无效，应为 1 签名、2 加密、3 解密、4 登录、5 签章、6 撤章")
	}
	if req.CertType < 0 || req.CertType > 2 {
		return store.Operation{}, fail(CodeBadRequest, "certType 取值无效，应为 0 或空（任何证书）、1 机构证书、2 个人证书")
	}
	if req.Message == "" {
		return store.Operation{}, fail(CodeBadRequest, "缺少参数 message")
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"message", &req.Message}, {"title", &req.Title}, {"extMessage", req.ExtMessage}} {
		if err := s.cfg.Limits.check(f.name, f.v); err != nil {
			return store.Operation{}, err
		}
	}
	u, err := uuid.NewRandom()
	if err != nil {
		return store.Operation{}, internal(fmt.Errorf("draw guid: %w", err))
	}
	now := s.now()
	op := store.Operation{
		GUID: u.String(), Type: int(req.Type), Message: req.Message, Title: req.Title, CertType: req.CertType,
		InitExtMessage: req.ExtMessage, Status: int(StatusPending), Stage: string(StagePending),
		Creator: p.Account, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.cfg.OperationTTL), Version: 1,
	}
	switch err := s.store.CreateOperation(ctx, op, p.hash); {
	case errors.Is(err, store.ErrTokenBound):
		return store.Operation{}, fail(CodeUnauthorized, "授权码已绑定操作，不能再次初始化，请重新获取授权码")
	case errors.Is(err, store.ErrNotFound):
		return store.Operation{}, fail(CodeUnauthorized, msgTokenInvalid)
	case err != nil:
		return store.Operation{}, internal(fmt.Errorf("create operation: %w", err))
	}
	s.log.InfoContext(ctx, "operation created", "guid", op.GUID, "type", op.Type, "account", p.Account)
	return op, nil
}

// GetInitMessage is the app fetching an operation it scanned: the first
// fetch moves it from 0 to 1; later fetches read it. A finished operation
// is refused (409) so a re-scanned old QR code says so.
func (s *Service) GetInitMessage(ctx context.Context, p Principal, guid string) (store.Operation, error) {
	if p.Role != RoleApp {
		return store.Operation{}, fail(CodeForbidden, "只有 APP（app）账号可以获取初始化信息")
	}
	op, err := s.Operation(ctx, p, guid)
	if err != nil {
		return op, err
	}
	return s.getInitMessage(ctx, p, op)
}

// getInitMessage is GetInitMessage on an operation already loaded for p.
func (s *Service) getInitMessage(ctx context.Context, p Principal, op store.Operation) (store.Operation, error) {
	if p.Role != RoleApp {
		return store.Operation{}, fail(CodeForbidden, "只有 APP（app）账号可以获取初始化信息")
	}
	stage := Stage(op.Stage)
	switch {
	case stage.Final():
		return op, fail(CodeConflict, "该操作已结束（状态 %s）", stage.Status())
	case stage == StagePending:
		moved, err := s.transition(ctx, p, op, Change{Via: ViaGetInitMessage, To: StatusScanned})
		if errors.Is(err, ErrConflict) {
			// A concurrent fetch (an app retrying) moved it first: answer
			// as a later fetch would, unless it has meanwhile finished.
			if cur, lerr := s.load(ctx, op.GUID); lerr == nil && !Stage(cur.Stage).Final() {
				return cur, nil
			}
		}
		return moved, err
	}
	return op, nil
}

// SaveRequest is /saveCaMessageResult's input.
type SaveRequest struct {
	Status     Status
	Value      *string
	ExtMessage *string
}

// SaveResult stores a result and moves the status (the table decides who
// may set which status when).
func (s *Service) SaveResult(ctx context.Context, p Principal, guid string, req SaveRequest) (store.Operation, error) {
	return s.Transition(ctx, p, guid, Change{Via: ViaSaveResult, To: req.Status, Value: req.Value, ExtMessage: req.ExtMessage})
}

// Change is a requested status change: to wire status To, through Via,
// carrying Value and ExtMessage for the effects that store them.
type Change struct {
	Via        Via
	To         Status
	Value      *string
	ExtMessage *string
}

// maxCASAttempts bounds retries when concurrent changes keep racing.
const maxCASAttempts = 8

// Transition moves operation guid as ch asks, if the token is bound to it,
// it has not expired, and the status table allows (type, stage, ch.To,
// p.Role, ch.Via). Every status change in scansign goes through here. On
// refusal nothing changes. It returns the operation as stored.
func (s *Service) Transition(ctx context.Context, p Principal, guid string, ch Change) (store.Operation, error) {
	op, err := s.Operation(ctx, p, guid)
	if err != nil {
		return op, err
	}
	return s.transition(ctx, p, op, ch)
}

// transition is Transition starting from an operation already loaded.
func (s *Service) transition(ctx context.Context, p Principal, op store.Operation, ch Change) (store.Operation, error) {
	if !ch.To.Valid() {
		return op, fail(CodeBadRequest, "status 取值无效，应为 0 到 5")
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"value", ch.Value}, {"extMessage", ch.ExtMessage}} {
		if err := s.cfg.Limits.check(f.name, f.v); err != nil {
			return op, err
		}
	}
	for attempt := 1; ; attempt++ {
		from := Stage(op.Stage)
		rule, err := s.machine.find(OpType(op.Type), from, ch.To, p.Role, ch.Via)
		if err != nil {
			return op, err
		}
		next, err := apply(rule, op, ch)
		if err != nil {
			return op, err
		}
		next.UpdatedAt = s.now()
		stored, err := s.store.UpdateOperation(ctx, next)
		if err == nil {
			s.log.InfoContext(ctx, "operation status changed", "guid", op.GUID, "type", op.Type,
				"from", int(from.Status()), "to", int(ch.To), "stage", stored.Stage, "account", p.Account, "via", ch.Via.String())
			return stored, nil
		}
		if !errors.Is(err, store.ErrConflict) || attempt == maxCASAttempts {
			if errors.Is(err, store.ErrNotFound) {
				return op, fail(CodeNotFound, msgUnknownGUID)
			}
			return op, internal(fmt.Errorf("update operation: %w", err))
		}
		// Someone changed it first: decide again on what is there now.
		if op, err = s.load(ctx, op.GUID); err != nil {
			return op, err
		}
	}
}

// apply returns op changed as rule and ch say, or a 400 refusal.
func apply(rule Rule, op store.Operation, ch Change) (store.Operation, error) {
	if rule.NeedValue && (ch.Value == nil || *ch.Value == "") {
		return op, fail(CodeBadRequest, "缺少参数 value（状态 %s 需要）", rule.To.Status())
	}
	switch rule.Effect {
	case EffectSaveResult:
		op.Value, op.ExtMessage = ch.Value, ch.ExtMessage
	case EffectSealCompany:
		code, serial, err := parseSealCompany(ch.Value, ch.ExtMessage)
		if err != nil {
			return op, err
		}
		op.Value, op.ExtMessage = ch.Value, ch.ExtMessage
		op.SealCompanyCode, op.SealCASerialID = code, serial
	case EffectSealHash:
		op.Value, op.ExtMessage = ch.Value, ch.ExtMessage
		op.SealHash, op.SealHashExt = *ch.Value, ""
		if ch.ExtMessage != nil {
			op.SealHashExt = *ch.ExtMessage
		}
	case EffectSealSigned:
		if err := checkSealSigner(*ch.Value, op.SealCASerialID); err != nil {
			return op, err
		}
		op.Value, op.ExtMessage = ch.Value, ch.ExtMessage
	}
	op.Status, op.Stage = int(rule.To.Status()), string(rule.To)
	return op, nil
}

// Wait returns the operation once its version is past afterVersion (at
// once if it already is), or when ctx ends. The token must be bound to it.
func (s *Service) Wait(ctx context.Context, p Principal, guid string, afterVersion int64) (store.Operation, error) {
	if err := p.BoundTo(guid); err != nil {
		return store.Operation{}, err
	}
	op, err := s.store.Wait(ctx, guid, afterVersion)
	if errors.Is(err, store.ErrNotFound) {
		return op, fail(CodeNotFound, msgUnknownGUID)
	}
	if err != nil {
		return op, err
	}
	if !s.now().Before(op.ExpiresAt) {
		return op, fail(CodeExpired, msgExpired)
	}
	return op, nil
}

// Ready checks the store answers (for /readyz).
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }

// Purge deletes expired tokens and operations expired longer than the grace
// period.
func (s *Service) Purge(ctx context.Context) (store.PurgeResult, error) {
	now := s.now()
	return s.store.Purge(ctx, now, now.Add(-s.cfg.ExpiredGrace))
}

// RunPurge purges every interval (DefaultPurgeInterval if 0) until ctx
// ends. Several instances may run it on one database; deletes are harmless
// to repeat.
func (s *Service) RunPurge(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultPurgeInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := s.Purge(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.ErrorContext(ctx, "purge failed", "err", err)
		case res.Tokens+res.Operations > 0:
			s.log.InfoContext(ctx, "purged expired records", "tokens", res.Tokens, "operations", res.Operations)
		}
	}
}
