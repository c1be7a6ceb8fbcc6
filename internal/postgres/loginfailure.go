package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// AddLoginFailure records one failure under each key, in one statement.
// It is not retried: a duplicate would count one failure twice.
func (s *Store) AddLoginFailure(ctx context.Context, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	return s.run(ctx, "add login failure", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO login_failures (subject, at) SELECT k, $2 FROM unnest($1::text[]) AS k`,
			keys, micros(at))
		return err
	})
}

// CountLoginFailures counts a key's failures since a time, on the
// (subject, at) index.
func (s *Store) CountLoginFailures(ctx context.Context, key string, since time.Time) (autho.LoginFailures, error) {
	var lf autho.LoginFailures
	err := s.runIdempotent(ctx, "count login failures", func(ctx context.Context, c *pgxpool.Conn) error {
		var (
			n    int64
			last *int64
		)
		if err := c.QueryRow(ctx, `SELECT count(*), max(at) FROM login_failures WHERE subject = $1 AND at >= $2`,
			key, micros(since)).Scan(&n, &last); err != nil {
			return err
		}
		lf = autho.LoginFailures{Count: int(n), Last: fromNullMicros(last)}
		return nil
	})
	return lf, err
}

// ClearLoginFailures forgets the keys' failures; clearing twice is harmless.
func (s *Store) ClearLoginFailures(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return s.runIdempotent(ctx, "clear login failures", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `DELETE FROM login_failures WHERE subject = ANY($1::text[])`, keys)
		return err
	})
}

// DeleteLoginFailuresBefore prunes failures too old to count.
func (s *Store) DeleteLoginFailuresBefore(ctx context.Context, before time.Time) (int, error) {
	return s.deleteCount(ctx, "delete old login failures", `DELETE FROM login_failures WHERE at < $1`, micros(before))
}
