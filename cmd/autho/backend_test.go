package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/database"
	"github.com/autho/autho/internal/pgtest"
	"github.com/autho/autho/internal/postgres"
	"github.com/autho/autho/internal/sqlite"
)

// backend is a kind of database the daemon can run on. The contract tests
// that matter most for a multi-node deployment run once per backend, so a
// difference between the two stores shows up as a failing contract, not
// only as a failing store test.
type backend string

const (
	backendSQLite   backend = "sqlite"
	backendPostgres backend = "postgres"
)

// forEachBackend runs f as a subtest per backend, the two at once: each
// has its own servers and database, and most of a black-box test's time
// is spent waiting (for commits, polls, timers), which the other backend's
// half fills. The PostgreSQL one skips without AUTHO_TEST_POSTGRES (and
// fails under CI), like every PostgreSQL test. f must not call t.Parallel.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range []backend{backendSQLite, backendPostgres} {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// startServerOn is startServer on the given backend: a SQLite file of its
// own, or a PostgreSQL schema of its own, dropped when the test ends.
func startServerOn(t *testing.T, b backend, env map[string]string) *testServer {
	t.Helper()
	if b == backendSQLite {
		return startServer(t, env)
	}
	db, _ := pgTestSchema(t)
	full := map[string]string{"AUTHO_MASTER_KEY": pgTestMasterKey()}
	for k, v := range env {
		full[k] = v
	}
	return startServerAt(t, db, full)
}

// openTestStore opens a second handle on a test database of either kind,
// without migrating it: the daemon has done that.
func openTestStore(db string) (autho.Store, error) {
	if database.IsPostgres(db) {
		return postgres.Open(context.Background(), db, postgres.Options{})
	}
	return sqlite.Open(db)
}

// pgTestMasterKey is a fresh AUTHO_MASTER_KEY: a PostgreSQL deployment must
// be given one, and every node of one database must share it.
func pgTestMasterKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// The PostgreSQL test helpers live in internal/pgtest.
func pgTestURL(tb testing.TB) string { tb.Helper(); return pgtest.URL(tb) }

func pgTestSkip(tb testing.TB, why string) { tb.Helper(); pgtest.Skip(tb, why) }

// pgTestSchema is a schema of this test's own; autho takes only the URL
// form of a PostgreSQL address, so the tests insist on it too.
func pgTestSchema(tb testing.TB) (schemaURL, schema string) {
	tb.Helper()
	if u, err := url.Parse(pgTestURL(tb)); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("AUTHO_TEST_POSTGRES must be a postgres:// URL")
	}
	return pgtest.Schema(tb, "autho_cmd_")
}
