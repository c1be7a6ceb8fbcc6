package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// insertEvent stores e and queues its deliveries, in the change's
// transaction. The endpoints are read first and filtered here, by Takes,
// so that the rule of which endpoint takes which type is written once; the
// queue's unique key makes a second delivery to one endpoint or email a
// no-op.
func insertEvent(ctx context.Context, x execer, e *autho.Event) error {
	const op = "add event"
	_, err := x.ExecContext(ctx, `INSERT INTO events (id, type, account_id, created_at, data) VALUES (?, ?, ?, ?, ?)`,
		e.ID, string(e.Type), e.AccountID, micros(e.CreatedAt), string(e.Data))
	if err != nil {
		return wrap(op, err)
	}
	rows, err := x.QueryContext(ctx, `SELECT id, events FROM webhook_endpoints WHERE disabled_at = 0 ORDER BY created_at, id`)
	if err != nil {
		return wrap(op, err)
	}
	var endpoints []string
	for rows.Next() {
		var w autho.WebhookEndpoint
		var types string
		if err := rows.Scan(&w.ID, &types); err != nil {
			rows.Close()
			return wrap(op, err)
		}
		if w.Events = splitTypes(types); w.Takes(e.Type) {
			endpoints = append(endpoints, w.ID)
		}
	}
	// Closed before the inserts: they run on the same connection.
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrap(op, err)
	}
	queue := func(endpointID, email, userID string) error {
		_, err := x.ExecContext(ctx, `INSERT INTO deliveries (id, event_id, endpoint_id, email, user_id, state, attempts,
				next_attempt_at, lease, lease_until, created_at, done_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, '', 0, ?, 0) ON CONFLICT (event_id, endpoint_id, email) DO NOTHING`,
			secret.NewID("dlv"), e.ID, endpointID, email, userID, string(autho.DeliveryPending), micros(e.CreatedAt), micros(e.CreatedAt))
		return wrap(op, err)
	}
	for _, id := range endpoints {
		if err := queue(id, "", ""); err != nil {
			return err
		}
	}
	for _, r := range e.Mail {
		// A person without an address cannot be mailed; a delivery has
		// exactly one of an endpoint and an email.
		if r.Email == "" {
			continue
		}
		if err := queue("", r.Email, r.UserID); err != nil {
			return err
		}
	}
	return nil
}

// Endpoint types are one space-separated TEXT column, empty for every type
// (read back as nil).
func joinTypes(ts []autho.EventType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, " ")
}

func splitTypes(s string) []autho.EventType {
	var ts []autho.EventType
	for f := range strings.FieldsSeq(s) {
		ts = append(ts, autho.EventType(f))
	}
	return ts
}

const eventCols = `id, type, account_id, created_at, data`

func scanEvent(sc scanner) (*autho.Event, error) {
	var (
		e       autho.Event
		typ     string
		created int64
		data    string
	)
	if err := sc.Scan(&e.ID, &typ, &e.AccountID, &created, &data); err != nil {
		return nil, err
	}
	e.Type, e.CreatedAt, e.Data = autho.EventType(typ), fromMicros(created), []byte(data)
	return &e, nil
}

// Events lists events newest first, walking the (created_at, id) index
// backwards.
func (s *Store) Events(ctx context.Context, limit int) ([]*autho.Event, error) {
	q := `SELECT ` + eventCols + ` FROM events ORDER BY created_at DESC, id DESC`
	var args []any
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	return list(ctx, s.r, "events", scanEvent, q, args...)
}

// list runs a query on the read pool and scans every row.
func list[T any](ctx context.Context, db *sql.DB, op string, scan func(scanner) (*T, error), q string, args ...any) ([]*T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, x)
	}
	return out, wrap(op, rows.Err())
}

// RecordNotice inserts n unless its key is there; entries are written only
// with an insert. The write lock orders notices recorded at once, in this
// process or another.
func (s *Store) RecordNotice(ctx context.Context, n autho.Notice, entries ...autho.Entry) (bool, error) {
	var stored bool
	err := s.tx(ctx, "record notice", func(tx *sql.Tx) error {
		stored = false
		res, err := tx.ExecContext(ctx, `INSERT INTO notices (thing_id, kind, due) VALUES (?, ?, ?)
			ON CONFLICT (thing_id, kind, due) DO NOTHING`, n.ThingID, n.Kind, micros(n.Due))
		if err != nil {
			return wrap("record notice", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return wrap("record notice", err)
		}
		if n == 0 {
			return nil // stored already: no entries
		}
		stored = true
		return writeEntries(ctx, tx, entries)
	})
	if err != nil {
		return false, err
	}
	return stored, nil
}

const endpointCols = `id, url, events, sealed_secret, created_at, disabled_at, failing_since`

func scanEndpoint(sc scanner) (*autho.WebhookEndpoint, error) {
	var (
		e                          autho.WebhookEndpoint
		types, sealed              string
		created, disabled, failing int64
	)
	if err := sc.Scan(&e.ID, &e.URL, &types, &sealed, &created, &disabled, &failing); err != nil {
		return nil, err
	}
	var err error
	if e.SealedSecret, err = decode64(sealed); err != nil {
		return nil, err
	}
	e.Events = splitTypes(types)
	e.CreatedAt, e.DisabledAt, e.FailingSince = fromMicros(created), fromZeroMicros(disabled), fromZeroMicros(failing)
	return &e, nil
}

// CreateWebhookEndpoint stores e; an id in use is autho.ErrConflict.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e *autho.WebhookEndpoint, entries ...autho.Entry) error {
	return s.write(ctx, "create webhook endpoint", entries, func(x execer) error {
		_, err := x.ExecContext(ctx, `INSERT INTO webhook_endpoints (`+endpointCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.URL, joinTypes(e.Events), base64.StdEncoding.EncodeToString(e.SealedSecret),
			micros(e.CreatedAt), zeroMicros(e.DisabledAt), zeroMicros(e.FailingSince))
		return wrap("create webhook endpoint", err)
	})
}

// WebhookEndpoint returns the endpoint with the given id.
func (s *Store) WebhookEndpoint(ctx context.Context, id string) (*autho.WebhookEndpoint, error) {
	e, err := scanEndpoint(s.r.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = ?`, id))
	return e, wrap("webhook endpoint", err)
}

// WebhookEndpoints lists every endpoint, newest first, ties by id
// descending.
func (s *Store) WebhookEndpoints(ctx context.Context) ([]*autho.WebhookEndpoint, error) {
	return list(ctx, s.r, "webhook endpoints", scanEndpoint,
		`SELECT `+endpointCols+` FROM webhook_endpoints ORDER BY created_at DESC, id DESC`)
}

// UpdateWebhookEndpoint writes DisabledAt and FailingSince.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, id string, fn func(*autho.WebhookEndpoint) error, entries ...autho.Entry) (*autho.WebhookEndpoint, error) {
	const op = "update webhook endpoint"
	var e *autho.WebhookEndpoint
	err := s.tx(ctx, op, func(tx *sql.Tx) error {
		var err error
		if e, err = scanEndpoint(tx.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = ?`, id)); err != nil {
			return wrap(op, err)
		}
		w := *e
		w.Events = append([]autho.EventType(nil), e.Events...)
		if err := fn(&w); err != nil {
			return err
		}
		e.DisabledAt, e.FailingSince = storedZero(w.DisabledAt), storedZero(w.FailingSince)
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET disabled_at = ?, failing_since = ? WHERE id = ?`,
			zeroMicros(e.DisabledAt), zeroMicros(e.FailingSince), id); err != nil {
			return wrap(op, err)
		}
		return writeEntries(ctx, tx, entries)
	})
	return unchanged(e, err)
}

// DeleteWebhookEndpoint removes the endpoint, then its deliveries' attempts
// and its deliveries (which the schema does not tie to it), in one
// transaction.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string, entries ...autho.Entry) error {
	const op = "delete webhook endpoint"
	return s.tx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id)
		if err != nil {
			return wrap(op, err)
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = sql.ErrNoRows
		}
		if err != nil {
			return wrap(op, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_attempts
			WHERE delivery_id IN (SELECT id FROM deliveries WHERE endpoint_id = ?)`, id); err != nil {
			return wrap(op, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE endpoint_id = ?`, id); err != nil {
			return wrap(op, err)
		}
		return writeEntries(ctx, tx, entries)
	})
}

const deliveryCols = `id, event_id, endpoint_id, email, user_id, state, attempts, next_attempt_at, created_at, done_at`

func scanDelivery(sc scanner) (*autho.Delivery, error) {
	var (
		d                   autho.Delivery
		state               string
		next, created, done int64
	)
	if err := sc.Scan(&d.ID, &d.EventID, &d.EndpointID, &d.Email, &d.UserID, &state, &d.Attempts, &next, &created, &done); err != nil {
		return nil, err
	}
	d.State = autho.DeliveryState(state)
	d.NextAttemptAt, d.CreatedAt, d.DoneAt = fromMicros(next), fromMicros(created), fromZeroMicros(done)
	return &d, nil
}

// ClaimDelivery leases the delivery due earliest in one statement, and
// reads what the attempt needs in the same transaction: the writer's lock
// makes the pick and the lease one step for every Store on the file.
func (s *Store) ClaimDelivery(ctx context.Context, now, leaseUntil time.Time) (*autho.Delivery, error) {
	const op = "claim delivery"
	// Most polls find nothing due: a read on the reader pool says so
	// without queueing for the one writer, which the logins' last-used
	// batches need.
	var due int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM deliveries
		WHERE state = ? AND next_attempt_at <= ? AND (lease = '' OR lease_until <= ?) LIMIT 1`,
		string(autho.DeliveryPending), micros(now), micros(now)).Scan(&due)
	if err != nil {
		return nil, wrap(op, err)
	}
	var d *autho.Delivery
	err = s.tx(ctx, op, func(tx *sql.Tx) error {
		lease := secret.NewID("lse")
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, `UPDATE deliveries SET lease = ?, lease_until = ?
			WHERE id = (SELECT id FROM deliveries
				WHERE state = ? AND next_attempt_at <= ? AND (lease = '' OR lease_until <= ?)
				ORDER BY next_attempt_at, id LIMIT 1)
			RETURNING `+deliveryCols,
			lease, micros(leaseUntil), string(autho.DeliveryPending), micros(now), micros(now)))
		if err != nil {
			return wrap(op, err)
		}
		d.Lease = lease
		if d.Event, err = scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events WHERE id = ?`, d.EventID)); err != nil {
			return wrap(op, err)
		}
		if d.EndpointID != "" {
			if d.Endpoint, err = scanEndpoint(tx.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = ?`, d.EndpointID)); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// FinishDelivery writes d's outcome only while d.Lease is still the
// delivery's: the condition is in the UPDATE, so a claim that ran out
// cannot overwrite the claim that took its place.
func (s *Store) FinishDelivery(ctx context.Context, d *autho.Delivery, a autho.DeliveryAttempt, entries ...autho.Entry) error {
	const op = "finish delivery"
	return s.tx(ctx, op, func(tx *sql.Tx) error {
		// An empty lease would match a delivery no claim holds.
		if d.Lease == "" {
			return fmt.Errorf("sqlite: %s: no lease: %w", op, autho.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, done_at = ?,
				lease = '', lease_until = 0
			WHERE id = ? AND lease = ?`,
			string(d.State), d.Attempts, micros(d.NextAttemptAt), zeroMicros(d.DoneAt), d.ID, d.Lease)
		if err != nil {
			return wrap(op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return wrap(op, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlite: %s: the lease is not the delivery's: %w", op, autho.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_attempts (delivery_id, n, at, status, error) VALUES (?, ?, ?, ?, ?)`,
			d.ID, a.N, micros(a.At), a.Status, a.Error); err != nil {
			return wrap(op, err)
		}
		return writeEntries(ctx, tx, entries)
	})
}

// Delivery returns the delivery with the given id, without what a claim
// adds (Event, Endpoint, Lease).
func (s *Store) Delivery(ctx context.Context, id string) (*autho.Delivery, error) {
	d, err := scanDelivery(s.r.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE id = ?`, id))
	return d, wrap("delivery", err)
}

// Deliveries lists deliveries newest first, ties by id descending.
func (s *Store) Deliveries(ctx context.Context, f autho.DeliveryFilter) ([]*autho.Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM deliveries WHERE 1 = 1`
	var args []any
	if f.EndpointID != "" {
		q += ` AND endpoint_id = ?`
		args = append(args, f.EndpointID)
	}
	if f.EventID != "" {
		q += ` AND event_id = ?`
		args = append(args, f.EventID)
	}
	if f.Mail {
		q += ` AND endpoint_id = '' AND email <> ''`
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return list(ctx, s.r, "deliveries", scanDelivery, q, args...)
}

func scanAttempt(sc scanner) (*autho.DeliveryAttempt, error) {
	var a autho.DeliveryAttempt
	var at int64
	if err := sc.Scan(&a.DeliveryID, &a.N, &at, &a.Status, &a.Error); err != nil {
		return nil, err
	}
	a.At = fromMicros(at)
	return &a, nil
}

// DeliveryAttempts lists a delivery's attempts, first first; an unknown
// delivery has none.
func (s *Store) DeliveryAttempts(ctx context.Context, deliveryID string) ([]*autho.DeliveryAttempt, error) {
	return list(ctx, s.r, "delivery attempts", scanAttempt,
		`SELECT delivery_id, n, at, status, error FROM delivery_attempts WHERE delivery_id = ? ORDER BY n`, deliveryID)
}

// RetryDelivery makes a failed delivery pending again, due at now.
func (s *Store) RetryDelivery(ctx context.Context, id string, now time.Time, entries ...autho.Entry) (*autho.Delivery, error) {
	const op = "retry delivery"
	var d *autho.Delivery
	err := s.tx(ctx, op, func(tx *sql.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, `UPDATE deliveries SET state = ?, next_attempt_at = ?, done_at = 0, lease = '', lease_until = 0
			WHERE id = ? AND state = ? RETURNING `+deliveryCols,
			string(autho.DeliveryPending), micros(now), id, string(autho.DeliveryFailed)))
		if errors.Is(err, sql.ErrNoRows) {
			// Unknown (ErrNotFound), or not failed.
			if _, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE id = ?`, id)); err != nil {
				return wrap(op, err)
			}
			return fmt.Errorf("sqlite: %s: not failed: %w", op, autho.ErrConflict)
		}
		if err != nil {
			return wrap(op, err)
		}
		return writeEntries(ctx, tx, entries)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}
