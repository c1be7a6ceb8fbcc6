package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/autho/autho/internal/sqlite"
)

// keyCommand runs one command on db, serve included, and returns its exit
// code and stderr.
func keyCommand(t *testing.T, db string, args ...string) (code int, stderr string) {
	t.Helper()
	if args[0] == "serve" {
		return 1, serveRefused(t, db)
	}
	r := runOp(t, db, nil, "", args...)
	return r.code, r.stderr
}

// wantNoKeyFile fails the test if a key file exists beside db.
func wantNoKeyFile(t *testing.T, db string) {
	t.Helper()
	if _, err := os.Stat(db + ".masterkey"); err == nil {
		t.Fatalf("a master key file appeared")
	}
}

// TestKeys_MissingKeyFile: a database whose signing keys were sealed with a
// key file now gone is refused by every command, serve and migrate too, in
// one line naming the file; none writes a new one, which could open none of
// the keys (and serve would sign with a key of its own beside them).
func TestKeys_MissingKeyFile(t *testing.T) {
	ts := startServer(t, nil)
	if err := ts.d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"keys", "list"},
		{"keys", "rotate"},
		{"migrate"},
		{"serve"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			// Each command meets the loss afresh, whatever one before it did.
			if err := os.Remove(ts.db + ".masterkey"); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			code, stderr := keyCommand(t, ts.db, args...)
			if code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 ||
				!strings.Contains(stderr, ts.db+".masterkey") || !strings.Contains(stderr, "missing") {
				t.Errorf("exit %d, stderr %q: want one line saying the key file is missing", code, stderr)
			}
			wantNoKeyFile(t, ts.db)
		})
	}
}

// TestKeys_NoKeyFileYet: on a database without signing keys, only serve
// and migrate make the key file (0600); a key command refuses and makes
// nothing.
func TestKeys_NoKeyFileYet(t *testing.T) {
	// A migrated database that nothing has made a key for.
	newDB := func(t *testing.T) string {
		t.Helper()
		db := filepath.Join(t.TempDir(), "autho.db")
		st, err := sqlite.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return db
	}
	wantKeyFile := func(t *testing.T, db string) {
		t.Helper()
		fi, err := os.Stat(db + ".masterkey")
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %04o, want 0600", fi.Mode().Perm())
		}
	}

	for _, args := range [][]string{{"keys", "list"}, {"keys", "rotate"}} {
		t.Run(strings.Join(args, " ")+" refuses", func(t *testing.T) {
			db := newDB(t)
			code, stderr := keyCommand(t, db, args...)
			if code == 0 || !strings.Contains(stderr, db+".masterkey") {
				t.Errorf("exit %d, stderr %q: want a refusal naming the key file", code, stderr)
			}
			wantNoKeyFile(t, db)
		})
	}
	t.Run("serve makes it", func(t *testing.T) {
		ts := startServerAt(t, newDB(t), nil)
		wantKeyFile(t, ts.db)
	})
	t.Run("migrate makes it, then keys rotate works", func(t *testing.T) {
		db := newDB(t)
		m := mustOpJSON(t, db, nil, "", "migrate")
		if m["master_key_file"] != db+".masterkey" {
			t.Errorf("migrate = %v, want it to name the key file it made", m)
		}
		wantKeyFile(t, db)
		mustOpJSON(t, db, nil, "", "keys", "rotate")
		if keys, _ := mustOpJSON(t, db, nil, "", "keys", "list")["keys"].([]any); len(keys) != 1 {
			t.Fatalf("keys = %v, want the one rotated in", keys)
		}
	})
}
