package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/autho/autho"
)

// execer is the writer connection or a transaction on it.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// write runs fn on the writer, then writes entries, in one transaction when
// there are entries (a single statement needs none).
func (s *Store) write(ctx context.Context, op string, entries []autho.Entry, fn func(execer) error) error {
	if len(entries) == 0 {
		return fn(s.w)
	}
	return s.tx(ctx, op, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
}

// writeEntries stores what a change leaves behind, in the change's
// transaction.
func writeEntries(ctx context.Context, x execer, entries []autho.Entry) error {
	for _, en := range entries {
		switch e := en.(type) {
		case nil:
			// Dropped by an Update fn: a part of the change that was none.
		case *autho.AuditEvent:
			if err := insertAuditEvent(ctx, x, e); err != nil {
				return err
			}
		case *autho.Invitation:
			if err := insertInvitation(ctx, x, e); err != nil {
				return err
			}
		case *autho.Event:
			if err := insertEvent(ctx, x, e); err != nil {
				return err
			}
		default:
			return fmt.Errorf("sqlite: entries of type %T are not stored", en)
		}
	}
	return nil
}

// unchanged is an Update method's answer when fn said there was nothing
// to change: the row as read.
func unchanged[T any](row T, err error) (T, error) {
	if errors.Is(err, autho.ErrUnchanged) {
		return row, nil
	}
	var zero T
	if err != nil {
		return zero, err
	}
	return row, nil
}

func insertAuditEvent(ctx context.Context, x execer, e *autho.AuditEvent) error {
	_, err := x.ExecContext(ctx, `INSERT INTO audit_events (id, account_id, actor_id, actor_email, action, target_id, target_name, at, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, nullString(e.AccountID), e.ActorID, e.ActorEmail, string(e.Action), e.TargetID, e.TargetName, micros(e.At), e.IP)
	return wrap("add audit event", err)
}

// AddAuditEvent appends an event; its account, when it has one, must exist.
func (s *Store) AddAuditEvent(ctx context.Context, e *autho.AuditEvent) error {
	return insertAuditEvent(ctx, s.w, e)
}

// AuditEvents lists an account's events (or every event), newest first,
// walking the (account_id, at, id) or (at, id) index backwards from the
// cursor.
func (s *Store) AuditEvents(ctx context.Context, f autho.AuditFilter) ([]*autho.AuditEvent, error) {
	q := `SELECT id, COALESCE(account_id, ''), actor_id, actor_email, action, target_id, target_name, at, ip
		FROM audit_events WHERE 1 = 1`
	var args []any
	if f.AccountID != "" {
		q += ` AND account_id = ?`
		args = append(args, f.AccountID)
	}
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
