package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns (wrapped or not); match with errors.Is.
var (
	// ErrNotFound: no such token or operation (never existed, or purged).
	ErrNotFound = errors.New("store: not found")
	// ErrTokenBound: CreateOperation was given a token already bound to an
	// operation; a token initialises at most one operation.
	ErrTokenBound = errors.New("store: token already bound to an operation")
	// ErrConflict: UpdateOperation lost a race; the operation's version is no
	// longer the one read. Read it again and decide again.
	ErrConflict = errors.New("store: operation changed concurrently")
	// ErrExists: the key is taken (a GUID or token hash collision).
	ErrExists = errors.New("store: already exists")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
)

// HashSize is the size of a token hash (SHA-256).
const HashSize = 32

// TokenHash is what the store keys a token by: the SHA-256 of the token
// text, so a copy of the database holds no usable token.
type TokenHash [HashSize]byte

// Token is one grant of access. GUID is empty until the token is bound to an
// operation (by CreateOperation) or when it was granted for one.
type Token struct {
	Hash      TokenHash
	Account   string
	Role      string
	GUID      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Operation is one QR-code operation (login, sign, encrypt, decrypt, seal,
// take back a seal) as the relay keeps it.
type Operation struct {
	GUID     string
	Type     int
	Message  string
	Title    string
	CertType int
	// InitExtMessage is the extMessage given to initMessage (shown to the app
	// by getInitMessage); nil when none was given.
	InitExtMessage *string

	Status int
	// Stage names where the operation is in the status machine. It is what
	// tells the seal flow's first status 2 (the app chose a seal company)
	// from its last (the app signed the hash).
	Stage string
	// Value and ExtMessage are the latest saved result (getCaMessageResult);
	// nil until something is saved.
	Value      *string
	ExtMessage *string

	// SealCompanyCode and SealCASerialID are what the app saved in the seal
	// flow's first status 2; later saves overwrite Value but not these.
	SealCompanyCode string
	SealCASerialID  string
	// SealHash and SealHashExt are the value and extMessage the seal
	// control stored at status 4 (the file hash to sign and, from the PDF
	// API, {"shape","digestAlgorithm","toSign"}); the app's final answer
	// overwrites Value and ExtMessage but not these, so what it signed can
	// still be checked against what it was asked to sign. Empty until then.
	SealHash    string
	SealHashExt string

	// Creator is the system account whose token initialised the operation.
	Creator   string
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
	// Version is 1 when created and grows by one with every change.
	Version int64
}

// PurgeResult counts what Purge removed.
type PurgeResult struct {
	Tokens     int
	Operations int
}

// Store keeps tokens and operations. All methods are safe for concurrent use
// and honour ctx. Times are stored with at least microsecond precision.
type Store interface {
	// PutToken stores a new token (ErrExists if its hash is taken).
	PutToken(ctx context.Context, t Token) error
	// Token reads a token by hash (ErrNotFound).
	Token(ctx context.Context, h TokenHash) (Token, error)
	// TokenWithOperation reads a token and the operation guid in one go
	// (every per-operation call needs both): ErrNotFound if the token does
	// not exist; a nil operation if the operation does not.
	TokenWithOperation(ctx context.Context, h TokenHash, guid string) (Token, *Operation, error)

	// CreateOperation stores op (whose Version must be 1) and binds the
	// token bindTo to op.GUID, atomically: either both happen or neither.
	// ErrNotFound if the token does not exist, ErrTokenBound if it is bound
	// already, ErrExists if op.GUID is taken.
	CreateOperation(ctx context.Context, op Operation, bindTo TokenHash) error
	// Operation reads an operation by GUID (ErrNotFound).
	Operation(ctx context.Context, guid string) (Operation, error)
	// UpdateOperation writes op over the stored operation if the stored
	// version still equals op.Version (else ErrConflict; ErrNotFound if gone),
	// and returns what it stored: op with Version+1 (every field not fixed at
	// creation is written, SealHash and SealHashExt included). GUID, Type, Message,
	// Title, CertType, InitExtMessage, Creator, CreatedAt and ExpiresAt are
	// fixed at creation and not changed by an update.
	UpdateOperation(ctx context.Context, op Operation) (Operation, error)
	// Wait returns the operation as soon as its version is greater than
	// afterVersion: at once if it already is, else when a change is written
	// (through this store or, for stores shared by several instances,
	// through any of them) or ctx ends (ctx.Err()).
	Wait(ctx context.Context, guid string, afterVersion int64) (Operation, error)

	// Purge deletes tokens that expired before tokensBefore and operations
	// that expired before operationsBefore.
	Purge(ctx context.Context, tokensBefore, operationsBefore time.Time) (PurgeResult, error)
	// Ping checks the store can be read (readiness).
	Ping(ctx context.Context) error
	// Close releases the store; calls after Close fail with ErrClosed.
	Close() error
}
