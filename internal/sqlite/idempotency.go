package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/autho/autho"
)

// StartIdempotent deletes the expired records and then finds or inserts,
// in one IMMEDIATE transaction: the write lock orders attempts made at
// once, in this process or another.
func (s *Store) StartIdempotent(ctx context.Context, r *autho.IdempotentRequest, expiredBefore time.Time) (*autho.IdempotentRequest, error) {
	var prev *autho.IdempotentRequest
	err := s.tx(ctx, "start idempotent request", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotent_requests WHERE created_at < ?`, micros(expiredBefore)); err != nil {
			return wrap("start idempotent request", err)
		}
		p := &autho.IdempotentRequest{OperatorKeyID: r.OperatorKeyID, Key: r.Key}
		var created int64
		var body string
		err := tx.QueryRowContext(ctx, `SELECT fingerprint, created_at, status, body FROM idempotent_requests
			WHERE operator_key_id = ? AND idem_key = ?`, r.OperatorKeyID, r.Key).Scan(&p.Fingerprint, &created, &p.Status, &body)
		if err == nil {
			p.CreatedAt, p.Body = fromMicros(created), []byte(body)
			prev = p
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return wrap("start idempotent request", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO idempotent_requests (operator_key_id, idem_key, fingerprint, created_at, status, body)
			VALUES (?, ?, ?, ?, ?, ?)`, r.OperatorKeyID, r.Key, r.Fingerprint, micros(r.CreatedAt), r.Status, string(r.Body))
		return wrap("start idempotent request", err)
	})
	return prev, err
}

// FinishIdempotent stores the answer.
func (s *Store) FinishIdempotent(ctx context.Context, operatorKeyID, key string, status int, body []byte) error {
	_, err := s.w.ExecContext(ctx, `UPDATE idempotent_requests SET status = ?, body = ? WHERE operator_key_id = ? AND idem_key = ?`,
		status, string(body), operatorKeyID, key)
	return wrap("finish idempotent request", err)
}

// ForgetIdempotent deletes the record.
func (s *Store) ForgetIdempotent(ctx context.Context, operatorKeyID, key string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM idempotent_requests WHERE operator_key_id = ? AND idem_key = ?`, operatorKeyID, key)
	return wrap("forget idempotent request", err)
}
