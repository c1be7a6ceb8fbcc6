package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/autho/autho"
)

// This file is the bulk path that "autho dev seed" writes load-test data
// through. The Store's create methods cost a statement and a transaction
// per row, which is right for an operator and far too slow for a million
// tokens; here many rows go in one multi-row INSERT and many INSERTs in one
// transaction. Nothing on a server's path calls it.

// seedRowsPerInsert bounds the rows of one INSERT: api_tokens has 10
// columns, so 256 rows stay well under SQLite's 32,766 bound parameters.
const seedRowsPerInsert = 256

// seedCacheKiB is the writer's page cache while seeding. Token ids and
// hashes are random, so every insert lands on a random page of two large
// indexes; with SQLite's 2 MiB default most of those pages would be read
// back from the file again and again.
const seedCacheKiB = 256 << 10

// CountAccountsNotNamed counts the accounts whose name does not start with
// prefix: those that dev seed did not make.
func (s *Store) CountAccountsNotNamed(ctx context.Context, prefix string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE substr(name, 1, ?) <> ?`,
		len(prefix), prefix).Scan(&n)
	return n, wrap("count accounts", err)
}

// InsertBulk stores accounts with their partner tokens, users and API tokens
// in one transaction, in that order, so a row may refer to any row before
// it in the same call or to rows already stored. Stored values are
// the same as the create methods would store.
func (s *Store) InsertBulk(ctx context.Context, accounts []*autho.Account, partners []*autho.PartnerToken,
	users []*autho.User, tokens []*autho.APIToken) error {
	return s.tx(ctx, "insert bulk", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = -`+strconv.Itoa(seedCacheKiB)); err != nil {
			return wrap("insert bulk", err)
		}
		err := insertRows(ctx, tx, `INSERT INTO accounts (id, name, status, expires_at, created_at, updated_at, suspended_at) VALUES `,
			7, len(accounts), func(i int, args []any) []any {
				a := accounts[i]
				return append(args, a.ID, a.Name, string(a.Status), micros(a.ExpiresAt), micros(a.CreatedAt), micros(a.UpdatedAt),
					nullMicros(a.SuspendedAt))
			})
		if err == nil {
			err = insertRows(ctx, tx, `INSERT INTO partner_tokens (id, account_id, hash, hint, created_at, expires_at) VALUES `,
				6, len(partners), func(i int, args []any) []any {
					p := partners[i]
					return append(args, p.ID, p.AccountID, hex.EncodeToString(p.Hash), p.Hint, micros(p.CreatedAt), nullMicros(p.ExpiresAt))
				})
		}
		if err == nil {
			err = insertRows(ctx, tx, `INSERT INTO users (`+userCols+`, email_key) VALUES `,
				11, len(users), func(i int, args []any) []any {
					u := users[i]
					return append(args, u.ID, u.AccountID, u.Email, u.PasswordHash, u.PasswordEpoch, string(u.Role), boolInt(u.Active),
						nullMicros(u.DeactivatedAt), micros(u.CreatedAt), micros(u.UpdatedAt), autho.EmailKey(u.Email))
				})
		}
		if err == nil {
			err = insertRows(ctx, tx, `INSERT INTO api_tokens (id, user_id, account_id, name, hash, hint, scopes,
				created_at, expires_at, revoked_at) VALUES `,
				10, len(tokens), func(i int, args []any) []any {
					t := tokens[i]
					return append(args, t.ID, t.UserID, t.AccountID, t.Name, hex.EncodeToString(t.Hash), t.Hint,
						joinScopes(t.Scopes), micros(t.CreatedAt), micros(t.ExpiresAt), nullMicros(t.RevokedAt))
				})
		}
		if used := usedTokens(tokens); err == nil && len(used) > 0 {
			err = insertRows(ctx, tx, `INSERT INTO api_token_uses (token_id, at, ip) VALUES `,
				3, len(used), func(i int, args []any) []any {
					return append(args, used[i].ID, micros(used[i].LastUsedAt), used[i].LastUsedIP)
				})
		}
		return wrap("insert bulk", err)
	})
}

// insertRows runs head followed by up to seedRowsPerInsert value tuples of
// cols placeholders, for rows 0..n-1; row appends one row's values.
// Statements of a full chunk are prepared once per call.
func insertRows(ctx context.Context, tx *sql.Tx, head string, cols, n int,
	row func(i int, args []any) []any) error {
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, cols*seedRowsPerInsert)
	for start := 0; start < n; start += seedRowsPerInsert {
		k := min(seedRowsPerInsert, n-start)
		args = args[:0]
		for i := start; i < start+k; i++ {
			args = row(i, args)
		}
		var err error
		if k == seedRowsPerInsert {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, head+tuples(cols, k)); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, head+tuples(cols, k), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// tuples is "(?, …), (?, …)…": rows tuples of cols placeholders.
func tuples(cols, rows int) string {
	one := "(" + strings.Repeat("?, ", cols-1) + "?)"
	var b strings.Builder
	b.Grow(rows * (len(one) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// usedTokens are those of ts with a last use to store.
func usedTokens(ts []*autho.APIToken) []*autho.APIToken {
	var used []*autho.APIToken
	for _, t := range ts {
		if !t.LastUsedAt.IsZero() {
			used = append(used, t)
		}
	}
	return used
}
