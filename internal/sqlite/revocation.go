package sqlite

import (
	"context"
	"time"

	"github.com/autho/autho"
)

// RevocationVersion reads the number migration 0013's triggers raise in
// every transaction that changes what Revocations lists, whoever writes.
func (s *Store) RevocationVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.r.QueryRowContext(ctx, `SELECT version FROM revocation_version WHERE id = 1`).Scan(&v)
	return v, wrap("revocation version", err)
}

// revocationsSQL is one statement, so one snapshot: a change that commits
// meanwhile is in every part or in none. Each part is a range scan of one
// of 0013's indexes, which hold everything it reads.
const revocationsSQL = `
SELECT 'token', id, revoked_at FROM api_tokens WHERE revoked_at >= ?1 AND expires_at > ?1
UNION ALL SELECT 'user', id, deactivated_at FROM users WHERE deactivated_at >= ?1
UNION ALL SELECT 'account', id, suspended_at FROM accounts WHERE suspended_at >= ?1
UNION ALL SELECT 'account', id, expires_at FROM accounts WHERE expires_at >= ?1 AND expires_at <= ?2`

// Revocations lists the feed's facts from since on, as store.go says.
func (s *Store) Revocations(ctx context.Context, since, now time.Time) ([]autho.Revocation, error) {
	rows, err := s.r.QueryContext(ctx, revocationsSQL, micros(since), micros(now))
	if err != nil {
		return nil, wrap("revocations", err)
	}
	defer rows.Close()
	var out []autho.Revocation
	for rows.Next() {
		var r autho.Revocation
		var at int64
		if err := rows.Scan(&r.Kind, &r.ID, &at); err != nil {
			return nil, wrap("revocations", err)
		}
		r.At = fromMicros(at)
		out = append(out, r)
	}
	return out, wrap("revocations", rows.Err())
}
