package sqlite

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/storetest"
)

// TestLoginCredentials_Plan: every lookup of the login's one statement reads
// one B-tree: a covering index, or api_token_logins by its key. Its agreement with PartnerCredential and
// APICredential is in internal/storetest, for every backend.
func TestLoginCredentials_Plan(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "autho.db"))
	rows, err := s.r.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+loginCredentialsSQL, "00", int64(0), []byte{0})
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
		"SEARCH t USING INTEGER PRIMARY KEY (rowid=?)",
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

// TestMigrate_LoginKeys: migration 0005 copies every API token into
// api_token_logins under the key loginKey computes (its SQL formula and the
// Go one agree, sign bit and nibble order included), revoked ones as
// revoked; from then on the triggers keep the copy in step.
func TestMigrate_LoginKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autho.db")
	db, exec := schemaAt(t, path, 4)
	ctx := t.Context()
	hashes := [][]byte{
		bytes.Repeat([]byte{0xff}, 32),                                        // the largest key: every bit of the 60 set
		append(bytes.Repeat([]byte{0}, 7), bytes.Repeat([]byte{0x1f}, 25)...), // the 15th digit 1, the 16th not in the key
		{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	}
	for range 20 {
		hashes = append(hashes, secret.Hash(secret.New(secret.APIToken)))
	}
	for i, h := range hashes {
		var revoked any
		if i%3 == 0 {
			revoked = int64(1)
		}
		exec(`INSERT INTO api_tokens (id, user_id, account_id, name, hash, hint, scopes, created_at, expires_at, revoked_at)
			VALUES (?, 'usr_1', 'acc_1', 'n', ?, 'h', 'read', 0, 4102444800000000, ?)`, fmt.Sprintf("tok_%d", i), hex.EncodeToString(h), revoked)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := mustOpen(t, path)
	for i, h := range hashes {
		var key int64
		if err := s.r.QueryRowContext(ctx, `SELECT login_key FROM api_tokens WHERE id = ?`, fmt.Sprintf("tok_%d", i)).Scan(&key); err != nil {
			t.Fatal(err)
		}
		if want := loginKey(h); key != want {
			t.Errorf("hash %x: SQL key %#x, Go key %#x", h, key, want)
		}
		var id string
		var revoked sql.NullInt64
		err := s.r.QueryRowContext(ctx, `SELECT id, revoked_at FROM api_token_logins WHERE login_key = ? AND hash = ?`, key, h).Scan(&id, &revoked)
		if err != nil || id != fmt.Sprintf("tok_%d", i) || revoked.Valid != (i%3 == 0) {
			t.Errorf("hash %x: login row %q revoked %v (err %v)", h, id, revoked, err)
		}
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'api_tokens_login'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("api_tokens_login still there (%d, err %v)", n, err)
	}
}

// TestCreateAPIToken_KeyCollision: two hashes that share their first 60
// bits cannot both be stored; the second is a conflict and leaves nothing.
func TestCreateAPIToken_KeyCollision(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "autho.db"))
	ctx := t.Context()
	a, _ := seedAccount(t, s)
	u := &autho.User{ID: secret.NewID("usr"), AccountID: a.ID, Email: "c@example.com", Role: autho.RoleMember, Active: true,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	h := secret.Hash(secret.New(secret.APIToken))
	twin := bytes.Clone(h)
	twin[31] ^= 1
	for i, hash := range [][]byte{h, twin} {
		tk := &autho.APIToken{ID: secret.NewID("tok"), UserID: u.ID, AccountID: a.ID, Name: "t", Hash: hash, Hint: "h",
			CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		err := s.CreateAPIToken(ctx, tk)
		if i == 0 && err != nil {
			t.Fatal(err)
		}
		if i == 1 && !errors.Is(err, autho.ErrConflict) {
			t.Fatalf("second token with the same key: %v, want ErrConflict", err)
		}
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM api_tokens) + (SELECT count(*) FROM api_token_logins)`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d rows in api_tokens and api_token_logins, want 1 each (err %v)", n, err)
	}
}
