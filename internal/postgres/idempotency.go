package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// StartIdempotent deletes the expired records and then inserts, or finds
// what an attempt made at once inserted: a second insert of the same key
// waits on the primary key until the first commits, then does nothing,
// and the select that follows sees the first's row.
func (s *Store) StartIdempotent(ctx context.Context, r *autho.IdempotentRequest, expiredBefore time.Time) (*autho.IdempotentRequest, error) {
	var prev *autho.IdempotentRequest
	err := s.inTx(ctx, "start idempotent request", func(ctx context.Context, tx pgx.Tx) error {
		prev = nil
		if _, err := tx.Exec(ctx, `DELETE FROM idempotent_requests WHERE created_at < $1`, micros(expiredBefore)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO idempotent_requests (operator_key_id, idem_key, fingerprint, created_at, status, body)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (operator_key_id, idem_key) DO NOTHING`,
			r.OperatorKeyID, r.Key, r.Fingerprint, micros(r.CreatedAt), r.Status, string(r.Body))
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		p := &autho.IdempotentRequest{OperatorKeyID: r.OperatorKeyID, Key: r.Key}
		var created int64
		var body string
		err = tx.QueryRow(ctx, `SELECT fingerprint, created_at, status, body FROM idempotent_requests
			WHERE operator_key_id = $1 AND idem_key = $2`, r.OperatorKeyID, r.Key).Scan(&p.Fingerprint, &created, &p.Status, &body)
		if err != nil {
			return err
		}
		p.CreatedAt, p.Body = fromMicros(created), []byte(body)
		prev = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return prev, nil
}

// FinishIdempotent stores the answer.
func (s *Store) FinishIdempotent(ctx context.Context, operatorKeyID, key string, status int, body []byte) error {
	return s.runIdempotent(ctx, "finish idempotent request", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `UPDATE idempotent_requests SET status = $3, body = $4 WHERE operator_key_id = $1 AND idem_key = $2`,
			operatorKeyID, key, status, string(body))
		return err
	})
}

// ForgetIdempotent deletes the record.
func (s *Store) ForgetIdempotent(ctx context.Context, operatorKeyID, key string) error {
	return s.runIdempotent(ctx, "forget idempotent request", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `DELETE FROM idempotent_requests WHERE operator_key_id = $1 AND idem_key = $2`, operatorKeyID, key)
		return err
	})
}
