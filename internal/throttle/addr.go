package throttle

import (
	"net"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"
)

// ClientAddr is the caller's IP, the address part of a throttling key: the
// one chi's ClientIP middleware found behind trusted proxies (`scansign
// serve --trusted-proxies`), else the connection's peer address.
func ClientAddr(r *http.Request) string {
	if ip := middleware.GetClientIP(r.Context()); ip != "" {
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
