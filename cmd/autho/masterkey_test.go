package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho/internal/database"
	"github.com/autho/autho/internal/signer"
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

// serveKey settles db's master key as serve does, both steps, the second
// on st.
func serveKey(a *app, db string, st signer.KeyStore) (key []byte, created bool, err error) {
	m, err := a.masterKey(db)
	if err != nil {
		return nil, false, err
	}
	return m.Open(context.Background(), st, signer.CreateKeyFile)
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
			if !database.IsPostgres(db) {
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
