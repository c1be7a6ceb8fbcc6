package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/storetest"
)

// benchUser makes an account with its partner token and one user.
func benchUser(b *testing.B, s *Store) (*autho.Account, *autho.PartnerToken, *autho.User) {
	a, pt := testAccount()
	if err := s.CreateAccount(context.Background(), a, pt); err != nil {
		b.Fatal(err)
	}
	u := &autho.User{ID: secret.NewID("usr"), AccountID: a.ID, Email: secret.Random(8) + "@example.com",
		Role: autho.RoleMember, Active: true, CreatedAt: a.CreatedAt, UpdatedAt: a.CreatedAt}
	if err := s.CreateUser(context.Background(), u); err != nil {
		b.Fatal(err)
	}
	return a, pt, u
}

// benchTokens makes an account, a user and n API tokens, and returns the
// partner token and the API tokens' hashes. A few thousand tokens make a
// lookup an index probe, not a scan of a table that fits in one page.
func benchTokens(b *testing.B, s *Store, n int) (*autho.PartnerToken, [][]byte) {
	ctx := context.Background()
	a, pt, u := benchUser(b, s)
	hashes := make([][]byte, n)
	for i := range hashes {
		tok := secret.New(secret.APIToken)
		t := &autho.APIToken{ID: secret.NewID("tok"), UserID: u.ID, AccountID: a.ID, Name: "bench",
			Hash: secret.Hash(tok), Hint: secret.Hint(tok), Scopes: []string{"orders:read"},
			CreatedAt: a.CreatedAt, ExpiresAt: a.CreatedAt.Add(24 * time.Hour)}
		if err := s.CreateAPIToken(ctx, t); err != nil {
			b.Fatal(err)
		}
		hashes[i] = t.Hash
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return pt, hashes
}

// BenchmarkAPICredential measures the login's hottest lookup under
// concurrency, against a real server: one indexed join per call.
func BenchmarkAPICredential(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	_, hashes := benchTokens(b, s, 2000)
	hash := hashes[1000]
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.APICredential(ctx, hash); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkLoginLookups compares the login's reading as two round trips
// (PartnerCredential, then APICredential) with LoginCredentials, from many
// goroutines at once, over a few thousand tokens.
func BenchmarkLoginLookups(b *testing.B) {
	s := newStore(b)
	pt, hashes := benchTokens(b, s, 2000)
	storetest.BenchmarkLoginLookups(b, s, pt.Hash, hashes)
}

// BenchmarkRecordTokenUse: storetest.BenchmarkRecordTokenUse over 20,000
// tokens.
func BenchmarkRecordTokenUse(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	a, _, u := benchUser(b, s)
	// Seeded in one statement: 20,000 calls of CreateAPIToken would take
	// longer than the benchmark.
	if _, err := s.pool.Exec(ctx, `INSERT INTO api_tokens (id, user_id, account_id, name, hash, hint, scopes,
		created_at, expires_at, last_used_ip)
		SELECT 'tok_' || md5(i::text), $1, $2, 'bench', md5('h' || i), 'h', '', 0, 1, ''
		FROM generate_series(1, 20000) i`, u.ID, a.ID); err != nil {
		b.Fatal(err)
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM api_tokens`)
	if err != nil {
		b.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	storetest.BenchmarkRecordTokenUse(b, s, ids)
}

// BenchmarkRevocations: storetest.BenchmarkRevocations over 100,000 tokens
// of which 10,000 are revoked (a feed that long is a large operator's),
// with 20 of 100 users deactivated and 10 of 11 accounts suspended.
func BenchmarkRevocations(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	a, _, u := benchUser(b, s)
	now := time.Now()
	at := micros(now.Add(-time.Minute))
	for range 10 {
		benchUser(b, s)
	}
	// Seeded in statements of their own: 100,000 calls would take longer
	// than the benchmark.
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO api_tokens (id, user_id, account_id, name, hash, hint, scopes, created_at, expires_at, last_used_ip, revoked_at)
			SELECT 'tok_' || md5(i::text), $1, $2, 'bench', md5('h' || i), 'h', '', $3, $4, '', CASE WHEN i % 10 = 0 THEN $3::bigint END
			FROM generate_series(1, 100000) i`, []any{u.ID, a.ID, at, micros(now.Add(time.Hour))}},
		{`INSERT INTO users (id, account_id, email, email_key, password_hash, role, active, created_at, updated_at, deactivated_at)
			SELECT 'usr_' || md5(i::text), $1, i || '@example.com', i || '@example.com', '', 'member', 0, $2, $2, CASE WHEN i <= 20 THEN $2::bigint END
			FROM generate_series(1, 89) i`, []any{a.ID, at}},
		{`UPDATE accounts SET status = 'suspended', suspended_at = $2 WHERE id <> $1`, []any{a.ID, at}},
		{`VACUUM ANALYZE`, nil}, // as autovacuum leaves it: the visibility map set, for index-only scans
	} {
		if _, err := s.pool.Exec(ctx, q.sql, q.args...); err != nil {
			b.Fatal(err)
		}
	}
	storetest.BenchmarkRevocations(b, s, now.Add(-time.Hour), now, 10_000+20+10)
}
