package client

import "net/http"

// Credentials authenticate a call to scansign's REST API (/api/v1/…). The
// server takes two kinds:
//
//   - Token: a system token bound to an operation (grantToken with the
//     guid, or the token initMessage bound to the operation it made). It
//     reaches that operation's routes (OperationResult, Encrypt, the PDF
//     API with that guid) and the routes on no operation. A token bound to
//     no operation is refused (401): it may only call initMessage.
//   - Basic: a system account's name and secret as HTTP Basic, checked and
//     throttled like grantToken's. It reaches the routes on no operation
//     only (verify, certs/inspect, envelope/encrypt, the PDF API without a
//     guid), so a caller needs no grantToken round trip for them.
//
// The zero value sends no credentials.
type Credentials struct {
	token           string
	account, secret string
	basic           bool
}

// Token is a system token bound to an operation.
func Token(token string) Credentials { return Credentials{token: token} }

// Basic is a system account's name and secret, for the routes on no
// operation.
func Basic(account, secret string) Credentials {
	return Credentials{account: account, secret: secret, basic: true}
}

// Authorize sets req's Authorization header: "Basic …" or "Bearer <token>"
// (nothing for the zero value). The client's methods call it; it is there
// for callers that build their own request to a route the client has no
// method for.
func (c Credentials) Authorize(req *http.Request) {
	switch {
	case c.basic:
		req.SetBasicAuth(c.account, c.secret)
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
}
