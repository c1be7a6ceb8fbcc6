package sqlite

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"time"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/autho/autho"
)

// loginPool is the login's read: loginCredentialsSQL on a few connections
// of its own, through SQLite's C API as modernc.org/sqlite/lib exposes it
// rather than through database/sql and the driver, whose per-query
// bookkeeping was about a third of a login's database time
// (bench/RESULTS.md).
// read and close are all the rest of the package uses of it; the C API
// stays behind them, in this file. Every other read stays on the
// database/sql pool.
//
// The statement is prepared once per connection. The connections are
// opened lazily (the statement's tables exist only after Migrate) and each
// is used by one goroutine at a time, so SQLite's per-connection mutex is
// off (SQLITE_OPEN_NOMUTEX). They are query_only, like the read pool.
type loginPool struct {
	path string
	free chan *loginConn
	done chan struct{} // closed by close: a waiting get gives up

	mu     sync.Mutex
	opened int
	closed bool
}

var errPoolClosed = errors.New("sqlite: store closed")

// newLoginPool makes a pool of one connection per processor (at least
// two): a login holds one for microseconds without blocking, so more would
// only add page caches (bench/RESULTS.md).
func newLoginPool(path string) *loginPool {
	return &loginPool{path: path, free: make(chan *loginConn, max(2, runtime.GOMAXPROCS(0))), done: make(chan struct{})}
}

// read runs the statement on an idle connection: the record, or
// autho.ErrNotFound when no partner token has partnerHash. Other errors are
// the connection's, for wrap to translate.
func (p *loginPool) read(partnerHash, apiHash []byte) (*autho.LoginRecord, error) {
	c, err := p.get()
	if err != nil {
		return nil, err
	}
	rec, err := c.query(partnerHash, apiHash)
	p.put(c)
	return rec, err
}

// get returns an idle connection, opens one if fewer than the pool's size
// exist, or waits for one.
func (p *loginPool) get() (*loginConn, error) {
	select {
	case c := <-p.free:
		return c, nil
	default:
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errPoolClosed
	}
	if p.opened < cap(p.free) {
		p.opened++
		p.mu.Unlock()
		c, err := openLoginConn(p.path)
		if err != nil {
			p.mu.Lock()
			p.opened--
			p.mu.Unlock()
		}
		return c, err
	}
	p.mu.Unlock()
	select {
	case c := <-p.free:
		return c, nil
	case <-p.done:
		return nil, errPoolClosed
	}
}

func (p *loginPool) put(c *loginConn) { p.free <- c }

// close waits for every connection to come back (a login holds one for
// microseconds) and closes them.
func (p *loginPool) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	n := p.opened
	p.opened = 0
	p.mu.Unlock()
	var errs []error
	for range n {
		errs = append(errs, (<-p.free).close())
	}
	return errors.Join(errs...)
}

// Sizes of what loginConn keeps in C memory. A hash is a SHA-256, 32 bytes
// (64 hex digits for the partner token, the form partner_tokens stores);
// anything longer cannot match a stored hash.
const (
	hashLen   = 32
	argBufLen = 2*hashLen + hashLen
)

// loginConn is one connection with the statement prepared on it. All its
// memory (the handles, the argument buffer) is SQLite's or libc's, never
// Go's, so nothing Go owns is ever handed to the C code.
type loginConn struct {
	tls  *libc.TLS
	db   uintptr
	stmt uintptr
	args uintptr // argBufLen bytes: the partner hash in hex, then the API hash
}

func openLoginConn(path string) (_ *loginConn, err error) {
	c := &loginConn{tls: libc.NewTLS()}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	u := url.URL{Scheme: "file", OmitHost: true, Path: path}
	name, err := libc.CString(u.String())
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, name)
	out := libc.Xmalloc(c.tls, 8)
	if out == 0 {
		return nil, errors.New("sqlite: out of memory")
	}
	defer libc.Xfree(c.tls, out)

	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, out,
		sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_URI|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	c.db = readPtr(out)
	if rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	if rc := sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, 10000); rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	// The read pool's settings (Open): query_only, a 1 MiB page cache.
	if err := c.exec("PRAGMA query_only = 1; PRAGMA cache_size = -1024"); err != nil {
		return nil, err
	}
	query, err := libc.CString(loginCredentialsSQL)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, query)
	if rc := sqlite3.Xsqlite3_prepare_v3(c.tls, c.db, query, -1, sqlite3.SQLITE_PREPARE_PERSISTENT, out, 0); rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	c.stmt = readPtr(out)
	if c.args = libc.Xmalloc(c.tls, argBufLen); c.args == 0 {
		return nil, errors.New("sqlite: out of memory")
	}
	return c, nil
}

// readPtr reads the pointer an out-parameter received (a uintptr is as
// wide as an int on every Go platform).
func readPtr(p uintptr) uintptr {
	b := libc.GoBytes(p, strconv.IntSize/8)
	if strconv.IntSize == 32 {
		return uintptr(binary.NativeEndian.Uint32(b))
	}
	return uintptr(binary.NativeEndian.Uint64(b))
}

func (c *loginConn) exec(q string) error {
	s, err := libc.CString(q)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, s)
	if rc := sqlite3.Xsqlite3_exec(c.tls, c.db, s, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return c.err(rc)
	}
	return nil
}

// query runs the statement and reads its row into a record. No partner
// token with the hash is autho.ErrNotFound; no API token with its hash, a
// record without a Token (the LEFT JOIN's NULLs). The read transaction ends
// before it returns.
func (c *loginConn) query(partnerHash, apiHash []byte) (*autho.LoginRecord, error) {
	if len(partnerHash) > hashLen {
		return nil, autho.ErrNotFound
	}
	if len(apiHash) > hashLen {
		apiHash = nil // no stored hash is longer: bound empty, it matches nothing
	}
	buf := libc.GoBytes(c.args, argBufLen)
	pn := hex.Encode(buf, partnerHash)
	an := copy(buf[2*hashLen:], apiHash)

	t, st := c.tls, c.stmt
	defer sqlite3.Xsqlite3_reset(t, st)
	// SQLITE_STATIC (0): the buffer outlives the statement's use of it.
	if rc := sqlite3.Xsqlite3_bind_text(t, st, 1, c.args, int32(pn), 0); rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	if rc := sqlite3.Xsqlite3_bind_int64(t, st, 2, loginKey(apiHash)); rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	if rc := sqlite3.Xsqlite3_bind_blob(t, st, 3, c.args+2*hashLen, int32(an), 0); rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	switch rc := sqlite3.Xsqlite3_step(t, st); rc {
	case sqlite3.SQLITE_ROW:
	case sqlite3.SQLITE_DONE:
		return nil, autho.ErrNotFound
	default:
		return nil, c.err(rc)
	}
	rec := &autho.LoginRecord{PartnerTokenEnds: c.time(0), Account: autho.LoginAccount{
		ID: c.text(1), Status: autho.AccountStatus(c.text(2)), ExpiresAt: c.time(3)}}
	if sqlite3.Xsqlite3_column_type(t, st, 4) == sqlite3.SQLITE_NULL {
		return rec, nil
	}
	rec.Token = &autho.LoginToken{
		ID:         c.text(4),
		UserID:     c.text(5),
		AccountID:  c.text(6),
		Scopes:     splitScopes(c.text(7)),
		ExpiresAt:  c.time(8),
		RevokedAt:  c.time(9),
		UserActive: c.int(10) != 0,
	}
	return rec, nil
}

func (c *loginConn) int(i int32) int64 {
	return sqlite3.Xsqlite3_column_int64(c.tls, c.stmt, i)
}

// time reads a column of Unix microseconds; NULL is the zero time.
func (c *loginConn) time(i int32) time.Time {
	if sqlite3.Xsqlite3_column_type(c.tls, c.stmt, i) == sqlite3.SQLITE_NULL {
		return time.Time{}
	}
	return fromMicros(c.int(i))
}

// text copies a TEXT column into a Go string.
func (c *loginConn) text(i int32) string {
	p := sqlite3.Xsqlite3_column_text(c.tls, c.stmt, i)
	n := sqlite3.Xsqlite3_column_bytes(c.tls, c.stmt, i)
	if p == 0 || n == 0 {
		return ""
	}
	return string(libc.GoBytes(p, int(n)))
}

// err is the connection's last error, with its extended result code, for
// wrap to translate.
func (c *loginConn) err(rc int32) error {
	if c.db == 0 {
		return &resultError{code: int(rc), msg: "cannot open database"}
	}
	return &resultError{code: int(sqlite3.Xsqlite3_extended_errcode(c.tls, c.db)),
		msg: libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))}
}

func (c *loginConn) close() error {
	var err error
	if c.stmt != 0 {
		sqlite3.Xsqlite3_finalize(c.tls, c.stmt)
	}
	if c.db != 0 {
		if rc := sqlite3.Xsqlite3_close_v2(c.tls, c.db); rc != sqlite3.SQLITE_OK {
			err = c.err(rc)
		}
	}
	if c.args != 0 {
		libc.Xfree(c.tls, c.args)
	}
	c.tls.Close()
	return err
}

// resultError is an SQLite result code and message from loginConn; it has
// the Code method wrap reads, like the driver's own error.
type resultError struct {
	code int
	msg  string
}

func (e *resultError) Error() string { return fmt.Sprintf("%s (%d)", e.msg, e.code) }
func (e *resultError) Code() int     { return e.code }

var _ interface{ Code() int } = (*resultError)(nil)
