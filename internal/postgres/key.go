package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// AddSigningKey stores k and retires every other key still signing. Two
// nodes rotating at once would each retire only what they saw and leave two
// signers; the table lock makes the second wait and then retire the first's
// key. SHARE ROW EXCLUSIVE conflicts with itself and with writers but not
// with readers, so token signing and JWKS reads carry on meanwhile.
func (s *Store) AddSigningKey(ctx context.Context, k *autho.SigningKey, verifyUntil time.Time, entries ...autho.Entry) error {
	return s.inTx(ctx, "add signing key", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE signing_keys SET retired_at = $1, verify_until = $2
			WHERE retired_at IS NULL AND id <> $3`, micros(k.CreatedAt), nullMicros(verifyUntil), k.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO signing_keys (id, algorithm, sealed, public_key, created_at, retired_at, verify_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			k.ID, k.Algorithm, base64Of(k.Sealed), base64Of(k.Public), micros(k.CreatedAt),
			nullMicros(k.RetiredAt), nullMicros(k.VerifyUntil))
		if err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
}

// DeleteSigningKeys removes the keys of those ids in one statement.
func (s *Store) DeleteSigningKeys(ctx context.Context, ids []string, entries ...autho.Entry) error {
	return s.inTx(ctx, "delete signing keys", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM signing_keys WHERE id = ANY($1)`, ids); err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
}

// SigningKeys lists every key, oldest first; pruning keys past their
// VerifyUntil is the caller's choice.
func (s *Store) SigningKeys(ctx context.Context) ([]*autho.SigningKey, error) {
	var ks []*autho.SigningKey
	err := s.runIdempotent(ctx, "signing keys", func(ctx context.Context, c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, `SELECT id, algorithm, sealed, public_key, created_at, retired_at, verify_until
			FROM signing_keys ORDER BY created_at, id`)
		if err != nil {
			return err
		}
		ks, err = pgx.CollectRows(rows, scanKey)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ks, nil
}

func scanKey(row pgx.CollectableRow) (*autho.SigningKey, error) {
	var (
		k                    autho.SigningKey
		sealed, public       string
		created              int64
		retired, verifyUntil *int64
	)
	if err := row.Scan(&k.ID, &k.Algorithm, &sealed, &public, &created, &retired, &verifyUntil); err != nil {
		return nil, err
	}
	var err error
	if k.Sealed, err = fromBase64(sealed); err != nil {
		return nil, fmt.Errorf("signing key %s: sealed: %w", k.ID, err)
	}
	if k.Public, err = fromBase64(public); err != nil {
		return nil, fmt.Errorf("signing key %s: public key: %w", k.ID, err)
	}
	k.CreatedAt = fromMicros(created)
	k.RetiredAt = fromNullMicros(retired)
	k.VerifyUntil = fromNullMicros(verifyUntil)
	return &k, nil
}
