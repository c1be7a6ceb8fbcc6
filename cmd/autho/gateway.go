package main

import (
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/autho/autho/internal/gateway"
	"github.com/autho/autho/internal/server"
)

func (a *app) gatewayCmd() *cobra.Command {
	var f gateway.Flags
	cmd := &cobra.Command{
		Use:   "gateway --upstream URL [--listen ADDR] [--jwks URL | --hs256-secret-file FILE] [--strict] [--revocations=false | --revocations-max-age D]",
		Short: "Run a reverse proxy that lets only requests with a valid autho bearer through, adding X-Autho-* identity headers",
		Long: `Run a reverse proxy in front of an API that has no authentication code of its own.

A request without a valid bearer is answered 401 by the gateway. Any other is
forwarded to the upstream with X-Autho-User, X-Autho-Account, X-Autho-Token
(the API token's id) and X-Autho-Scope; headers of those names (any X-Autho-*)
sent by the client are removed. Bodies stream through, and WebSocket upgrades
pass. Let only the gateway reach the upstream: it trusts those headers.

Issuer and audience come from AUTHO_ISSUER (required) and AUTHO_AUDIENCE
(default autho).

A JWT is otherwise good until its exp. So the gateway polls autho's
revocation feed (AUTHO_ISSUER + /v1/autho/revocations, every 5 s, verified
with the same keys as the tokens) and refuses a JWT whose API token was
revoked, or whose user or account was deactivated or suspended before the
JWT was issued, within seconds, with no request to autho per token. While
the feed cannot be fetched the last good copy is used, with a warning; once
it is older than --revocations-max-age (default 10m) every request gets 503
until autho answers again. --revocations=false turns the feed off.
--strict also asks autho's introspection endpoint about each token, with
AUTHO_INTROSPECTION_SECRET, for the current state rather than the feed's.

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
			cfg, level, err := gateway.ParseConfig(f, a.source())
			if err != nil {
				return err
			}
			log := slog.New(slog.NewJSONHandler(a.stderr, &slog.HandlerOptions{Level: level}))
			// Registered before serving: SIGHUP's default is to terminate.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			g, err := gateway.Start(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			go g.ReloadOn(cmd.Context(), hup)
			return server.DrainOnDone(cmd.Context(), log, g.Close)
		},
	}
	cmd.Flags().StringVar(&f.Upstream, "upstream", "", "URL of the API to protect, e.g. http://127.0.0.1:9000 (required)")
	cmd.Flags().StringVar(&f.Listen, "listen", "127.0.0.1:8081", "listen address")
	cmd.Flags().StringVar(&f.JWKS, "jwks", "", "JWKS URL (default AUTHO_ISSUER + /.well-known/jwks.json)")
	cmd.Flags().StringVar(&f.HS256File, "hs256-secret-file", "", "verify HS256 tokens with the secrets in this file (from autho keys export-hs256; re-read every 30 s and on SIGHUP) instead of a JWKS")
	cmd.Flags().BoolVar(&f.Strict, "strict", false, "also ask autho's introspection endpoint (needs AUTHO_INTROSPECTION_SECRET)")
	cmd.Flags().BoolVar(&f.Revocations, "revocations", true, "poll autho's revocation feed (AUTHO_ISSUER + /v1/autho/revocations) every 5 s and refuse revoked tokens; --revocations=false turns it off")
	cmd.Flags().DurationVar(&f.RevocationsMaxAge, "revocations-max-age", 10*time.Minute, "answer 503 to every request once the feed could not be fetched for this long")
	return cmd
}
