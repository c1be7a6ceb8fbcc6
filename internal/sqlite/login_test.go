package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/autho/autho/internal/storetest"
)

// TestLoginCredentials_Plan: every lookup of the login's one statement reads
// one covering index and no table. Its agreement with PartnerCredential and
// APICredential is in internal/storetest, for every backend.
func TestLoginCredentials_Plan(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "autho.db"))
	rows, err := s.r.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+loginCredentialsSQL, "00", "00")
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
	want := []string{
		"SEARCH t USING COVERING INDEX api_tokens_login (hash=?)",
		"SEARCH u USING COVERING INDEX users_login (id=?)",
		"SEARCH p USING COVERING INDEX partner_tokens_login (hash=?)",
		"SEARCH a USING COVERING INDEX accounts_login (id=?)",
	}
	got := strings.Join(plan, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("plan lacks %q; plan:\n%s", w, got)
		}
	}
}

// BenchmarkLoginLookups compares the login's reading as two statements
// (PartnerCredential, then APICredential) with LoginCredentials, from many
// goroutines at once, over 10,000 tokens.
func BenchmarkLoginLookups(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "autho.db"))
	hashes := seedTokens(b, s, 100, 10_000)
	_, pt := seedAccount(b, s)
	// seedTokens made its own account; the pairing does not matter here,
	// only that both hashes exist.
	storetest.BenchmarkLoginLookups(b, s, pt.Hash, hashes)
}

// BenchmarkRecordTokenUse: storetest.BenchmarkRecordTokenUse over 20,000
// tokens.
func BenchmarkRecordTokenUse(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "autho.db"))
	seedTokens(b, s, 100, 20_000)
	storetest.BenchmarkRecordTokenUse(b, s, tokenIDs(b, s))
}
