package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

const invitationCols = `id, user_id, account_id, hash, sealed_token, invited_by, invited_by_email, created_at, expires_at, used_at, expired_noticed_at`

func insertInvitation(ctx context.Context, x execer, i *autho.Invitation) error {
	_, err := x.Exec(ctx, `INSERT INTO invitations (`+invitationCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		i.ID, i.UserID, i.AccountID, hexOf(i.Hash), base64Of(i.SealedToken),
		i.InvitedBy, i.InvitedByEmail, micros(i.CreatedAt), micros(i.ExpiresAt), zeroMicros(i.UsedAt), zeroMicros(i.ExpiredNoticedAt))
	return err
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
	if i.Hash, err = fromHex(hash); err != nil {
		return nil, err
	}
	if i.SealedToken, err = fromBase64(sealed); err != nil {
		return nil, err
	}
	i.CreatedAt, i.ExpiresAt = fromMicros(created), fromMicros(expires)
	i.UsedAt, i.ExpiredNoticedAt = fromZeroMicros(used), fromZeroMicros(noticed)
	return &i, nil
}

func (s *Store) oneInvitation(ctx context.Context, query, arg string) (*autho.Invitation, error) {
	var inv *autho.Invitation
	err := s.runIdempotent(ctx, "invitation", func(ctx context.Context, c *pgxpool.Conn) error {
		var err error
		inv, err = scanInvitation(c.QueryRow(ctx, query, arg))
		return err
	})
	return inv, err
}

// Invitation reads one by the hash of its token.
func (s *Store) Invitation(ctx context.Context, hash []byte) (*autho.Invitation, error) {
	return s.oneInvitation(ctx, `SELECT `+invitationCols+` FROM invitations WHERE hash = $1`, hexOf(hash))
}

// InvitationByID reads one by id.
func (s *Store) InvitationByID(ctx context.Context, id string) (*autho.Invitation, error) {
	return s.oneInvitation(ctx, `SELECT `+invitationCols+` FROM invitations WHERE id = $1`, id)
}

// UseInvitation takes the link in one conditional UPDATE, which row-locks
// it: a second transaction waits for the first and then finds used_at set,
// so it matches nothing. The user's password is set in the same
// transaction.
func (s *Store) UseInvitation(ctx context.Context, hash []byte, at time.Time, passwordHash string, entries ...autho.Entry) (*autho.Invitation, error) {
	var inv *autho.Invitation
	err := s.inTx(ctx, "use invitation", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		inv, err = scanInvitation(tx.QueryRow(ctx, `UPDATE invitations SET used_at = $1, sealed_token = ''
			WHERE hash = $2 AND used_at = 0 AND expires_at > $1 RETURNING `+invitationCols, micros(at), hexOf(hash)))
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1, password_epoch = password_epoch + 1, updated_at = $2 WHERE id = $3`,
			passwordHash, micros(at), inv.UserID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: use invitation: its user: %w", autho.ErrNotFound)
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
	return s.run(ctx, "forget invitation token", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `UPDATE invitations SET sealed_token = '' WHERE id = $1`, id)
		return err
	})
}

// ExpiredInvitations lists the expired ones whose expiry is not audited.
func (s *Store) ExpiredInvitations(ctx context.Context, now time.Time, limit int) ([]*autho.Invitation, error) {
	return list(ctx, s, "expired invitations", scanInvitation, `SELECT `+invitationCols+` FROM invitations
		WHERE expired_noticed_at = 0 AND used_at = 0 AND expires_at <= $1 ORDER BY expires_at, id COLLATE "C" LIMIT $2`,
		micros(now), limitAll(limit))
}

// NoticeInvitationExpired marks the expiry noticed in one conditional
// UPDATE.
func (s *Store) NoticeInvitationExpired(ctx context.Context, id string, at time.Time, entries ...autho.Entry) (bool, error) {
	n, err := s.writeIf(ctx, "notice invitation expired", entries, func(ctx context.Context, x execer) (int64, error) {
		tag, err := x.Exec(ctx, `UPDATE invitations SET expired_noticed_at = $1, sealed_token = ''
			WHERE id = $2 AND expired_noticed_at = 0 AND used_at = 0 AND expires_at <= $1`, micros(at), id)
		return tag.RowsAffected(), err
	})
	return n > 0, err
}
