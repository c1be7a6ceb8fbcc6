package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// BenchmarkAPICredential measures the login's hottest lookup under
// concurrency, against a real server: one indexed join per call.
func BenchmarkAPICredential(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	a, pt := testAccount()
	if err := s.CreateAccount(ctx, a, pt); err != nil {
		b.Fatal(err)
	}
	u := &autho.User{ID: secret.NewID("usr"), AccountID: a.ID, Email: secret.Random(8) + "@example.com",
		Role: autho.RoleMember, Active: true, CreatedAt: a.CreatedAt, UpdatedAt: a.CreatedAt}
	if err := s.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	// A few thousand tokens, so that the lookup is an index probe, not a
	// scan of a table that fits in one page.
	var hash []byte
	for i := range 2000 {
		tok := secret.New(secret.APIToken)
		t := &autho.APIToken{ID: secret.NewID("tok"), UserID: u.ID, AccountID: a.ID, Name: "bench",
			Hash: secret.Hash(tok), Hint: secret.Hint(tok), Scopes: []string{"orders:read"},
			CreatedAt: a.CreatedAt, ExpiresAt: a.CreatedAt.Add(24 * time.Hour)}
		if err := s.CreateAPIToken(ctx, t); err != nil {
			b.Fatal(err)
		}
		if i == 1000 {
			hash = t.Hash
		}
	}
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
