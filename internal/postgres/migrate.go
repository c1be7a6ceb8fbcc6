package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho/internal/migrations"
)

// migrateLock is the advisory lock key every autho node takes to migrate;
// the bytes spell "autho_mg". It is database-wide, so nodes migrating
// different schemas of one database wait for each other too, which is
// harmless.
const migrateLock int64 = 0x6175_7468_6f5f_6d67

// Migrate applies the pending versions of internal/migrations, each in its
// own transaction, recording each in schema_migrations. Every transaction
// holds the advisory lock before it looks at what is applied, so nodes
// starting together apply each version once: the others wait, then find it
// done. It is bounded by AcquireTimeout to get a connection and otherwise
// only by ctx, since a migration of a large table may take a while.
func (s *Store) Migrate(ctx context.Context) error { return s.MigrateProgress(ctx, nil) }

// MigrateProgress is Migrate, telling progress (if not nil) of each
// migration it applies.
func (s *Store) MigrateProgress(ctx context.Context, progress migrations.Progress) error {
	c, err := s.acquire(ctx)
	if err != nil {
		return translate(ctx, "migrate", err)
	}
	defer c.Release()
	for _, m := range migrations.All(migrations.Postgres) {
		var start time.Time
		err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version    BIGINT PRIMARY KEY,
				applied_at BIGINT NOT NULL
			)`)
			if err != nil {
				return err
			}
			var done bool
			err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done)
			if err != nil || done {
				return err
			}
			start = time.Now()
			if progress != nil {
				progress(m, false, 0)
			}
			// Without arguments pgx sends the text over the simple
			// protocol, which runs a file of several statements as is.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
				m.Version, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return translate(ctx, fmt.Sprintf("migrate to version %d (%s)", m.Version, m.Name), err)
		}
		if progress != nil && !start.IsZero() {
			progress(m, true, time.Since(start))
		}
	}
	return nil
}

// SchemaVersion is the newest migration recorded in the schema the URL's
// search_path names, 0 when there is none. It only reads, so it works
// through a role that may only SELECT.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.run(ctx, "schema version", func(ctx context.Context, c *pgxpool.Conn) error {
		var exists bool
		if err := c.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil || !exists {
			return err
		}
		return c.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	})
	return v, err
}
