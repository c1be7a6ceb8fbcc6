package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/autho/autho"
)

// ReserveLoginAttempt counts and records in one write transaction: SQLite
// has one writer at a time (BEGIN IMMEDIATE, across processes too), so no
// other reservation can slip between the count and the insert.
func (s *Store) ReserveLoginAttempt(ctx context.Context, attempt string, keys []string, since, at time.Time,
	allow func([]autho.LoginFailures) bool) (bool, error) {
	ok := false
	err := s.tx(ctx, "reserve login attempt", func(tx *sql.Tx) error {
		counts := make([]autho.LoginFailures, len(keys))
		for i, k := range keys {
			var last sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT count(*), max(at) FROM login_failures WHERE subject = ? AND at >= ?`,
				k, micros(since)).Scan(&counts[i].Count, &last); err != nil {
				return wrap("reserve login attempt", err)
			}
			counts[i].Last = fromNullMicros(last)
		}
		if ok = allow(counts); !ok {
			return nil
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (subject, at, attempt) VALUES (?, ?, ?)`,
				k, micros(at), attempt); err != nil {
				return wrap("reserve login attempt", err)
			}
		}
		return nil
	})
	return ok && err == nil, err
}

// ForgetLoginAttempt removes an attempt's rows, on their partial index.
func (s *Store) ForgetLoginAttempt(ctx context.Context, attempt string) error {
	if attempt == "" {
		return nil
	}
	_, err := s.w.ExecContext(ctx, `DELETE FROM login_failures WHERE attempt = ? AND attempt <> ''`, attempt)
	return wrap("forget login attempt", err)
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
