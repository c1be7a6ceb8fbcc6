package sqlite

import (
	"context"

	"github.com/autho/autho"
)

// AddAuditEvent appends an event; its account must exist.
func (s *Store) AddAuditEvent(ctx context.Context, e *autho.AuditEvent) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO audit_events (id, account_id, actor_id, actor_email, action, target_id, target_name, at, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.AccountID, e.ActorID, e.ActorEmail, string(e.Action), e.TargetID, e.TargetName, micros(e.At), e.IP)
	return wrap("add audit event", err)
}

// AuditEvents lists an account's events, newest first, walking the
// (account_id, at, id) index backwards from the cursor.
func (s *Store) AuditEvents(ctx context.Context, f autho.AuditFilter) ([]*autho.AuditEvent, error) {
	q := `SELECT id, account_id, actor_id, actor_email, action, target_id, target_name, at, ip
		FROM audit_events WHERE account_id = ?`
	args := []any{f.AccountID}
	if f.Before != nil {
		q += ` AND (at < ? OR (at = ? AND id < ?))`
		b := micros(f.Before.At)
		args = append(args, b, b, f.Before.ID)
	}
	q += ` ORDER BY at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("audit events", err)
	}
	defer rows.Close()
	var out []*autho.AuditEvent
	for rows.Next() {
		e := new(autho.AuditEvent)
		var at int64
		if err := rows.Scan(&e.ID, &e.AccountID, &e.ActorID, &e.ActorEmail, &e.Action, &e.TargetID, &e.TargetName, &at, &e.IP); err != nil {
			return nil, wrap("audit events", err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, wrap("audit events", rows.Err())
}
