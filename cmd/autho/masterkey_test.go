package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho/internal/sqlite"
)

// nobody is the uid and gid of another local user, for files a test
// pretends someone else made (it takes root to chown them).
const nobody = 65534

func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root to give a file to another user")
	}
}

// serveRefused runs serve on db, without AUTHO_MASTER_KEY, and returns its
// one line of stderr; a serve that starts instead fails the test.
func serveRefused(t *testing.T, db string) string {
	t.Helper()
	env := map[string]string{"AUTHO_ADDR": "127.0.0.1:0", "AUTHO_LOGIN_FAILURES_PER_MINUTE": "0"}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"serve", "--db", db}, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "autho: ") {
		t.Fatalf("serve: exit %d, stderr %q: want a refusal in one line", code, errb.String())
	}
	return lines[0]
}

func envApp(env map[string]string) *app {
	return &app{getenv: func(k string) string { return env[k] }}
}

// keyStore is a migrated SQLite database at db, for the second step of
// settling a master key.
func keyStore(tb testing.TB, db string) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(db)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return st
}

// serveKey settles db's master key as serve does, both steps, the second
// on st.
func serveKey(a *app, db string, st signingKeyStore) (key []byte, created bool, err error) {
	m, err := a.masterKey(db)
	if err != nil {
		return nil, false, err
	}
	return m.open(context.Background(), st, createKeyFile)
}

func TestMasterKey_Env(t *testing.T) {
	good := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name, value, db string
		ok              bool
	}{
		{"ok", base64.StdEncoding.EncodeToString(good), "autho.db", true},
		{"ok with PostgreSQL", base64.StdEncoding.EncodeToString(good), "postgres://h/db", true},
		{"surrounding newline", base64.StdEncoding.EncodeToString(good) + "\n", "autho.db", true},
		{"31 bytes", base64.StdEncoding.EncodeToString(good[:31]), "autho.db", false},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(good, 1)), "autho.db", false},
		{"URL encoding", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), "autho.db", false},
		{"not base64", "this is not base64 at all!!", "autho.db", false},
		{"hex", strings.Repeat("ab", 32), "autho.db", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := tt.db
			if !isPostgres(db) {
				db = filepath.Join(dir, db)
			}
			key, created, err := serveKey(envApp(map[string]string{"AUTHO_MASTER_KEY": tt.value}), db, nil)
			if !tt.ok {
				if err == nil {
					t.Fatal("masterKey accepted a bad AUTHO_MASTER_KEY")
				}
				if !strings.Contains(err.Error(), "AUTHO_MASTER_KEY") || strings.Contains(err.Error(), strings.TrimSpace(tt.value)) {
					t.Fatalf("error %q must name AUTHO_MASTER_KEY and not echo its value", err)
				}
				return
			}
			if err != nil || created || !bytes.Equal(key, good) {
				t.Fatalf("masterKey = %x, %v, %v", key, created, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "autho.db.masterkey")); err == nil {
				t.Fatal("a key file was written although AUTHO_MASTER_KEY is set")
			}
		})
	}
}

func TestMasterKey_PostgresNeedsEnv(t *testing.T) {
	for _, db := range []string{"postgres://u:p@h/db", "postgresql://h/db", "POSTGRES://h/db"} {
		_, err := envApp(nil).masterKey(db)
		if err == nil || !strings.Contains(err.Error(), "AUTHO_MASTER_KEY is required with PostgreSQL") {
			t.Fatalf("masterKey(%q) = %v, want it to require AUTHO_MASTER_KEY", db, err)
		}
		if strings.Contains(err.Error(), db) {
			t.Fatal("error repeats the database URL")
		}
	}
}

func TestMasterKey_File(t *testing.T) {
	t.Run("created then read", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "autho.db")
		a, st := envApp(nil), keyStore(t, db)
		key, created, err := serveKey(a, db, st)
		if err != nil || !created || len(key) != 32 {
			t.Fatalf("first masterKey = %d bytes, created %v, %v", len(key), created, err)
		}
		info, err := os.Stat(db + ".masterkey")
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %04o, want 0600", info.Mode().Perm())
		}
		again, created, err := serveKey(a, db, st)
		if err != nil || created || !bytes.Equal(again, key) {
			t.Fatalf("second masterKey = created %v, %v, same key %v", created, err, bytes.Equal(again, key))
		}
	})

	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		msg     string
	}{
		{"readable by others", base64.StdEncoding.EncodeToString(make([]byte, 32)), 0o644, "chmod 600"},
		{"readable by group", base64.StdEncoding.EncodeToString(make([]byte, 32)), 0o640, "chmod 600"},
		{"short key", base64.StdEncoding.EncodeToString(make([]byte, 16)), 0o600, "base64 32-byte key"},
		{"garbage", "hello", 0o600, "base64 32-byte key"},
		{"empty", "", 0o600, "base64 32-byte key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.mode != 0o600 {
				t.Skip("no Unix permissions")
			}
			db := filepath.Join(t.TempDir(), "autho.db")
			if err := os.WriteFile(db+".masterkey", []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(db+".masterkey", tt.mode); err != nil { // past the umask
				t.Fatal(err)
			}
			_, _, err := serveKey(envApp(nil), db, keyStore(t, db))
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("masterKey = %v, want an error containing %q", err, tt.msg)
			}
			if tt.content != "" && strings.Contains(err.Error(), tt.content) {
				t.Fatal("error repeats the file's content")
			}
		})
	}

	t.Run("read only by owner is fine", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "autho.db")
		want := bytes.Repeat([]byte{9}, 32)
		if err := os.WriteFile(db+".masterkey", []byte(base64.StdEncoding.EncodeToString(want)+"\n"), 0o400); err != nil {
			t.Fatal(err)
		}
		key, created, err := serveKey(envApp(nil), db, keyStore(t, db))
		if err != nil || created || !bytes.Equal(key, want) {
			t.Fatalf("masterKey = %x, %v, %v", key, created, err)
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "no", "such", "autho.db")
		if _, err := envApp(nil).masterKey(db); err == nil {
			t.Fatal("masterKey made a key it could not store")
		}
	})
}

// Processes starting together must agree on one key: exactly one creates
// the file, the rest read it.
func TestMasterKey_ConcurrentFirstStart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "autho.db")
	st := keyStore(t, db)
	const n = 16
	keys := make([][]byte, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], created[i], errs[i] = serveKey(envApp(nil), db, st) })
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("masterKey #%d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatal("two different master keys")
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Fatalf("%d callers created the key, want 1", creators)
	}
}
