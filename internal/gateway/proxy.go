package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/server"
	"github.com/autho/autho/internal/wire"
)

// The headers the gateway hands the upstream. Any header the client sends
// whose name starts with X-Autho- is dropped first, so the upstream can
// trust these without checking anything.
const (
	HeaderUser    = "X-Autho-User"
	HeaderAccount = "X-Autho-Account"
	HeaderToken   = "X-Autho-Token"
	HeaderScope   = "X-Autho-Scope"
)

// newProxy forwards to upstream. It runs after the bearer middleware, so the
// identity is always in the request's context.
func newProxy(upstream *url.URL, log *slog.Logger) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.SetXForwarded()
			// Hop-by-hop headers (including any a client names in
			// Connection) are already gone; our own names go too, from
			// the header and from declared trailers.
			stripAuthoHeaders(pr.Out.Header)
			stripAuthoHeaders(pr.Out.Trailer)
			id, ok := bearer.FromContext(pr.In.Context())
			if !ok {
				return // unreachable behind Middleware; no identity is then sent
			}
			h := pr.Out.Header
			h.Set(HeaderUser, id.UserID)
			h.Set(HeaderAccount, id.AccountID)
			h.Set(HeaderToken, id.TokenID)
			if len(id.Scopes) > 0 {
				h.Set(HeaderScope, strings.Join(id.Scopes, " "))
			}
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client went away; there is no one to answer
			}
			// A *url.Error repeats the request's URL, whose query may hold
			// something secret; its cause says what went wrong.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			log.Warn("upstream failed", "method", server.MethodLabel(r.Method), "err", err)
			h := w.Header()
			h.Set("Cache-Control", "no-store")
			h.Set("Retry-After", "5")
			wire.Write(w, wire.Error(autho.ErrServiceUnavailable))
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// stripAuthoHeaders deletes every header whose name starts with X-Autho-,
// in any letter case and with "_" for "-": some upstream stacks (CGI, WSGI,
// nginx's underscores_in_headers) read X_Autho_User as X-Autho-User, so a
// client must not get one past the gateway that way either.
func stripAuthoHeaders(h http.Header) {
	for k := range h {
		if len(k) >= 8 && strings.EqualFold(strings.ReplaceAll(k[:8], "_", "-"), "x-autho-") {
			delete(h, k)
		}
	}
}
