package main

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/seed"
	"github.com/autho/autho/internal/view"
)

// TestDevSeed: on each backend, dev seed makes what it says, writes one
// well-formed pair per token to a file only its owner can read, and every
// pair logs in on a server started on the same database.
func TestDevSeed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		var db string
		env := map[string]string{}
		if b == backendPostgres {
			db, _ = pgTestSchema(t)
			env["AUTHO_MASTER_KEY"] = pgTestMasterKey()
		} else {
			db = newDB(t)
		}
		out := filepath.Join(t.TempDir(), "pairs.txt")
		r := runOp(t, db, nil, "", "dev", "seed", "--accounts", "3", "--tokens", "10", "--out", out, "--json")
		if r.code != 0 {
			t.Fatalf("dev seed: exit %d: %s", r.code, r.stderr)
		}
		got := opDecodeOne(t, r.stdout)
		for k, want := range map[string]float64{"accounts": 3, "users": 3, "tokens": 10} {
			if got[k] != want {
				t.Errorf("%s = %v, want %v", k, got[k], want)
			}
		}
		if !strings.Contains(r.stderr, "10/10 tokens") {
			t.Errorf("no final progress line on stderr: %q", r.stderr)
		}
		// The first line comes before any row is made, so that a big seed
		// says at once that it is working.
		if !strings.HasPrefix(r.stderr, "dev seed: 0/10 tokens, 0/3 accounts") {
			t.Errorf("stderr %q does not begin with a progress line of nothing done yet", r.stderr)
		}

		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("--out mode %v, want 0600: it holds secrets", fi.Mode().Perm())
		}
		data, _ := os.ReadFile(out)
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		if len(lines) != 10 {
			t.Fatalf("%d lines, want 10", len(lines))
		}
		partners := map[string]int{}
		for _, l := range lines {
			api, ptn, ok := strings.Cut(l, " ")
			if !ok || secret.Check(secret.APIToken, api) != nil || secret.Check(secret.PartnerToken, ptn) != nil {
				t.Fatalf("line %q is not an api_token partner_token pair", l)
			}
			partners[ptn]++
		}
		// 10 tokens over 3 accounts: 4, 3, 3.
		if len(partners) != 3 {
			t.Errorf("%d partner tokens in the file, want 3", len(partners))
		}

		ts := startServerAt(t, db, env)
		var accts struct {
			Accounts []view.Account `json:"accounts"`
		}
		ts.mustCLI(&accts, "account", "list")
		for _, a := range accts.Accounts {
			if !strings.HasPrefix(a.Name, seed.NamePrefix) || a.Status != "active" {
				t.Errorf("account %q (%s): want an active account named %s…", a.Name, a.Status, seed.NamePrefix)
			}
		}
		for _, l := range []string{lines[0], lines[4], lines[9]} {
			api, ptn, _ := strings.Cut(l, " ")
			wantSuccess(t, ts.login(api, ptn))
		}

		// Seeding again is fine, every account being a seeded one, but
		// into a new file: the pairs of the first run stay as they are.
		r = runOp(t, db, nil, "", "dev", "seed", "--accounts", "1", "--tokens", "1", "--out", out)
		if r.code != 2 || !strings.Contains(r.stderr, "exists") {
			t.Errorf("second dev seed into the same --out: exit %d, %q; want it refused", r.code, r.stderr)
		}
		if again, _ := os.ReadFile(out); !bytes.Equal(again, data) {
			t.Error("the second dev seed changed the first one's file")
		}
		out2 := filepath.Join(filepath.Dir(out), "pairs2.txt")
		r = runOp(t, db, nil, "", "dev", "seed", "--accounts", "1", "--tokens", "1", "--out", out2)
		if r.code != 0 {
			t.Fatalf("second dev seed: exit %d: %s", r.code, r.stderr)
		}
		if names := dirNames(t, filepath.Dir(out)); len(names) != 2 {
			t.Errorf("beside --out: %v, want the two files of pairs and nothing left over", names)
		}
	})
}

// dirNames lists dir.
func dirNames(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// dirContent is every file of dir with its bytes, and every symlink with
// where it points.
func dirContent(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	files := map[string]string{}
	for _, name := range dirNames(tb, dir) {
		path := filepath.Join(dir, name)
		if target, err := os.Readlink(path); err == nil {
			files[name] = "-> " + target
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		files[name] = string(b)
	}
	return files
}

// TestDevSeed_OutMustBeNew: --out is a new file, never the database's own
// (which the pairs would overwrite) and never one that exists; a refusal
// comes before the database is opened, so every byte beside it stays.
func TestDevSeed_OutMustBeNew(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	db := filepath.Join(dir, "autho.db")
	ts := startServerAt(t, db, nil)
	if err := ts.d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// An open handle keeps the WAL and shared memory in place, and a
	// write through the CLI leaves the WAL holding something.
	ts.store()
	ts.mustCLI(nil, "account", "create", "--name", "Real Partner")
	for _, f := range []string{db, db + "-wal", db + "-shm", db + ".masterkey"} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Fatalf("setup: %s should exist and hold something: %v", f, err)
		}
	}
	linkDir := filepath.Join(other, "data")
	if err := os.Symlink(dir, linkDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(db, filepath.Join(other, "link.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "pairs.txt"), []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, out string
		want      string
		root      bool
	}{
		{"the database", db, "the database's own file", false},
		{"its WAL", db + "-wal", "the database's own file", false},
		{"its shared memory", db + "-shm", "the database's own file", false},
		{"its rollback journal, not there now", db + "-journal", "the database's own file", false},
		{"its master key file", db + ".masterkey", "the database's own file", false},
		{"the database by a longer path", filepath.Join(dir, ".", "autho.db"), "the database's own file", false},
		{"the database through a symlink", filepath.Join(other, "link.db"), "the database's own file", false},
		{"the journal through a symlinked directory", filepath.Join(linkDir, "autho.db-journal"), "the database's own file", false},
		{"a file that exists", filepath.Join(other, "pairs.txt"), "exists", false},
		{"a file of another user", filepath.Join(other, "theirs.txt"), "exists", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				needRoot(t)
				theirs := filepath.Join(other, "theirs.txt")
				if err := os.WriteFile(theirs, []byte("theirs\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chown(theirs, nobody, nobody); err != nil {
					t.Fatal(err)
				}
			}
			before, beforeOther := dirContent(t, dir), dirContent(t, other)
			r := runOp(t, db, nil, "", "dev", "seed", "--accounts", "1", "--tokens", "2", "--force", "--out", tc.out)
			if r.code != 2 || !strings.Contains(r.stderr, "--out") || !strings.Contains(r.stderr, tc.want) ||
				strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q: want one line refusing --out, saying %q", r.code, r.stderr, tc.want)
			}
			if after := dirContent(t, dir); !maps.Equal(after, before) {
				t.Errorf("the database's directory changed: %d files before, %d after", len(before), len(after))
			}
			if after := dirContent(t, other); !maps.Equal(after, beforeOther) {
				t.Errorf("--out's directory changed: %v before, %v after", slices.Sorted(maps.Keys(beforeOther)), slices.Sorted(maps.Keys(after)))
			}
		})
	}
}

// TestDevSeed_RefusesForeignDatabase: a database with an account dev seed
// did not make is refused, untouched, and its --out file is left alone,
// unless --force.
func TestDevSeed_RefusesForeignDatabase(t *testing.T) {
	db := newDB(t)
	mustOpJSON(t, db, nil, "", "account", "create", "--name", "Real Partner")
	out := filepath.Join(t.TempDir(), "pairs.txt")
	r := runOp(t, db, nil, "", "dev", "seed", "--tokens", "5", "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "--force") || !strings.Contains(r.stderr, "1 account") {
		t.Fatalf("exit %d, stderr %q; want a refusal naming --force", r.code, r.stderr)
	}
	if names := dirNames(t, filepath.Dir(out)); len(names) != 0 {
		t.Fatalf("a refused seed left %v beside --out", names)
	}
	list := mustOpJSON(t, db, nil, "", "account", "list")
	if n := len(list["accounts"].([]any)); n != 1 {
		t.Fatalf("%d accounts after a refused seed, want 1", n)
	}

	r = runOp(t, db, nil, "", "dev", "seed", "--accounts", "2", "--tokens", "5", "--out", out, "--force")
	if r.code != 0 {
		t.Fatalf("--force: exit %d: %s", r.code, r.stderr)
	}
	list = mustOpJSON(t, db, nil, "", "account", "list")
	if n := len(list["accounts"].([]any)); n != 3 {
		t.Fatalf("%d accounts after a forced seed, want 3", n)
	}
}

// TestDevSeed_Usage: mistakes in the command line are usage errors (exit
// 2) and create nothing.
func TestDevSeed_Usage(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "autho.db")
	out := filepath.Join(dir, "pairs.txt")
	for _, args := range [][]string{
		{"--out", out},
		{"--tokens", "10"},
		{"--tokens", "0", "--out", out},
		{"--tokens", "10", "--accounts", "0", "--out", out},
		{"--tokens", "ten", "--out", out},
		{"--tokens", "10", "--out", " "},
		{"--tokens", "10", "--out", out, "extra"},
	} {
		r := runOp(t, db, nil, "", append([]string{"dev", "seed"}, args...)...)
		if r.code != 2 {
			t.Errorf("dev seed %q: exit %d (%s), want 2", args, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused command created --out")
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a refused command created the database")
	}
}
