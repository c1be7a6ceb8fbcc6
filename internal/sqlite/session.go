package sqlite

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/autho/autho"
)

// CreateSession stores a portal session; its user must exist.
func (s *Store) CreateSession(ctx context.Context, ps *autho.Session, entries ...autho.Entry) error {
	return s.write(ctx, "create session", entries, func(x execer) error {
		_, err := x.ExecContext(ctx, `INSERT INTO portal_sessions (hash, user_id, created_at, seen_at, ip, password_epoch, factor_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			hex.EncodeToString(ps.Hash), ps.UserID, micros(ps.CreatedAt), micros(ps.SeenAt), ps.IP, ps.PasswordEpoch, zeroMicros(ps.FactorAt))
		return wrap("create session", err)
	})
}

// Session reads a session by the hash of its id.
func (s *Store) Session(ctx context.Context, hash []byte) (*autho.Session, error) {
	ps := &autho.Session{Hash: append([]byte(nil), hash...)}
	var created, seen, factor int64
	err := s.r.QueryRowContext(ctx, `SELECT user_id, created_at, seen_at, ip, password_epoch, factor_at FROM portal_sessions WHERE hash = ?`,
		hex.EncodeToString(hash)).Scan(&ps.UserID, &created, &seen, &ps.IP, &ps.PasswordEpoch, &factor)
	if err != nil {
		return nil, wrap("session", err)
	}
	ps.CreatedAt, ps.SeenAt = fromMicros(created), fromMicros(seen)
	ps.FactorAt = fromZeroMicros(factor)
	return ps, nil
}

// TouchSession moves seen_at forward only, so that a slow request finishing
// after a newer one cannot shorten the session.
func (s *Store) TouchSession(ctx context.Context, hash []byte, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE portal_sessions SET seen_at = ?1 WHERE hash = ?2 AND seen_at < ?1`,
		micros(at), hex.EncodeToString(hash))
	return wrap("touch session", err)
}

// MarkSessionFactor moves factor_at forward only, like TouchSession.
func (s *Store) MarkSessionFactor(ctx context.Context, hash []byte, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE portal_sessions SET factor_at = ?1 WHERE hash = ?2 AND factor_at < ?1`,
		micros(at), hex.EncodeToString(hash))
	return wrap("mark session factor", err)
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, hash []byte, entries ...autho.Entry) error {
	return s.write(ctx, "delete session", entries, func(x execer) error {
		_, err := x.ExecContext(ctx, `DELETE FROM portal_sessions WHERE hash = ?`, hex.EncodeToString(hash))
		return wrap("delete session", err)
	})
}

// DeleteUserSessions ends a user's sessions but the one kept.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string, keep []byte, entries ...autho.Entry) (int, error) {
	var n int
	err := s.write(ctx, "delete user sessions", entries, func(x execer) error {
		res, err := x.ExecContext(ctx, `DELETE FROM portal_sessions WHERE user_id = ? AND hash <> ?`,
			userID, hex.EncodeToString(keep))
		n, err = affected("delete user sessions", res, err)
		return err
	})
	return n, err
}

// DeleteSessionsBefore ends sessions past either timeout.
func (s *Store) DeleteSessionsBefore(ctx context.Context, seenBefore, createdBefore time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM portal_sessions WHERE seen_at < ? OR created_at < ?`,
		micros(seenBefore), micros(createdBefore))
	return affected("delete old sessions", res, err)
}

// affected is the row count of a write, or its error in the Store's terms.
func affected(op string, res interface{ RowsAffected() (int64, error) }, err error) (int, error) {
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(op, err)
	}
	return int(n), nil
}
