package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/autho/autho/internal/storetest"
)

// TestMigrate_Revocations: 0013 stamps the users and accounts stopped
// before it (storetest.TestRevocationsBackfill says how).
func TestMigrate_Revocations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autho.db")
	db, exec := schemaAt(t, path, 12)
	exec(storetest.Pre0013SQL)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	storetest.TestRevocationsBackfill(t, mustOpen(t, path))
}

// TestRevocations_Plan: each part of the feed's one statement is a range
// scan of one of 0013's indexes, never a scan of a table: with a million
// tokens, of which a few hundred are revoked, it reads those few hundred.
func TestRevocations_Plan(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "autho.db"))
	rows, err := s.r.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+revocationsSQL, int64(0), int64(0))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(plan, "\n")
	for _, w := range []string{
		"SEARCH api_tokens USING COVERING INDEX api_tokens_revoked (revoked_at>?)",
		"SEARCH users USING COVERING INDEX users_deactivated (deactivated_at>?)",
		"SEARCH accounts USING COVERING INDEX accounts_suspended (suspended_at>?)",
		"SEARCH accounts USING COVERING INDEX accounts_expiry (expires_at>? AND expires_at<?)",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("plan lacks %q; plan:\n%s", w, got)
		}
	}
	if strings.Contains(got, "SCAN ") {
		t.Errorf("plan scans a table:\n%s", got)
	}
}
