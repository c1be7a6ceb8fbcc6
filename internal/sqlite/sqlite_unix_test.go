//go:build unix

package sqlite

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// withUmask sets the process's umask for the rest of the test. The umask is
// the process's, so a test using this must not run in parallel.
func withUmask(tb testing.TB, mask int) {
	tb.Helper()
	old := syscall.Umask(mask)
	tb.Cleanup(func() { syscall.Umask(old) })
}

// TestOpen_FileModes: the database holds password hashes and sealed keys,
// so a new one, its WAL and its shared-memory file are readable by their
// owner only, whatever the umask lets through.
func TestOpen_FileModes(t *testing.T) {
	withUmask(t, 0o022)
	path := filepath.Join(t.TempDir(), "autho.db")
	s := mustOpen(t, path)
	seedAccount(t, s) // a write, so that the WAL holds something
	for _, suffix := range []string{"", "-wal", "-shm"} {
		t.Run("autho.db"+suffix, func(t *testing.T) {
			fi, err := os.Stat(path + suffix)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Fatalf("mode %04o, want 0600", perm)
			}
		})
	}
}
