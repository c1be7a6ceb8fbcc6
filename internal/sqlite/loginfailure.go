package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/autho/autho"
)

// AddLoginFailure records one failure under each key, in one transaction.
func (s *Store) AddLoginFailure(ctx context.Context, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	return s.tx(ctx, "add login failure", func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (subject, at) VALUES (?, ?)`, k, micros(at)); err != nil {
				return wrap("add login failure", err)
			}
		}
		return nil
	})
}

// CountLoginFailures counts a key's failures since a time, on the
// (subject, at) index.
func (s *Store) CountLoginFailures(ctx context.Context, key string, since time.Time) (autho.LoginFailures, error) {
	var (
		lf   autho.LoginFailures
		last sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT count(*), max(at) FROM login_failures WHERE subject = ? AND at >= ?`,
		key, micros(since)).Scan(&lf.Count, &last)
	if err != nil {
		return autho.LoginFailures{}, wrap("count login failures", err)
	}
	lf.Last = fromNullMicros(last)
	return lf, nil
}

// ClearLoginFailures forgets the keys' failures.
func (s *Store) ClearLoginFailures(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return s.tx(ctx, "clear login failures", func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE subject = ?`, k); err != nil {
				return wrap("clear login failures", err)
			}
		}
		return nil
	})
}

// DeleteLoginFailuresBefore prunes failures too old to count.
func (s *Store) DeleteLoginFailuresBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM login_failures WHERE at < ?`, micros(before))
	return affected("delete old login failures", res, err)
}
