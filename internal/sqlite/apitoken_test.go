package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/migrations"
)

// TestRecordTokenUse_Chunks: a flush larger than one statement's chunk, with
// duplicates and stale uses spread over the chunks, leaves every token with
// its newest use and nothing else changed.
func TestRecordTokenUse_Chunks(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "autho.db"))
	ctx := context.Background()
	n := 2*useChunk + 7
	seedTokens(t, s, 3, n)
	ids := tokenIDs(t, s)
	if len(ids) != n {
		t.Fatalf("seeded %d tokens, want %d", len(ids), n)
	}
	base := time.UnixMicro(time.Now().UnixMicro()).UTC()
	// The stored use of the last token is newer than anything sent: it must stay.
	keep := autho.TokenUse{TokenID: ids[n-1], At: base.Add(time.Hour), IP: "192.0.2.99"}
	if err := s.RecordTokenUse(ctx, []autho.TokenUse{keep}); err != nil {
		t.Fatal(err)
	}
	var uses []autho.TokenUse
	want := map[string]autho.TokenUse{keep.TokenID: keep}
	for i, id := range ids {
		older := autho.TokenUse{TokenID: id, At: base.Add(time.Duration(i) * time.Millisecond), IP: "192.0.2.1"}
		newer := autho.TokenUse{TokenID: id, At: older.At.Add(time.Second), IP: "192.0.2.2"}
		// Newest first for even tokens, last for odd ones.
		if i%2 == 0 {
			uses = append(uses, newer)
		}
		uses = append(uses, older)
		if i%2 == 1 {
			uses = append(uses, newer)
		}
		if id != keep.TokenID {
			want[id] = newer
		}
	}
	uses = append(uses, autho.TokenUse{TokenID: "tok_unknown", At: base, IP: "192.0.2.3"})
	if err := s.RecordTokenUse(ctx, uses); err != nil {
		t.Fatalf("RecordTokenUse(%d uses): %v", len(uses), err)
	}
	for _, id := range ids {
		tk, err := s.APIToken(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got := autho.TokenUse{TokenID: id, At: tk.LastUsedAt, IP: tk.LastUsedIP}
		if w := want[id]; !got.At.Equal(w.At) || got.IP != w.IP {
			t.Fatalf("token %s: last use %v from %q, want %v from %q", id, got.At, got.IP, w.At, w.IP)
		}
	}
}

// tokenIDs lists the ids of every token in s.
func tokenIDs(t testing.TB, s *Store) []string {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), `SELECT id FROM api_tokens ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// schemaAt makes a database at path as an autho of the first n migrations
// left it, with one account, acc_1, and its user, usr_1; exec runs a
// statement on it. Close db before opening a Store on the file.
func schemaAt(t *testing.T, path string, n int) (db *sql.DB, exec func(q string, args ...any)) {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, url.Values{}))
	if err != nil {
		t.Fatal(err)
	}
	exec = func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`)
	for _, m := range migrations.All(migrations.SQLite)[:n] {
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations VALUES (?, 0)`, m.Version)
	}
	// Columns named: later versions add some, with defaults.
	exec(`INSERT INTO accounts (id, name, status, expires_at, created_at, updated_at) VALUES ('acc_1', 'A', 'active', 0, 0, 0)`)
	exec(`INSERT INTO users (id, account_id, email, email_key, password_hash, role, active, created_at, updated_at)
		VALUES ('usr_1', 'acc_1', 'a@example.com', 'a@example.com', '', 'admin', 1, 0, 0)`)
	return db, exec
}

// TestMigrate_TokenUses: migration 0004 moves each token's last use out of
// api_tokens into api_token_uses, and a token never used stays so.
func TestMigrate_TokenUses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autho.db")
	db, exec := schemaAt(t, path, 3)
	ctx := t.Context()
	used := time.Date(2026, 11, 1, 12, 0, 0, 123456000, time.UTC)
	for i, lastUsed := range []any{micros(used), nil} {
		exec(`INSERT INTO api_tokens (id, user_id, account_id, name, hash, hint, scopes, created_at, expires_at, last_used_at, last_used_ip, revoked_at)
			VALUES (?, 'usr_1', 'acc_1', 'n', ?, 'h', '', 0, 0, ?, ?, NULL)`,
			fmt.Sprintf("tok_%d", i), fmt.Sprintf("%02x%062x", i+1, 0), lastUsed, map[bool]string{true: "192.0.2.7", false: ""}[i == 0])
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := mustOpen(t, path)
	for id, want := range map[string]autho.TokenUse{
		"tok_0": {At: used, IP: "192.0.2.7"},
		"tok_1": {},
	} {
		tk, err := s.APIToken(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !tk.LastUsedAt.Equal(want.At) || tk.LastUsedIP != want.IP {
			t.Errorf("%s: last use %v from %q, want %v from %q", id, tk.LastUsedAt, tk.LastUsedIP, want.At, want.IP)
		}
	}
	var cols int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('api_tokens') WHERE name LIKE 'last_used%'`).Scan(&cols); err != nil || cols != 0 {
		t.Errorf("api_tokens keeps %d last_used columns (err %v)", cols, err)
	}
}
