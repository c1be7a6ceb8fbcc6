package sqlite

import (
	"context"
	"database/sql"

	"github.com/autho/autho"
)

const userCols = `id, account_id, email, password_hash, password_epoch, role, active, deactivated_at, created_at, updated_at`

func scanUser(sc scanner, u *autho.User) error {
	var created, updated int64
	var deactivated sql.NullInt64
	if err := sc.Scan(&u.ID, &u.AccountID, &u.Email, &u.PasswordHash, &u.PasswordEpoch, &u.Role, &u.Active, &deactivated, &created, &updated); err != nil {
		return err
	}
	u.DeactivatedAt, u.CreatedAt, u.UpdatedAt = fromNullMicros(deactivated), fromMicros(created), fromMicros(updated)
	return nil
}

// CreateUser stores u. Its email must be unique by autho.EmailKey, and its
// account must exist (autho.ErrNotFound otherwise).
func (s *Store) CreateUser(ctx context.Context, u *autho.User, entries ...autho.Entry) error {
	return s.write(ctx, "create user", entries, func(x execer) error {
		_, err := x.ExecContext(ctx, `INSERT INTO users (`+userCols+`, email_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.AccountID, u.Email, u.PasswordHash, u.PasswordEpoch, string(u.Role), boolInt(u.Active), nullMicros(u.DeactivatedAt),
			micros(u.CreatedAt), micros(u.UpdatedAt), autho.EmailKey(u.Email))
		return wrap("create user", err)
	})
}

// User returns the user with the given id.
func (s *Store) User(ctx context.Context, id string) (*autho.User, error) {
	u := new(autho.User)
	if err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id), u); err != nil {
		return nil, wrap("user", err)
	}
	return u, nil
}

// UserByEmail returns the user whose email has the same autho.EmailKey.
func (s *Store) UserByEmail(ctx context.Context, email string) (*autho.User, error) {
	u := new(autho.User)
	row := s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email_key = ?`, autho.EmailKey(email))
	if err := scanUser(row, u); err != nil {
		return nil, wrap("user by email", err)
	}
	return u, nil
}

// Users returns the account's users, oldest first.
func (s *Store) Users(ctx context.Context, accountID string) ([]*autho.User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE account_id = ? ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, wrap("users", err)
	}
	defer rows.Close()
	var out []*autho.User
	for rows.Next() {
		u := new(autho.User)
		if err := scanUser(rows, u); err != nil {
			return nil, wrap("users", err)
		}
		out = append(out, u)
	}
	return out, wrap("users", rows.Err())
}

// UpdateUser applies fn to a copy of the user in one write transaction and
// takes from it only the fields store.go lets an update write: the email
// (and so its key), password hash and epoch, role, active flag, time of
// the last deactivation and update time.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*autho.User) error, entries ...autho.Entry) (*autho.User, error) {
	u := new(autho.User)
	err := s.tx(ctx, "update user", func(tx *sql.Tx) error {
		if err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id), u); err != nil {
			return wrap("update user", err)
		}
		w := *u
		if err := fn(&w); err != nil {
			return err
		}
		u.Email, u.PasswordHash, u.PasswordEpoch = w.Email, w.PasswordHash, w.PasswordEpoch
		u.Role, u.Active, u.DeactivatedAt, u.UpdatedAt = w.Role, w.Active, stored(w.DeactivatedAt), stored(w.UpdatedAt)
		_, err := tx.ExecContext(ctx, `UPDATE users SET email = ?, email_key = ?, password_hash = ?, password_epoch = ?, role = ?, active = ?,
			deactivated_at = ?, updated_at = ? WHERE id = ?`,
			u.Email, autho.EmailKey(u.Email), u.PasswordHash, u.PasswordEpoch, string(u.Role), boolInt(u.Active),
			nullMicros(u.DeactivatedAt), micros(u.UpdatedAt), u.ID)
		if err != nil {
			return wrap("update user", err)
		}
		return writeEntries(ctx, tx, entries)
	})
	return unchanged(u, err)
}
