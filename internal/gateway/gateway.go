// Package gateway is the reverse proxy that puts autho in front of an API
// with no authentication code of its own: only requests with a valid bearer
// pass (verified by package bearer), and the upstream learns who called in
// X-Autho-* headers that no client can forge. "autho gateway" parses its
// configuration and starts it.
package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/server"
)

// Config is the gateway's configuration, parsed and validated.
type Config struct {
	Upstream *url.URL
	Listen   string
	Issuer   string
	Audience string
	// Exactly one of JWKSURL and HS256Secret is set.
	JWKSURL     string
	HS256Secret []byte
	// Strict mode asks autho's introspection endpoint about every token
	// (answers cached IntrospectionTTL; zero means the bearer package's
	// default).
	Strict              bool
	IntrospectionURL    string
	IntrospectionSecret string
	IntrospectionTTL    time.Duration
}

// Gateway is a running reverse proxy: what the command starts and tests
// boot on :0.
type Gateway struct {
	*server.Serving
}

// Start builds the verifier, binds the listener and starts serving.
func Start(ctx context.Context, cfg *Config, log *slog.Logger) (*Gateway, error) {
	v, err := newVerifier(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	g := &Gateway{server.Serve(&http.Server{
		Handler: logRequests(log, v.Middleware(newProxy(cfg.Upstream, log))),
		// No ReadTimeout or WriteTimeout: uploads, downloads and
		// WebSockets may rightly last long. Only the header, which
		// comes before anything is forwarded, is bounded.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}, ln)}
	mode := "jwks"
	if cfg.HS256Secret != nil {
		mode = "hs256"
	}
	log.Info("autho gateway listening", "addr", ln.Addr().String(), "upstream", cfg.Upstream.Redacted(),
		"issuer", cfg.Issuer, "keys", mode, "strict", cfg.Strict)
	return g, nil
}

// newVerifier builds the bearer verifier of cfg. With a JWKS it loads the
// keys once now, so that a wrong URL shows in the log at start; but autho
// being down at that moment does not stop the gateway, which fetches again
// when the first token arrives.
func newVerifier(ctx context.Context, cfg *Config, log *slog.Logger) (*bearer.Verifier, error) {
	bc := bearer.Config{
		Issuer:   cfg.Issuer,
		Audience: cfg.Audience,
		OnError: func(r *http.Request, err error) {
			log.Debug("bearer refused", "method", server.MethodLabel(r.Method), "reason", err)
		},
	}
	if cfg.HS256Secret != nil {
		bc.Keys = bearer.StaticSecret(cfg.HS256Secret)
		bc.Algorithms = []string{bearer.HS256}
	} else {
		keys := bearer.NewJWKS(cfg.JWKSURL, bearer.JWKSOptions{})
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := keys.Refresh(rctx); err != nil {
			log.Warn("could not load the JWKS yet; will retry when a token arrives", "jwks", cfg.JWKSURL, "err", err)
		}
		cancel()
		bc.Keys = keys
	}
	if cfg.Strict {
		bc.Introspection = &bearer.IntrospectionConfig{
			URL:      cfg.IntrospectionURL,
			Secret:   cfg.IntrospectionSecret,
			CacheTTL: cfg.IntrospectionTTL,
		}
	}
	return bearer.New(bc)
}

// logRequests writes one line per request, as serve does: never the path,
// query, headers or body, which may carry secrets, and the method only as
// server.MethodLabel names it.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &server.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", server.MethodLabel(r.Method)),
			slog.Int("status", sw.Status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("ip", host),
		)
	})
}
