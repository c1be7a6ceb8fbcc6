package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// errNoRow rolls back a change whose condition held for no row, so that
// its entries are not written; it never leaves this file.
var errNoRow = errors.New("no row")

// writeIf runs f, which returns how many rows it changed, and writes
// entries only when that is not zero, in one transaction.
func (s *Store) writeIf(ctx context.Context, op string, entries []autho.Entry, f func(context.Context, execer) (int64, error)) (int64, error) {
	var n int64
	err := s.write(ctx, op, entries, func(ctx context.Context, x execer) error {
		var err error
		if n, err = f(ctx, x); err != nil {
			return err
		}
		if n == 0 && len(entries) > 0 {
			return errNoRow
		}
		return nil
	})
	if errors.Is(err, errNoRow) {
		return 0, nil
	}
	return n, err
}

// CreateTOTP inserts the factor, or replaces the user's unconfirmed one,
// in one statement: a confirmed factor matches the conflict but not the
// WHERE, so nothing changes.
func (s *Store) CreateTOTP(ctx context.Context, f *autho.TOTPFactor, entries ...autho.Entry) error {
	n, err := s.writeIf(ctx, "create totp factor", entries, func(ctx context.Context, x execer) (int64, error) {
		tag, err := x.Exec(ctx, `INSERT INTO totp_factors (id, user_id, sealed_secret, created_at, confirmed_at, last_step)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, sealed_secret = excluded.sealed_secret,
				created_at = excluded.created_at, confirmed_at = excluded.confirmed_at, last_step = excluded.last_step
			WHERE totp_factors.confirmed_at = 0`,
			f.ID, f.UserID, base64Of(f.SealedSecret), micros(f.CreatedAt), zeroMicros(f.ConfirmedAt), f.LastStep)
		return tag.RowsAffected(), err
	})
	if err == nil && n == 0 {
		return fmt.Errorf("postgres: create totp factor: the user has a confirmed one: %w", autho.ErrConflict)
	}
	return err
}

// TOTP reads the user's factor.
func (s *Store) TOTP(ctx context.Context, userID string) (*autho.TOTPFactor, error) {
	var f *autho.TOTPFactor
	err := s.runIdempotent(ctx, "totp factor", func(ctx context.Context, c *pgxpool.Conn) error {
		g := &autho.TOTPFactor{}
		var sealed string
		var created, confirmed int64
		err := c.QueryRow(ctx, `SELECT id, user_id, sealed_secret, created_at, confirmed_at, last_step FROM totp_factors WHERE user_id = $1`,
			userID).Scan(&g.ID, &g.UserID, &sealed, &created, &confirmed, &g.LastStep)
		if err != nil {
			return err
		}
		if g.SealedSecret, err = fromBase64(sealed); err != nil {
			return err
		}
		g.CreatedAt, g.ConfirmedAt = fromMicros(created), fromZeroMicros(confirmed)
		f = g
		return nil
	})
	return f, err
}

// ConfirmTOTP confirms the factor and sets the recovery codes together;
// the row is locked first, so two confirmations cannot both succeed.
func (s *Store) ConfirmTOTP(ctx context.Context, id string, at time.Time, step int64, codes []*autho.RecoveryCode, entries ...autho.Entry) error {
	return s.inTx(ctx, "confirm totp factor", func(ctx context.Context, tx pgx.Tx) error {
		var userID string
		var confirmed int64
		err := tx.QueryRow(ctx, `SELECT user_id, confirmed_at FROM totp_factors WHERE id = $1 FOR UPDATE`, id).Scan(&userID, &confirmed)
		if err != nil {
			return err
		}
		if confirmed != 0 {
			return fmt.Errorf("confirmed already: %w", autho.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `UPDATE totp_factors SET confirmed_at = $1, last_step = $2 WHERE id = $3`, micros(at), step, id); err != nil {
			return err
		}
		if codes != nil {
			if err := replaceCodes(ctx, tx, userID, codes); err != nil {
				return err
			}
		}
		return writeEntries(ctx, tx, entries)
	})
}

// UseTOTPStep advances last_step in one conditional UPDATE, which holds
// the row's lock until it commits: a parallel one with the same step
// re-reads the row and finds its condition false.
func (s *Store) UseTOTPStep(ctx context.Context, id string, step int64, entries ...autho.Entry) (bool, error) {
	n, err := s.writeIf(ctx, "use totp step", entries, func(ctx context.Context, x execer) (int64, error) {
		tag, err := x.Exec(ctx, `UPDATE totp_factors SET last_step = $1 WHERE id = $2 AND confirmed_at <> 0 AND last_step < $1`, step, id)
		return tag.RowsAffected(), err
	})
	return n > 0, err
}

// DeleteTOTP removes the factor, and the codes with it when asked.
func (s *Store) DeleteTOTP(ctx context.Context, userID string, withRecoveryCodes bool, entries ...autho.Entry) (bool, error) {
	return s.deleteFactor(ctx, "delete totp factor", userID, withRecoveryCodes, entries,
		`DELETE FROM totp_factors WHERE user_id = $1`, userID)
}

// deleteFactor runs query, which deletes one factor of userID, and with
// withRecoveryCodes their codes too, with entries, in one transaction, and
// reports whether there was a factor to delete.
func (s *Store) deleteFactor(ctx context.Context, what, userID string, withRecoveryCodes bool, entries []autho.Entry, query string, args ...any) (bool, error) {
	err := s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errNoRow
		}
		if withRecoveryCodes {
			if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
				return err
			}
		}
		return writeEntries(ctx, tx, entries)
	})
	if errors.Is(err, errNoRow) {
		return false, nil
	}
	return err == nil, err
}

// ReplaceRecoveryCodes swaps the user's codes in one transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, codes []*autho.RecoveryCode, entries ...autho.Entry) error {
	return s.inTx(ctx, "replace recovery codes", func(ctx context.Context, tx pgx.Tx) error {
		if err := replaceCodes(ctx, tx, userID, codes); err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
}

func replaceCodes(ctx context.Context, x execer, userID string, codes []*autho.RecoveryCode) error {
	if _, err := x.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return err
	}
	for _, c := range codes {
		if c.UserID != userID {
			return errors.New("a recovery code of another user")
		}
		_, err := x.Exec(ctx, `INSERT INTO recovery_codes (user_id, hash, created_at, used_at) VALUES ($1, $2, $3, $4)`,
			userID, hexOf(c.Hash), micros(c.CreatedAt), zeroMicros(c.UsedAt))
		if err != nil {
			return err
		}
	}
	return nil
}

// RecoveryCodes lists the user's codes, by hash.
func (s *Store) RecoveryCodes(ctx context.Context, userID string) ([]*autho.RecoveryCode, error) {
	var out []*autho.RecoveryCode
	err := s.runIdempotent(ctx, "recovery codes", func(ctx context.Context, c *pgxpool.Conn) error {
		out = nil
		rows, err := c.Query(ctx, `SELECT hash, created_at, used_at FROM recovery_codes WHERE user_id = $1 ORDER BY hash`, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			rc := &autho.RecoveryCode{UserID: userID}
			var h string
			var created, used int64
			if err := rows.Scan(&h, &created, &used); err != nil {
				return err
			}
			if rc.Hash, err = fromHex(h); err != nil {
				return err
			}
			rc.CreatedAt, rc.UsedAt = fromMicros(created), fromZeroMicros(used)
			out = append(out, rc)
		}
		return rows.Err()
	})
	return out, err
}

// UseRecoveryCode marks an unused code used in one conditional UPDATE.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time, entries ...autho.Entry) (bool, error) {
	n, err := s.writeIf(ctx, "use recovery code", entries, func(ctx context.Context, x execer) (int64, error) {
		tag, err := x.Exec(ctx, `UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND hash = $3 AND used_at = 0`,
			micros(at), userID, hexOf(hash))
		return tag.RowsAffected(), err
	})
	return n > 0, err
}

// DeleteMFA clears everything of the user's second factors.
func (s *Store) DeleteMFA(ctx context.Context, userID string, entries ...autho.Entry) (int, error) {
	var n int64
	err := s.inTx(ctx, "delete second factors", func(ctx context.Context, tx pgx.Tx) error {
		n = 0
		for _, q := range []string{`DELETE FROM totp_factors WHERE user_id = $1`, `DELETE FROM webauthn_credentials WHERE user_id = $1`,
			`DELETE FROM recovery_codes WHERE user_id = $1`} {
			tag, err := tx.Exec(ctx, q, userID)
			if err != nil {
				return err
			}
			n += tag.RowsAffected()
		}
		for _, q := range []string{`DELETE FROM pending_signins WHERE user_id = $1`, `DELETE FROM webauthn_ceremonies WHERE user_id = $1`} {
			if _, err := tx.Exec(ctx, q, userID); err != nil {
				return err
			}
		}
		if n == 0 {
			return nil
		}
		return writeEntries(ctx, tx, entries)
	})
	return int(n), err
}

// CreatePendingSignIn stores a half-finished sign-in.
func (s *Store) CreatePendingSignIn(ctx context.Context, p *autho.PendingSignIn) error {
	return s.run(ctx, "create pending sign-in", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO pending_signins (hash, user_id, created_at, expires_at, ip, password_epoch)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			hexOf(p.Hash), p.UserID, micros(p.CreatedAt), micros(p.ExpiresAt), p.IP, p.PasswordEpoch)
		return err
	})
}

// PendingSignIn reads one by the hash of its id.
func (s *Store) PendingSignIn(ctx context.Context, hash []byte) (*autho.PendingSignIn, error) {
	var p *autho.PendingSignIn
	err := s.runIdempotent(ctx, "pending sign-in", func(ctx context.Context, c *pgxpool.Conn) error {
		q := &autho.PendingSignIn{Hash: bytes.Clone(hash)}
		var created, expires int64
		err := c.QueryRow(ctx, `SELECT user_id, created_at, expires_at, ip, password_epoch FROM pending_signins WHERE hash = $1`,
			hexOf(hash)).Scan(&q.UserID, &created, &expires, &q.IP, &q.PasswordEpoch)
		if err != nil {
			return err
		}
		q.CreatedAt, q.ExpiresAt = fromMicros(created), fromMicros(expires)
		p = q
		return nil
	})
	return p, err
}

// ConsumePendingSignIn deletes it; the row count says who got it. Not
// retried: a second run would report false for the one that won.
func (s *Store) ConsumePendingSignIn(ctx context.Context, hash []byte) (bool, error) {
	n, err := s.deleteCount(ctx, "consume pending sign-in", `DELETE FROM pending_signins WHERE hash = $1`, hexOf(hash))
	return n > 0, err
}

// DeletePendingSignInsBefore sweeps expired ones.
func (s *Store) DeletePendingSignInsBefore(ctx context.Context, before time.Time) (int, error) {
	return s.deleteCount(ctx, "delete old pending sign-ins", `DELETE FROM pending_signins WHERE expires_at < $1`, micros(before))
}
