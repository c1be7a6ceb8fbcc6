package sqlite

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autho/autho/internal/storetest"
)

// BenchmarkAPICredential is the login's hot read, from many goroutines at
// once as under load.
func BenchmarkAPICredential(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "autho.db"))
	ctx := context.Background()
	hashes := seedTokens(b, s, 100, 10_000)
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h := hashes[next.Add(1)%uint64(len(hashes))]
			if _, err := s.APICredential(ctx, h); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRevocations: storetest.BenchmarkRevocations over 100,000 tokens
// of which 10,000 are revoked (a feed that long is a large operator's),
// with 20 of 100 users deactivated and 10 of 11 accounts suspended.
func BenchmarkRevocations(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "autho.db"))
	ctx := context.Background()
	seedTokens(b, s, 100, 100_000)
	for range 10 {
		seedAccount(b, s)
	}
	for _, q := range []string{
		`UPDATE api_tokens SET revoked_at = created_at WHERE rowid % 10 = 0`,
		`UPDATE users SET active = 0, deactivated_at = created_at WHERE rowid % 5 = 0`,
		`UPDATE accounts SET status = 'suspended', suspended_at = created_at
			WHERE id <> (SELECT account_id FROM users LIMIT 1)`,
		`ANALYZE`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now()
	storetest.BenchmarkRevocations(b, s, now.Add(-time.Hour), now, 10_000+20+10)
}
