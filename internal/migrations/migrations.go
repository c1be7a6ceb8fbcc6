// Package migrations is the one source of autho's two schemas, SQLite's and
// PostgreSQL's. Each backend applies its files in order, each in a
// transaction, and records them in its own schema_migrations table; the two
// never share a database.
//
// A version is either one file, NNNN_name.sql, in the subset of SQL that
// both engines run unchanged (TEXT, BIGINT and INTEGER columns; times as
// Unix microseconds, UTC; hashes as lowercase hex; binary values as standard
// base64; booleans as 0/1), or, where one engine needs what the other does
// not, a pair NNNN_name.sqlite.sql and NNNN_name.postgres.sql, one of which
// may do nothing, so that version numbers mean the same on both. The pairs
// make the schemas differ from 0003 on: SQLite keeps last use in
// api_token_uses and the login's lookup in api_token_logins (with hashes as
// BLOB), PostgreSQL keeps last use in api_tokens.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed *.sql
var files embed.FS

// Dialect names a database engine.
type Dialect string

// The engines autho runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Migration is one schema version.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// String is the migration's file name without its extensions, as the
// operator sees it: "0005_login_keys".
func (m Migration) String() string { return fmt.Sprintf("%04d_%s", m.Version, m.Name) }

// Progress hears of each migration a store applies: when it starts, then
// once it is committed (done, with the time it took), so that a command can
// tell its operator about a slow one (rewriting a table of a million tokens
// takes seconds). Versions already applied are not reported.
type Progress func(m Migration, done bool, took time.Duration)

// All returns every migration for d, in version order. File names are
// "NNNN_name.sql" (both engines) or "NNNN_name.DIALECT.sql"; a malformed
// name, a missing or repeated version, or a version that is neither common
// nor given for every dialect is a build-time mistake and panics in tests.
func All(d Dialect) []Migration {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err)
	}
	perDialect := map[int]map[Dialect]bool{}
	var ms []Migration
	for _, e := range entries {
		base := strings.TrimSuffix(e.Name(), ".sql")
		var only Dialect
		if stem, dialect, ok := strings.Cut(base, "."); ok {
			base, only = stem, Dialect(dialect)
			if only != SQLite && only != Postgres {
				panic(fmt.Sprintf("migrations: unknown dialect in file name %q", e.Name()))
			}
		}
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			panic(fmt.Sprintf("migrations: bad file name %q", e.Name()))
		}
		if only != "" {
			if perDialect[v] == nil {
				perDialect[v] = map[Dialect]bool{}
			}
			perDialect[v][only] = true
			if only != d {
				continue
			}
		}
		b, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	for v, ds := range perDialect {
		if !ds[SQLite] || !ds[Postgres] {
			panic(fmt.Sprintf("migrations: version %d has a file for one dialect only", v))
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := range ms {
		if ms[i].Version != i+1 {
			panic(fmt.Sprintf("migrations: version %d missing or repeated", i+1))
		}
	}
	return ms
}

// Latest is the newest version for d: what a database must be at for this
// binary to read it.
func Latest(d Dialect) int {
	ms := All(d)
	return ms[len(ms)-1].Version
}
