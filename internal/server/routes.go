package server

import (
	"net/http"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/dispatch"
)

// handlerFunc is a handler that returns its failure instead of writing it,
// so that errors.go alone decides what a failure looks like.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type route struct {
	method  string
	pattern string // a ServeMux pattern without method
	handle  handlerFunc
}

// routeTable lists every route of the JSON API. Methods are matched by
// package dispatch, so that a wrong method gets the contract's 405 envelope
// with Allow, not ServeMux's plain-text answer.
func (s *Server) routeTable() []route {
	rts := []route{
		{"POST", "/v1/autho/apitoken/login/{$}", s.handleLogin},
		{"POST", "/v1/autho/apitoken/login", s.handleLogin},
		{"GET", "/v1/autho/me/{$}", s.handleMe},
		{"GET", "/v1/autho/me", s.handleMe},
		{"GET", "/.well-known/jwks.json", s.handleJWKS},
		{"GET", "/.well-known/openid-configuration", s.handleDiscovery},
		{"POST", tokenPath, s.handleToken},
		{"GET", "/.well-known/oauth-authorization-server", s.handleASMetadata},
		{"GET", "/healthz", s.handleHealth},
		{"GET", "/readyz", s.handleReady},
	}
	// Introspection exists only while AUTHO_INTROSPECTION_SECRET is set;
	// otherwise the path is unknown, whatever the method.
	if s.deps.Introspection != nil {
		rts = append(rts,
			route{"POST", "/v1/autho/token/introspect/{$}", s.handleIntrospect},
			route{"POST", "/v1/autho/token/introspect", s.handleIntrospect},
		)
	}
	if s.deps.Revocations != nil {
		rts = append(rts,
			route{"GET", "/v1/autho/revocations", s.handleRevocations},
			route{"GET", "/v1/autho/revocations/{$}", s.handleRevocations},
		)
	}
	if s.deps.Portal != nil {
		rts = append(rts, route{"GET", "/{$}", s.handleRoot})
	}
	if s.cfg.MetricsOnMain && s.deps.Metrics != nil {
		rts = append(rts, route{"GET", "/metrics", s.handleMetrics})
	}
	return rts
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	var rts []dispatch.Route
	for _, rt := range s.routeTable() {
		rts = append(rts, dispatch.Route{Method: rt.method, Pattern: rt.pattern, Handler: s.adapt(rt.handle)})
	}
	dispatch.Register(mux, rts, func(allow string) http.Handler {
		return s.adapt(func(w http.ResponseWriter, _ *http.Request) error {
			w.Header().Set("Allow", allow)
			return autho.ErrMethodNotAllowed
		})
	})
	if s.deps.Portal != nil {
		mux.Handle("/portal/", s.deps.Portal)
	}
	if s.deps.Admin != nil {
		mux.Handle(adminPrefix, s.deps.Admin)
	}
	if s.deps.SecretScanning != nil {
		mux.Handle("/v1/autho/secret-scanning", s.deps.SecretScanning)
	}
	mux.Handle("/", s.adapt(func(http.ResponseWriter, *http.Request) error { return autho.ErrNotFoundRoute }))
	return mux
}
