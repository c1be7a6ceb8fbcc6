package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"time"

	"github.com/autho/autho"
)

const operatorKeyCols = `id, name, hash, hint, read_only, created_at, last_used_at, last_used_ip, revoked_at`

func scanOperatorKey(sc scanner) (*autho.OperatorKey, error) {
	var (
		k                 autho.OperatorKey
		hash              string
		readOnly          int
		created           int64
		lastUsed, revoked sql.NullInt64
	)
	if err := sc.Scan(&k.ID, &k.Name, &hash, &k.Hint, &readOnly, &created, &lastUsed, &k.LastUsedIP, &revoked); err != nil {
		return nil, err
	}
	h, err := hex.DecodeString(hash)
	if err != nil {
		return nil, errBadHash
	}
	k.Hash, k.ReadOnly = h, readOnly != 0
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromMicros(created), fromNullMicros(lastUsed), fromNullMicros(revoked)
	return &k, nil
}

// CreateOperatorKey stores k; a name or hash in use is autho.ErrConflict.
func (s *Store) CreateOperatorKey(ctx context.Context, k *autho.OperatorKey, entries ...autho.Entry) error {
	return s.write(ctx, "create operator key", entries, func(x execer) error {
		_, err := x.ExecContext(ctx, `INSERT INTO operator_keys (`+operatorKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Name, hex.EncodeToString(k.Hash), k.Hint, boolInt(k.ReadOnly), micros(k.CreatedAt),
			nullMicros(k.LastUsedAt), k.LastUsedIP, nullMicros(k.RevokedAt))
		return wrap("create operator key", err)
	})
}

// OperatorKey returns the key with the given id.
func (s *Store) OperatorKey(ctx context.Context, id string) (*autho.OperatorKey, error) {
	k, err := scanOperatorKey(s.r.QueryRowContext(ctx, `SELECT `+operatorKeyCols+` FROM operator_keys WHERE id = ?`, id))
	return k, wrap("operator key", err)
}

// OperatorKeyByHash finds a key by the SHA-256 of its secret.
func (s *Store) OperatorKeyByHash(ctx context.Context, hash []byte) (*autho.OperatorKey, error) {
	k, err := scanOperatorKey(s.r.QueryRowContext(ctx, `SELECT `+operatorKeyCols+` FROM operator_keys WHERE hash = ?`, hex.EncodeToString(hash)))
	return k, wrap("operator key", err)
}

// OperatorKeys lists every key, newest first, ties by id descending.
func (s *Store) OperatorKeys(ctx context.Context) ([]*autho.OperatorKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+operatorKeyCols+` FROM operator_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, wrap("operator keys", err)
	}
	defer rows.Close()
	var out []*autho.OperatorKey
	for rows.Next() {
		k, err := scanOperatorKey(rows)
		if err != nil {
			return nil, wrap("operator keys", err)
		}
		out = append(out, k)
	}
	return out, wrap("operator keys", rows.Err())
}

// UpdateOperatorKey writes RevokedAt.
func (s *Store) UpdateOperatorKey(ctx context.Context, id string, fn func(*autho.OperatorKey) error, entries ...autho.Entry) (*autho.OperatorKey, error) {
	var k *autho.OperatorKey
	err := s.tx(ctx, "update operator key", func(tx *sql.Tx) error {
		var err error
		if k, err = scanOperatorKey(tx.QueryRowContext(ctx, `SELECT `+operatorKeyCols+` FROM operator_keys WHERE id = ?`, id)); err != nil {
			return wrap("update operator key", err)
		}
		w := *k
		if err := fn(&w); err != nil {
			return err
		}
		k.RevokedAt = stored(w.RevokedAt)
		if _, err := tx.ExecContext(ctx, `UPDATE operator_keys SET revoked_at = ? WHERE id = ?`, nullMicros(k.RevokedAt), id); err != nil {
			return wrap("update operator key", err)
		}
		return writeEntries(ctx, tx, entries)
	})
	return unchanged(k, err)
}

// RecordOperatorKeyUse moves the key's last use forward to at, from ip.
func (s *Store) RecordOperatorKeyUse(ctx context.Context, id string, at time.Time, ip string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE operator_keys SET last_used_at = ?, last_used_ip = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, micros(at), ip, id, micros(at))
	return wrap("record operator key use", err)
}
