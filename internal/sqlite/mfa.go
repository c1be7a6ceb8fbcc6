package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/autho/autho"
)

// errNoRow rolls back a change whose condition held for no row, so that
// its entries are not written; it never leaves this file.
var errNoRow = errors.New("sqlite: no row")

// writeIf runs fn, which returns how many rows it changed, and writes
// entries only when that is not zero, in one transaction.
func (s *Store) writeIf(ctx context.Context, op string, entries []autho.Entry, fn func(execer) (int, error)) (int, error) {
	var n int
	err := s.write(ctx, op, entries, func(x execer) error {
		var err error
		if n, err = fn(x); err != nil {
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
	n, err := s.writeIf(ctx, "create totp factor", entries, func(x execer) (int, error) {
		res, err := x.ExecContext(ctx, `INSERT INTO totp_factors (id, user_id, sealed_secret, created_at, confirmed_at, last_step)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, sealed_secret = excluded.sealed_secret,
				created_at = excluded.created_at, confirmed_at = excluded.confirmed_at, last_step = excluded.last_step
			WHERE totp_factors.confirmed_at = 0`,
			f.ID, f.UserID, base64.StdEncoding.EncodeToString(f.SealedSecret), micros(f.CreatedAt), zeroMicros(f.ConfirmedAt), f.LastStep)
		return affected("create totp factor", res, err)
	})
	if err == nil && n == 0 {
		return fmt.Errorf("sqlite: create totp factor: the user has a confirmed one: %w", autho.ErrConflict)
	}
	return err
}

// TOTP reads the user's factor.
func (s *Store) TOTP(ctx context.Context, userID string) (*autho.TOTPFactor, error) {
	f := &autho.TOTPFactor{}
	var sealed string
	var created, confirmed int64
	err := s.r.QueryRowContext(ctx, `SELECT id, user_id, sealed_secret, created_at, confirmed_at, last_step FROM totp_factors WHERE user_id = ?`,
		userID).Scan(&f.ID, &f.UserID, &sealed, &created, &confirmed, &f.LastStep)
	if err != nil {
		return nil, wrap("totp factor", err)
	}
	if f.SealedSecret, err = decode64(sealed); err != nil {
		return nil, fmt.Errorf("sqlite: totp factor: %w", err)
	}
	f.CreatedAt, f.ConfirmedAt = fromMicros(created), fromZeroMicros(confirmed)
	return f, nil
}

// ConfirmTOTP confirms the factor and sets the recovery codes together.
func (s *Store) ConfirmTOTP(ctx context.Context, id string, at time.Time, step int64, codes []*autho.RecoveryCode, entries ...autho.Entry) error {
	return s.tx(ctx, "confirm totp factor", func(tx *sql.Tx) error {
		var userID string
		var confirmed int64
		err := tx.QueryRowContext(ctx, `SELECT user_id, confirmed_at FROM totp_factors WHERE id = ?`, id).Scan(&userID, &confirmed)
		if err != nil {
			return wrap("confirm totp factor", err)
		}
		if confirmed != 0 {
			return fmt.Errorf("sqlite: confirm totp factor: confirmed already: %w", autho.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE totp_factors SET confirmed_at = ?, last_step = ? WHERE id = ?`, micros(at), step, id); err != nil {
			return wrap("confirm totp factor", err)
		}
		if codes != nil {
			if err := replaceCodes(ctx, tx, userID, codes); err != nil {
				return err
			}
		}
		return writeEntries(ctx, tx, entries)
	})
}

// UseTOTPStep advances last_step in one conditional UPDATE: the check and
// the write cannot be split by another writer.
func (s *Store) UseTOTPStep(ctx context.Context, id string, step int64, entries ...autho.Entry) (bool, error) {
	n, err := s.writeIf(ctx, "use totp step", entries, func(x execer) (int, error) {
		res, err := x.ExecContext(ctx, `UPDATE totp_factors SET last_step = ?1 WHERE id = ?2 AND confirmed_at <> 0 AND last_step < ?1`, step, id)
		return affected("use totp step", res, err)
	})
	return n > 0, err
}

// DeleteTOTP removes the factor, and the codes with it when asked.
func (s *Store) DeleteTOTP(ctx context.Context, userID string, withRecoveryCodes bool, entries ...autho.Entry) (bool, error) {
	return s.deleteFactor(ctx, "delete totp factor", userID, withRecoveryCodes, entries,
		`DELETE FROM totp_factors WHERE user_id = ?`, userID)
}

// deleteFactor runs query, which deletes one factor of userID, and with
// withRecoveryCodes their codes too, with entries, in one transaction, and
// reports whether there was a factor to delete.
func (s *Store) deleteFactor(ctx context.Context, what, userID string, withRecoveryCodes bool, entries []autho.Entry, query string, args ...any) (bool, error) {
	err := s.tx(ctx, what, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		n, err := affected(what, res, err)
		if err != nil {
			return err
		}
		if n == 0 {
			return errNoRow
		}
		if withRecoveryCodes {
			if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
				return wrap("delete recovery codes", err)
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
	return s.tx(ctx, "replace recovery codes", func(tx *sql.Tx) error {
		if err := replaceCodes(ctx, tx, userID, codes); err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
}

func replaceCodes(ctx context.Context, x execer, userID string, codes []*autho.RecoveryCode) error {
	if _, err := x.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return wrap("replace recovery codes", err)
	}
	for _, c := range codes {
		if c.UserID != userID {
			return fmt.Errorf("sqlite: replace recovery codes: a code of another user")
		}
		_, err := x.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, hash, created_at, used_at) VALUES (?, ?, ?, ?)`,
			userID, hex.EncodeToString(c.Hash), micros(c.CreatedAt), zeroMicros(c.UsedAt))
		if err != nil {
			return wrap("replace recovery codes", err)
		}
	}
	return nil
}

// RecoveryCodes lists the user's codes, by hash.
func (s *Store) RecoveryCodes(ctx context.Context, userID string) ([]*autho.RecoveryCode, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT hash, created_at, used_at FROM recovery_codes WHERE user_id = ? ORDER BY hash`, userID)
	if err != nil {
		return nil, wrap("recovery codes", err)
	}
	defer rows.Close()
	var out []*autho.RecoveryCode
	for rows.Next() {
		c := &autho.RecoveryCode{UserID: userID}
		var h string
		var created, used int64
		if err := rows.Scan(&h, &created, &used); err != nil {
			return nil, wrap("recovery codes", err)
		}
		if c.Hash, err = hex.DecodeString(h); err != nil {
			return nil, fmt.Errorf("sqlite: recovery codes: %w", errBadHash)
		}
		c.CreatedAt, c.UsedAt = fromMicros(created), fromZeroMicros(used)
		out = append(out, c)
	}
	return out, wrap("recovery codes", rows.Err())
}

// UseRecoveryCode marks an unused code used in one conditional UPDATE.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time, entries ...autho.Entry) (bool, error) {
	n, err := s.writeIf(ctx, "use recovery code", entries, func(x execer) (int, error) {
		res, err := x.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at = 0`,
			micros(at), userID, hex.EncodeToString(hash))
		return affected("use recovery code", res, err)
	})
	return n > 0, err
}

// DeleteMFA clears everything of the user's second factors.
func (s *Store) DeleteMFA(ctx context.Context, userID string, entries ...autho.Entry) (int, error) {
	var n int
	err := s.tx(ctx, "delete second factors", func(tx *sql.Tx) error {
		n = 0
		for _, q := range []string{`DELETE FROM totp_factors WHERE user_id = ?`, `DELETE FROM webauthn_credentials WHERE user_id = ?`,
			`DELETE FROM recovery_codes WHERE user_id = ?`} {
			res, err := tx.ExecContext(ctx, q, userID)
			m, err := affected("delete second factors", res, err)
			if err != nil {
				return err
			}
			n += m
		}
		for _, q := range []string{`DELETE FROM pending_signins WHERE user_id = ?`, `DELETE FROM webauthn_ceremonies WHERE user_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return wrap("delete second factors", err)
			}
		}
		if n == 0 {
			return nil
		}
		return writeEntries(ctx, tx, entries)
	})
	return n, err
}

// CreatePendingSignIn stores a half-finished sign-in.
func (s *Store) CreatePendingSignIn(ctx context.Context, p *autho.PendingSignIn) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO pending_signins (hash, user_id, created_at, expires_at, ip, password_epoch)
		VALUES (?, ?, ?, ?, ?, ?)`,
		hex.EncodeToString(p.Hash), p.UserID, micros(p.CreatedAt), micros(p.ExpiresAt), p.IP, p.PasswordEpoch)
	return wrap("create pending sign-in", err)
}

// PendingSignIn reads one by the hash of its id.
func (s *Store) PendingSignIn(ctx context.Context, hash []byte) (*autho.PendingSignIn, error) {
	p := &autho.PendingSignIn{Hash: append([]byte(nil), hash...)}
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT user_id, created_at, expires_at, ip, password_epoch FROM pending_signins WHERE hash = ?`,
		hex.EncodeToString(hash)).Scan(&p.UserID, &created, &expires, &p.IP, &p.PasswordEpoch)
	if err != nil {
		return nil, wrap("pending sign-in", err)
	}
	p.CreatedAt, p.ExpiresAt = fromMicros(created), fromMicros(expires)
	return p, nil
}

// ConsumePendingSignIn deletes it; the row count says who got it.
func (s *Store) ConsumePendingSignIn(ctx context.Context, hash []byte) (bool, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM pending_signins WHERE hash = ?`, hex.EncodeToString(hash))
	n, err := affected("consume pending sign-in", res, err)
	return n > 0, err
}

// DeletePendingSignInsBefore sweeps expired ones.
func (s *Store) DeletePendingSignInsBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM pending_signins WHERE expires_at < ?`, micros(before))
	return affected("delete old pending sign-ins", res, err)
}
