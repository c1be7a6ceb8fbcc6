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

// CheckWritable refuses a SQLite file that a server could not write, which
// SQLite would open read-only without a word: one whose mode gives its
// owner no write permission (heeded even by root, who could write it
// anyway), or that this process cannot open for writing (another owner, a
// read-only mount). A file that does not exist yet passes; making it is
// SQLite's to try.
func CheckWritable(db string) error {
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

// Open opens db and applies pending migrations, reporting slow ones to
// progress. pool sizes a PostgreSQL pool: serve sizes it from its settings,
// while an operator command needs one connection for a moment and takes the
// defaults. The caller closes the store.
func Open(ctx context.Context, db string, pool postgres.Options, progress migrations.Progress) (autho.Store, error) {
	if strings.TrimSpace(db) == "" {
		return nil, errors.New("--db must not be empty")
	}
	if IsPostgres(db) {
		// The URL may hold a password: it is never repeated in an error.
		st, err := postgres.Open(ctx, db, pool)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL database: %w", err)
		}
		if err := st.MigrateProgress(ctx, progress); err != nil {
			st.Close()
			return nil, fmt.Errorf("migrate PostgreSQL database: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(db)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", db, err)
	}
	if err := st.MigrateProgress(ctx, progress); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate database %s: %w", db, err)
	}
	return st, nil
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
	st, err := Open(ctx, db, postgres.Options{}, progress)
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
