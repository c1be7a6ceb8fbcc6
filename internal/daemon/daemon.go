// Package daemon assembles a running autho server from its configuration:
// the database (migrated), the signing keys, the login, introspection, the
// portal and the HTTP listeners, and the loops a node runs besides serving.
// "autho serve" starts it; tests boot it on :0.
package daemon

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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/adminapi"
	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/database"
	"github.com/autho/autho/internal/introspect"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/migrations"
	"github.com/autho/autho/internal/outbox"
	"github.com/autho/autho/internal/password"
	"github.com/autho/autho/internal/portal"
	"github.com/autho/autho/internal/postgres"
	"github.com/autho/autho/internal/revocation"
	"github.com/autho/autho/internal/server"
	"github.com/autho/autho/internal/signer"
)

// Config is the daemon's configuration: the settings, and what is not a
// setting.
type Config struct {
	*config.Config

	// ReadHeaderTimeout bounds how long a client may take to send its
	// headers (slow-loris); not a setting, tests shorten it. Zero is 5s.
	ReadHeaderTimeout time.Duration
	// NoticeEvery is how often the expiry sweep runs; zero is every 30 s.
	// Not a setting: tests shorten it.
	NoticeEvery time.Duration
	// PortalNow is the portal's clock (its sessions, sign-ins and step-up
	// window); nil is time.Now. Not a setting: tests move it on.
	PortalNow func() time.Time
	// SweepNow is the expiry sweep's clock (expiring accounts and tokens,
	// expired invitations); nil is time.Now. Not a setting: tests move it
	// on.
	SweepNow func() time.Time
}

// Daemon is a running server.
type Daemon struct {
	*server.Serving
	Store  autho.Store
	Keys   *signer.Keyring
	Issuer string

	log         *slog.Logger
	usage       *login.Recorder
	portal      *portal.Portal
	certs       *certReloader   // nil without TLS
	metrics     *server.Serving // nil unless AUTHO_METRICS_ADDR
	sealer      *signer.Sealer
	outbox      *outbox.Worker
	operator    *admin.Service // the operator's: the admin API, the expiry sweep, leak reports
	sweeper     *admin.Service // the expiry sweep's: the operator's, unless Config.SweepNow
	noticeEvery time.Duration
	feed        *revocation.Feed
	stop        context.CancelFunc
	wg          sync.WaitGroup
	closeOnce   sync.Once
	closeErr    error
}

// Start opens the database (migrating it; one serve cannot write is refused
// now, since every login writes), loads the signing keys, binds
// the listeners and starts serving. On error nothing is left running.
func Start(ctx context.Context, cfg *Config, log *slog.Logger) (_ *Daemon, err error) {
	mk, err := signer.FindMasterKey(cfg.MasterKey, database.KeyFile(cfg.Database))
	if err != nil {
		return nil, err
	}
	st, err := database.Open(ctx, cfg.Database, database.Create, postgres.Options{MaxConns: cfg.DBMaxConns, AcquireTimeout: cfg.DBAcquireTimeout},
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
	var ln net.Listener
	defer func() {
		if err != nil {
			if ln != nil {
				ln.Close()
			}
			st.Close()
		}
	}()
	key, created, err := mk.Open(ctx, st, signer.CreateKeyFile)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("no AUTHO_MASTER_KEY given: wrote a new master key beside the database; back it up with the database", "file", mk.File())
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
		return nil, fmt.Errorf("signing keys: %w", mk.Explain(err))
	}
	var certs *certReloader
	if cfg.TLSCert != "" {
		if certs, err = newCertReloader(cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, err
		}
	}
	if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
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
	d := &Daemon{Store: st, Keys: keys, Issuer: issuer, log: log, certs: certs, usage: login.NewRecorder(st, log), sealer: sealer}
	handler, metrics, err := d.handler(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.MetricsAddr != "" {
		if d.metrics, err = serveMetrics(cfg.MetricsAddr, metrics); err != nil {
			return nil, err
		}
	} else if !metricsOnMain(cfg) {
		log.Info("/metrics is not served on a listen address that is not loopback: set AUTHO_METRICS_ADDR (e.g. 127.0.0.1:9090) to serve it there", "addr", cfg.Addr)
	}
	bg, stop := context.WithCancel(context.Background())
	d.stop = stop
	d.background(bg)
	srv := &http.Server{
		Handler: handler,
		// Bounds against slow clients holding connections open.
		ReadHeaderTimeout: cfg.readHeaderTimeout(),
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if certs != nil {
		srv.TLSConfig = certs.config()
	}
	d.Serving = server.Serve(srv, ln)
	log.Info("autho serving", "addr", ln.Addr().String(), "issuer", issuer, "alg", cfg.Algorithm)
	return d, nil
}

func (c *Config) readHeaderTimeout() time.Duration {
	if c.ReadHeaderTimeout > 0 {
		return c.ReadHeaderTimeout
	}
	return 5 * time.Second
}

// handler builds the server's routes on d's store and keys: the login, the
// bearer APIs, introspection, the portal and the metrics.
func (d *Daemon) handler(cfg *Config) (http.Handler, *server.Metrics, error) {
	st, keys, issuer, log := d.Store, d.Keys, d.Issuer, d.log
	var pools []prometheus.Collector
	if c, ok := st.(interface{ Collectors() []prometheus.Collector }); ok {
		pools = c.Collectors()
	}
	metrics := server.NewMetrics(pools...)
	verifier, err := bearer.New(bearer.Config{
		Issuer:   issuer,
		Audience: cfg.Audience,
		Keys:     keys,
		// Each key pins its own algorithm, so accepting all of them is
		// safe, and tokens signed before AUTHO_JWT_ALG changed keep
		// verifying while their key is published.
		Algorithms: []string{signer.ES256, signer.EdDSA, signer.RS256, signer.HS256},
	})
	if err != nil {
		return nil, nil, err
	}
	svc := login.NewService(st, keys, login.NewLimiter(cfg.FailuresPerMinute), d.usage, login.Config{
		Issuer:   issuer,
		Audience: cfg.Audience,
		TTL:      cfg.TokenTTL,
	})
	// Introspection answers from this node's keys and the store's current
	// state; without a secret there is no endpoint at all.
	var intro *introspect.Service
	if cfg.IntrospectionSecret != "" {
		if intro, err = introspect.New(st, verifier, introspect.Config{Secret: cfg.IntrospectionSecret}); err != nil {
			return nil, nil, err
		}
	}
	// The portal's cookie follows where people reach it (https: Secure
	// and __Host-), which is the issuer unless AUTHO_PUBLIC_URL says.
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = issuer
	}
	if d.outbox, err = d.events(cfg, d.sealer, publicURL); err != nil {
		return nil, nil, err
	}
	// The operator's service: the admin API's, and the expiry sweep's and
	// the leak reports' (autho acting on the platform's behalf).
	d.operator = &admin.Service{Store: st, MaxTokenTTL: cfg.MaxTokenTTL, Log: log, Sealer: d.sealer, WebhookAllowPrivate: cfg.WebhookAllowPrivate,
		Mail: cfg.SMTP != nil}
	d.noticeEvery = cfg.NoticeEvery
	d.sweeper = d.operator
	if cfg.SweepNow != nil {
		d.sweeper = &admin.Service{Store: st, Now: cfg.SweepNow, Log: log, Sealer: d.sealer, Mail: cfg.SMTP != nil}
	}
	if d.portal, err = portal.New(portal.Config{
		PublicURL:       publicURL,
		Location:        cfg.Location,
		MaxActiveTokens: cfg.MaxActiveTokens,
		Contact:         cfg.PortalContact,
		ClientIP:        server.ClientIPFunc(cfg.TrustedProxies),
		Logger:          log,
		Now:             cfg.PortalNow,
	}, &admin.Service{Store: st, Now: cfg.PortalNow, MaxTokenTTL: cfg.MaxTokenTTL, Log: log, Sealer: d.sealer, RequireMFA: cfg.PortalRequireMFA,
		Mail:      cfg.SMTP != nil,
		PublicURL: publicURL,
		// Half the processors at most check passwords, so that a flood of
		// sign-ins leaves the rest to the partner login (bench/run's flood
		// scenario): more at once would only queue for the same cores,
		// holding 19 MiB each.
		Passwords: password.NewPool(runtime.GOMAXPROCS(0) / 2)}); err != nil {
		return nil, nil, err
	}
	// The revocation feed is built before the first request, so that a
	// verifier starting with this node finds a document; a database away
	// at this moment leaves it to the first poll.
	if d.feed, err = revocation.New(st, keys, revocation.Config{Issuer: issuer, Window: revocation.Window(cfg.TokenTTL), Logger: log}); err != nil {
		return nil, nil, err
	}
	if _, err := d.feed.Refresh(context.Background()); err != nil {
		log.Warn("revocation feed not built yet; the next poll tries again", "err", err)
	}
	return server.New(server.Config{
		Issuer:         issuer,
		Algorithm:      cfg.Algorithm,
		Location:       cfg.Location,
		TrustedProxies: cfg.TrustedProxies,
		Logger:         log,
		MetricsOnMain:  metricsOnMain(cfg),
		HSTS:           d.certs != nil,
	}, server.Deps{Login: svc, Keys: keys, Bearer: verifier, State: introspect.NewState(st, nil), DB: st, Introspection: intro, Metrics: metrics, Portal: d.portal,
		SecretScanning: d.secretScanning(cfg), Revocations: d.feed,
		Admin: adminapi.New(adminapi.Config{Service: d.operator, Keys: keys,
			ClientIP: server.ClientIPFunc(cfg.TrustedProxies), FailuresPerMinute: cfg.FailuresPerMinute, Log: log}),
	}), metrics, nil
}

// metricsOnMain says whether /metrics is on the main listener: only when no
// AUTHO_METRICS_ADDR is given and that listener is loopback, since on any
// other a load balancer would publish the metrics with the login.
func metricsOnMain(cfg *Config) bool {
	return cfg.MetricsAddr == "" && config.Loopback(cfg.Addr)
}

// serveMetrics serves /metrics alone on addr, so it can be kept off the
// public listener.
func serveMetrics(addr string, m *server.Metrics) (*server.Serving, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("AUTHO_METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return server.Serve(&http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln), nil
}

// MetricsAddr is the bound address of the metrics listener, "" without one.
func (d *Daemon) MetricsAddr() string {
	if d.metrics == nil {
		return ""
	}
	return d.metrics.Addr()
}

// background starts the loops a node runs besides serving: picking up keys
// rotated elsewhere (and rotating when the current key is due), writing
// last-used times, rebuilding the revocation feed when the store says it
// changed, the portal's own, deliveries and the expiry sweep.
func (d *Daemon) background(ctx context.Context) {
	d.wg.Add(6)
	go func() { defer d.wg.Done(); d.feed.Run(ctx, revocation.DefaultPoll) }()
	go func() { defer d.wg.Done(); d.Keys.Run(ctx, signer.DefaultRefreshInterval) }()
	go func() { defer d.wg.Done(); d.usage.Run(ctx, time.Second) }()
	go func() { defer d.wg.Done(); d.portal.Run(ctx) }()
	go func() { defer d.wg.Done(); d.outbox.Run(ctx) }()
	go func() { defer d.wg.Done(); d.noticeLoop(ctx, d.sweeper) }()
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
func (d *Daemon) reloadOnHangup(ctx context.Context, hup chan os.Signal) {
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

// Close drains in-flight requests, stops the background loops (flushing
// last-used times), and closes the database.
func (d *Daemon) Close(ctx context.Context) error {
	d.closeOnce.Do(func() {
		err := d.Serving.Close(ctx)
		if d.metrics != nil {
			err = errors.Join(err, d.metrics.Close(ctx))
		}
		d.stop()
		d.wg.Wait()
		d.closeErr = errors.Join(err, d.Store.Close())
	})
	return d.closeErr
}
