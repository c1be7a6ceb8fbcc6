package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// accountColumns reads an account with the hint of its current partner
// token. The current token is the one without an end (rotation ends every
// other), so that a rotated-in token whose creation time lags behind the
// old one's (clock skew between nodes) is still the one shown; creation time
// only breaks ties.
const accountColumns = `a.id, a.name, a.status, a.expires_at, a.suspended_at, a.created_at, a.updated_at, a.allowed_scopes, a.mfa_required,
	COALESCE((SELECT p.hint FROM partner_tokens p WHERE p.account_id = a.id
		ORDER BY p.expires_at IS NULL DESC, p.created_at DESC, p.id DESC LIMIT 1), '')`

func scanAccount(row scanner, extra ...any) (*autho.Account, error) {
	var (
		a                          autho.Account
		status, scopes             string
		expires, created, modified int64
		suspended                  *int64
		mfaRequired                int32
	)
	dest := append([]any{&a.ID, &a.Name, &status, &expires, &suspended, &created, &modified, &scopes, &mfaRequired, &a.PartnerTokenHint}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	a.Status = autho.AccountStatus(status)
	a.ExpiresAt = fromMicros(expires)
	a.SuspendedAt = fromNullMicros(suspended)
	a.CreatedAt = fromMicros(created)
	a.UpdatedAt = fromMicros(modified)
	a.AllowedScopes = splitScopes(scopes)
	a.MFARequired = mfaRequired != 0
	return &a, nil
}

// CreateAccount stores a and its first partner token pt, which belongs to a
// whatever pt.AccountID says.
func (s *Store) CreateAccount(ctx context.Context, a *autho.Account, pt *autho.PartnerToken, entries ...autho.Entry) error {
	return s.inTx(ctx, "create account", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO accounts (id, name, status, expires_at, created_at, updated_at, allowed_scopes, suspended_at, mfa_required)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			a.ID, a.Name, string(a.Status), micros(a.ExpiresAt), micros(a.CreatedAt), micros(a.UpdatedAt), joinScopes(a.AllowedScopes),
			nullMicros(a.SuspendedAt), boolInt(a.MFARequired))
		if err != nil {
			return err
		}
		if pt != nil {
			if err := insertPartnerToken(ctx, tx, a.ID, pt); err != nil {
				return err
			}
		}
		return writeEntries(ctx, tx, entries)
	})
}

func insertPartnerToken(ctx context.Context, tx pgx.Tx, accountID string, pt *autho.PartnerToken) error {
	_, err := tx.Exec(ctx, `INSERT INTO partner_tokens (id, account_id, hash, hint, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		pt.ID, accountID, hexOf(pt.Hash), pt.Hint, micros(pt.CreatedAt), nullMicros(pt.ExpiresAt))
	return err
}

// Account reads one account.
func (s *Store) Account(ctx context.Context, id string) (*autho.Account, error) {
	var a *autho.Account
	err := s.runIdempotent(ctx, "account", func(ctx context.Context, c *pgxpool.Conn) error {
		var err error
		a, err = scanAccount(c.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id = $1`, id))
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Accounts lists every account, oldest first.
func (s *Store) Accounts(ctx context.Context) ([]*autho.Account, error) {
	var as []*autho.Account
	err := s.runIdempotent(ctx, "accounts", func(ctx context.Context, c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+accountColumns+` FROM accounts a ORDER BY a.created_at, a.id`)
		if err != nil {
			return err
		}
		as, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*autho.Account, error) { return scanAccount(r) })
		return err
	})
	if err != nil {
		return nil, err
	}
	return as, nil
}

// UpdateAccount writes back what fn changes of name, status, time of the
// last suspension, expiry, allowed scopes, second-factor requirement and update time. The row stays locked from the read to the commit, so an
// update on another node waits for this one and then reads its result.
func (s *Store) UpdateAccount(ctx context.Context, id string, fn func(*autho.Account) error, entries ...autho.Entry) (*autho.Account, error) {
	var read, a *autho.Account
	err := s.inTx(ctx, "update account", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		read, err = scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		w := *read
		if err := fn(&w); err != nil {
			return &fnError{err}
		}
		// RETURNING hands back the row as a later read will see it:
		// microseconds, UTC, and without fields fn may not change.
		a, err = scanAccount(tx.QueryRow(ctx, `UPDATE accounts a SET name = $2, status = $3, expires_at = $4, updated_at = $5,
			allowed_scopes = $6, suspended_at = $7, mfa_required = $8 WHERE a.id = $1 RETURNING `+accountColumns,
			id, w.Name, string(w.Status), micros(w.ExpiresAt), micros(w.UpdatedAt), joinScopes(w.AllowedScopes), nullMicros(w.SuspendedAt),
			boolInt(w.MFARequired)))
		if err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
	if err != nil {
		return unchanged(read, err)
	}
	return a, nil
}

// RotatePartnerToken adds next as its account's current partner token and
// ends the older ones at oldUntil. The account row is locked first, so two
// rotations of one account run one after the other and the second ends the
// token the first added: there is never more than one current token.
func (s *Store) RotatePartnerToken(ctx context.Context, next *autho.PartnerToken, oldUntil time.Time, entries ...autho.Entry) error {
	return s.inTx(ctx, "rotate partner token", func(ctx context.Context, tx pgx.Tx) error {
		var id string
		err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE id = $1 FOR UPDATE`, next.AccountID).Scan(&id)
		if err != nil {
			return err
		}
		until := micros(oldUntil)
		_, err = tx.Exec(ctx, `UPDATE partner_tokens SET expires_at = $2
			WHERE account_id = $1 AND (expires_at IS NULL OR expires_at > $2)`, next.AccountID, until)
		if err != nil {
			return err
		}
		if err := insertPartnerToken(ctx, tx, next.AccountID, next); err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
}

// PartnerCredential is one query on the login path: the token by its unique
// hash, joined to its account.
func (s *Store) PartnerCredential(ctx context.Context, hash []byte) (*autho.PartnerCredential, error) {
	var pc *autho.PartnerCredential
	err := s.runIdempotent(ctx, "partner credential", func(ctx context.Context, c *pgxpool.Conn) error {
		var (
			tokenID string
			ends    *int64
		)
		a, err := scanAccount(c.QueryRow(ctx, `SELECT `+accountColumns+`, t.id, t.expires_at
			FROM partner_tokens t JOIN accounts a ON a.id = t.account_id
			WHERE t.hash = $1`, hexOf(hash)), &tokenID, &ends)
		if err != nil {
			return err
		}
		pc = &autho.PartnerCredential{TokenID: tokenID, TokenExpiresAt: fromNullMicros(ends), Account: *a}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pc, nil
}
