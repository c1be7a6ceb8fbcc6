package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/migrations"
	"github.com/autho/autho/internal/postgres"
	"github.com/autho/autho/internal/sqlite"
)

// isPostgres reports whether a --db value names a PostgreSQL server rather
// than a SQLite file.
func isPostgres(db string) bool {
	l := strings.ToLower(db)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// openStore opens the database named by --db and applies pending
// migrations. The caller closes it.
func (a *app) openStore(ctx context.Context) (autho.Store, error) {
	say := func(msg string, args ...any) {
		fmt.Fprintf(a.stderr, "autho: "+msg+"\n", args...)
	}
	return a.openStoreWith(ctx, postgres.Options{}, migrations.ReportSlow(time.Second, func(m migrations.Migration, took time.Duration) {
		if took < 0 {
			say("applying migration %s to the database; on a large one this may take a minute", m)
			return
		}
		say("migration %s applied in %.1f s", m, took.Seconds())
	}))
}

// openStoreWith is openStore with PostgreSQL pool options: serve sizes its
// pool from its settings, while an operator command needs one connection
// for a moment and takes the defaults.
func (a *app) openStoreWith(ctx context.Context, pool postgres.Options, progress migrations.Progress) (autho.Store, error) {
	if strings.TrimSpace(a.db) == "" {
		return nil, usageError{errors.New("--db must not be empty")}
	}
	if isPostgres(a.db) {
		// The URL may hold a password: it is never repeated in an error.
		st, err := postgres.Open(ctx, a.db, pool)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL database: %w", err)
		}
		if err := st.MigrateProgress(ctx, progress); err != nil {
			st.Close()
			return nil, fmt.Errorf("migrate PostgreSQL database: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.Open(a.db)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", a.db, err)
	}
	if err := st.MigrateProgress(ctx, progress); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate database %s: %w", a.db, err)
	}
	return st, nil
}
