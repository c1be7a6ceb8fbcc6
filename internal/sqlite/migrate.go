package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/autho/autho/internal/migrations"
)

// Migrate applies every pending migration, each in its own IMMEDIATE
// transaction that first checks whether the version is already recorded.
// The write lock makes that check and the apply one step, so processes
// migrating the same file at the same moment apply each version once: the
// later one waits, then finds it recorded.
func (s *Store) Migrate(ctx context.Context) error { return s.MigrateProgress(ctx, nil) }

// MigrateProgress is Migrate, telling progress (if not nil) of each
// migration it applies.
func (s *Store) MigrateProgress(ctx context.Context, progress migrations.Progress) error {
	_, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`)
	if err != nil {
		return wrap("migrate", err)
	}
	for _, m := range migrations.All(migrations.SQLite) {
		op := "migrate " + m.String()
		var start time.Time
		err := s.tx(ctx, op, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
				return wrap(op, err)
			}
			if n > 0 {
				return nil
			}
			start = time.Now()
			if progress != nil {
				progress(m, false, 0)
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return wrap(op, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.Version, time.Now().UnixMicro())
			return wrap(op, err)
		})
		if err != nil {
			return err
		}
		if progress != nil && !start.IsZero() {
			progress(m, true, time.Since(start))
		}
	}
	return nil
}

// SchemaVersion is the newest migration recorded, 0 when there is none (a
// file that is not yet, or not, an autho database). It only reads.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'schema_migrations')
		THEN (SELECT coalesce(max(version), 0) FROM schema_migrations) ELSE 0 END`).Scan(&v)
	return v, wrap("schema version", err)
}
