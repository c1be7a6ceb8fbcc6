package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/autho/autho"
)

const invitationCols = `id, user_id, account_id, hash, sealed_token, invited_by, invited_by_email, created_at, expires_at, used_at, expired_noticed_at`

func insertInvitation(ctx context.Context, x execer, i *autho.Invitation) error {
	_, err := x.ExecContext(ctx, `INSERT INTO invitations (`+invitationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		i.ID, i.UserID, i.AccountID, hex.EncodeToString(i.Hash), base64.StdEncoding.EncodeToString(i.SealedToken),
		i.InvitedBy, i.InvitedByEmail, micros(i.CreatedAt), micros(i.ExpiresAt), zeroMicros(i.UsedAt), zeroMicros(i.ExpiredNoticedAt))
	return wrap("add invitation", err)
}

func scanInvitation(sc scanner) (*autho.Invitation, error) {
	var (
		i                               autho.Invitation
		hash, sealed                    string
		created, expires, used, noticed int64
	)
	if err := sc.Scan(&i.ID, &i.UserID, &i.AccountID, &hash, &sealed, &i.InvitedBy, &i.InvitedByEmail,
		&created, &expires, &used, &noticed); err != nil {
		return nil, err
	}
	var err error
	if i.Hash, err = hex.DecodeString(hash); err != nil {
		return nil, fmt.Errorf("corrupt hex column (%d characters)", len(hash))
	}
	if i.SealedToken, err = decode64(sealed); err != nil {
		return nil, err
	}
	i.CreatedAt, i.ExpiresAt = fromMicros(created), fromMicros(expires)
	i.UsedAt, i.ExpiredNoticedAt = fromZeroMicros(used), fromZeroMicros(noticed)
	return &i, nil
}

func (s *Store) oneInvitation(ctx context.Context, q *sql.DB, query string, arg string) (*autho.Invitation, error) {
	i, err := scanInvitation(q.QueryRowContext(ctx, query, arg))
	if err != nil {
		return nil, wrap("invitation", err)
	}
	return i, nil
}

// Invitation reads one by the hash of its token.
func (s *Store) Invitation(ctx context.Context, hash []byte) (*autho.Invitation, error) {
	return s.oneInvitation(ctx, s.r, `SELECT `+invitationCols+` FROM invitations WHERE hash = ?`, hex.EncodeToString(hash))
}

// InvitationByID reads one by id.
func (s *Store) InvitationByID(ctx context.Context, id string) (*autho.Invitation, error) {
	return s.oneInvitation(ctx, s.r, `SELECT `+invitationCols+` FROM invitations WHERE id = ?`, id)
}

// UseInvitation takes the link in one conditional UPDATE and sets the
// user's password in the same transaction.
func (s *Store) UseInvitation(ctx context.Context, hash []byte, at time.Time, passwordHash string, entries ...autho.Entry) (*autho.Invitation, error) {
	const op = "use invitation"
	var inv *autho.Invitation
	err := s.tx(ctx, op, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `UPDATE invitations SET used_at = ?1, sealed_token = ''
			WHERE hash = ?2 AND used_at = 0 AND expires_at > ?1 RETURNING `+invitationCols, micros(at), hex.EncodeToString(hash))
		var err error
		if inv, err = scanInvitation(row); err != nil {
			return wrap(op, err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_epoch = password_epoch + 1, updated_at = ? WHERE id = ?`,
			passwordHash, micros(at), inv.UserID)
		if n, err := affected(op, res, err); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("sqlite: %s: its user: %w", op, autho.ErrNotFound)
		}
		return writeEntries(ctx, tx, entries)
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// ForgetInvitationToken drops the sealed token.
func (s *Store) ForgetInvitationToken(ctx context.Context, id string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE invitations SET sealed_token = '' WHERE id = ?`, id)
	return wrap("forget invitation token", err)
}

// ExpiredInvitations lists the expired ones whose expiry is not audited.
func (s *Store) ExpiredInvitations(ctx context.Context, now time.Time, limit int) ([]*autho.Invitation, error) {
	q := `SELECT ` + invitationCols + ` FROM invitations WHERE expired_noticed_at = 0 AND used_at = 0 AND expires_at <= ?
		ORDER BY expires_at, id`
	args := []any{micros(now)}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	return list(ctx, s.r, "expired invitations", scanInvitation, q, args...)
}

// NoticeInvitationExpired marks the expiry noticed in one conditional
// UPDATE.
func (s *Store) NoticeInvitationExpired(ctx context.Context, id string, at time.Time, entries ...autho.Entry) (bool, error) {
	n, err := s.writeIf(ctx, "notice invitation expired", entries, func(x execer) (int, error) {
		res, err := x.ExecContext(ctx, `UPDATE invitations SET expired_noticed_at = ?1, sealed_token = ''
			WHERE id = ?2 AND expired_noticed_at = 0 AND used_at = 0 AND expires_at <= ?1`, micros(at), id)
		return affected("notice invitation expired", res, err)
	})
	return n > 0, err
}
