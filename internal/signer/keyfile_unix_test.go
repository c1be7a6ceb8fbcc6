//go:build unix

package signer

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nobody is the uid and gid of another local user, for files a test
// pretends someone else made (it takes root to chown them).
const nobody = 65534

// TestOpenKeyFile_Unsafe: a key file, or a directory for it, that another
// local user could have written is refused, naming what to fix; nothing is
// made or changed. (cmd/autho's TestServe_RefusesUnsafeMasterKeyFile checks
// that serve refuses before it makes the database.)
func TestOpenKeyFile_Unsafe(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, MasterKeyLen)) + "\n"
	write := func(t *testing.T, path string, perm os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(key), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, perm); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		root  bool // chowns to another user
		setup func(t *testing.T, dir, file string)
		want  []string // in the refusal, besides the directory
	}{
		{"key file of another user", true, func(t *testing.T, dir, file string) {
			write(t, file, 0o600)
			os.Chown(file, nobody, nobody)
		}, []string{"uid 65534", "chown"}},
		{"key file readable by group", false, func(t *testing.T, dir, file string) { write(t, file, 0o640) }, []string{"0640", "chmod 600"}},
		{"key file writable by others", false, func(t *testing.T, dir, file string) { write(t, file, 0o602) }, []string{"0602", "chmod 600"}},
		{"directory of another user", true, func(t *testing.T, dir, file string) { os.Chown(dir, nobody, nobody) }, []string{"uid 65534"}},
		{"directory writable by group", false, func(t *testing.T, dir, file string) { os.Chmod(dir, 0o770) }, []string{"0770", "chmod go-w"}},
		{"shared directory like /tmp", false, func(t *testing.T, dir, file string) { os.Chmod(dir, 0o777|os.ModeSticky) }, []string{"1777"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("needs root to give a file to another user")
			}
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "autho.db.masterkey")
			tc.setup(t, dir, file)
			before, _ := os.ReadFile(file)
			_, err := OpenKeyFile(file)
			if err == nil {
				t.Fatal("OpenKeyFile accepted it")
			}
			for _, w := range append(tc.want, dir) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("refusal %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), strings.TrimSpace(key)) {
				t.Error("the refusal shows the key")
			}
			if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
				t.Error("the key file changed")
			}
		})
	}
}
