package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/gateway"
)

// gatewayConfig is the gateway's configuration, parsed and validated.
type gatewayConfig struct {
	gateway.Config
	LogLevel slog.Level
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
AUTHO_INTROSPECTION_SECRET, so that a revoked token stops within seconds.

--hs256-secret-file is re-read every 30 s, on SIGHUP, and when a token names
a key it lacks, so "autho keys export-hs256 --force" after a rotation needs
no restart; a file that does not load leaves the last good one in use.`,
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
	cmd.Flags().StringVar(&f.hs256File, "hs256-secret-file", "", "verify HS256 tokens with the secrets in this file (from autho keys export-hs256; re-read every 30 s and on SIGHUP) instead of a JWKS")
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
	c := &gatewayConfig{Config: gateway.Config{
		Listen:              strings.TrimSpace(f.listen),
		Issuer:              set.Issuer,
		Audience:            set.Audience,
		Strict:              f.strict,
		IntrospectionSecret: set.IntrospectionSecret,
	}, LogLevel: set.LogLevel}
	c.Upstream = httpURL("--upstream", strings.TrimSpace(f.upstream))
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("--listen: %q is not host:port", c.Listen)
	}
	if strings.TrimSpace(src.Getenv("AUTHO_ISSUER")) == "" {
		bad("AUTHO_ISSUER is required: the gateway accepts only tokens whose iss is autho's issuer, e.g. AUTHO_ISSUER=http://127.0.0.1:8080")
	}
	if f.hs256File != "" {
		if c.HS256Keys, err = bearer.NewSecretFile(f.hs256File); err != nil {
			bad("--hs256-secret-file: %v (write it with autho keys export-hs256)", err)
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

// runGateway serves until ctx ends (SIGINT or SIGTERM), then drains. SIGHUP
// re-reads the HS256 secret file.
func (a *app) runGateway(ctx context.Context, cfg *gatewayConfig) error {
	log := slog.New(slog.NewJSONHandler(a.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	// Registered before serving: SIGHUP's default is to terminate.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	g, err := gateway.Start(ctx, &cfg.Config, log)
	if err != nil {
		return err
	}
	go g.ReloadOn(ctx, hup)
	return drainOnDone(ctx, log, g.Close)
}
