package seed

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPlaceNew: the finished pairs take --out's name only while it
// is free; a file made there during the seed is left alone, and the pairs
// stay in the file they were written to, which the error names.
func TestPlaceNew(t *testing.T) {
	for _, tc := range []struct {
		name  string
		taken bool
	}{
		{"name still free", false},
		{"name taken while seeding", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tmp, out := filepath.Join(dir, ".pairs.txt.tmp-1"), filepath.Join(dir, "pairs.txt")
			if err := os.WriteFile(tmp, []byte("pairs\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.taken {
				if err := os.WriteFile(out, []byte("theirs\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			where, err := placeNew(tmp, out)
			want := map[string]string{"pairs.txt": "pairs\n"}
			wantWhere := out
			if tc.taken {
				want = map[string]string{"pairs.txt": "theirs\n", ".pairs.txt.tmp-1": "pairs\n"}
				wantWhere = tmp
				if err == nil || !strings.Contains(err.Error(), out) || !strings.Contains(err.Error(), "left alone") {
					t.Errorf("placeNew = %v, want an error saying %s is left alone", err, out)
				}
			} else if err != nil {
				t.Errorf("placeNew: %v", err)
			}
			if where != wantWhere {
				t.Errorf("pairs said to be in %s, want %s", where, wantWhere)
			}
			if got := dirContent(t, dir); !maps.Equal(got, want) {
				t.Errorf("files %v, want %v", got, want)
			}
		})
	}
}

// dirContent is each file of dir by name, with its content.
func dirContent(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

// TestProgress_FirstAtOnce: off a terminal, a line comes every few seconds,
// except the first report, which is shown at once.
func TestProgress_FirstAtOnce(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, Plan{Accounts: 2, Tokens: 4}, time.Now())
	p.Update(Result{}, false)
	p.Update(Result{Accounts: 1, Users: 1, Tokens: 2}, false)
	p.Update(Result{Accounts: 2, Users: 2, Tokens: 4}, true)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "dev seed: 0/4 tokens") || !strings.HasPrefix(lines[1], "dev seed: 4/4 tokens") {
		t.Fatalf("progress wrote %q; want the first report and the last", buf.String())
	}
}
