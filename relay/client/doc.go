// Package client calls a relay (手机扫码服务) over HTTP with a typed method
// per guide endpoint. It speaks exactly the guide's wire format (form POSTs,
// JSON answers with invokeCode), so it works against any server that follows
// the guide, and is what scansign's own tests, demo and phone simulator use.
package client
