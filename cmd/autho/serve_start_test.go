package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_ReadOnlyDatabase: serve on a SQLite file that is read-only
// (mode bits without the owner's write, which even root's serve heeds)
// refuses to start, in one line saying the file must be writable, rather
// than serve and then fail every write.
func TestServe_ReadOnlyDatabase(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode os.FileMode
	}{
		{"owner read only", 0o400},
		{"read only for all", 0o444},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "autho.db")
			if r := runOp(t, db, nil, "", "migrate"); r.code != 0 {
				t.Fatalf("migrate: exit %d: %s", r.code, r.stderr)
			}
			if err := os.Chmod(db, tc.mode); err != nil {
				t.Fatal(err)
			}
			line := serveRefused(t, db)
			if !strings.Contains(line, db) || !strings.Contains(line, "must be writable") {
				t.Fatalf("refusal %q: want it to say that %s must be writable", line, db)
			}
		})
	}
}
