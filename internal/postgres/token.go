package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

const tokenColumns = `t.id, t.user_id, t.account_id, t.name, t.hash, t.hint, t.scopes, t.created_at, t.expires_at,
	t.last_used_at, t.last_used_ip, t.revoked_at`

func scanToken(row scanner, extra ...any) (*autho.APIToken, error) {
	var (
		t                 autho.APIToken
		hash, scopes      string
		created, expires  int64
		lastUsed, revoked *int64
	)
	dest := append([]any{&t.ID, &t.UserID, &t.AccountID, &t.Name, &hash, &t.Hint, &scopes, &created, &expires,
		&lastUsed, &t.LastUsedIP, &revoked}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if t.Hash, err = fromHex(hash); err != nil {
		return nil, fmt.Errorf("api token %s: %w", t.ID, err)
	}
	t.Scopes = splitScopes(scopes)
	t.CreatedAt = fromMicros(created)
	t.ExpiresAt = fromMicros(expires)
	t.LastUsedAt = fromNullMicros(lastUsed)
	t.RevokedAt = fromNullMicros(revoked)
	return &t, nil
}

// CreateAPIToken stores t. An unknown user or account is ErrNotFound; a
// duplicate id or hash is ErrConflict.
func (s *Store) CreateAPIToken(ctx context.Context, t *autho.APIToken) error {
	return s.run(ctx, "create api token", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO api_tokens (id, user_id, account_id, name, hash, hint, scopes, created_at,
			expires_at, last_used_at, last_used_ip, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			t.ID, t.UserID, t.AccountID, t.Name, hexOf(t.Hash), t.Hint, joinScopes(t.Scopes), micros(t.CreatedAt),
			micros(t.ExpiresAt), nullMicros(t.LastUsedAt), t.LastUsedIP, nullMicros(t.RevokedAt))
		return err
	})
}

// APIToken reads one token by id.
func (s *Store) APIToken(ctx context.Context, id string) (*autho.APIToken, error) {
	var t *autho.APIToken
	err := s.runIdempotent(ctx, "api token", func(ctx context.Context, c *pgxpool.Conn) error {
		var err error
		t, err = scanToken(c.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.id = $1`, id))
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// APITokens lists tokens, newest first. Each filter combination is its own
// statement rather than one with "$1 = ” OR …": a cached statement gets a
// generic plan, and a generic plan cannot use an index behind an OR.
func (s *Store) APITokens(ctx context.Context, f autho.TokenFilter) ([]*autho.APIToken, error) {
	const order = ` ORDER BY t.created_at DESC, t.id DESC`
	var (
		query = `SELECT ` + tokenColumns + ` FROM api_tokens t`
		args  []any
	)
	switch {
	case f.AccountID != "" && f.UserID != "":
		query += ` WHERE t.account_id = $1 AND t.user_id = $2`
		args = []any{f.AccountID, f.UserID}
	case f.AccountID != "":
		query += ` WHERE t.account_id = $1`
		args = []any{f.AccountID}
	case f.UserID != "":
		query += ` WHERE t.user_id = $1`
		args = []any{f.UserID}
	}
	var ts []*autho.APIToken
	err := s.runIdempotent(ctx, "api tokens", func(ctx context.Context, c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, query+order, args...)
		if err != nil {
			return err
		}
		ts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*autho.APIToken, error) { return scanToken(r) })
		return err
	})
	if err != nil {
		return nil, err
	}
	return ts, nil
}

// UpdateAPIToken writes back what fn changes of name, scopes, expiry,
// last use and revocation, with the row locked from read to commit.
func (s *Store) UpdateAPIToken(ctx context.Context, id string, fn func(*autho.APIToken) error) (*autho.APIToken, error) {
	var t *autho.APIToken
	err := s.inTx(ctx, "update api token", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if err := fn(t); err != nil {
			return &fnError{err}
		}
		t, err = scanToken(tx.QueryRow(ctx, `UPDATE api_tokens t SET name = $2, scopes = $3, expires_at = $4,
			last_used_at = $5, last_used_ip = $6, revoked_at = $7 WHERE t.id = $1 RETURNING `+tokenColumns,
			id, t.Name, joinScopes(t.Scopes), micros(t.ExpiresAt), nullMicros(t.LastUsedAt), t.LastUsedIP,
			nullMicros(t.RevokedAt)))
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// APICredential is one query on the login path: the token by its unique
// hash, joined to its user for the active flag.
func (s *Store) APICredential(ctx context.Context, hash []byte) (*autho.APICredential, error) {
	var cred *autho.APICredential
	err := s.runIdempotent(ctx, "api credential", func(ctx context.Context, c *pgxpool.Conn) error {
		var active int32
		t, err := scanToken(c.QueryRow(ctx, `SELECT `+tokenColumns+`, u.active
			FROM api_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.hash = $1`, hexOf(hash)), &active)
		if err != nil {
			return err
		}
		cred = &autho.APICredential{Token: *t, UserActive: active != 0}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cred, nil
}

// RecordTokenUse writes a batch of logins in one round trip and one
// implicit transaction. Only the newest use of each token is sent, and the
// statements go in token id order: two nodes flushing overlapping batches
// then lock rows in the same order and cannot deadlock.
func (s *Store) RecordTokenUse(ctx context.Context, uses []autho.TokenUse) error {
	newest := make(map[string]autho.TokenUse, len(uses))
	for _, u := range uses {
		if old, ok := newest[u.TokenID]; !ok || u.At.After(old.At) {
			newest[u.TokenID] = u
		}
	}
	if len(newest) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(newest))
	return s.runIdempotent(ctx, "record token use", func(ctx context.Context, c *pgxpool.Conn) error {
		// A fresh batch per attempt: pgx keeps per-connection statement
		// state in the queued queries.
		b := &pgx.Batch{}
		for _, id := range ids {
			u := newest[id]
			b.Queue(`UPDATE api_tokens SET last_used_at = $2, last_used_ip = $3
				WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2)`, id, micros(u.At), u.IP)
		}
		return c.SendBatch(ctx, b).Close()
	})
}
