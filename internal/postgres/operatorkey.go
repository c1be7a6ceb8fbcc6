package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

const operatorKeyCols = `id, name, hash, hint, read_only, created_at, last_used_at, last_used_ip, revoked_at`

func scanOperatorKey(row scanner) (*autho.OperatorKey, error) {
	var (
		k                 autho.OperatorKey
		hash              string
		readOnly          int32
		created           int64
		lastUsed, revoked *int64
	)
	if err := row.Scan(&k.ID, &k.Name, &hash, &k.Hint, &readOnly, &created, &lastUsed, &k.LastUsedIP, &revoked); err != nil {
		return nil, err
	}
	var err error
	if k.Hash, err = fromHex(hash); err != nil {
		return nil, fmt.Errorf("operator key %s: %w", k.ID, err)
	}
	k.ReadOnly = readOnly != 0
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromMicros(created), fromNullMicros(lastUsed), fromNullMicros(revoked)
	return &k, nil
}

// CreateOperatorKey stores k; a name, id or hash in use is ErrConflict.
func (s *Store) CreateOperatorKey(ctx context.Context, k *autho.OperatorKey, entries ...autho.Entry) error {
	return s.write(ctx, "create operator key", entries, func(ctx context.Context, x execer) error {
		_, err := x.Exec(ctx, `INSERT INTO operator_keys (`+operatorKeyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			k.ID, k.Name, hexOf(k.Hash), k.Hint, boolInt(k.ReadOnly), micros(k.CreatedAt),
			nullMicros(k.LastUsedAt), k.LastUsedIP, nullMicros(k.RevokedAt))
		return err
	})
}

// operatorKeyWhere reads one key by a condition on $1.
func (s *Store) operatorKeyWhere(ctx context.Context, cond string, arg any) (*autho.OperatorKey, error) {
	var k *autho.OperatorKey
	err := s.runIdempotent(ctx, "operator key", func(ctx context.Context, c *pgxpool.Conn) error {
		var err error
		k, err = scanOperatorKey(c.QueryRow(ctx, `SELECT `+operatorKeyCols+` FROM operator_keys WHERE `+cond, arg))
		return err
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// OperatorKey returns the key with the given id.
func (s *Store) OperatorKey(ctx context.Context, id string) (*autho.OperatorKey, error) {
	return s.operatorKeyWhere(ctx, `id = $1`, id)
}

// OperatorKeyByHash finds a key by the SHA-256 of its secret.
func (s *Store) OperatorKeyByHash(ctx context.Context, hash []byte) (*autho.OperatorKey, error) {
	return s.operatorKeyWhere(ctx, `hash = $1`, hexOf(hash))
}

// OperatorKeys lists every key, newest first, ties by id descending (in
// byte order, as SQLite compares).
func (s *Store) OperatorKeys(ctx context.Context) ([]*autho.OperatorKey, error) {
	var out []*autho.OperatorKey
	err := s.runIdempotent(ctx, "operator keys", func(ctx context.Context, c *pgxpool.Conn) error {
		out = nil
		rows, err := c.Query(ctx, `SELECT `+operatorKeyCols+` FROM operator_keys ORDER BY created_at DESC, id COLLATE "C" DESC`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanOperatorKey(rows)
			if err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateOperatorKey writes RevokedAt, with the row locked.
func (s *Store) UpdateOperatorKey(ctx context.Context, id string, fn func(*autho.OperatorKey) error, entries ...autho.Entry) (*autho.OperatorKey, error) {
	var read, k *autho.OperatorKey
	err := s.inTx(ctx, "update operator key", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		read, err = scanOperatorKey(tx.QueryRow(ctx, `SELECT `+operatorKeyCols+` FROM operator_keys WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		w := *read
		if err := fn(&w); err != nil {
			return &fnError{err}
		}
		k, err = scanOperatorKey(tx.QueryRow(ctx, `UPDATE operator_keys SET revoked_at = $2 WHERE id = $1 RETURNING `+operatorKeyCols,
			id, nullMicros(w.RevokedAt)))
		if err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
	if err != nil {
		return unchanged(read, err)
	}
	return k, nil
}

// RecordOperatorKeyUse moves the key's last use forward to at, from ip.
func (s *Store) RecordOperatorKeyUse(ctx context.Context, id string, at time.Time, ip string) error {
	return s.runIdempotent(ctx, "record operator key use", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `UPDATE operator_keys SET last_used_at = $2, last_used_ip = $3
			WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`, id, micros(at), ip)
		return err
	})
}
