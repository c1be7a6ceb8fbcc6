package postgres

import (
	"context"
	"testing"

	"github.com/autho/autho/internal/pgtest"
)

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

// testURL, mustSchema and withSearchPath: see internal/pgtest.
func testURL(tb testing.TB) string { tb.Helper(); return pgtest.URL(tb) }

func mustSchema(tb testing.TB) (schemaURL, schema string) {
	tb.Helper()
	return pgtest.Schema(tb, "autho_test_")
}
