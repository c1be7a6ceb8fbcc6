// Package sqlite is the autho.Store on a single SQLite file, through the pure-Go
// driver modernc.org/sqlite, so the server stays one static binary.
//
// A Store holds two connection pools on the same file. Every write goes
// through a pool of exactly one connection whose transactions begin
// IMMEDIATE: the write lock is taken before the first read, so a
// read-modify-write never has to upgrade a read lock (which in WAL mode fails
// at once with SQLITE_BUSY instead of waiting), and writers queue on
// busy_timeout rather than deadlock, within this process and across
// processes (the CLI may run while "autho serve" does). Reads go through a
// separate pool that WAL lets run beside the writer; its connections are
// query_only, so a write sent there by mistake fails instead of slipping past
// the writer's ordering.
//
// Driver errors are translated here, by result code: unique and primary-key
// violations become autho.ErrConflict, foreign-key violations (a user for an
// unknown account, a token for an unknown user, a partner token for an unknown
// account) become autho.ErrNotFound, since what is missing is the referenced
// row, and failures to reach the file become autho.ErrUnavailable.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/autho/autho"
	"github.com/autho/autho/internal/dbmetrics"
)

var _ autho.Store = (*Store)(nil)

// Store is an autho.Store on one SQLite file. It is safe for concurrent use,
// and several Stores, in one process or several, may share a file.
type Store struct {
	w *sql.DB // one connection; BEGIN IMMEDIATE
	r *sql.DB // read pool, query_only

	// PartnerCredential's and APICredential's lookups, and the flush,
	// are prepared once, on first use: before Migrate the tables they
	// read may not exist yet.
	partnerCred lazyStmt
	apiCred     lazyStmt
	recordUse   lazyStmt // a whole chunk of RecordTokenUse, on the writer

	login *loginPool // the login's one statement, beside database/sql (loginconn.go)
}

// Open opens (creating if need be) the SQLite database at path. It does not
// migrate; call Migrate before use.
func Open(path string) (*Store, error) {
	createPrivate(path)
	return open(path, url.Values{})
}

// OpenReadOnly opens the SQLite database at path, which must exist, for
// reading only: every write fails, and a file this process may not write
// (mode 0444, another owner, a read-only mount) can still be read.
func OpenReadOnly(path string) (*Store, error) {
	return open(path, url.Values{"mode": {"ro"}})
}

// open opens both pools on path with the SQLite URI parameters q.
func open(path string, q url.Values) (*Store, error) {
	wq, rq := url.Values{"_txlock": {"immediate"}}, url.Values{"_pragma": {"query_only(1)", "cache_size(-1024)"}}
	maps.Copy(wq, q)
	maps.Copy(rq, q)
	w, err := sql.Open("sqlite", dsn(path, wq))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	// Readers keep a 1 MiB page cache (SQLite's default is 2 MiB): the hot
	// pages, small tables and the upper levels of the hash indexes, fit in
	// it, and a login's leaf pages are random, so a larger cache misses as
	// often: less memory for the same CPU per login (bench/RESULTS.md).
	r, err := sql.Open("sqlite", dsn(path, rq))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)

	s := &Store{w: w, r: r, login: newLoginPool(path)}
	s.partnerCred.query = partnerCredentialSQL
	s.apiCred.query = apiCredentialSQL
	s.recordUse.query = buildUseSQL(useChunk)

	// sql.Open connects lazily; connect both now so that a path that cannot
	// be opened fails here, at start, and not on the first login.
	ctx := context.Background()
	for _, db := range []*sql.DB{w, r} {
		if err := db.PingContext(ctx); err != nil {
			s.Close()
			return nil, wrap("open", err)
		}
	}
	return s, nil
}

// createPrivate creates path, empty, readable and writable by its owner
// only, unless it exists. The database holds password hashes and sealed
// keys; SQLite would create it 0644 (less the umask), and it gives the -wal,
// -shm and -journal files it makes the mode of the database file. To SQLite
// an empty file is a new database. A path that cannot be created is left
// for SQLite to refuse, in its own terms (autho.ErrUnavailable).
func createPrivate(path string) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	// Past a umask that takes bits from the owner too.
	f.Chmod(0o600)
}

// dsn makes a file: URI, so that any path (with '?', '#' or '%' in it)
// reaches SQLite intact; the driver reads the _-prefixed parameters and
// SQLite ignores them. The driver runs the pragmas on every new connection
// of the pool.
//
// synchronous=FULL because an acknowledged revocation or suspension must
// survive a power loss; in WAL mode NORMAL may lose the last commits.
// busy_timeout lets a writer wait for another process's write lock instead of
// failing at once.
func dsn(path string, q url.Values) string {
	q["_pragma"] = append(q["_pragma"], "busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)")
	u := url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}
	return u.String()
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.partnerCred.close(), s.apiCred.close(), s.recordUse.close(), s.login.close(), s.r.Close(), s.w.Close())
}

// Ping reads the schema table, which touches the file; a bare ping of an
// already-open connection would not notice a vanished disk.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&n); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// tx runs fn in one write transaction (BEGIN IMMEDIATE, on the writer) and
// commits if fn returns nil. fn's error comes back as is.
func (s *Store) tx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return wrap(op, err)
	}
	return nil
}

// uncancelable drops ctx's cancellation (keeping its values) for the
// last-used flush. Given a cancelable context, database/sql and the driver
// each start a goroutine per statement to watch it; the flush takes
// milliseconds and waits no longer than busy_timeout, so the watch costs
// more than it could save. (The login's read does not pass through
// database/sql at all: loginconn.go.)
func uncancelable(ctx context.Context) context.Context {
	if ctx.Done() == nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// lazyStmt is a statement prepared on the read pool on first use and kept;
// database/sql re-prepares it on each pool connection as needed.
type lazyStmt struct {
	query string
	mu    sync.Mutex
	p     atomic.Pointer[sql.Stmt]
}

func (l *lazyStmt) get(ctx context.Context, db *sql.DB) (*sql.Stmt, error) {
	if st := l.p.Load(); st != nil {
		return st, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.p.Load(); st != nil {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, l.query)
	if err != nil {
		return nil, err
	}
	l.p.Store(st)
	return st, nil
}

func (l *lazyStmt) close() error {
	if st := l.p.Swap(nil); st != nil {
		return st.Close()
	}
	return nil
}

// Collectors export the read and the write pool's state, for /metrics.
func (s *Store) Collectors() []prometheus.Collector {
	var cs []prometheus.Collector
	for _, p := range []struct {
		name string
		db   *sql.DB
	}{{"sqlite_read", s.r}, {"sqlite_write", s.w}} {
		cs = append(cs, dbmetrics.Pool{Name: p.name, Stat: func() dbmetrics.Stat {
			st := p.db.Stats()
			return dbmetrics.Stat{Open: st.OpenConnections, InUse: st.InUse, Waits: st.WaitCount, WaitTime: st.WaitDuration}
		}}.Collectors()...)
	}
	return cs
}
