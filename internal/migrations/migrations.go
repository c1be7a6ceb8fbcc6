// Package migrations is the one source of truth for autho's schema. Each
// version is a numbered .sql file in the subset of SQL that both SQLite and
// PostgreSQL run unchanged: TEXT, BIGINT and INTEGER columns only, times as
// Unix microseconds (UTC), hashes as lowercase hex, binary values as standard
// base64, booleans as 0/1. Each backend applies the files in order, each in a
// transaction, and records them in its own schema_migrations table.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.sql
var files embed.FS

// Migration is one schema version.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// All returns every migration, in version order. File names are
// "NNNN_name.sql"; a malformed or duplicate name is a build-time mistake and
// panics in tests.
func All() []Migration {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err)
	}
	var ms []Migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			panic(fmt.Sprintf("migrations: bad file name %q", e.Name()))
		}
		b, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := range ms {
		if ms[i].Version != i+1 {
			panic(fmt.Sprintf("migrations: version %d missing or repeated", i+1))
		}
	}
	return ms
}
