package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// This file is the bulk path that "autho dev seed" writes load-test data
// through. The Store's create methods cost a round trip per row, which is
// right for an operator and far too slow for a million tokens; here each
// table's rows go in one COPY, and a whole batch in one transaction.
// Nothing on a server's path calls it.

// CountAccountsNotNamed counts the accounts whose name does not start with
// prefix: those that dev seed did not make.
func (s *Store) CountAccountsNotNamed(ctx context.Context, prefix string) (int, error) {
	var n int
	err := s.runIdempotent(ctx, "count accounts", func(ctx context.Context, c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT count(*) FROM accounts WHERE left(name, length($1)) <> $1`, prefix).Scan(&n)
	})
	return n, err
}

// InsertBulk stores accounts with their partner tokens, users and API tokens
// in one transaction, in that order, so a row may refer to any row before
// it in the same call or to rows already stored. Stored values are the same
// as the create methods would store.
func (s *Store) InsertBulk(ctx context.Context, accounts []*autho.Account, partners []*autho.PartnerToken,
	users []*autho.User, tokens []*autho.APIToken) error {
	return s.inTx(ctx, "insert bulk", func(ctx context.Context, tx pgx.Tx) error {
		copies := []struct {
			table string
			cols  []string
			n     int
			row   func(i int) []any
		}{
			{"accounts", []string{"id", "name", "status", "expires_at", "created_at", "updated_at", "suspended_at"}, len(accounts),
				func(i int) []any {
					a := accounts[i]
					return []any{a.ID, a.Name, string(a.Status), micros(a.ExpiresAt), micros(a.CreatedAt), micros(a.UpdatedAt),
						nullMicros(a.SuspendedAt)}
				}},
			{"partner_tokens", []string{"id", "account_id", "hash", "hint", "created_at", "expires_at"}, len(partners),
				func(i int) []any {
					p := partners[i]
					return []any{p.ID, p.AccountID, hexOf(p.Hash), p.Hint, micros(p.CreatedAt), nullMicros(p.ExpiresAt)}
				}},
			{"users", []string{"id", "account_id", "email", "email_key", "password_hash", "role", "active", "deactivated_at",
				"created_at", "updated_at"}, len(users),
				func(i int) []any {
					u := users[i]
					return []any{u.ID, u.AccountID, u.Email, autho.EmailKey(u.Email), u.PasswordHash, string(u.Role),
						boolInt(u.Active), nullMicros(u.DeactivatedAt), micros(u.CreatedAt), micros(u.UpdatedAt)}
				}},
			{"api_tokens", []string{"id", "user_id", "account_id", "name", "hash", "hint", "scopes", "created_at",
				"expires_at", "last_used_at", "last_used_ip", "revoked_at"}, len(tokens),
				func(i int) []any {
					t := tokens[i]
					return []any{t.ID, t.UserID, t.AccountID, t.Name, hexOf(t.Hash), t.Hint, joinScopes(t.Scopes),
						micros(t.CreatedAt), micros(t.ExpiresAt), nullMicros(t.LastUsedAt), t.LastUsedIP, nullMicros(t.RevokedAt)}
				}},
		}
		for _, c := range copies {
			if c.n == 0 {
				continue
			}
			src := pgx.CopyFromSlice(c.n, func(i int) ([]any, error) { return c.row(i), nil })
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, src); err != nil {
				return err
			}
		}
		return nil
	})
}
