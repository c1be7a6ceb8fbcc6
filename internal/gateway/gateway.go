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
	"os"
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
	// Exactly one of JWKSURL and HS256Keys is set.
	JWKSURL   string
	HS256Keys *bearer.SecretFile
	// HS256Reload is how often HS256Keys' file is re-read; zero means the
	// bearer package's default.
	HS256Reload time.Duration
	// Strict mode asks autho's introspection endpoint about every token
	// (answers cached IntrospectionTTL; zero means the bearer package's
	// default).
	Strict              bool
	IntrospectionURL    string
	IntrospectionSecret string
	IntrospectionTTL    time.Duration
	// Revocations polls autho's revocation feed at RevocationsURL, verified
	// with the same keys as the tokens, so that a revoked token is refused
	// within seconds; once the last good copy is older than
	// RevocationsMaxAge every token gets 503. Zero RevocationsMaxAge and
	// RevocationsEvery (the poll period; tests shorten it) mean the bearer
	// package's defaults.
	Revocations       bool
	RevocationsURL    string
	RevocationsMaxAge time.Duration
	RevocationsEvery  time.Duration
}

// Gateway is a running reverse proxy: what the command starts and tests
// boot on :0.
type Gateway struct {
	*server.Serving
	log      *slog.Logger
	verifier *bearer.Verifier
	secrets  *bearer.SecretFile // nil with a JWKS
	stop     context.CancelFunc // ends the re-reading of secrets
}

// Start builds the verifier, binds the listener and starts serving.
func Start(ctx context.Context, cfg *Config, log *slog.Logger) (*Gateway, error) {
	v, err := newVerifier(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		v.Close()
		return nil, fmt.Errorf("--listen: %w", err)
	}
	g := &Gateway{Serving: server.Serve(&http.Server{
		Handler: logRequests(log, v.Middleware(newProxy(cfg.Upstream, log))),
		// No ReadTimeout or WriteTimeout: uploads, downloads and
		// WebSockets may rightly last long. Only the header, which
		// comes before anything is forwarded, is bounded.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}, ln), log: log, verifier: v, secrets: cfg.HS256Keys, stop: func() {}}
	mode := "jwks"
	if g.secrets != nil {
		mode = "hs256"
		var rctx context.Context
		rctx, g.stop = context.WithCancel(ctx)
		go g.secrets.Run(rctx, cfg.HS256Reload, g.reloadFailed)
	}
	log.Info("autho gateway listening", "addr", ln.Addr().String(), "upstream", cfg.Upstream.Redacted(),
		"issuer", cfg.Issuer, "keys", mode, "strict", cfg.Strict, "revocations", cfg.Revocations)
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
		// Strict mode's warnings while introspection gives no answer,
		// and the feed's while it cannot be fetched.
		Logger: log,
		OnError: func(r *http.Request, err error) {
			log.Debug("bearer refused", "method", server.MethodLabel(r.Method), "reason", err)
		},
	}
	if cfg.HS256Keys != nil {
		bc.Keys = cfg.HS256Keys
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
	if cfg.Revocations {
		bc.Revocations = &bearer.RevocationsConfig{
			URL:    cfg.RevocationsURL,
			Every:  cfg.RevocationsEvery,
			MaxAge: cfg.RevocationsMaxAge,
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

// Reload re-reads the HS256 secret file now (the command does on SIGHUP);
// a bad file leaves the secrets read before in use, with a warning.
func (g *Gateway) Reload() {
	if g.secrets == nil {
		return
	}
	if err := g.secrets.Reload(); err != nil {
		g.reloadFailed(err)
		return
	}
	g.log.Info("re-read the HS256 secret file")
}

// ReloadOn calls Reload at each value from sig until ctx is done.
func (g *Gateway) ReloadOn(ctx context.Context, sig <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			g.Reload()
		}
	}
}

func (g *Gateway) reloadFailed(err error) {
	g.log.Warn("could not re-read the HS256 secret file; keeping the secrets read before", "err", err)
}

// Close stops re-reading the secrets, stops serving (server.Serving), then
// stops polling the revocation feed: the requests being drained still need
// its copy.
func (g *Gateway) Close(ctx context.Context) error {
	g.stop()
	err := g.Serving.Close(ctx)
	g.verifier.Close()
	return err
}
