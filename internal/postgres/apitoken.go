package postgres

import (
	"context"
	"fmt"
	"strings"

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
func (s *Store) CreateAPIToken(ctx context.Context, t *autho.APIToken, entries ...autho.Entry) error {
	return s.write(ctx, "create api token", entries, func(ctx context.Context, x execer) error {
		return insertAPIToken(ctx, x, t)
	})
}

// CreateAPITokenCapped locks the user's row before it counts: every capped
// create of one user, on any node, queues on that lock, and the count, a
// statement of its own, runs once the lock is granted, so under READ
// COMMITTED it sees every token committed before. FOR NO KEY UPDATE is
// enough to queue the capped creates on each other, and unlike FOR UPDATE
// it does not hold up the foreign-key checks of the user's other inserts
// (a session, an operator's token) meanwhile.
func (s *Store) CreateAPITokenCapped(ctx context.Context, t *autho.APIToken, maxActive int, entries ...autho.Entry) error {
	return s.inTx(ctx, "create api token", func(ctx context.Context, tx pgx.Tx) error {
		var id string
		if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE`, t.UserID).Scan(&id); err != nil {
			return err
		}
		var active int
		err := tx.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2`,
			t.UserID, micros(t.CreatedAt)).Scan(&active)
		if err != nil {
			return err
		}
		if active >= maxActive {
			return autho.ErrLimit
		}
		if err := insertAPIToken(ctx, tx, t); err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
}

// insertAPIToken is CreateAPIToken's statement, on a connection or in a
// transaction.
func insertAPIToken(ctx context.Context, db execer, t *autho.APIToken) error {
	_, err := db.Exec(ctx, `INSERT INTO api_tokens (id, user_id, account_id, name, hash, hint, scopes, created_at,
		expires_at, last_used_at, last_used_ip, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		t.ID, t.UserID, t.AccountID, t.Name, hexOf(t.Hash), t.Hint, joinScopes(t.Scopes), micros(t.CreatedAt),
		micros(t.ExpiresAt), nullMicros(t.LastUsedAt), t.LastUsedIP, nullMicros(t.RevokedAt))
	return err
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
	var where []string
	if f.AccountID != "" {
		args = append(args, f.AccountID)
		where = append(where, fmt.Sprintf(`t.account_id = $%d`, len(args)))
	}
	if f.UserID != "" {
		args = append(args, f.UserID)
		where = append(where, fmt.Sprintf(`t.user_id = $%d`, len(args)))
	}
	if f.Expiring != nil {
		args = append(args, micros(f.Expiring.From), micros(f.Expiring.To))
		where = append(where, fmt.Sprintf(`t.revoked_at IS NULL AND t.expires_at > $%d AND t.expires_at <= $%d`, len(args)-1, len(args)))
	}
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
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

// UpdateAPIToken writes back what fn changes of name, scopes, expiry and
// revocation, with the row locked from read to commit. RETURNING hands back
// the row as stored, so whatever else fn changed is not in the result.
func (s *Store) UpdateAPIToken(ctx context.Context, id string, fn func(*autho.APIToken) error, entries ...autho.Entry) (*autho.APIToken, error) {
	var read, t *autho.APIToken
	err := s.inTx(ctx, "update api token", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		read, err = scanToken(tx.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		w := *read
		if err := fn(&w); err != nil {
			return &fnError{err}
		}
		t, err = scanToken(tx.QueryRow(ctx, `UPDATE api_tokens t SET name = $2, scopes = $3, expires_at = $4,
			revoked_at = $5 WHERE t.id = $1 RETURNING `+tokenColumns,
			id, w.Name, joinScopes(w.Scopes), micros(w.ExpiresAt), nullMicros(w.RevokedAt)))
		if err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
	if err != nil {
		return unchanged(read, err)
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

// recordTokenUseSQL writes a batch of logins in one statement. The
// MATERIALIZED subquery locks the rows first, in id order (LockRows sits
// above the Sort): an UPDATE ... FROM alone locks in whatever order its join
// plan yields, and two nodes flushing overlapping batches in different
// orders could deadlock. The UPDATE then only touches rows it already holds.
// FOR NO KEY UPDATE is the lock the UPDATE itself takes, so it blocks no
// more than the UPDATE would. The condition keeps the newest use across
// batches and nodes; an unknown id matches no row.
const recordTokenUseSQL = `WITH v AS MATERIALIZED (
		SELECT u.id, u.at, u.ip FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(id, at, ip)
		JOIN api_tokens k ON k.id = u.id
		ORDER BY u.id FOR NO KEY UPDATE OF k)
	UPDATE api_tokens t SET last_used_at = v.at, last_used_ip = v.ip
	FROM v WHERE t.id = v.id AND (t.last_used_at IS NULL OR t.last_used_at <= v.at)`

// RecordTokenUse writes a batch of logins in one statement. Only the newest
// use of each token is sent: a token may appear only once in an UPDATE ...
// FROM, or which row wins is undefined.
func (s *Store) RecordTokenUse(ctx context.Context, uses []autho.TokenUse) error {
	newest := autho.NewestUses(uses)
	if len(newest) == 0 {
		return nil
	}
	ids := make([]string, 0, len(newest))
	ats := make([]int64, 0, len(newest))
	ips := make([]string, 0, len(newest))
	for id, u := range newest {
		ids, ats, ips = append(ids, id), append(ats, micros(u.At)), append(ips, u.IP)
	}
	return s.runIdempotent(ctx, "record token use", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, recordTokenUseSQL, ids, ats, ips)
		return err
	})
}
