package postgres

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/autho/autho/internal/secret"
)

// testURL is the database the tests use, from AUTHO_TEST_POSTGRES. Without
// it the tests skip, so that `go test ./...` works on a laptop; on CI (CI
// set, as every CI service does) a missing database fails instead, so that a
// broken CI setup cannot pass by skipping.
func testURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("AUTHO_TEST_POSTGRES")
	if u == "" {
		const why = "AUTHO_TEST_POSTGRES not set: set it to a PostgreSQL URL to run these tests, e.g. " +
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		if os.Getenv("CI") != "" {
			tb.Fatal(why + " (CI must not skip)")
		}
		tb.Skip(why)
	}
	return u
}

// mustSchema creates an empty schema of its own for one test, so tests can
// run in parallel on one database and leave nothing behind, and returns
// the URL of the test database with search_path set to it.
func mustSchema(tb testing.TB) (schemaURL, schema string) {
	tb.Helper()
	base := testURL(tb)
	schema = "autho_test_" + strings.ToLower(secret.Random(12))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to AUTHO_TEST_POSTGRES: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(tb, base, schema), schema
}

// withSearchPath adds search_path to a connection string in either of the
// forms pgx accepts.
func withSearchPath(tb testing.TB, conn, schema string) string {
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

// mustOpen opens a Store on u and closes it when the test ends; the
// schema's own cleanup, registered earlier, runs after it.
func mustOpen(tb testing.TB, u string, opt Options) *Store {
	tb.Helper()
	s, err := Open(context.Background(), u, opt)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// newStore is an empty, migrated Store in a schema of its own.
func newStore(tb testing.TB) *Store {
	tb.Helper()
	u, _ := mustSchema(tb)
	s := mustOpen(tb, u, Options{})
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}
