package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/server"
)

// The headers the gateway hands the upstream. Any header the client sends
// whose name starts with X-Autho- is dropped first, so the upstream can
// trust these without checking anything.
const (
	headerUser    = "X-Autho-User"
	headerAccount = "X-Autho-Account"
	headerToken   = "X-Autho-Token"
	headerScope   = "X-Autho-Scope"
)

// gatewayConfig is the gateway's configuration, parsed and validated.
type gatewayConfig struct {
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
	LogLevel            slog.Level
}

// gatewayFlags are the gateway's command-line flags as typed.
type gatewayFlags struct {
	upstream, listen, jwks, hs256File string
	strict                            bool
}

func (a *app) gatewayCmd() *cobra.Command {
	var f gatewayFlags
	cmd := &cobra.Command{
		Use:   "gateway --upstream URL [--listen ADDR] [--jwks URL | --hs256-secret-file FILE] [--strict]",
		Short: "Run a reverse proxy that lets only requests with a valid autho bearer through, adding X-Autho-* identity headers",
		Long: `Run a reverse proxy in front of an API that has no authentication code of its own.

A request without a valid bearer is answered 401 by the gateway. Any other is
forwarded to the upstream with X-Autho-User, X-Autho-Account, X-Autho-Token
(the API token's id) and X-Autho-Scope; headers of those names (any X-Autho-*)
sent by the client are removed. Bodies stream through, and WebSocket upgrades
pass. Let only the gateway reach the upstream: it trusts those headers.

Issuer and audience come from AUTHO_ISSUER (required) and AUTHO_AUDIENCE
(default autho). --strict also asks autho's introspection endpoint, with
AUTHO_INTROSPECTION_SECRET, so that a revoked token stops within seconds.`,
		Args: wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "upstream"); err != nil {
				return err
			}
			if cmd.Flags().Changed("jwks") && cmd.Flags().Changed("hs256-secret-file") {
				return usageError{errors.New("give --jwks or --hs256-secret-file, not both")}
			}
			cfg, err := parseGatewayConfig(f, a.source())
			if err != nil {
				return err
			}
			return a.runGateway(cmd.Context(), cfg)
		},
	}
	cmd.Flags().StringVar(&f.upstream, "upstream", "", "URL of the API to protect, e.g. http://127.0.0.1:9000 (required)")
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:8081", "listen address")
	cmd.Flags().StringVar(&f.jwks, "jwks", "", "JWKS URL (default AUTHO_ISSUER + /.well-known/jwks.json)")
	cmd.Flags().StringVar(&f.hs256File, "hs256-secret-file", "", "verify HS256 tokens with the secret in this file (from autho keys export-hs256) instead of a JWKS")
	cmd.Flags().BoolVar(&f.strict, "strict", false, "also ask autho's introspection endpoint (needs AUTHO_INTROSPECTION_SECRET)")
	return cmd
}

// parseGatewayConfig checks every flag and setting and reports all mistakes
// at once, one each, naming what to fix. Secrets are never repeated.
func parseGatewayConfig(f gatewayFlags, src config.Source) (*gatewayConfig, error) {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	httpURL := func(name, v string) *url.URL {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("%s: %q is not an http(s) URL", name, v)
			return nil
		}
		return u
	}

	// The settings it shares with serve; the strict mode's secret only
	// when it is used.
	envs := []string{"AUTHO_ISSUER", "AUTHO_AUDIENCE", "AUTHO_LOG_LEVEL"}
	if f.strict {
		envs = append(envs, "AUTHO_INTROSPECTION_SECRET")
	}
	set, err := config.Load(nil, src, envs...)
	if err != nil {
		errs = append(errs, err.Error())
		set, _ = config.Load(nil, config.Source{}, envs...)
	}
	c := &gatewayConfig{
		Listen:              strings.TrimSpace(f.listen),
		Issuer:              set.Issuer,
		Audience:            set.Audience,
		Strict:              f.strict,
		LogLevel:            set.LogLevel,
		IntrospectionSecret: set.IntrospectionSecret,
	}
	c.Upstream = httpURL("--upstream", strings.TrimSpace(f.upstream))
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("--listen: %q is not host:port", c.Listen)
	}
	if strings.TrimSpace(src.Getenv("AUTHO_ISSUER")) == "" {
		bad("AUTHO_ISSUER is required: the gateway accepts only tokens whose iss is autho's issuer, e.g. AUTHO_ISSUER=http://127.0.0.1:8080")
	}
	if f.hs256File != "" {
		secret, err := os.ReadFile(f.hs256File)
		switch {
		case err != nil:
			bad("--hs256-secret-file: %v", err)
		case len(secret) < 32:
			bad("--hs256-secret-file: the secret must be at least 32 bytes (write it with autho keys export-hs256)")
		default:
			c.HS256Secret = secret
		}
	} else {
		c.JWKSURL = strings.TrimSpace(f.jwks)
		if c.JWKSURL == "" && c.Issuer != "" {
			c.JWKSURL = c.Issuer + "/.well-known/jwks.json"
		}
		if c.JWKSURL != "" {
			httpURL("--jwks", c.JWKSURL)
		}
	}
	if c.Strict {
		if c.IntrospectionSecret == "" && src.Getenv("AUTHO_INTROSPECTION_SECRET") == "" && src.Getenv("AUTHO_INTROSPECTION_SECRET_FILE") == "" {
			bad("--strict needs AUTHO_INTROSPECTION_SECRET, the secret autho's introspection endpoint was given")
		}
		if c.Issuer != "" {
			c.IntrospectionURL = c.Issuer + "/v1/autho/token/introspect/"
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return c, nil
}

// runGateway serves until ctx ends (SIGINT or SIGTERM), then drains.
func (a *app) runGateway(ctx context.Context, cfg *gatewayConfig) error {
	log := slog.New(slog.NewJSONHandler(a.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	g, err := startGateway(ctx, cfg, log)
	if err != nil {
		return err
	}
	return drainOnDone(ctx, log, g.Close)
}

// gateway is a running reverse proxy: what the command starts and tests
// boot on :0.
type gateway struct {
	http      *http.Server
	ln        net.Listener
	served    chan error
	closeOnce sync.Once
}

// startGateway builds the verifier, binds the listener and starts serving.
func startGateway(ctx context.Context, cfg *gatewayConfig, log *slog.Logger) (*gateway, error) {
	v, err := gatewayVerifier(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	g := &gateway{
		ln:     ln,
		served: make(chan error, 1),
		http: &http.Server{
			Handler: logProxied(log, v.Middleware(newProxy(cfg.Upstream, log))),
			// No ReadTimeout or WriteTimeout: uploads, downloads and
			// WebSockets may rightly last long. Only the header, which
			// comes before anything is forwarded, is bounded.
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
	go func() { g.served <- g.http.Serve(ln) }()
	mode := "jwks"
	if cfg.HS256Secret != nil {
		mode = "hs256"
	}
	log.Info("autho gateway listening", "addr", ln.Addr().String(), "upstream", cfg.Upstream.Redacted(),
		"issuer", cfg.Issuer, "keys", mode, "strict", cfg.Strict)
	return g, nil
}

// gatewayVerifier builds the bearer verifier of cfg. With a JWKS it loads the
// keys once now, so that a wrong URL shows in the log at start; but autho
// being down at that moment does not stop the gateway, which fetches again
// when the first token arrives.
func gatewayVerifier(ctx context.Context, cfg *gatewayConfig, log *slog.Logger) (*bearer.Verifier, error) {
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
			h.Set(headerUser, id.UserID)
			h.Set(headerAccount, id.AccountID)
			h.Set(headerToken, id.TokenID)
			if len(id.Scopes) > 0 {
				h.Set(headerScope, strings.Join(id.Scopes, " "))
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
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-store")
			h.Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"data":{"message":"Service unavailable"},"meta":{},"result":"14","status":"ERROR"}` + "\n"))
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

// proxiedWriter records the status for the request log. Unwrap lets the
// proxy reach the real writer's Flush and Hijack (for WebSockets) through
// http.ResponseController.
type proxiedWriter struct {
	http.ResponseWriter
	status int
}

func (w *proxiedWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *proxiedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *proxiedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logProxied writes one line per request, as serve does: never the path,
// query, headers or body, which may carry secrets, and the method only as
// server.MethodLabel names it.
func logProxied(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		pw := &proxiedWriter{ResponseWriter: w}
		next.ServeHTTP(pw, r)
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", server.MethodLabel(r.Method)),
			slog.Int("status", pw.status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("ip", host),
		)
	})
}

// Addr is the bound listen address.
func (g *gateway) Addr() string { return g.ln.Addr().String() }

// URL is the base URL clients use.
func (g *gateway) URL() string { return "http://" + g.Addr() }

// Close stops accepting, waits for in-flight requests to finish, and stops.
// Connections already switched to another protocol (WebSockets) are not
// waited for; they end with the process.
func (g *gateway) Close(ctx context.Context) error {
	var err error
	g.closeOnce.Do(func() {
		err = g.http.Shutdown(ctx)
		if serr := <-g.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	})
	return err
}
