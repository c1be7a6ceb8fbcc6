package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// execer is a pooled connection or a transaction.
type execer interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
	Query(context.Context, string, ...any) (pgx.Rows, error)
}

// write runs f, then writes entries, in one transaction when there are
// entries; without, f runs on a connection as run does (one statement
// needs no transaction). It is never retried: an entry must not be
// written twice.
func (s *Store) write(ctx context.Context, op string, entries []autho.Entry, f func(context.Context, execer) error) error {
	if len(entries) == 0 {
		return s.run(ctx, op, func(ctx context.Context, c *pgxpool.Conn) error { return f(ctx, c) })
	}
	return s.inTx(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		if err := f(ctx, tx); err != nil {
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
			return fmt.Errorf("entries of type %T are not stored", en)
		}
	}
	return nil
}

// unchanged is an Update method's answer when fn said there was nothing
// to change: the row as read.
func unchanged[T any](read T, err error) (T, error) {
	if errors.Is(err, autho.ErrUnchanged) {
		return read, nil
	}
	var zero T
	return zero, err
}

func insertAuditEvent(ctx context.Context, x execer, e *autho.AuditEvent) error {
	var account *string
	if e.AccountID != "" {
		account = &e.AccountID
	}
	_, err := x.Exec(ctx, `INSERT INTO audit_events (id, account_id, actor_id, actor_email, action, target_id, target_name, at, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.ID, account, e.ActorID, e.ActorEmail, string(e.Action), e.TargetID, e.TargetName, micros(e.At), e.IP)
	return err
}

// AddAuditEvent appends an event. It is not retried: a retry after a lost
// answer could record the event twice.
func (s *Store) AddAuditEvent(ctx context.Context, e *autho.AuditEvent) error {
	return s.run(ctx, "add audit event", func(ctx context.Context, c *pgxpool.Conn) error {
		return insertAuditEvent(ctx, c, e)
	})
}

// AuditEvents lists an account's events (or every event), newest first.
// The first page and later pages are separate statements, so that each
// gets a plan that walks the (account_id, at, id) or (at, id) index; LIMIT
// ALL stands for no limit.
func (s *Store) AuditEvents(ctx context.Context, f autho.AuditFilter) ([]*autho.AuditEvent, error) {
	var limit *int64
	if f.Limit > 0 {
		l := int64(f.Limit)
		limit = &l
	}
	query := `SELECT id, COALESCE(account_id, ''), actor_id, actor_email, action, target_id, target_name, at, ip
		FROM audit_events WHERE true`
	args := []any{limit}
	if f.AccountID != "" {
		args = append(args, f.AccountID)
		query += fmt.Sprintf(` AND account_id = $%d`, len(args))
	}
	if f.Before != nil {
		args = append(args, micros(f.Before.At), f.Before.ID)
		query += fmt.Sprintf(` AND (at, id) < ($%d, $%d)`, len(args)-1, len(args))
	}
	query += ` ORDER BY at DESC, id DESC LIMIT $1`
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
