package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"time"

	"github.com/autho/autho"
)

// accountCols reads an account a with its newest partner token's hint. The
// subquery walks the (account_id, created_at) index backwards and stops at
// the first row.
const accountCols = `a.id, a.name, a.status, a.expires_at, a.suspended_at, a.created_at, a.updated_at, a.allowed_scopes, a.mfa_required,
	COALESCE((SELECT n.hint FROM partner_tokens n WHERE n.account_id = a.id
		ORDER BY n.created_at DESC, n.id DESC LIMIT 1), '')`

func scanAccount(sc scanner, a *autho.Account, extra ...any) error {
	var expires, created, updated int64
	var suspended sql.NullInt64
	var scopes string
	dest := append([]any{&a.ID, &a.Name, &a.Status, &expires, &suspended, &created, &updated, &scopes, &a.MFARequired, &a.PartnerTokenHint}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return err
	}
	a.ExpiresAt, a.CreatedAt, a.UpdatedAt = fromMicros(expires), fromMicros(created), fromMicros(updated)
	a.SuspendedAt = fromNullMicros(suspended)
	a.AllowedScopes = splitScopes(scopes)
	return nil
}

// CreateAccount stores a and its first partner token pt together; pt belongs
// to a whatever its AccountID says.
func (s *Store) CreateAccount(ctx context.Context, a *autho.Account, pt *autho.PartnerToken, entries ...autho.Entry) error {
	return s.tx(ctx, "create account", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, name, status, expires_at, suspended_at, created_at, updated_at, allowed_scopes, mfa_required)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Name, string(a.Status), micros(a.ExpiresAt), nullMicros(a.SuspendedAt), micros(a.CreatedAt), micros(a.UpdatedAt),
			joinScopes(a.AllowedScopes), a.MFARequired)
		if err != nil {
			return wrap("create account", err)
		}
		if pt != nil {
			if err := insertPartnerToken(ctx, tx, a.ID, pt); err != nil {
				return wrap("create account", err)
			}
		}
		return writeEntries(ctx, tx, entries)
	})
}

func insertPartnerToken(ctx context.Context, tx *sql.Tx, accountID string, pt *autho.PartnerToken) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO partner_tokens (id, account_id, hash, hint, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		pt.ID, accountID, hex.EncodeToString(pt.Hash), pt.Hint, micros(pt.CreatedAt), nullMicros(pt.ExpiresAt))
	return err
}

// Account returns the account with the given id.
func (s *Store) Account(ctx context.Context, id string) (*autho.Account, error) {
	a := new(autho.Account)
	row := s.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts a WHERE a.id = ?`, id)
	if err := scanAccount(row, a); err != nil {
		return nil, wrap("account", err)
	}
	return a, nil
}

// Accounts returns every account, oldest first.
func (s *Store) Accounts(ctx context.Context) ([]*autho.Account, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts a ORDER BY a.created_at, a.id`)
	if err != nil {
		return nil, wrap("accounts", err)
	}
	defer rows.Close()
	var out []*autho.Account
	for rows.Next() {
		a := new(autho.Account)
		if err := scanAccount(rows, a); err != nil {
			return nil, wrap("accounts", err)
		}
		out = append(out, a)
	}
	return out, wrap("accounts", rows.Err())
}

// UpdateAccount applies fn to a copy of the account in one write transaction
// and takes from it only the fields store.go lets an update write: the name,
// status, time of the last suspension, expiry, allowed scopes, second-factor
// requirement and update time.
func (s *Store) UpdateAccount(ctx context.Context, id string, fn func(*autho.Account) error, entries ...autho.Entry) (*autho.Account, error) {
	a := new(autho.Account)
	err := s.tx(ctx, "update account", func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts a WHERE a.id = ?`, id)
		if err := scanAccount(row, a); err != nil {
			return wrap("update account", err)
		}
		w := *a
		if err := fn(&w); err != nil {
			return err
		}
		a.Name, a.Status, a.SuspendedAt = w.Name, w.Status, stored(w.SuspendedAt)
		a.ExpiresAt, a.UpdatedAt = stored(w.ExpiresAt), stored(w.UpdatedAt)
		a.AllowedScopes = splitScopes(joinScopes(w.AllowedScopes)) // as a read returns them
		a.MFARequired = w.MFARequired
		_, err := tx.ExecContext(ctx, `UPDATE accounts SET name = ?, status = ?, suspended_at = ?, expires_at = ?, allowed_scopes = ?,
			mfa_required = ?, updated_at = ? WHERE id = ?`,
			a.Name, string(a.Status), nullMicros(a.SuspendedAt), micros(a.ExpiresAt), joinScopes(a.AllowedScopes), a.MFARequired, micros(a.UpdatedAt), a.ID)
		if err != nil {
			return wrap("update account", err)
		}
		return writeEntries(ctx, tx, entries)
	})
	return unchanged(a, err)
}

// RotatePartnerToken adds next and ends the account's other partner tokens at
// oldUntil, or earlier if they already end earlier, in one transaction: a
// refused next (duplicate hash, unknown account) ends nothing.
func (s *Store) RotatePartnerToken(ctx context.Context, next *autho.PartnerToken, oldUntil time.Time, entries ...autho.Entry) error {
	until := micros(oldUntil)
	return s.tx(ctx, "rotate partner token", func(tx *sql.Tx) error {
		if err := insertPartnerToken(ctx, tx, next.AccountID, next); err != nil {
			return wrap("rotate partner token", err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE partner_tokens SET expires_at = ?
			WHERE account_id = ? AND id <> ? AND (expires_at IS NULL OR expires_at > ?)`,
			until, next.AccountID, next.ID, until)
		if err != nil {
			return wrap("rotate partner token", err)
		}
		return writeEntries(ctx, tx, entries)
	})
}

// partnerCredentialSQL is the login's partner lookup: the unique hash index,
// then the account by primary key.
const partnerCredentialSQL = `SELECT ` + accountCols + `, p.id, p.expires_at
	FROM partner_tokens p JOIN accounts a ON a.id = p.account_id
	WHERE p.hash = ?`

// PartnerCredential finds a partner token by hash, with its account.
func (s *Store) PartnerCredential(ctx context.Context, hash []byte) (*autho.PartnerCredential, error) {
	st, err := s.partnerCred.get(ctx, s.r)
	if err != nil {
		return nil, wrap("partner credential", err)
	}
	c := new(autho.PartnerCredential)
	var tokExpires sql.NullInt64
	err = scanAccount(st.QueryRowContext(ctx, hex.EncodeToString(hash)), &c.Account, &c.TokenID, &tokExpires)
	if err != nil {
		return nil, wrap("partner credential", err)
	}
	c.TokenExpiresAt = fromNullMicros(tokExpires)
	return c, nil
}
