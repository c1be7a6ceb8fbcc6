package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// AddAuditEvent appends an event. It is not retried: a retry after a lost
// answer could record the event twice.
func (s *Store) AddAuditEvent(ctx context.Context, e *autho.AuditEvent) error {
	return s.run(ctx, "add audit event", func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO audit_events (id, account_id, actor_id, actor_email, action, target_id, target_name, at, ip)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			e.ID, e.AccountID, e.ActorID, e.ActorEmail, string(e.Action), e.TargetID, e.TargetName, micros(e.At), e.IP)
		return err
	})
}

// AuditEvents lists an account's events, newest first. The first page and
// later pages are separate statements, so that each gets a plan that walks
// the (account_id, at, id) index; LIMIT ALL stands for no limit.
func (s *Store) AuditEvents(ctx context.Context, f autho.AuditFilter) ([]*autho.AuditEvent, error) {
	var limit *int64
	if f.Limit > 0 {
		l := int64(f.Limit)
		limit = &l
	}
	query := `SELECT id, account_id, actor_id, actor_email, action, target_id, target_name, at, ip
		FROM audit_events WHERE account_id = $1`
	args := []any{f.AccountID, limit}
	if f.Before != nil {
		query += ` AND (at, id) < ($3, $4)`
		args = append(args, micros(f.Before.At), f.Before.ID)
	}
	query += ` ORDER BY at DESC, id DESC LIMIT $2`
	var es []*autho.AuditEvent
	err := s.runIdempotent(ctx, "audit events", func(ctx context.Context, c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		es, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*autho.AuditEvent, error) {
			var (
				e      autho.AuditEvent
				action string
				at     int64
			)
			if err := r.Scan(&e.ID, &e.AccountID, &e.ActorID, &e.ActorEmail, &action, &e.TargetID, &e.TargetName, &at, &e.IP); err != nil {
				return nil, err
			}
			e.Action, e.At = autho.AuditAction(action), fromMicros(at)
			return &e, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return es, nil
}
