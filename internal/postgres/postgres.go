// Package postgres is the PostgreSQL implementation of autho.Store, on a pgx
// connection pool, for deployments where several autho nodes share one
// database.
//
// Two things shape the code. First, a login must never hang on a database
// that is down: every call acquires its connection within
// Options.AcquireTimeout and finishes within Options.QueryTimeout, and a
// failure to reach the server comes back wrapping autho.ErrUnavailable so
// that the server can answer 503 instead of 500. Second, several nodes write
// the same rows: read-modify-write updates lock the row (SELECT … FOR
// UPDATE) for the length of their transaction, and operations that must
// leave exactly one "current" row (partner token rotation, signing keys)
// or must not pass a cap (a user's active API tokens) serialise on a lock
// before they look.
//
// The schema is internal/migrations' PostgreSQL one: the common files and
// the .postgres.sql side of each pair, so last use stays in api_tokens. Its
// columns use that package's encodings (codec.go). What this store and the
// SQLite one must agree on is the Store contract, which internal/storetest
// holds them to; neither reads the other's database.
package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/dbmetrics"
)

// Options tunes the connection pool. The zero value is usable.
type Options struct {
	// MaxConns caps the pool; 0 means a pool_max_conns given in the URL, or
	// else 10.
	MaxConns int32
	// MinConns connections are kept open, so that the first logins after a
	// quiet period do not pay for a connection handshake.
	MinConns int32
	// AcquireTimeout bounds the wait for a connection, which includes
	// dialling a new one; 0 means 2s. It is the time a caller waits to learn
	// that the database is unreachable.
	AcquireTimeout time.Duration
	// QueryTimeout bounds a whole call, acquisition included, so that a
	// server that stops answering mid-query cannot hold a request forever;
	// 0 means 10s. Migrate is exempt: a migration may legitimately be slow.
	QueryTimeout time.Duration
}

const (
	defaultMaxConns       = 10
	defaultAcquireTimeout = 2 * time.Second
	defaultQueryTimeout   = 10 * time.Second
)

// Store is an autho.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	opt  Options
}

var _ autho.Store = (*Store)(nil)

// Open prepares a pool for the database at url (a postgres:// URL or a
// key=value connection string). It does not connect: the pool dials on
// first use, so a node can start while the database is briefly down, and
// calls fail with autho.ErrUnavailable until it is back. Parameters the pool
// does not know, such as search_path, are set on every connection.
func Open(ctx context.Context, url string, opt Options) (*Store, error) {
	if opt.AcquireTimeout <= 0 {
		opt.AcquireTimeout = defaultAcquireTimeout
	}
	if opt.QueryTimeout <= 0 {
		opt.QueryTimeout = defaultQueryTimeout
	}
	if opt.QueryTimeout < opt.AcquireTimeout {
		opt.QueryTimeout = opt.AcquireTimeout
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors quote the connection string and redact its
		// password only on a best-effort basis, so none of it is repeated.
		return nil, errors.New("postgres: malformed database URL (not shown: it may hold a password)")
	}
	switch {
	case opt.MaxConns > 0:
		cfg.MaxConns = opt.MaxConns
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = defaultMaxConns
	}
	if opt.MinConns > 0 {
		cfg.MinConns = min(opt.MinConns, cfg.MaxConns)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// Acquire gives up at AcquireTimeout, but the pool keeps dialling
		// in the background; this stops those dials from piling up against
		// a blackholed address.
		cfg.ConnConfig.ConnectTimeout = opt.AcquireTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "autho"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, errors.New("postgres: cannot create connection pool: invalid configuration")
	}
	return &Store{pool: pool, opt: opt}, nil
}

// Close closes every connection of the pool; calls after it fail with
// autho.ErrUnavailable.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Stat reports the pool's state.
func (s *Store) Stat() *pgxpool.Stat { return s.pool.Stat() }

// Collectors export the pool's state, for /metrics.
func (s *Store) Collectors() []prometheus.Collector {
	return dbmetrics.Pool{Name: "postgres", HasMax: true, Acquiring: true, Stat: func() dbmetrics.Stat {
		st := s.pool.Stat()
		return dbmetrics.Stat{Open: int(st.TotalConns()), InUse: int(st.AcquiredConns()), Max: int(st.MaxConns()),
			Waits: st.EmptyAcquireCount(), WaitTime: st.AcquireDuration()}
	}}.Collectors()
}

// Ping reports whether the database can be reached.
func (s *Store) Ping(ctx context.Context) error {
	return s.runIdempotent(ctx, "ping", func(ctx context.Context, c *pgxpool.Conn) error {
		return c.Ping(ctx)
	})
}

// run calls f with a connection, within the call's time bounds, and
// translates whatever goes wrong into the Store's errors.
func (s *Store) run(ctx context.Context, op string, f func(context.Context, *pgxpool.Conn) error) error {
	cctx, cancel := context.WithTimeout(ctx, s.opt.QueryTimeout)
	defer cancel()
	_, err := s.attempt(cctx, f)
	if err != nil {
		return translate(ctx, op, err)
	}
	return nil
}

// runIdempotent is run for calls that may safely run twice. After a database
// restart or failover every pooled connection is dead, but the pool learns
// that only by using them: the first call to find a dead one resets the
// pool, and such a call gets one more try on a fresh connection instead of
// failing a login for a connection that was gone before it began.
func (s *Store) runIdempotent(ctx context.Context, op string, f func(context.Context, *pgxpool.Conn) error) error {
	cctx, cancel := context.WithTimeout(ctx, s.opt.QueryTimeout)
	defer cancel()
	broken, err := s.attempt(cctx, f)
	if err != nil && broken && cctx.Err() == nil {
		_, err = s.attempt(cctx, f)
	}
	if err != nil {
		return translate(ctx, op, err)
	}
	return nil
}

// attempt runs f on one pooled connection; broken reports that f failed
// because that connection died, in which case the others are likely dead
// too, and the pool is reset (connections in use close on release). A
// connection that pgx closed because ctx ended is not a sign of that: a
// caller who hangs up must not cost every other caller its connection.
func (s *Store) attempt(ctx context.Context, f func(context.Context, *pgxpool.Conn) error) (broken bool, err error) {
	c, err := s.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer c.Release()
	if err = f(ctx, c); err != nil && ctx.Err() == nil && c.Conn().IsClosed() {
		s.pool.Reset()
		return true, err
	}
	return false, err
}

// inTx calls f in a transaction on a connection from run, and commits if f
// succeeds.
func (s *Store) inTx(ctx context.Context, op string, f func(context.Context, pgx.Tx) error) error {
	return s.run(ctx, op, func(ctx context.Context, c *pgxpool.Conn) error {
		return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error { return f(ctx, tx) })
	})
}

func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, s.opt.AcquireTimeout)
	defer cancel()
	return s.pool.Acquire(actx)
}

// fnError carries an update callback's error through the transaction
// helpers, so that it reaches the caller as is, untranslated.
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }
