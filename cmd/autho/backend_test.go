package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/postgres"
	"github.com/autho/autho/internal/secret"
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

// forEachBackend runs f as a subtest per backend. The PostgreSQL one skips
// without AUTHO_TEST_POSTGRES (and fails under CI), like every PostgreSQL
// test.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range []backend{backendSQLite, backendPostgres} {
		t.Run(string(b), func(t *testing.T) { f(t, b) })
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
	if isPostgres(db) {
		return postgres.Open(context.Background(), db, postgres.Options{})
	}
	return sqlite.Open(db)
}

// pgTestURL is the PostgreSQL server the tests use, from
// AUTHO_TEST_POSTGRES. Without it PostgreSQL tests skip, so that `go test
// ./...` works anywhere; with CI set (as every CI service does) they fail
// instead, so that a broken CI set-up cannot pass by skipping.
func pgTestURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("AUTHO_TEST_POSTGRES")
	if u == "" {
		pgTestSkip(tb, "AUTHO_TEST_POSTGRES not set: set it to a PostgreSQL URL to run the PostgreSQL tests, e.g. "+
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return u
}

// pgTestSkip skips a PostgreSQL test for why, or fails it under CI.
func pgTestSkip(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatal(why + " (CI must not skip)")
	}
	tb.Skip(why)
}

// pgTestSchema makes an empty schema of its own for one test on the
// AUTHO_TEST_POSTGRES server, so that tests leave nothing behind and never
// see each other's rows, and returns a URL whose search_path selects it.
// The schema is dropped when the test ends, after everything registered
// later (daemons, processes, store handles) has been closed.
func pgTestSchema(tb testing.TB) (schemaURL, schema string) {
	tb.Helper()
	base := pgTestURL(tb)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// autho takes only the URL form, so the tests need it too.
		tb.Fatalf("AUTHO_TEST_POSTGRES must be a postgres:// URL")
	}
	schema = "autho_cmd_" + strings.ToLower(secret.Random(12))
	pgTestExec(tb, base, `CREATE SCHEMA `+schema)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}

// pgTestExec runs one statement on its own short-lived connection.
func pgTestExec(tb testing.TB, conn, sql string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, conn)
	if err != nil {
		tb.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// pgTestMasterKey is a fresh AUTHO_MASTER_KEY: a PostgreSQL deployment must
// be given one, and every node of one database must share it.
func pgTestMasterKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
