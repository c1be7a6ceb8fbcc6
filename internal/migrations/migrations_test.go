package migrations

import (
	"strings"
	"testing"
)

func TestAll(t *testing.T) {
	for _, d := range []Dialect{SQLite, Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ms := All(d)
			if len(ms) < 3 || ms[0].Version != 1 || ms[0].SQL == "" {
				t.Fatalf("All(%s) = %+v", d, ms)
			}
			for i, m := range ms {
				if m.Version != i+1 || m.Name == "" || strings.TrimSpace(m.SQL) == "" {
					t.Errorf("migration %d = %+v", i, m)
				}
			}
		})
	}
	// The common files are the same for both; a dialect file only for its own.
	s, p := All(SQLite), All(Postgres)
	if len(s) != len(p) {
		t.Fatalf("%d SQLite versions, %d PostgreSQL versions", len(s), len(p))
	}
	if s[0].SQL != p[0].SQL {
		t.Error("0001 differs between dialects")
	}
	if !strings.Contains(s[2].SQL, "api_tokens_login") || !strings.Contains(p[2].SQL, "fillfactor") {
		t.Errorf("0003: SQLite got %q, PostgreSQL got %q", s[2].SQL, p[2].SQL)
	}
}
