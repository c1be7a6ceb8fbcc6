package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

const userColumns = `id, account_id, email, password_hash, password_epoch, role, active, deactivated_at, created_at, updated_at`

func scanUser(row scanner) (*autho.User, error) {
	var (
		u                 autho.User
		role              string
		active            int32
		created, modified int64
		deactivated       *int64
	)
	if err := row.Scan(&u.ID, &u.AccountID, &u.Email, &u.PasswordHash, &u.PasswordEpoch, &role, &active, &deactivated, &created, &modified); err != nil {
		return nil, err
	}
	u.Role = autho.Role(role)
	u.Active = active != 0
	u.DeactivatedAt = fromNullMicros(deactivated)
	u.CreatedAt = fromMicros(created)
	u.UpdatedAt = fromMicros(modified)
	return &u, nil
}

// CreateUser stores u. An unknown account is ErrNotFound (the foreign key
// says so); an email already taken in any letter case is ErrConflict (the
// unique email_key says so).
func (s *Store) CreateUser(ctx context.Context, u *autho.User, entries ...autho.Entry) error {
	return s.write(ctx, "create user", entries, func(ctx context.Context, x execer) error {
		_, err := x.Exec(ctx, `INSERT INTO users (`+userColumns+`, email_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			u.ID, u.AccountID, u.Email, u.PasswordHash, u.PasswordEpoch, string(u.Role), boolInt(u.Active), nullMicros(u.DeactivatedAt),
			micros(u.CreatedAt), micros(u.UpdatedAt), autho.EmailKey(u.Email))
		return err
	})
}

// User reads one user by id.
func (s *Store) User(ctx context.Context, id string) (*autho.User, error) {
	return s.oneUser(ctx, "user", `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
}

// UserByEmail reads one user by email, in any letter case.
func (s *Store) UserByEmail(ctx context.Context, email string) (*autho.User, error) {
	return s.oneUser(ctx, "user by email", `SELECT `+userColumns+` FROM users WHERE email_key = $1`, autho.EmailKey(email))
}

func (s *Store) oneUser(ctx context.Context, op, query string, arg string) (*autho.User, error) {
	var u *autho.User
	err := s.runIdempotent(ctx, op, func(ctx context.Context, c *pgxpool.Conn) error {
		var err error
		u, err = scanUser(c.QueryRow(ctx, query, arg))
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Users lists an account's users, oldest first; an unknown account has none.
func (s *Store) Users(ctx context.Context, accountID string) ([]*autho.User, error) {
	var us []*autho.User
	err := s.runIdempotent(ctx, "users", func(ctx context.Context, c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+userColumns+` FROM users WHERE account_id = $1 ORDER BY created_at, id`, accountID)
		if err != nil {
			return err
		}
		us, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*autho.User, error) { return scanUser(r) })
		return err
	})
	if err != nil {
		return nil, err
	}
	return us, nil
}

// UpdateUser writes back what fn changes of email, password hash and epoch,
// role, active flag, time of the last deactivation and update time, with the row locked from read to commit.
// A new email that another user has is ErrConflict.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*autho.User) error, entries ...autho.Entry) (*autho.User, error) {
	var read, u *autho.User
	err := s.inTx(ctx, "update user", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		read, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		w := *read
		if err := fn(&w); err != nil {
			return &fnError{err}
		}
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET email = $2, email_key = $3, password_hash = $4, password_epoch = $8,
			role = $5, active = $6, updated_at = $7, deactivated_at = $9 WHERE id = $1 RETURNING `+userColumns,
			id, w.Email, autho.EmailKey(w.Email), w.PasswordHash, string(w.Role), boolInt(w.Active), micros(w.UpdatedAt), w.PasswordEpoch,
			nullMicros(w.DeactivatedAt)))
		if err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
	if err != nil {
		return unchanged(read, err)
	}
	return u, nil
}
