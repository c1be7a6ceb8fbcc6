package postgres

import (
	"bytes"
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// CreateSession stores a portal session; an unknown user is ErrNotFound (the
// foreign key says so), a duplicate hash ErrConflict.
func (s *Store) CreateSession(ctx context.Context, ps *autho.Session, entries ...autho.Entry) error {
	return s.write(ctx, "create session", entries, func(ctx context.Context, x execer) error {
		_, err := x.Exec(ctx, `INSERT INTO portal_sessions (hash, user_id, created_at, seen_at, ip, password_epoch, factor_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			hexOf(ps.Hash), ps.UserID, micros(ps.CreatedAt), micros(ps.SeenAt), ps.IP, ps.PasswordEpoch, zeroMicros(ps.FactorAt))
		return err
	})
}

// Session reads a session by the hash of its id: one primary-key probe on
// every portal request.
func (s *Store) Session(ctx context.Context, hash []byte) (*autho.Session, error) {
	var ps *autho.Session
	err := s.runIdempotent(ctx, "session", func(ctx context.Context, c *pgxpool.Conn) error {
		var created, seen, factor int64
		p := &autho.Session{Hash: bytes.Clone(hash)}
		err := c.QueryRow(ctx, `SELECT user_id, created_at, seen_at, ip, password_epoch, factor_at FROM portal_sessions WHERE hash = $1`,
			hexOf(hash)).Scan(&p.UserID, &created, &seen, &p.IP, &p.PasswordEpoch, &factor)
		if err != nil {
			return err
		}
		p.CreatedAt, p.SeenAt = fromMicros(created), fromMicros(seen)
		p.FactorAt = fromZeroMicros(factor)
		ps = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ps, nil
}

// TouchSession moves seen_at forward only. Running it twice is harmless,
// so it may be retried on a fresh connection.
func (s *Store) TouchSession(ctx context.Context, hash []byte, at time.Time) error {
	return s.runIdempotent(ctx, "touch session", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `UPDATE portal_sessions SET seen_at = $2 WHERE hash = $1 AND seen_at < $2`, hexOf(hash), micros(at))
		return err
	})
}

// MarkSessionFactor moves factor_at forward only; like TouchSession it
// may be retried on a fresh connection.
func (s *Store) MarkSessionFactor(ctx context.Context, hash []byte, at time.Time) error {
	return s.runIdempotent(ctx, "mark session factor", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `UPDATE portal_sessions SET factor_at = $2 WHERE hash = $1 AND factor_at < $2`, hexOf(hash), micros(at))
		return err
	})
}

// DeleteSession ends one session; deleting twice is harmless, so without
// entries it may be retried on a fresh connection.
func (s *Store) DeleteSession(ctx context.Context, hash []byte, entries ...autho.Entry) error {
	del := func(ctx context.Context, x execer) error {
		_, err := x.Exec(ctx, `DELETE FROM portal_sessions WHERE hash = $1`, hexOf(hash))
		return err
	}
	if len(entries) > 0 {
		return s.write(ctx, "delete session", entries, del)
	}
	return s.runIdempotent(ctx, "delete session", func(ctx context.Context, c *pgxpool.Conn) error { return del(ctx, c) })
}

// DeleteUserSessions ends a user's sessions but the one kept.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string, keep []byte, entries ...autho.Entry) (int, error) {
	var n int64
	err := s.write(ctx, "delete user sessions", entries, func(ctx context.Context, x execer) error {
		tag, err := x.Exec(ctx, `DELETE FROM portal_sessions WHERE user_id = $1 AND hash <> $2`, userID, hexOf(keep))
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// DeleteSessionsBefore ends sessions past either timeout.
func (s *Store) DeleteSessionsBefore(ctx context.Context, seenBefore, createdBefore time.Time) (int, error) {
	return s.deleteCount(ctx, "delete old sessions",
		`DELETE FROM portal_sessions WHERE seen_at < $1 OR created_at < $2`, micros(seenBefore), micros(createdBefore))
}

// deleteCount runs a DELETE and returns how many rows it removed. It is not
// retried: the count of a second run would not be the count of the first.
func (s *Store) deleteCount(ctx context.Context, op, sql string, args ...any) (int, error) {
	var n int64
	err := s.run(ctx, op, func(ctx context.Context, c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, sql, args...)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
