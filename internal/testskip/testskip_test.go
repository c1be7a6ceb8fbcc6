package testskip

import "testing"

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    map[Need]int
		want string
	}{
		{"nothing skipped", map[Need]int{}, ""},
		{"PostgreSQL", map[Need]int{Postgres: 3}, "pkg: 3 tests skipped: 3 need PostgreSQL (set AUTHO_TEST_POSTGRES, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)"},
		{"both, PostgreSQL first", map[Need]int{Chromium: 1, Postgres: 2}, "pkg: 3 tests skipped: 2 need PostgreSQL (set AUTHO_TEST_POSTGRES, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); 1 need Chromium (set AUTHO_TEST_CHROMIUM, e.g. /usr/bin/chromium)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summary("pkg", tc.n); got != tc.want {
				t.Errorf("summary = %q\nwant      %q", got, tc.want)
			}
		})
	}
}
