// Package server is autho's HTTP surface: the JSON API of the contract, the
// well-known documents and the operational endpoints. Handlers are thin: they
// parse, call the service that owns the rule, and return an error that
// errors.go maps to the contract's envelope in exactly one place.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/introspect"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/revocation"
)

// Config is what the HTTP layer needs to know of the deployment.
type Config struct {
	Issuer         string // base of published URLs, and the JWT iss
	Algorithm      string // the signing algorithm, for the discovery document
	Location       *time.Location
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For is believed
	Logger         *slog.Logger
	// MetricsOnMain serves /metrics on the main listener; false when
	// AUTHO_METRICS_ADDR gives it a listener of its own.
	MetricsOnMain bool
	// HSTS tells browsers to use HTTPS only; set when serving TLS.
	HSTS bool
}

// Pinger reports whether the database can be reached.
type Pinger interface {
	Ping(ctx context.Context) error
}

// JWKSource provides the published public keys as a JWKS document.
type JWKSource interface {
	JWKS() []byte
}

// Deps are the services the handlers call.
type Deps struct {
	Login  *login.Service
	Keys   JWKSource
	Bearer *bearer.Verifier
	// State checks that a bearer /v1/autho/me/ verified is still usable
	// (introspection's rule). Required for /me, which refuses every bearer
	// without it.
	State *introspect.State
	DB    Pinger
	// Metrics, when set, counts requests and logins.
	Metrics *Metrics
	// Introspection, when set (AUTHO_INTROSPECTION_SECRET is), answers
	// POST /v1/autho/token/introspect/.
	Introspection *introspect.Service
	// Portal, when set, serves every path under /portal/ (its own HTML
	// pages and errors); other unknown paths keep the JSON 404.
	Portal http.Handler
	// Admin, when set, serves every path under /v1/admin/ (the admin API,
	// with its own problem+json errors).
	Admin http.Handler
	// SecretScanning, when set (AUTHO_SECRET_SCANNING_KEYS_URL is not
	// off), answers GitHub's leaked-token reports, with its own method and
	// body checks.
	SecretScanning http.Handler
	// Revocations, when set, serves the revocation feed at
	// GET /v1/autho/revocations.
	Revocations *revocation.Feed
}

// Server is the HTTP handler of autho.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	handler http.Handler
}

// New builds the server and its routes.
func New(cfg Config, deps Deps) *Server {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, deps: deps, log: cfg.Logger}
	s.handler = s.logRequests(s.recoverPanics(s.headers(s.routes())))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
