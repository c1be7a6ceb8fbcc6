package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"time"

	"github.com/autho/autho"
)

// AddSigningKey retires every key still signing, at k.CreatedAt and published
// until verifyUntil, and stores k, in one transaction: a refused k (duplicate
// id) retires nothing.
func (s *Store) AddSigningKey(ctx context.Context, k *autho.SigningKey, verifyUntil time.Time, entries ...autho.Entry) error {
	return s.tx(ctx, "add signing key", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ?, verify_until = ? WHERE retired_at IS NULL`,
			micros(k.CreatedAt), micros(verifyUntil))
		if err != nil {
			return wrap("add signing key", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO signing_keys (id, algorithm, sealed, public_key, created_at, retired_at, verify_until)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Algorithm, base64.StdEncoding.EncodeToString(k.Sealed), base64.StdEncoding.EncodeToString(k.Public),
			micros(k.CreatedAt), nullMicros(k.RetiredAt), nullMicros(k.VerifyUntil))
		if err != nil {
			return wrap("add signing key", err)
		}
		return writeEntries(ctx, tx, entries)
	})
}

// DeleteSigningKeys removes the keys of those ids in one transaction.
func (s *Store) DeleteSigningKeys(ctx context.Context, ids []string, entries ...autho.Entry) error {
	return s.tx(ctx, "delete signing keys", func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE id = ?`, id); err != nil {
				return wrap("delete signing keys", err)
			}
		}
		return writeEntries(ctx, tx, entries)
	})
}

// SigningKeys returns every key, oldest first. A key without a public part
// (HS256) has a nil Public.
func (s *Store) SigningKeys(ctx context.Context) ([]*autho.SigningKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, algorithm, sealed, public_key, created_at, retired_at, verify_until
		FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap("signing keys", err)
	}
	defer rows.Close()
	var out []*autho.SigningKey
	for rows.Next() {
		k := new(autho.SigningKey)
		var sealed, public string
		var created int64
		var retired, verify sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Algorithm, &sealed, &public, &created, &retired, &verify); err != nil {
			return nil, wrap("signing keys", err)
		}
		if k.Sealed, err = decode64(sealed); err != nil {
			return nil, wrap("signing keys", err)
		}
		if k.Public, err = decode64(public); err != nil {
			return nil, wrap("signing keys", err)
		}
		k.CreatedAt, k.RetiredAt, k.VerifyUntil = fromMicros(created), fromNullMicros(retired), fromNullMicros(verify)
		out = append(out, k)
	}
	return out, wrap("signing keys", rows.Err())
}
