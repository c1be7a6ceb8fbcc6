// Package pgtest gives tests a PostgreSQL schema of their own on the server
// named by AUTHO_TEST_POSTGRES, so that tests can share one database, never
// see each other's rows, and leave nothing behind.
//
// Without the variable a test skips, so that `go test ./...` works anywhere;
// with CI set (as every CI service, and .ci/run, does) it fails instead, so
// that a broken CI set-up cannot pass by skipping.
package pgtest

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/testskip"
)

// URL is the server the tests use, from AUTHO_TEST_POSTGRES.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("AUTHO_TEST_POSTGRES")
	if u == "" {
		Skip(tb, "AUTHO_TEST_POSTGRES not set: set it to a PostgreSQL URL to run the PostgreSQL tests, e.g. "+
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return u
}

// Skip skips a PostgreSQL test for why, or fails it under CI; a package
// whose TestMain is testskip.Main counts it in its closing line.
func Skip(tb testing.TB, why string) {
	tb.Helper()
	testskip.Skip(tb, testskip.Postgres, why)
}

// Schema creates an empty schema named prefix + random characters, drops it
// when the test ends (after everything registered later has been closed),
// and returns the server's URL with search_path selecting it.
func Schema(tb testing.TB, prefix string) (schemaURL, schema string) {
	tb.Helper()
	base := URL(tb)
	schema = prefix + strings.ToLower(secret.Random(12))
	Exec(tb, base, `CREATE SCHEMA `+schema)
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
	return WithSearchPath(tb, base, schema), schema
}

// Exec runs one statement on its own short-lived connection.
func Exec(tb testing.TB, conn, sql string, args ...any) {
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

// WithSearchPath adds search_path to a connection string in either of the
// forms pgx accepts.
func WithSearchPath(tb testing.TB, conn, schema string) string {
	tb.Helper()
	if !strings.HasPrefix(conn, "postgres://") && !strings.HasPrefix(conn, "postgresql://") {
		return conn + " search_path=" + schema
	}
	u, err := url.Parse(conn)
	if err != nil {
		tb.Fatalf("AUTHO_TEST_POSTGRES is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
