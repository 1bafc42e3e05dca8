// Package client calls a relay (手机扫码服务) over HTTP with a typed method
// per guide endpoint. It speaks exactly the guide's wire format (form POSTs,
// JSON answers with invokeCode), so it works against any server that follows
// the guide, and is what scansign's own tests, demo and phone simulator use.
//
// Beyond the guide it calls scansign's REST additions: the one-call results
// (OperationResult, Encrypt) with a system token bound to the operation,
// and the PDF seal API (PDF*) with Credentials: Basic (the system account)
// for the routes on no operation, Token within an operation's flow. Their answer types
// mirror the server's in package relay instead of importing it, so a CA app
// or trading system that links the client does not link the server.
package client
