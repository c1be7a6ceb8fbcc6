package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/autho/autho"
)

// handlerFunc is a handler that returns its failure instead of writing it,
// so that errors.go alone decides what a failure looks like.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type route struct {
	method  string
	pattern string // a ServeMux pattern without method
	handle  handlerFunc
}

// routes lists every route of the JSON API. Methods are matched here rather
// than in ServeMux patterns so that a wrong method gets the contract's 405
// envelope with Allow, not ServeMux's plain-text answer.
func (s *Server) routeTable() []route {
	rts := []route{
		{"POST", "/v1/autho/apitoken/login/{$}", s.handleLogin},
		{"POST", "/v1/autho/apitoken/login", s.handleLogin},
		{"GET", "/v1/autho/me/{$}", s.handleMe},
		{"GET", "/v1/autho/me", s.handleMe},
		{"GET", "/.well-known/jwks.json", s.handleJWKS},
		{"GET", "/.well-known/openid-configuration", s.handleDiscovery},
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
	if s.cfg.MetricsOnMain && s.deps.Metrics != nil {
		rts = append(rts, route{"GET", "/metrics", s.handleMetrics})
	}
	return rts
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	byPattern := map[string][]route{}
	var order []string
	for _, rt := range s.routeTable() {
		if _, ok := byPattern[rt.pattern]; !ok {
			order = append(order, rt.pattern)
		}
		byPattern[rt.pattern] = append(byPattern[rt.pattern], rt)
	}
	for _, p := range order {
		mux.Handle(p, s.dispatch(byPattern[p]))
	}
	if s.deps.Portal != nil {
		mux.Handle("/portal/", s.deps.Portal)
	}
	mux.Handle("/", s.adapt(func(http.ResponseWriter, *http.Request) error { return autho.ErrNotFoundRoute }))
	return mux
}

// dispatch picks the route for the request's method, answering 405 with
// Allow when there is none. GET routes answer HEAD too.
func (s *Server) dispatch(rts []route) http.Handler {
	var allow []string
	for _, rt := range rts {
		allow = append(allow, rt.method)
		if rt.method == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	slices.Sort(allow)
	allowHeader := strings.Join(allow, ", ")
	handlers := make(map[string]http.Handler, len(allow))
	for _, rt := range rts {
		h := s.adapt(rt.handle)
		handlers[rt.method] = h
		if rt.method == http.MethodGet {
			handlers[http.MethodHead] = h
		}
	}
	notAllowed := s.adapt(func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Allow", allowHeader)
		return autho.ErrMethodNotAllowed
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := handlers[r.Method]; ok {
			h.ServeHTTP(w, r)
			return
		}
		notAllowed.ServeHTTP(w, r)
	})
}
