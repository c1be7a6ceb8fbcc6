package postgres

import (
	"testing"

	"github.com/autho/autho/internal/migrations"
	"github.com/autho/autho/internal/storetest"
)

// TestMigrate_Revocations: 0013 stamps the users and accounts stopped
// before it (storetest.TestRevocationsBackfill says how).
func TestMigrate_Revocations(t *testing.T) {
	u, _ := mustSchema(t)
	c := mustConn(t, u)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := c.Exec(t.Context(), q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`)
	for _, m := range migrations.All(migrations.Postgres)[:12] {
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations VALUES ($1, 0)`, m.Version)
	}
	exec(storetest.Pre0013SQL)
	s := mustOpen(t, u, Options{})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	storetest.TestRevocationsBackfill(t, s)
}
