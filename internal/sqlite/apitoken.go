package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/autho/autho"
)

// tokenCols are a token's columns, read FROM tokenFrom: the last use lives in
// api_token_uses (migration 0004_token_uses), where the once-a-second usage
// writes dirty few pages.
const tokenCols = `t.id, t.user_id, t.account_id, t.name, t.hash, t.hint, t.scopes,
	t.created_at, t.expires_at, g.at, COALESCE(g.ip, ''), t.revoked_at`

const tokenFrom = `api_tokens t LEFT JOIN api_token_uses g ON g.token_id = t.id`

// tokenDest is where a token row is scanned before conversion.
type tokenDest struct {
	hash, scopes      string
	created, expires  int64
	lastUsed, revoked sql.NullInt64
}

func (d *tokenDest) args(t *autho.APIToken) []any {
	return []any{&t.ID, &t.UserID, &t.AccountID, &t.Name, &d.hash, &t.Hint, &d.scopes,
		&d.created, &d.expires, &d.lastUsed, &t.LastUsedIP, &d.revoked}
}

// fill converts everything but the hash.
func (d *tokenDest) fill(t *autho.APIToken) {
	t.Scopes = splitScopes(d.scopes)
	t.CreatedAt, t.ExpiresAt = fromMicros(d.created), fromMicros(d.expires)
	t.LastUsedAt, t.RevokedAt = fromNullMicros(d.lastUsed), fromNullMicros(d.revoked)
}

func scanToken(sc scanner, t *autho.APIToken) error {
	var d tokenDest
	if err := sc.Scan(d.args(t)...); err != nil {
		return err
	}
	h, err := hex.DecodeString(d.hash)
	if err != nil {
		// Not err itself: it would quote the stored hash.
		return errBadHash
	}
	t.Hash = h
	d.fill(t)
	return nil
}

// CreateAPIToken stores t; its user must exist (autho.ErrNotFound otherwise).
func (s *Store) CreateAPIToken(ctx context.Context, t *autho.APIToken, entries ...autho.Entry) error {
	return s.tx(ctx, "create api token", func(tx *sql.Tx) error { return insertAPIToken(ctx, tx, t, entries) })
}

// CreateAPITokenCapped counts and inserts in one write transaction. Its
// BEGIN IMMEDIATE takes the database's write lock before the count, which
// stands in for the user's lock: no other writer, on this Store's one
// writer connection or in another process sharing the file, can insert
// between the two.
func (s *Store) CreateAPITokenCapped(ctx context.Context, t *autho.APIToken, maxActive int, entries ...autho.Entry) error {
	return s.tx(ctx, "create api token", func(tx *sql.Tx) error {
		var active int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`,
			t.UserID, micros(t.CreatedAt)).Scan(&active)
		if err != nil {
			return wrap("create api token", err)
		}
		if active >= maxActive {
			return fmt.Errorf("sqlite: create api token: %w", autho.ErrLimit)
		}
		return insertAPIToken(ctx, tx, t, entries)
	})
}

func insertAPIToken(ctx context.Context, tx *sql.Tx, t *autho.APIToken, entries []autho.Entry) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, user_id, account_id, name, hash, hint, scopes,
		created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.UserID, t.AccountID, t.Name, hex.EncodeToString(t.Hash), t.Hint, joinScopes(t.Scopes),
		micros(t.CreatedAt), micros(t.ExpiresAt), nullMicros(t.RevokedAt))
	if err == nil && !t.LastUsedAt.IsZero() {
		_, err = tx.ExecContext(ctx, `INSERT INTO api_token_uses (token_id, at, ip) VALUES (?, ?, ?)`,
			t.ID, micros(t.LastUsedAt), t.LastUsedIP)
	}
	if err != nil {
		return wrap("create api token", err)
	}
	return writeEntries(ctx, tx, entries)
}

// APIToken returns the token with the given id.
func (s *Store) APIToken(ctx context.Context, id string) (*autho.APIToken, error) {
	t := new(autho.APIToken)
	if err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM `+tokenFrom+` WHERE t.id = ?`, id), t); err != nil {
		return nil, wrap("api token", err)
	}
	return t, nil
}

// APITokens lists tokens newest first; among tokens created in the same
// microsecond, the greater id comes first, so pages never shuffle.
func (s *Store) APITokens(ctx context.Context, f autho.TokenFilter) ([]*autho.APIToken, error) {
	// Conditions are added only when set, so that SQLite can use the
	// account or user index; "? = '' OR" would hide them from the planner.
	q := `SELECT ` + tokenCols + ` FROM ` + tokenFrom + ` WHERE 1 = 1`
	var args []any
	if f.AccountID != "" {
		q += ` AND t.account_id = ?`
		args = append(args, f.AccountID)
	}
	if f.UserID != "" {
		q += ` AND t.user_id = ?`
		args = append(args, f.UserID)
	}
	if f.Expiring != nil {
		q += ` AND t.revoked_at IS NULL AND t.expires_at > ? AND t.expires_at <= ?`
		args = append(args, micros(f.Expiring.From), micros(f.Expiring.To))
	}
	q += ` ORDER BY t.created_at DESC, t.id DESC`
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("api tokens", err)
	}
	defer rows.Close()
	var out []*autho.APIToken
	for rows.Next() {
		t := new(autho.APIToken)
		if err := scanToken(rows, t); err != nil {
			return nil, wrap("api tokens", err)
		}
		out = append(out, t)
	}
	return out, wrap("api tokens", rows.Err())
}

// UpdateAPIToken applies fn to a copy of the token in one write transaction
// and takes from it only the fields store.go lets an update write: the name,
// scopes, expiry and revocation time.
func (s *Store) UpdateAPIToken(ctx context.Context, id string, fn func(*autho.APIToken) error, entries ...autho.Entry) (*autho.APIToken, error) {
	t := new(autho.APIToken)
	err := s.tx(ctx, "update api token", func(tx *sql.Tx) error {
		if err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM `+tokenFrom+` WHERE t.id = ?`, id), t); err != nil {
			return wrap("update api token", err)
		}
		w := *t
		if err := fn(&w); err != nil {
			return err
		}
		t.Name, t.Scopes, t.ExpiresAt, t.RevokedAt = w.Name, w.Scopes, stored(w.ExpiresAt), stored(w.RevokedAt)
		_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET name = ?, scopes = ?, expires_at = ?, revoked_at = ? WHERE id = ?`,
			t.Name, joinScopes(t.Scopes), micros(t.ExpiresAt), nullMicros(t.RevokedAt), t.ID)
		if err != nil {
			return wrap("update api token", err)
		}
		return writeEntries(ctx, tx, entries)
	})
	return unchanged(t, err)
}

// apiCredentialSQL is the login's API token lookup: the unique hash index,
// then the user by primary key. The hash is not read back: the caller has it.
const apiCredentialSQL = `SELECT t.id, t.user_id, t.account_id, t.name, t.hint, t.scopes,
	t.created_at, t.expires_at, g.at, COALESCE(g.ip, ''), t.revoked_at, u.active
	FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN api_token_uses g ON g.token_id = t.id
	WHERE t.hash = ?`

// APICredential finds an API token by hash, with whether its user is active.
func (s *Store) APICredential(ctx context.Context, hash []byte) (*autho.APICredential, error) {
	st, err := s.apiCred.get(ctx, s.r)
	if err != nil {
		return nil, wrap("api credential", err)
	}
	c := new(autho.APICredential)
	t := &c.Token
	var d tokenDest
	err = st.QueryRowContext(ctx, hex.EncodeToString(hash)).Scan(&t.ID, &t.UserID, &t.AccountID, &t.Name, &t.Hint, &d.scopes,
		&d.created, &d.expires, &d.lastUsed, &t.LastUsedIP, &d.revoked, &c.UserActive)
	if err != nil {
		return nil, wrap("api credential", err)
	}
	t.Hash = bytes.Clone(hash)
	d.fill(t)
	return c, nil
}

// RecordTokenUse writes a batch of uses in one transaction. The condition
// keeps the newest use whatever order uses arrive in, across batches and
// nodes.
//
// A flush after a busy second holds thousands of uses, so they go in
// statements of useChunk rows each (one trip through database/sql and the
// driver per chunk, not per token), in id order: the probes then walk
// api_token_uses front to back, each starting near where the last one ended.
func (s *Store) RecordTokenUse(ctx context.Context, uses []autho.TokenUse) error {
	newest := autho.NewestUses(uses)
	if len(newest) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(newest))
	ctx = uncancelable(ctx)
	// Parsing a 750-parameter statement cost a third of a flush: the
	// statement for a whole chunk is prepared once, on the writer.
	full, err := s.recordUse.get(ctx, s.w)
	if err != nil {
		return wrap("record token use", err)
	}
	return s.tx(ctx, "record token use", func(tx *sql.Tx) error {
		st := tx.StmtContext(ctx, full)
		defer st.Close()
		args := make([]any, 0, 3*min(len(ids), useChunk))
		for chunk := range slices.Chunk(ids, useChunk) {
			args = args[:0]
			for _, id := range chunk {
				u := newest[id]
				args = append(args, id, micros(u.At), u.IP)
			}
			var err error
			if len(chunk) == useChunk {
				_, err = st.ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, buildUseSQL(len(chunk)), args...)
			}
			if err != nil {
				return wrap("record token use", err)
			}
		}
		return nil
	})
}

// useChunk is how many uses one statement of RecordTokenUse writes: 3 bound
// values each, well under SQLite's limit of 32766.
const useChunk = 250

// buildUseSQL writes n uses given as (id, at, ip) triples: an upsert that
// keeps the newer use. Each row costs one probe of api_token_uses and
// nothing else: there is no foreign key to check and no join to filter ids
// of no token, because every id comes from a login that found its token
// and tokens are never deleted; a stray id would only leave a row no query
// reads (reads start from api_tokens). ("WHERE true" is how SQLite tells an
// upsert's ON CONFLICT from a join's ON.)
func buildUseSQL(n int) string {
	var b strings.Builder
	b.WriteString(`WITH v(id, at, ip) AS (VALUES (?, ?, ?)`)
	for range n - 1 {
		b.WriteString(`, (?, ?, ?)`)
	}
	b.WriteString(`) INSERT INTO api_token_uses (token_id, at, ip) SELECT id, at, ip FROM v WHERE true
		ON CONFLICT (token_id) DO UPDATE SET at = excluded.at, ip = excluded.ip WHERE excluded.at > api_token_uses.at`)
	return b.String()
}
