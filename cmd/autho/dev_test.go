package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autho/autho/internal/secret"
)

// TestDevSeed: on each backend, dev seed makes what it says, writes one
// well-formed pair per token to a file only its owner can read, and every
// pair logs in on a server started on the same database.
func TestDevSeed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := filepath.Join(t.TempDir(), "autho.db")
		env := map[string]string{}
		if b == backendPostgres {
			db, _ = pgTestSchema(t)
			env["AUTHO_MASTER_KEY"] = pgTestMasterKey()
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
			Accounts []accountJSON `json:"accounts"`
		}
		ts.mustCLI(&accts, "account", "list")
		for _, a := range accts.Accounts {
			if !strings.HasPrefix(a.Name, seedNamePrefix) || a.Status != "active" {
				t.Errorf("account %q (%s): want an active account named %s…", a.Name, a.Status, seedNamePrefix)
			}
		}
		for _, l := range []string{lines[0], lines[4], lines[9]} {
			api, ptn, _ := strings.Cut(l, " ")
			wantSuccess(t, ts.login(api, ptn))
		}

		// Seeding again is fine: every account is a seeded one.
		r = runOp(t, db, nil, "", "dev", "seed", "--accounts", "1", "--tokens", "1", "--out", out)
		if r.code != 0 {
			t.Fatalf("second dev seed: exit %d: %s", r.code, r.stderr)
		}
	})
}

// TestDevSeed_RefusesForeignDatabase: a database with an account dev seed
// did not make is refused, untouched, and its --out file is left alone,
// unless --force.
func TestDevSeed_RefusesForeignDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "autho.db")
	mustOpJSON(t, db, nil, "", "account", "create", "--name", "Real Partner")
	out := filepath.Join(t.TempDir(), "pairs.txt")
	if err := os.WriteFile(out, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runOp(t, db, nil, "", "dev", "seed", "--tokens", "5", "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "--force") || !strings.Contains(r.stderr, "1 account") {
		t.Fatalf("exit %d, stderr %q; want a refusal naming --force", r.code, r.stderr)
	}
	if data, _ := os.ReadFile(out); string(data) != "keep\n" {
		t.Fatalf("--out changed by a refused seed: %q", data)
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
