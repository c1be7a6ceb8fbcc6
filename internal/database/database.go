// Package database opens the database that --db names: a SQLite file, or a
// PostgreSQL server given by URL, with pending migrations applied.
package database

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/migrations"
	"github.com/autho/autho/internal/postgres"
	"github.com/autho/autho/internal/signer"
	"github.com/autho/autho/internal/sqlite"
)

// IsPostgres reports whether a --db value names a PostgreSQL server rather
// than a SQLite file.
func IsPostgres(db string) bool {
	l := strings.ToLower(db)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// KeyFile is the master key file beside the SQLite database db, and "" for
// PostgreSQL, which has no file beside it that every node could share.
func KeyFile(db string) string {
	if IsPostgres(db) {
		return ""
	}
	return db + ".masterkey"
}

// OwnFiles are the files of the SQLite database db, which SQLite may make
// at any time, and its key file; none for PostgreSQL.
func OwnFiles(db string) []string {
	if IsPostgres(db) {
		return nil
	}
	return []string{db, db + "-wal", db + "-shm", db + "-journal", KeyFile(db)}
}

// Name is db for messages, without what may be a password in a URL.
func Name(db string) string {
	if IsPostgres(db) {
		return "(PostgreSQL)"
	}
	return db
}

// checkWritable refuses a SQLite file that a command that writes could not
// write, which SQLite would open read-only without a word and every write
// then fail: one whose mode gives its owner no write permission (heeded even
// by root, who could write it anyway), or that this process cannot open for
// writing (another owner, a read-only mount). A file that does not exist
// yet passes; making it is SQLite's to try.
func checkWritable(db string) error {
	if IsPostgres(db) {
		return nil
	}
	fi, err := os.Stat(db)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	why := ""
	if mode := fi.Mode().Perm(); mode&0o200 == 0 {
		why = fmt.Sprintf("its mode %04o gives its owner no write permission (chmod u+w %s)", mode, db)
	} else if f, err := os.OpenFile(db, os.O_WRONLY, 0); err != nil {
		why = fmt.Sprintf("this user cannot write it: %v", errors.Unwrap(err))
	} else {
		f.Close()
	}
	if why != "" {
		return fmt.Errorf("the database file %s must be writable: %s", db, why)
	}
	return nil
}

// Use is what a command may do to the database it opens. Only serve and
// migrate may make a SQLite file: any other command pointed at a path that
// is not there (a typo, the wrong folder) would otherwise make an empty
// database and answer from it, or hand out a partner token that works
// nowhere.
type Use int

const (
	// Create opens db, making a SQLite file that is not there, and applies
	// pending migrations: serve and migrate.
	Create Use = iota
	// Change opens a database that exists and applies pending migrations:
	// the operator commands that write.
	Change
	// Read opens a database that exists and is migrated, read-only, so that
	// the commands that only look work on a read-only file or through a
	// PostgreSQL role that may only SELECT, and never migrate behind an
	// operator's back.
	Read
)

// Open opens db for use and, unless use is Read, applies pending
// migrations, reporting slow ones to progress. pool sizes a PostgreSQL
// pool: serve sizes it from its settings, while an operator command needs
// one connection for a moment and takes the defaults. The caller closes the
// store.
func Open(ctx context.Context, db string, use Use, pool postgres.Options, progress migrations.Progress) (autho.Store, error) {
	if strings.TrimSpace(db) == "" {
		return nil, errors.New("--db must not be empty")
	}
	if IsPostgres(db) {
		// The URL may hold a password: it is never repeated in an error.
		st, err := postgres.Open(ctx, db, pool)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL database: %w", err)
		}
		return ready(ctx, st, use, db, migrations.Postgres, progress)
	}
	if use != Create {
		if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s: give --db (or AUTHO_DATABASE) the file the server uses, or make a new one with \"autho migrate --db %s\"", db, db)
		}
	}
	if use != Read {
		if err := checkWritable(db); err != nil {
			return nil, err
		}
	}
	open := sqlite.Open
	if use == Read {
		open = sqlite.OpenReadOnly
	}
	st, err := open(db)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", db, err)
	}
	return ready(ctx, st, use, db, migrations.SQLite, progress)
}

// what is db in an error: "PostgreSQL database", or "database FILE".
func what(db string) string {
	if IsPostgres(db) {
		return "PostgreSQL database"
	}
	return "database " + db
}

// schema is what Open asks of either backend's store.
type schema interface {
	autho.Store
	MigrateProgress(context.Context, migrations.Progress) error
	SchemaVersion(context.Context) (int, error)
}

// ready migrates st, or for a reader checks that nothing is pending, and
// closes it on failure.
func ready(ctx context.Context, st schema, use Use, db string, d migrations.Dialect, progress migrations.Progress) (autho.Store, error) {
	var err error
	if use == Read {
		err = current(ctx, st, db, d)
	} else if err = st.MigrateProgress(ctx, progress); err != nil {
		err = fmt.Errorf("migrate %s: %w", what(db), err)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// current refuses a database whose schema is behind this binary's: a
// reader must not migrate, and reading an older schema would fail halfway.
func current(ctx context.Context, st schema, db string, d migrations.Dialect) error {
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("open %s: %w", what(db), err)
	}
	fix := "autho migrate"
	if !IsPostgres(db) {
		fix += " --db " + db
	}
	switch latest := migrations.Latest(d); {
	case v == 0:
		return fmt.Errorf("the database %s holds no autho schema: check --db, or make a new database with \"%s\"", Name(db), fix)
	case v < latest:
		return fmt.Errorf("the database %s is at schema version %d and this autho needs %d: run \"%s\" (or start autho serve) first", Name(db), v, latest, fix)
	}
	return nil
}

// Migrate opens db, applies pending migrations and closes it. A SQLite
// database also gets its master key file here, as at serve's first start,
// so that the keys commands work before serve has run: keyFile is its path
// when it was made now. masterKey is AUTHO_MASTER_KEY's value; PostgreSQL's
// key is always given, and migrating has no use for it.
func Migrate(ctx context.Context, db, masterKey string, progress migrations.Progress) (keyFile string, err error) {
	var mk *signer.MasterKey
	if !IsPostgres(db) {
		if mk, err = signer.FindMasterKey(masterKey, KeyFile(db)); err != nil {
			return "", err
		}
	}
	st, err := Open(ctx, db, Create, postgres.Options{}, progress)
	if err != nil {
		return "", err
	}
	var created bool
	if mk != nil {
		_, created, err = mk.Open(ctx, st, signer.CreateKeyFile)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil || !created {
		return "", err
	}
	return mk.File(), nil
}
