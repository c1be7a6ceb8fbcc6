package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/migrations"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) autho.Store { return mustOpen(t, filepath.Join(t.TempDir(), "autho.db")) })
}

// Two Stores on one file are two writers, as "autho serve" and the CLI, or
// two processes, are: the cap must hold across them too.
func TestStore_TokenCapAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autho.db")
	storetest.TestTokenCapAcrossStores(t, mustOpen(t, path), mustOpen(t, path))
}

// Of notices recorded and deliveries claimed at once through two Stores on
// one file, each is recorded once and each delivery claimed once.
func TestStore_NoticeAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autho.db")
	storetest.TestNoticeAcrossStores(t, mustOpen(t, path), mustOpen(t, path))
}

// The CLI revoking beside "autho serve": each revocation moves the version
// both read.
func TestStore_RevocationsAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autho.db")
	storetest.TestRevocationsAcrossStores(t, mustOpen(t, path), mustOpen(t, path))
}

// A TOTP step, a recovery code and a pending sign-in used through two
// Stores on one file at once are each used once.
func TestStore_MFAAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autho.db")
	storetest.TestMFAAcrossStores(t, mustOpen(t, path), mustOpen(t, path))
}

// A WebAuthn ceremony taken through two Stores on one file by 20 calls at
// once is taken once.
func TestStore_CeremonyAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autho.db")
	storetest.TestCeremonyAcrossStores(t, mustOpen(t, path), mustOpen(t, path))
}

func TestStore_ClaimAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autho.db")
	storetest.TestClaimAcrossStores(t, mustOpen(t, path), mustOpen(t, path))
}

func TestOpen_Pragmas(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "autho.db"))
	// Hold several reader connections at once, so that each is a
	// connection of its own and not one reused.
	conns := map[string]*sql.Conn{}
	hold := func(name string, db *sql.DB) {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns[name] = c
	}
	hold("writer", s.w)
	for i := range 4 {
		hold(fmt.Sprintf("reader %d", i), s.r)
	}
	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	} {
		for name, c := range conns {
			t.Run(name+" "+tc.pragma, func(t *testing.T) {
				var got string
				if err := c.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Fatalf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
				}
			})
		}
	}
	t.Run("reader is query_only", func(t *testing.T) {
		if _, err := conns["reader 0"].ExecContext(t.Context(), `DELETE FROM accounts`); err == nil {
			t.Fatal("write on the read pool succeeded")
		}
	})
}

func TestOpen_Errors(t *testing.T) {
	t.Run("cannot open", func(t *testing.T) {
		_, err := Open(filepath.Join(t.TempDir(), "missing", "dir", "autho.db"))
		if !errors.Is(err, autho.ErrUnavailable) {
			t.Fatalf("Open in a missing directory = %v, want ErrUnavailable", err)
		}
	})
	t.Run("odd path", func(t *testing.T) {
		// The path travels in a URI; characters URIs treat specially
		// must still name the file.
		dir := filepath.Join(t.TempDir(), "a dir%20#1?x=y")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "autho.db")
		s := mustOpen(t, path)
		if err := s.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("database not at %q: %v", path, err)
		}
	})
}

func TestMigrate(t *testing.T) {
	countVersions := func(t *testing.T, s *Store) map[int]int {
		t.Helper()
		rows, err := s.r.QueryContext(t.Context(), `SELECT version, count(*) FROM schema_migrations GROUP BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[int]int{}
		for rows.Next() {
			var v, n int
			if err := rows.Scan(&v, &n); err != nil {
				t.Fatal(err)
			}
			got[v] = n
		}
		return got
	}
	wantAll := func(t *testing.T, got map[int]int) {
		t.Helper()
		all := migrations.All(migrations.SQLite)
		if len(got) != len(all) {
			t.Fatalf("schema_migrations has versions %v, want %d versions", got, len(all))
		}
		for _, m := range all {
			if got[m.Version] != 1 {
				t.Fatalf("version %d recorded %d times", m.Version, got[m.Version])
			}
		}
	}
	t.Run("idempotent", func(t *testing.T) {
		s := mustOpen(t, filepath.Join(t.TempDir(), "autho.db"))
		for range 3 {
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
		}
		wantAll(t, countVersions(t, s))
	})
	t.Run("concurrent", func(t *testing.T) {
		// Two stores on one file stand for two processes starting at
		// once; a version applied twice fails on CREATE TABLE.
		path := filepath.Join(t.TempDir(), "autho.db")
		const n = 4
		stores := make([]*Store, n)
		for i := range stores {
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			stores[i] = s
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, s := range stores {
			wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Migrate %d: %v", i, err)
			}
		}
		wantAll(t, countVersions(t, stores[0]))
	})
}

// Two Stores on one file are two processes: the CLI revoking a token while
// "serve" runs. The server must refuse the token on its very next read.
func TestStore_SharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autho.db")
	server := mustOpen(t, path)
	cli := mustOpen(t, path)
	ctx := t.Context()

	a, pt := seedAccount(t, cli)
	u := &autho.User{ID: secret.NewID("usr"), AccountID: a.ID, Email: "a@example.com", Role: autho.RoleMember, Active: true}
	apiTok := secret.New(secret.APIToken)
	tk := &autho.APIToken{ID: secret.NewID("tok"), UserID: u.ID, AccountID: a.ID, Hash: secret.Hash(apiTok), Hint: secret.Hint(apiTok),
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	for _, err := range []error{
		cli.CreateUser(ctx, u),
		cli.CreateAPIToken(ctx, tk),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}

	c, err := server.APICredential(ctx, tk.Hash)
	if err != nil || c.Token.Revoked() {
		t.Fatalf("server's APICredential = %+v, %v; want the new, unrevoked token", c, err)
	}
	if _, err := cli.UpdateAPIToken(ctx, tk.ID, func(t *autho.APIToken) error { t.RevokedAt = time.Now(); return nil }); err != nil {
		t.Fatal(err)
	}
	if c, err = server.APICredential(ctx, tk.Hash); err != nil || !c.Token.Revoked() {
		t.Fatalf("server's APICredential after the CLI revoked = %+v, %v; want revoked", c, err)
	}
	if _, err := cli.UpdateAccount(ctx, a.ID, func(a *autho.Account) error { a.Status = autho.AccountSuspended; return nil }); err != nil {
		t.Fatal(err)
	}
	if pc, err := server.PartnerCredential(ctx, pt.Hash); err != nil || pc.Account.Status != autho.AccountSuspended {
		t.Fatalf("server's PartnerCredential after the CLI suspended = %+v, %v; want suspended", pc, err)
	}

	t.Run("writers from both", func(t *testing.T) {
		// Writes from both stores interleave through SQLite's file
		// lock without a lost update.
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for range n {
			for _, s := range []*Store{server, cli} {
				wg.Go(func() {
					_, err := s.UpdateAccount(ctx, a.ID, func(a *autho.Account) error {
						a.ExpiresAt = a.ExpiresAt.Add(time.Second)
						return nil
					})
					errs <- err
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := cli.Account(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := a.ExpiresAt.Truncate(time.Microsecond).Add(2 * n * time.Second)
		if !got.ExpiresAt.Equal(want) {
			t.Fatalf("ExpiresAt = %v, want %v", got.ExpiresAt, want)
		}
	})
}

func TestMigrateProgress(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "autho.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.TestMigrateProgress(t, s, migrations.SQLite)
}

// One invitation used, and one expiry noticed, through two Stores on one
// file at once: each once.
func TestStore_InvitationAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autho.db")
	storetest.TestInvitationAcrossStores(t, mustOpen(t, path), mustOpen(t, path))
}
