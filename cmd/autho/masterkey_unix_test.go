//go:build unix

package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/autho/autho/internal/signer"
)

// withUmask sets the process's umask for the rest of the test. The umask is
// the process's, so a test using this must not run in parallel.
func withUmask(tb testing.TB, mask int) {
	tb.Helper()
	old := syscall.Umask(mask)
	tb.Cleanup(func() { syscall.Umask(old) })
}

// writeKeyFile writes a well-formed master key file, mode exactly perm.
func writeKeyFile(tb testing.TB, path string, perm os.FileMode) {
	tb.Helper()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, signer.MasterKeyLen)) + "\n"
	if err := os.WriteFile(path, []byte(key), perm); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		tb.Fatal(err)
	}
}

// TestServe_PrivateFiles: every file a real serve makes beside the
// database, the WAL and shared memory included, is its owner's alone, even
// under the common umask 022.
func TestServe_PrivateFiles(t *testing.T) {
	withUmask(t, 0o022)
	ts := startServer(t, nil)
	p := ts.newPartner()
	wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	for _, suffix := range []string{"", "-wal", "-shm", ".masterkey"} {
		t.Run("autho.db"+suffix, func(t *testing.T) {
			fi, err := os.Stat(ts.db + suffix)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Fatalf("mode %04o, want 0600", perm)
			}
		})
	}
}

// TestServe_RefusesUnsafeMasterKeyFile: a key file, or a directory for it,
// that another local user could have written is refused before anything is
// made: whoever planted the key before the first start could decrypt the
// signing keys sealed with it and forge JWTs.
func TestServe_RefusesUnsafeMasterKeyFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		root  bool                           // chowns a file to another user
		setup func(t *testing.T, dir string) // dir will hold the database
		want  []string                       // in the refusal, besides the path
	}{
		{"key file of another user", true, func(t *testing.T, dir string) {
			writeKeyFile(t, filepath.Join(dir, "autho.db.masterkey"), 0o600)
			os.Chown(filepath.Join(dir, "autho.db.masterkey"), nobody, nobody)
		}, []string{"uid 65534", "chown"}},
		{"key file readable by group", false, func(t *testing.T, dir string) {
			writeKeyFile(t, filepath.Join(dir, "autho.db.masterkey"), 0o640)
		}, []string{"0640", "chmod 600"}},
		{"key file writable by others", false, func(t *testing.T, dir string) {
			writeKeyFile(t, filepath.Join(dir, "autho.db.masterkey"), 0o602)
		}, []string{"0602", "chmod 600"}},
		{"directory of another user", true, func(t *testing.T, dir string) {
			os.Chown(dir, nobody, nobody)
		}, []string{"uid 65534"}},
		{"directory writable by group", false, func(t *testing.T, dir string) {
			os.Chmod(dir, 0o770)
		}, []string{"0770", "chmod go-w"}},
		{"shared directory like /tmp, with a planted key", true, func(t *testing.T, dir string) {
			os.Chmod(dir, 0o777|os.ModeSticky)
			writeKeyFile(t, filepath.Join(dir, "autho.db.masterkey"), 0o600)
			os.Chown(filepath.Join(dir, "autho.db.masterkey"), nobody, nobody)
		}, []string{"1777"}},
		{"shared directory like /tmp, empty", false, func(t *testing.T, dir string) {
			os.Chmod(dir, 0o777|os.ModeSticky)
		}, []string{"1777"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				needRoot(t)
			}
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, dir)
			db := filepath.Join(dir, "autho.db")
			before, _ := os.ReadFile(db + ".masterkey")

			line := serveRefused(t, db)
			for _, w := range append(tc.want, dir) {
				if !strings.Contains(line, w) {
					t.Errorf("refusal %q does not say %q", line, w)
				}
			}
			if strings.Contains(line, strings.TrimSpace(string(before))) && len(before) > 0 {
				t.Error("the refusal shows the key")
			}
			if after, _ := os.ReadFile(db + ".masterkey"); !bytes.Equal(after, before) {
				t.Error("the key file changed")
			}
			if _, err := os.Stat(db); err == nil {
				t.Error("a refused serve created the database")
			}
		})
	}

	t.Run("AUTHO_MASTER_KEY given: the directory is the operator's", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o777|os.ModeSticky)
		ts := startServerAt(t, filepath.Join(dir, "autho.db"), map[string]string{"AUTHO_MASTER_KEY": pgTestMasterKey()})
		p := ts.newPartner()
		wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
		if _, err := os.Stat(ts.db + ".masterkey"); err == nil {
			t.Error("a key file was written although AUTHO_MASTER_KEY is set")
		}
	})
}
