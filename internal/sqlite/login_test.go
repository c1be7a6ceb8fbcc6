package sqlite

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
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

// BenchmarkRecordTokenUse is the last-used flush of one busy second: 5,000
// tokens used, written in one call. ns/op is per use.
func BenchmarkRecordTokenUse(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "autho.db"))
	ctx := context.Background()
	seedTokens(b, s, 100, 20_000)
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM api_tokens`)
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	// Logins come in any order; the query above returns ids sorted.
	rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	const batch = 5000
	uses := make([]autho.TokenUse, batch)
	at := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		at = at.Add(time.Second)
		for j := range uses {
			uses[j] = autho.TokenUse{TokenID: ids[(i+j)%len(ids)], At: at, IP: "192.0.2.1"}
		}
		n := min(batch, b.N-i)
		if err := s.RecordTokenUse(ctx, uses[:n]); err != nil {
			b.Fatal(err)
		}
	}
}
