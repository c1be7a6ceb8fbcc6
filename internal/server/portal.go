package server

import (
	"net/http"
	"net/netip"
)

// ClientIPFunc returns the rule the server uses to tell a request's client
// address (X-Forwarded-For believed only from trusted proxies), for other
// handlers mounted beside the JSON API, such as the portal, whose audit log
// and login throttling must agree with the server's own logs and limits.
func ClientIPFunc(trustedProxies []netip.Prefix) func(*http.Request) string {
	s := &Server{cfg: Config{TrustedProxies: trustedProxies}}
	return s.clientIP
}
