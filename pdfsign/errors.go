package pdfsign

import "errors"

// Code names why an operation was refused; the HTTP API and the CLI report it.
type Code string

// The reasons an operation is refused.
const (
	CodeMalformed           Code = "malformed"              // not a PDF, or one we cannot parse safely
	CodeEncrypted           Code = "encrypted"              // encrypted PDFs are not sealed
	CodePageOutOfRange      Code = "page-out-of-range"      // no such page
	CodeBadPlacement        Code = "bad-placement"          // the rectangle is not on the page
	CodeBadImage            Code = "bad-image"              // the seal image is not a usable PNG/JPEG
	CodeBadRequest          Code = "bad-request"            // a parameter is missing or wrong
	CodeTooLarge            Code = "too-large"              // over a size limit
	CodeFieldExists         Code = "field-exists"           // the field name is taken
	CodePlaceholderTooSmall Code = "placeholder-too-small"  // the signature does not fit
	CodeNotPrepared         Code = "not-prepared"           // no empty signature to complete
	CodeDigestMismatch      Code = "digest-mismatch"        // the signature is over other data
	CodeBadSignature        Code = "bad-signature"          // the signature does not verify
	CodeUntrusted           Code = "untrusted"              // the signer does not chain to a trusted root, or is not valid now
	CodeNoSeal              Code = "no-seal"                // no such seal
	CodeNotLatest           Code = "not-latest"             // only the latest seal can be taken back
	CodeWrongSigner         Code = "wrong-signer"           // revocation signed by someone else
	CodeNotFresh            Code = "not-fresh"              // a revocation that replays a signature already made
	CodeModifiedAfter       Code = "modified-after-signing" // later revisions change more than adding signatures
	CodeInternal            Code = "internal"
)

// Error is a refusal with its reason in Chinese (for seal controls and
// their users) and English (for logs and auditors).
type Error struct {
	Code    Code
	Message string // Chinese
	English string
	Err     error // the underlying cause, if any
	// Status, when set, is the HTTP status the API answers instead of the
	// one Code implies: a refusal passed on from the seal operation (the
	// relay's invokeCode is an HTTP status, its code then the relay's).
	Status int
}

func (e *Error) Error() string {
	if e.Err != nil && e.English == "" {
		return "pdfsign: " + e.Err.Error()
	}
	return "pdfsign: " + e.English
}

func (e *Error) Unwrap() error { return e.Err }

func fail(code Code, zh, en string, cause error) *Error {
	return &Error{Code: code, Message: zh, English: en, Err: cause}
}

// CodeOf returns the Code of err, or CodeInternal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
