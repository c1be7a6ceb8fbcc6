package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/daemon"
	"github.com/autho/autho/internal/server"
)

func (a *app) serveCmd() *cobra.Command {
	var demo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server: the login endpoint, the bearer APIs and the well-known documents",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Every setting, --db (the root's flag) included.
			c, err := config.Load(cmd.Flags(), a.source())
			if err != nil {
				return err
			}
			return a.serve(cmd.Context(), &daemon.Config{Config: c}, demo)
		},
	}
	config.Bind(cmd.Flags(), config.Names("AUTHO_DATABASE")...)
	cmd.Flags().BoolVar(&demo, "demo", false, "on an empty database, create a demo account, user and API token and print how to use them")
	return cmd
}

// serve runs the daemon until ctx ends (SIGINT or SIGTERM), then drains.
func (a *app) serve(ctx context.Context, cfg *daemon.Config, demo bool) error {
	log := slog.New(slog.NewJSONHandler(a.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	pct, limit := daemon.TuneGC()
	log.Debug("garbage collector defaults (-1: left to GOGC or GOMEMLIMIT)", "gogc", pct, "memory_limit_bytes", limit)
	d, err := daemon.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	if demo {
		if err := a.demo(ctx, d, cfg); err != nil {
			d.Close(context.Background())
			return err
		}
	}
	return server.DrainOnDone(ctx, log, d.Close)
}
