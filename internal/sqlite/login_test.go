package sqlite

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// TestLoginCredentials: the one-statement read agrees with the two lookups
// it replaces on every field the login checks, in every state a login
// distinguishes.
func TestLoginCredentials(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "autho.db"))
	ctx := context.Background()
	a, pt := seedAccount(t, s)
	now := time.Now()
	u := &autho.User{ID: secret.NewID("usr"), AccountID: a.ID, Email: "u@example.com", Role: autho.RoleMember,
		Active: true, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	newToken := func(scopes ...string) *autho.APIToken {
		t.Helper()
		plain := secret.New(secret.APIToken)
		tok := &autho.APIToken{ID: secret.NewID("tok"), UserID: u.ID, AccountID: a.ID, Name: "n",
			Hash: secret.Hash(plain), Hint: secret.Hint(plain), Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateAPIToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	agree := func(t *testing.T, apiHash []byte) {
		t.Helper()
		pc, ac, err := s.LoginCredentials(ctx, pt.Hash, apiHash)
		if err != nil {
			t.Fatal(err)
		}
		wantP, err := s.PartnerCredential(ctx, pt.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if !pc.TokenExpiresAt.Equal(wantP.TokenExpiresAt) ||
			pc.Account.ID != wantP.Account.ID || pc.Account.Status != wantP.Account.Status ||
			!pc.Account.ExpiresAt.Equal(wantP.Account.ExpiresAt) {
			t.Fatalf("partner: got %+v, want %+v", pc, wantP)
		}
		wantA, err := s.APICredential(ctx, apiHash)
		if errors.Is(err, autho.ErrNotFound) {
			if ac != nil {
				t.Fatalf("api: got %+v for an unknown hash", ac)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		g, w := ac.Token, wantA.Token
		if ac.UserActive != wantA.UserActive || g.ID != w.ID || g.UserID != w.UserID || g.AccountID != w.AccountID ||
			strings.Join(g.Scopes, " ") != strings.Join(w.Scopes, " ") || !g.ExpiresAt.Equal(w.ExpiresAt) ||
			!g.RevokedAt.Equal(w.RevokedAt) || string(g.Hash) != string(w.Hash) {
			t.Fatalf("api: got %+v, want %+v", ac, wantA)
		}
	}

	t.Run("ok", func(t *testing.T) { agree(t, newToken().Hash) })
	t.Run("scopes", func(t *testing.T) { agree(t, newToken("a:read", "b:write").Hash) })
	t.Run("unknown api token", func(t *testing.T) { agree(t, secret.Hash(secret.New(secret.APIToken))) })
	t.Run("revoked", func(t *testing.T) {
		tok := newToken()
		if _, err := s.UpdateAPIToken(ctx, tok.ID, func(t *autho.APIToken) error { t.RevokedAt = now; return nil }); err != nil {
			t.Fatal(err)
		}
		agree(t, tok.Hash)
	})
	t.Run("user deactivated, account suspended, partner token rotated", func(t *testing.T) {
		tok := newToken()
		if _, err := s.UpdateUser(ctx, u.ID, func(u *autho.User) error { u.Active = false; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateAccount(ctx, a.ID, func(a *autho.Account) error { a.Status = autho.AccountSuspended; return nil }); err != nil {
			t.Fatal(err)
		}
		plain := secret.New(secret.PartnerToken)
		next := &autho.PartnerToken{ID: secret.NewID("ptk"), AccountID: a.ID, Hash: secret.Hash(plain), Hint: secret.Hint(plain), CreatedAt: now}
		if err := s.RotatePartnerToken(ctx, next, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		agree(t, tok.Hash)
	})
	t.Run("unknown partner token", func(t *testing.T) {
		_, _, err := s.LoginCredentials(ctx, secret.Hash(secret.New(secret.PartnerToken)), newToken().Hash)
		if !errors.Is(err, autho.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("plan probes the unique indexes", func(t *testing.T) {
		rows, err := s.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+loginCredentialsSQL, "x", "y")
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
		// The one-row subquery is scanned; no table may be.
		for _, step := range plan {
			f := strings.Fields(step)
			if len(f) > 1 && f[0] == "SCAN" && strings.Contains(" p a t u ", " "+f[1]+" ") {
				t.Fatalf("the login read scans a table: %q", plan)
			}
		}
	})
}

// BenchmarkLoginLookups compares the login's reading as two statements
// (PartnerCredential, then APICredential) with LoginCredentials, from many
// goroutines at once, over 10,000 tokens.
func BenchmarkLoginLookups(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "autho.db"))
	ctx := context.Background()
	hashes := seedTokens(b, s, 100, 10_000)
	_, pt := seedAccount(b, s)
	// seedTokens made its own account; the pairing does not matter here,
	// only that both hashes exist.
	run := func(b *testing.B, lookup func(api []byte) error) {
		var next atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := lookup(hashes[next.Add(1)%uint64(len(hashes))]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.Run("two statements", func(b *testing.B) {
		run(b, func(api []byte) error {
			if _, err := s.PartnerCredential(ctx, pt.Hash); err != nil {
				return err
			}
			_, err := s.APICredential(ctx, api)
			return err
		})
	})
	b.Run("one statement", func(b *testing.B) {
		run(b, func(api []byte) error {
			_, ac, err := s.LoginCredentials(ctx, pt.Hash, api)
			if err == nil && ac == nil {
				err = errors.New("api token not found")
			}
			return err
		})
	})
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
