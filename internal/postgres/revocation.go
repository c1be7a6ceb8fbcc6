package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// RevocationVersion reads the number migration 0013's triggers raise, at
// commit, in every transaction that changes what Revocations lists,
// whoever writes.
func (s *Store) RevocationVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.runIdempotent(ctx, "revocation version", func(ctx context.Context, c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT version FROM revocation_version WHERE id = 1`).Scan(&v)
	})
	return v, err
}

// revocationsSQL is one statement, so one snapshot: a change that commits
// meanwhile is in every part or in none. Each part is a range scan of one
// of 0013's indexes, which hold everything it reads.
const revocationsSQL = `
SELECT 'token', id, revoked_at FROM api_tokens WHERE revoked_at >= $1 AND expires_at > $1
UNION ALL SELECT 'user', id, deactivated_at FROM users WHERE deactivated_at >= $1
UNION ALL SELECT 'account', id, suspended_at FROM accounts WHERE suspended_at >= $1
UNION ALL SELECT 'account', id, expires_at FROM accounts WHERE expires_at >= $1 AND expires_at <= $2`

// Revocations lists the feed's facts from since on, as store.go says.
func (s *Store) Revocations(ctx context.Context, since, now time.Time) ([]autho.Revocation, error) {
	var out []autho.Revocation
	err := s.runIdempotent(ctx, "revocations", func(ctx context.Context, c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, revocationsSQL, micros(since), micros(now))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (autho.Revocation, error) {
			var (
				rv   autho.Revocation
				kind string
				at   int64
			)
			err := r.Scan(&kind, &rv.ID, &at)
			rv.Kind, rv.At = autho.RevocationKind(kind), fromMicros(at)
			return rv, err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
