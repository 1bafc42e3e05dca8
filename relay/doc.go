// Package relay is the 手机扫码服务 of the guide: the service a trading system
// (or seal control) and a CA's mobile app talk through. It grants tokens,
// keeps operations, enforces the status machine and serves the guide's
// endpoints (/grantToken, /initMessage, /getInitMessage, /getCaMessageResult,
// /saveCaMessageResult) plus /qrcode, exactly as the guide's examples show
// them on the wire.
//
// The Service is also a Go API the other parts call (getSealImg, the PDF
// seal endpoints, the one-call results API): Authenticate a token, load an
// Operation for a Principal, and move it with Transition, the one method every
// status change goes through, checked against the table in status.go.
//
// Built on that API, beside the Service: SealImages serves the guide's
// /getSealImg (二.2.8), asking the seal company the app named (package
// seal/client) and moving a seal operation to 5; PDFHashSink is how the PDF
// seal API's prepare (package pdfsign) puts the hash to sign into a seal
// operation, moving it to 4; Results is the one-call results API. Failures
// to get seals have their own invokeCodes (422 unknown seal company, 424 no
// seals, 502 seal company down or answering an error, 504 no answer in
// time), listed with the others in errors.go.
//
// Tokens are UUID v4 text (122 random bits; the guide's examples are UUIDs
// and existing clients may assume the shape), stored only as their SHA-256,
// so a copy of the store holds no usable token.
//
// Account secrets: `scansign account add` generates 256 random bits and the
// configuration holds "sha256:" plus the SHA-256 of the secret. A slow KDF
// exists to stop dictionary guessing of secrets people choose; a secret drawn
// from 256 random bits cannot be guessed from its hash with any amount of
// hashing, so a KDF would only cost time on every grantToken (which must do
// thousands a second) and hand an attacker a cheap way to burn our CPU. Hashes
// are compared in constant time; an unknown account name costs the same as a
// wrong secret; and failed attempts are throttled (invokeCode 429) per
// (account, client address) and, so that trying many account names from
// one address is slowed down too, per client address.
//
// Operations and tokens live in the store (package store), so several
// instances sharing PostgreSQL serve the same operations and a restart loses
// nothing; only the failed-attempt counters are per process.
package relay
