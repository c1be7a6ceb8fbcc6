package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// mustOpen opens and migrates a store on path, closed when the test ends.
func mustOpen(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

// seedTokens writes users and tokens in one transaction, since one fsync'd
// transaction per token would make the setup the benchmark. It returns the
// tokens' hashes.
func seedTokens(tb testing.TB, s *Store, users, tokens int) [][]byte {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	a, _ := seedAccount(tb, s)
	hashes := make([][]byte, 0, tokens)
	err := s.tx(ctx, "seed", func(tx *sql.Tx) error {
		uids := make([]string, users)
		for i := range uids {
			uids[i] = secret.NewID("usr")
			_, err := tx.ExecContext(ctx, `INSERT INTO users (id, account_id, email, email_key, password_hash, role, active, created_at, updated_at)
				VALUES (?, ?, ?, ?, '', 'member', 1, ?, ?)`, uids[i], a.ID, uids[i]+"@example.com", uids[i]+"@example.com", micros(now), micros(now))
			if err != nil {
				return err
			}
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO api_tokens (id, user_id, account_id, name, hash, hint, scopes,
			created_at, expires_at, revoked_at) VALUES (?, ?, ?, 'bench', ?, ?, 'read write', ?, ?, NULL)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range tokens {
			t := secret.New(secret.APIToken)
			h := secret.Hash(t)
			if _, err := st.ExecContext(ctx, secret.NewID("tok"), uids[i%users], a.ID, hex.EncodeToString(h), secret.Hint(t),
				micros(now), micros(now.Add(time.Hour))); err != nil {
				return err
			}
			hashes = append(hashes, h)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return hashes
}

// seedAccount stores an active account expiring in an hour.
func seedAccount(tb testing.TB, s *Store) (*autho.Account, *autho.PartnerToken) {
	tb.Helper()
	now := time.Now()
	tok := secret.New(secret.PartnerToken)
	a := &autho.Account{ID: secret.NewID("acc"), Name: "Partner", Status: autho.AccountActive,
		ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	pt := &autho.PartnerToken{ID: secret.NewID("ptk"), AccountID: a.ID, Hash: secret.Hash(tok), Hint: secret.Hint(tok), CreatedAt: now}
	if err := s.CreateAccount(context.Background(), a, pt); err != nil {
		tb.Fatal(err)
	}
	return a, pt
}
