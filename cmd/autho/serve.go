package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/introspect"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/migrations"
	"github.com/autho/autho/internal/password"
	"github.com/autho/autho/internal/portal"
	"github.com/autho/autho/internal/postgres"
	"github.com/autho/autho/internal/server"
	"github.com/autho/autho/internal/signer"
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
			return a.serve(cmd.Context(), &serveConfig{Config: c, Demo: demo})
		},
	}
	config.Bind(cmd.Flags(), config.Names("AUTHO_DATABASE")...)
	cmd.Flags().BoolVar(&demo, "demo", false, "on an empty database, create a demo account, user and API token and print how to use them")
	return cmd
}

// serve runs the daemon until ctx ends (SIGINT or SIGTERM), then drains.
func (a *app) serve(ctx context.Context, cfg *serveConfig) error {
	log := slog.New(slog.NewJSONHandler(a.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	pct, limit := tuneGC()
	log.Debug("garbage collector defaults (-1: left to GOGC or GOMEMLIMIT)", "gogc", pct, "memory_limit_bytes", limit)
	d, err := a.startDaemon(ctx, cfg, log)
	if err != nil {
		return err
	}
	if cfg.Demo {
		if err := a.demo(ctx, d); err != nil {
			d.Close(context.Background())
			return err
		}
	}
	return drainOnDone(ctx, log, d.Close)
}

// drainTimeout bounds how long a stopping process waits for in-flight
// requests.
const drainTimeout = 30 * time.Second

// drainOnDone waits until ctx ends (SIGINT or SIGTERM), then closes,
// giving in-flight requests up to drainTimeout to finish.
func drainOnDone(ctx context.Context, log *slog.Logger, closeFn func(context.Context) error) error {
	<-ctx.Done()
	log.Info("shutting down: draining in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	return closeFn(sctx)
}

// daemon is a running server: what serve starts and tests boot on :0.
type daemon struct {
	cfg         *serveConfig
	log         *slog.Logger
	store       autho.Store
	keys        *signer.Keyring
	usage       *login.Recorder
	http        *http.Server
	ln          net.Listener
	issuer      string
	stop        context.CancelFunc
	wg          sync.WaitGroup
	served      chan error
	closeOnce   sync.Once
	certs       *certReloader // nil without TLS
	metrics     *http.Server  // nil unless AUTHO_METRICS_ADDR
	metricsAddr string
	portal      *portal.Portal
}

// startDaemon opens the database (migrating it), loads the signing keys,
// binds the listener and starts serving. On error nothing is left running.
func (a *app) startDaemon(ctx context.Context, cfg *serveConfig, log *slog.Logger) (_ *daemon, err error) {
	mk, err := a.masterKey(cfg.Database)
	if err != nil {
		return nil, err
	}
	st, err := a.openStoreWith(ctx, postgres.Options{MaxConns: cfg.DBMaxConns, AcquireTimeout: cfg.DBAcquireTimeout},
		migrations.ReportSlow(time.Second, func(m migrations.Migration, took time.Duration) {
			if took < 0 {
				log.Info("applying a migration to the database; on a large one this may take a minute", "migration", m.String())
				return
			}
			log.Info("migration applied", "migration", m.String(), "seconds", took.Seconds())
		}))
	if err != nil {
		return nil, fmt.Errorf("AUTHO_DATABASE (--db): %w", err)
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	key, created, err := mk.open(ctx, st, createKeyFile)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("no AUTHO_MASTER_KEY given: wrote a new master key beside the database; back it up with the database", "file", mk.file.Path())
	}
	sealer, err := signer.NewSealer(key)
	if err != nil {
		return nil, fmt.Errorf("AUTHO_MASTER_KEY: %w", err)
	}
	keys, err := signer.NewKeyring(st, sealer, signer.Options{Algorithm: cfg.Algorithm, TokenTTL: cfg.TokenTTL, RotateEvery: cfg.KeyRotation, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := keys.EnsureKey(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", mk.explain(err))
	}
	var certs *certReloader
	if cfg.TLSCert != "" {
		if certs, err = newCertReloader(cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, err
		}
	}
	metrics := server.NewMetrics(poolCollectors(st)...)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("AUTHO_ADDR: %w", err)
	}
	issuer := cfg.Issuer
	if issuer == "" {
		scheme := "http://"
		if certs != nil {
			scheme = "https://"
		}
		issuer = scheme + ln.Addr().String()
	}
	verifier, err := bearer.New(bearer.Config{
		Issuer:   issuer,
		Audience: cfg.Audience,
		Keys:     keyringSource{keys},
		// Each key pins its own algorithm, so accepting all of them is
		// safe, and tokens signed before AUTHO_JWT_ALG changed keep
		// verifying while their key is published.
		Algorithms: []string{signer.ES256, signer.EdDSA, signer.RS256, signer.HS256},
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	usage := login.NewRecorder(st, log)
	svc := login.NewService(st, keys, login.NewLimiter(cfg.FailuresPerMinute), usage, login.Config{
		Issuer:   issuer,
		Audience: cfg.Audience,
		TTL:      cfg.TokenTTL,
	})
	// Introspection answers from this node's keys and the store's current
	// state; without a secret there is no endpoint at all.
	var intro *introspect.Service
	if cfg.IntrospectionSecret != "" {
		if intro, err = introspect.New(st, verifier, introspect.Config{Secret: cfg.IntrospectionSecret}); err != nil {
			ln.Close()
			return nil, err
		}
	}
	// The portal's cookie follows where people reach it (https: Secure
	// and __Host-), which is the issuer unless AUTHO_PUBLIC_URL says.
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = issuer
	}
	web, err := portal.New(portal.Config{
		PublicURL:       publicURL,
		Location:        cfg.Location,
		MaxActiveTokens: cfg.MaxActiveTokens,
		Contact:         cfg.PortalContact,
		ClientIP:        server.ClientIPFunc(cfg.TrustedProxies),
		Logger:          log,
	}, &admin.Service{Store: st, MaxTokenTTL: cfg.MaxTokenTTL, Log: log,
		// Half the processors at most check passwords, so that a flood of
		// sign-ins leaves the rest to the partner login (bench/run's flood
		// scenario): more at once would only queue for the same cores,
		// holding 19 MiB each.
		Passwords: password.NewPool(runtime.GOMAXPROCS(0) / 2)})
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := server.New(server.Config{
		Issuer:         issuer,
		Algorithm:      cfg.Algorithm,
		Location:       cfg.Location,
		TrustedProxies: cfg.TrustedProxies,
		Logger:         log,
		MetricsOnMain:  cfg.MetricsAddr == "",
		HSTS:           certs != nil,
	}, server.Deps{Login: svc, Keys: keys, Bearer: verifier, DB: st, Introspection: intro, Metrics: metrics, Portal: web})

	bg, stop := context.WithCancel(context.Background())
	d := &daemon{
		cfg: cfg, log: log, store: st, keys: keys, usage: usage, ln: ln, issuer: issuer, stop: stop,
		served: make(chan error, 1), certs: certs, portal: web,
		http: &http.Server{
			Handler: srv,
			// Bounds against slow clients holding connections open.
			ReadHeaderTimeout: cfg.readHeaderTimeout(),
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
	if cfg.MetricsAddr != "" {
		if err := d.serveMetrics(metrics); err != nil {
			stop()
			ln.Close()
			return nil, err
		}
	}
	d.background(bg)
	if certs != nil {
		d.http.TLSConfig = certs.config()
		go func() { d.served <- d.http.ServeTLS(ln, "", "") }()
	} else {
		go func() { d.served <- d.http.Serve(ln) }()
	}
	log.Info("autho serving", "addr", ln.Addr().String(), "issuer", issuer, "alg", cfg.Algorithm)
	return d, nil
}

// background starts the loops a node runs besides serving: picking up keys
// rotated elsewhere (and rotating when the current key is due), and
// writing last-used times.
func (d *daemon) background(ctx context.Context) {
	d.wg.Add(2)
	go func() { defer d.wg.Done(); d.keys.Run(ctx, signer.DefaultRefreshInterval) }()
	go func() { defer d.wg.Done(); d.usage.Run(ctx, time.Second) }()
	d.wg.Add(1)
	go func() { defer d.wg.Done(); d.portal.Run(ctx) }()
	if d.certs != nil {
		// Registered before serving, so a SIGHUP can never find the
		// process without a handler (its default is to terminate).
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		d.wg.Add(1)
		go func() { defer d.wg.Done(); d.reloadOnHangup(ctx, hup) }()
	}
}

// reloadOnHangup reloads the TLS certificate on SIGHUP, keeping the old one
// if the new files do not load.
func (d *daemon) reloadOnHangup(ctx context.Context, hup chan os.Signal) {
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := d.certs.reload(); err != nil {
				d.log.Error("TLS certificate reload failed; keeping the previous one", "err", err)
			} else {
				d.log.Info("TLS certificate reloaded")
			}
		}
	}
}

// Addr is the bound listen address.
func (d *daemon) Addr() string { return d.ln.Addr().String() }

// URL is the base URL clients use.
func (d *daemon) URL() string { return "http://" + d.Addr() }

// Close drains in-flight requests, stops the background loops (flushing
// last-used times), and closes the database.
func (d *daemon) Close(ctx context.Context) error {
	var err error
	d.closeOnce.Do(func() {
		err = d.http.Shutdown(ctx)
		if d.metrics != nil {
			err = errors.Join(err, d.metrics.Shutdown(ctx))
		}
		if serr := <-d.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		d.stop()
		d.wg.Wait()
		err = errors.Join(err, d.store.Close())
	})
	return err
}

// keyringSource lets the bearer verifier use this node's keys directly,
// without fetching its own JWKS over HTTP.
type keyringSource struct{ k *signer.Keyring }

var errUnknownKey = errors.New("unknown key id")

func (s keyringSource) Key(_ context.Context, kid string) (string, any, error) {
	alg, key, ok := s.k.VerificationKey(kid)
	if !ok {
		return "", nil, errUnknownKey
	}
	return alg, key, nil
}
