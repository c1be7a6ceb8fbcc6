package main

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autho/autho/internal/migrations"
	"github.com/autho/autho/internal/pgtest"
)

// newDB is a migrated SQLite database of the test's own: only serve and
// migrate make one, so every operator command needs it made first.
func newDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "autho.db")
	if r := runOp(t, db, nil, "", "migrate"); r.code != 0 {
		t.Fatalf("autho migrate: exit %d: %s", r.code, r.stderr)
	}
	return db
}

// TestCLI_MissingDatabaseRefused: an operator command pointed at a file that
// is not there (a mistyped --db, the wrong folder) says so in one line, with
// the fix, and leaves no file behind; before, it made an empty database and
// answered "No accounts." or handed out a partner token that worked nowhere.
func TestCLI_MissingDatabaseRefused(t *testing.T) {
	cmds := [][]string{
		{"account", "list"},
		{"account", "show", "acc_x"},
		{"account", "create", "--name", "Acme"},
		{"account", "suspend", "acc_x"},
		{"user", "create", "--account", "acc_x", "--email", "a@example.com"},
		{"user", "deactivate", "--email", "a@example.com"},
		{"token", "list"},
		{"token", "create", "--email", "a@example.com", "--name", "ci"},
		{"token", "revoke", "tok_x"},
		{"keys", "list"},
		{"keys", "rotate"},
		{"keys", "export-hs256", "--out", "hs.json"},
		{"dev", "seed", "--accounts", "1", "--tokens", "1", "--out", "pairs.txt"},
	}
	for _, args := range cmds {
		for _, asJSON := range []bool{false, true} {
			name := strings.Join(args[:2], " ")
			if asJSON {
				name += " --json"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				db := filepath.Join(dir, "dmeo.db")
				a := append([]string{}, args...)
				for i, s := range a {
					if s == "hs.json" || s == "pairs.txt" {
						a[i] = filepath.Join(dir, s)
					}
				}
				if asJSON {
					a = append(a, "--json")
				}
				r := runOp(t, db, nil, "", a...)
				if r.code == 0 {
					t.Fatalf("exit 0 on a missing database; stdout %q", r.stdout)
				}
				line := strings.TrimSpace(r.stderr)
				if strings.Count(line, "\n") != 0 || !strings.Contains(line, db) || !strings.Contains(line, "autho migrate") {
					t.Errorf("stderr %q: want one line naming %s and the fix (autho migrate)", r.stderr, db)
				}
				if !asJSON && r.stdout != "" {
					t.Errorf("stdout %q, want nothing", r.stdout)
				}
				left, _ := os.ReadDir(dir)
				for _, e := range left {
					t.Errorf("left %s behind", e.Name())
				}
			})
		}
	}
}

// TestCLI_CreatingCommands: serve (tested with the server) and migrate make
// a database that does not exist; migrate is how an operator makes one for
// the other commands.
func TestCLI_MigrateCreates(t *testing.T) {
	db := newDB(t)
	if _, err := os.Stat(db); err != nil {
		t.Fatal(err)
	}
	if r := runOp(t, db, nil, "", "account", "list"); r.code != 0 {
		t.Fatalf("account list after migrate: exit %d: %s", r.code, r.stderr)
	}
}

// TestCLI_NotADatabase: a --db naming some other file is refused by every
// command, readers included, without changing it.
func TestCLI_NotADatabase(t *testing.T) {
	f := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(f, []byte("not a database, just notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"account", "list"}, {"account", "create", "--name", "Acme"}} {
		r := runOp(t, f, nil, "", args...)
		if r.code == 0 || !strings.Contains(r.stderr, f) {
			t.Errorf("autho %s on a text file: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
		if b, _ := os.ReadFile(f); string(b) != "not a database, just notes\n" {
			t.Fatalf("autho %s changed the file: %q", strings.Join(args, " "), b)
		}
	}
}

// TestCLI_ReadersDoNotMigrate: a command that only reads does not write,
// not even a pending migration: on a database of an older schema it says to
// run autho migrate, and leaves the schema as it was.
func TestCLI_ReadersDoNotMigrate(t *testing.T) {
	db := newDB(t)
	last := migrations.All(migrations.SQLite)
	latest := last[len(last)-1].Version
	back(t, db, latest)
	for _, args := range [][]string{{"account", "list"}, {"token", "list"}, {"keys", "list"}} {
		r := runOp(t, db, nil, "", args...)
		if r.code == 0 || !strings.Contains(r.stderr, "autho migrate") {
			t.Errorf("autho %s on an older schema: exit %d, stderr %q; want a refusal naming autho migrate", strings.Join(args, " "), r.code, r.stderr)
		}
		if v := schemaVersion(t, db); v != latest-1 {
			t.Fatalf("autho %s moved the schema to version %d", strings.Join(args, " "), v)
		}
	}
	c := sqliteConn(t, db)
	if _, err := c.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, latest); err != nil {
		t.Fatal(err)
	}
	if r := runOp(t, db, nil, "", "account", "list"); r.code != 0 {
		t.Fatalf("account list once migrated: exit %d: %s", r.code, r.stderr)
	}
}

// back makes db look as if its newest migration, version v, had not run.
// Only the record goes: readers must refuse before they read anything.
func back(t *testing.T, db string, v int) {
	t.Helper()
	c := sqliteConn(t, db)
	if _, err := c.Exec(`DELETE FROM schema_migrations WHERE version = ?`, v); err != nil {
		t.Fatal(err)
	}
}

func schemaVersion(t *testing.T, db string) int {
	t.Helper()
	var v int
	if err := sqliteConn(t, db).QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func sqliteConn(t *testing.T, db string) *sql.DB {
	t.Helper()
	c, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestCLI_ReadOnlyRole: the readers work through a PostgreSQL role that may
// only SELECT (a reporting or support login), which cannot migrate, not even
// create schema_migrations "if not exists"; the writers are refused by the
// database, with nothing changed.
func TestCLI_ReadOnlyRole(t *testing.T) {
	db, schema := pgTestSchema(t)
	env := map[string]string{"AUTHO_MASTER_KEY": pgTestMasterKey()}
	if r := runOp(t, db, env, "", "migrate"); r.code != 0 {
		t.Fatalf("migrate: %s", r.stderr)
	}
	acc := mustOpJSON(t, db, env, "", "account", "create", "--name", "Acme")
	mustOpJSON(t, db, env, "", "keys", "rotate")

	role := "autho_ro_" + strings.TrimPrefix(schema, "autho_cmd_")
	admin := pgtest.URL(t)
	pgtest.Exec(t, admin, fmt.Sprintf(`CREATE ROLE %s LOGIN`, role))
	t.Cleanup(func() {
		pgtest.Exec(t, admin, fmt.Sprintf(`DROP OWNED BY %s`, role))
		pgtest.Exec(t, admin, fmt.Sprintf(`DROP ROLE %s`, role))
	})
	pgtest.Exec(t, admin, fmt.Sprintf(`GRANT USAGE ON SCHEMA %s TO %s`, schema, role))
	pgtest.Exec(t, admin, fmt.Sprintf(`GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %s`, schema, role))
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	ro := u.String()

	for _, args := range [][]string{{"account", "list"}, {"account", "show", opStr(acc, "id")}, {"token", "list"}, {"keys", "list"}} {
		if r := runOp(t, ro, env, "", args...); r.code != 0 {
			t.Errorf("autho %s as a read-only role: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	r := runOp(t, ro, env, "", "account", "suspend", opStr(acc, "id"))
	if r.code == 0 {
		t.Fatalf("account suspend as a read-only role succeeded")
	}
	if got := opStr(mustOpJSON(t, db, env, "", "account", "show", opStr(acc, "id")), "status"); got != "active" {
		t.Fatalf("status %q after a refused suspend", got)
	}
}
