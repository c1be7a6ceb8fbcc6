package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// ReserveLoginAttempt counts and records in one transaction that first
// takes a transaction-scoped advisory lock per key, in sorted order (so two
// reservations never wait on each other crosswise): a reservation sharing a
// key, on any node, waits until this one has committed, and its counts,
// read after the lock, see this one's rows. It is not retried: a duplicate
// would count one attempt twice.
func (s *Store) ReserveLoginAttempt(ctx context.Context, attempt string, keys []string, since, at time.Time,
	allow func([]autho.LoginFailures) bool) (bool, error) {
	ok := false
	err := s.inTx(ctx, "reserve login attempt", func(ctx context.Context, tx pgx.Tx) error {
		locks := slices.Sorted(slices.Values(keys))
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('autho login attempt:' || k, 0))
			FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n`, locks); err != nil {
			return err
		}
		counts := make([]autho.LoginFailures, len(keys))
		rows, err := tx.Query(ctx, `SELECT count(f.at), max(f.at) FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n)
			LEFT JOIN login_failures f ON f.subject = t.k AND f.at >= $2 GROUP BY t.n ORDER BY t.n`, keys, micros(since))
		if err != nil {
			return err
		}
		i := 0
		for rows.Next() {
			var (
				n    int64
				last *int64
			)
			if err := rows.Scan(&n, &last); err != nil {
				rows.Close()
				return err
			}
			counts[i] = autho.LoginFailures{Count: int(n), Last: fromNullMicros(last)}
			i++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if ok = allow(counts); !ok {
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO login_failures (subject, at, attempt) SELECT k, $2, $3 FROM unnest($1::text[]) AS k`,
			keys, micros(at), attempt)
		return err
	})
	return ok && err == nil, err
}

// ForgetLoginAttempt removes an attempt's rows, on their partial index;
// removing twice is harmless.
func (s *Store) ForgetLoginAttempt(ctx context.Context, attempt string) error {
	if attempt == "" {
		return nil
	}
	return s.runIdempotent(ctx, "forget login attempt", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `DELETE FROM login_failures WHERE attempt = $1 AND attempt <> ''`, attempt)
		return err
	})
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
