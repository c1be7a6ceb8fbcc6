package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// insertEvent stores e and queues its deliveries, in the change's
// transaction. The endpoints are read first and filtered here, by Takes,
// so that the rule of which endpoint takes which type is written once; the
// queue's unique key makes a second delivery to one endpoint or email a
// no-op.
func insertEvent(ctx context.Context, x execer, e *autho.Event) error {
	_, err := x.Exec(ctx, `INSERT INTO events (id, type, account_id, created_at, data) VALUES ($1, $2, $3, $4, $5)`,
		e.ID, string(e.Type), e.AccountID, micros(e.CreatedAt), string(e.Data))
	if err != nil {
		return err
	}
	rows, err := x.Query(ctx, `SELECT id, events FROM webhook_endpoints WHERE disabled_at = 0 ORDER BY created_at, id`)
	if err != nil {
		return err
	}
	// Collected before the inserts: a connection runs one statement at a
	// time.
	endpoints, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*autho.WebhookEndpoint, error) {
		var w autho.WebhookEndpoint
		var types string
		if err := r.Scan(&w.ID, &types); err != nil {
			return nil, err
		}
		w.Events = splitTypes(types)
		return &w, nil
	})
	if err != nil {
		return err
	}
	queue := func(endpointID, email, userID string) error {
		_, err := x.Exec(ctx, `INSERT INTO deliveries (id, event_id, endpoint_id, email, user_id, state, attempts,
				next_attempt_at, lease, lease_until, created_at, done_at)
			VALUES ($1, $2, $3, $4, $5, $6, 0, $7, '', 0, $7, 0) ON CONFLICT (event_id, endpoint_id, email) DO NOTHING`,
			secret.NewID("dlv"), e.ID, endpointID, email, userID, string(autho.DeliveryPending), micros(e.CreatedAt))
		return err
	}
	for _, w := range endpoints {
		if !w.Takes(e.Type) {
			continue
		}
		if err := queue(w.ID, "", ""); err != nil {
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

func scanEvent(row scanner) (*autho.Event, error) {
	var (
		e         autho.Event
		typ, data string
		created   int64
	)
	if err := row.Scan(&e.ID, &typ, &e.AccountID, &created, &data); err != nil {
		return nil, err
	}
	e.Type, e.CreatedAt, e.Data = autho.EventType(typ), fromMicros(created), []byte(data)
	return &e, nil
}

// list runs a query that may run twice and scans every row.
func list[T any](ctx context.Context, s *Store, op string, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	var out []*T
	err := s.runIdempotent(ctx, op, func(ctx context.Context, c *pgxpool.Conn) error {
		rows, err := c.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*T, error) { return scan(r) })
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// limitAll is a LIMIT argument: NULL, LIMIT ALL, for none.
func limitAll(n int) *int64 {
	if n <= 0 {
		return nil
	}
	l := int64(n)
	return &l
}

// Events lists events newest first, ties by id descending in byte order,
// as SQLite compares.
func (s *Store) Events(ctx context.Context, limit int) ([]*autho.Event, error) {
	return list(ctx, s, "events", scanEvent,
		`SELECT `+eventCols+` FROM events ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $1`, limitAll(limit))
}

// RecordNotice inserts n unless its key is there; entries are written only
// with an insert. A second insert of one key made at once waits on the
// primary key until the first commits, then does nothing.
func (s *Store) RecordNotice(ctx context.Context, n autho.Notice, entries ...autho.Entry) (bool, error) {
	var stored bool
	err := s.inTx(ctx, "record notice", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO notices (thing_id, kind, due) VALUES ($1, $2, $3)
			ON CONFLICT (thing_id, kind, due) DO NOTHING`, n.ThingID, n.Kind, micros(n.Due))
		if err != nil {
			return err
		}
		if stored = tag.RowsAffected() == 1; !stored {
			return nil // stored already: no entries
		}
		return writeEntries(ctx, tx, entries)
	})
	if err != nil {
		return false, err
	}
	return stored, nil
}

const endpointCols = `id, url, events, sealed_secret, created_at, disabled_at, failing_since`

func scanEndpoint(row scanner) (*autho.WebhookEndpoint, error) {
	var (
		e                          autho.WebhookEndpoint
		types, sealed              string
		created, disabled, failing int64
	)
	if err := row.Scan(&e.ID, &e.URL, &types, &sealed, &created, &disabled, &failing); err != nil {
		return nil, err
	}
	var err error
	if e.SealedSecret, err = fromBase64(sealed); err != nil {
		return nil, fmt.Errorf("webhook endpoint %s: %w", e.ID, err)
	}
	e.Events = splitTypes(types)
	e.CreatedAt, e.DisabledAt, e.FailingSince = fromMicros(created), fromZeroMicros(disabled), fromZeroMicros(failing)
	return &e, nil
}

// CreateWebhookEndpoint stores e; an id in use is ErrConflict.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e *autho.WebhookEndpoint, entries ...autho.Entry) error {
	return s.write(ctx, "create webhook endpoint", entries, func(ctx context.Context, x execer) error {
		_, err := x.Exec(ctx, `INSERT INTO webhook_endpoints (`+endpointCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			e.ID, e.URL, joinTypes(e.Events), base64Of(e.SealedSecret),
			micros(e.CreatedAt), zeroMicros(e.DisabledAt), zeroMicros(e.FailingSince))
		return err
	})
}

// WebhookEndpoint returns the endpoint with the given id.
func (s *Store) WebhookEndpoint(ctx context.Context, id string) (*autho.WebhookEndpoint, error) {
	var e *autho.WebhookEndpoint
	err := s.runIdempotent(ctx, "webhook endpoint", func(ctx context.Context, c *pgxpool.Conn) error {
		var err error
		e, err = scanEndpoint(c.QueryRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// WebhookEndpoints lists every endpoint, newest first, ties by id
// descending.
func (s *Store) WebhookEndpoints(ctx context.Context) ([]*autho.WebhookEndpoint, error) {
	return list(ctx, s, "webhook endpoints", scanEndpoint,
		`SELECT `+endpointCols+` FROM webhook_endpoints ORDER BY created_at DESC, id COLLATE "C" DESC`)
}

// UpdateWebhookEndpoint writes DisabledAt and FailingSince, with the row
// locked.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, id string, fn func(*autho.WebhookEndpoint) error, entries ...autho.Entry) (*autho.WebhookEndpoint, error) {
	var read, e *autho.WebhookEndpoint
	err := s.inTx(ctx, "update webhook endpoint", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		read, err = scanEndpoint(tx.QueryRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		w := *read
		w.Events = append([]autho.EventType(nil), read.Events...)
		if err := fn(&w); err != nil {
			return &fnError{err}
		}
		e, err = scanEndpoint(tx.QueryRow(ctx, `UPDATE webhook_endpoints SET disabled_at = $2, failing_since = $3 WHERE id = $1
			RETURNING `+endpointCols, id, zeroMicros(w.DisabledAt), zeroMicros(w.FailingSince)))
		if err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
	if err != nil {
		return unchanged(read, err)
	}
	return e, nil
}

// DeleteWebhookEndpoint removes the endpoint, then its deliveries' attempts
// and its deliveries (which the schema does not tie to it), in one
// transaction.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string, entries ...autho.Entry) error {
	return s.inTx(ctx, "delete webhook endpoint", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		if _, err := tx.Exec(ctx, `DELETE FROM delivery_attempts
			WHERE delivery_id IN (SELECT id FROM deliveries WHERE endpoint_id = $1)`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM deliveries WHERE endpoint_id = $1`, id); err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
}

const deliveryCols = `id, event_id, endpoint_id, email, user_id, state, attempts, next_attempt_at, created_at, done_at`

func scanDelivery(row scanner) (*autho.Delivery, error) {
	var (
		d                   autho.Delivery
		state               string
		attempts            int32
		next, created, done int64
	)
	if err := row.Scan(&d.ID, &d.EventID, &d.EndpointID, &d.Email, &d.UserID, &state, &attempts, &next, &created, &done); err != nil {
		return nil, err
	}
	d.State, d.Attempts = autho.DeliveryState(state), int(attempts)
	d.NextAttemptAt, d.CreatedAt, d.DoneAt = fromMicros(next), fromMicros(created), fromZeroMicros(done)
	return &d, nil
}

// ClaimDelivery picks the delivery due earliest and leases it in one
// statement: FOR UPDATE SKIP LOCKED passes over a row another claim has
// locked (it takes the next instead of waiting), and a row another claim
// leased and committed meanwhile is checked again on its new version, so
// its lease is seen. The event and endpoint are read in the same
// transaction.
func (s *Store) ClaimDelivery(ctx context.Context, now, leaseUntil time.Time) (*autho.Delivery, error) {
	var d *autho.Delivery
	err := s.inTx(ctx, "claim delivery", func(ctx context.Context, tx pgx.Tx) error {
		lease := secret.NewID("lse")
		var err error
		d, err = scanDelivery(tx.QueryRow(ctx, `UPDATE deliveries SET lease = $1, lease_until = $2
			WHERE id = (SELECT id FROM deliveries
				WHERE state = $3 AND next_attempt_at <= $4 AND (lease = '' OR lease_until <= $4)
				ORDER BY next_attempt_at, id COLLATE "C" LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING `+deliveryCols,
			lease, micros(leaseUntil), string(autho.DeliveryPending), micros(now)))
		if err != nil {
			return err
		}
		d.Lease = lease
		if d.Event, err = scanEvent(tx.QueryRow(ctx, `SELECT `+eventCols+` FROM events WHERE id = $1`, d.EventID)); err != nil {
			return err
		}
		if d.EndpointID != "" {
			if d.Endpoint, err = scanEndpoint(tx.QueryRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = $1`, d.EndpointID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

var errLeaseLost = fmt.Errorf("the lease is not the delivery's: %w", autho.ErrConflict)

// FinishDelivery writes d's outcome only while d.Lease is still the
// delivery's: the condition is in the UPDATE, which waits for a claim
// under way on the row and then checks its new version, so a claim that
// ran out cannot overwrite the claim that took its place.
func (s *Store) FinishDelivery(ctx context.Context, d *autho.Delivery, a autho.DeliveryAttempt, entries ...autho.Entry) error {
	return s.inTx(ctx, "finish delivery", func(ctx context.Context, tx pgx.Tx) error {
		// An empty lease would match a delivery no claim holds.
		if d.Lease == "" {
			return errLeaseLost
		}
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET state = $3, attempts = $4, next_attempt_at = $5, done_at = $6,
				lease = '', lease_until = 0
			WHERE id = $1 AND lease = $2`,
			d.ID, d.Lease, string(d.State), d.Attempts, micros(d.NextAttemptAt), zeroMicros(d.DoneAt))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errLeaseLost
		}
		if _, err := tx.Exec(ctx, `INSERT INTO delivery_attempts (delivery_id, n, at, status, error) VALUES ($1, $2, $3, $4, $5)`,
			d.ID, a.N, micros(a.At), a.Status, a.Error); err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
}

// Delivery returns the delivery with the given id, without what a claim
// adds (Event, Endpoint, Lease).
func (s *Store) Delivery(ctx context.Context, id string) (*autho.Delivery, error) {
	var d *autho.Delivery
	err := s.runIdempotent(ctx, "delivery", func(ctx context.Context, c *pgxpool.Conn) error {
		var err error
		d, err = scanDelivery(c.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Deliveries lists deliveries newest first, ties by id descending.
func (s *Store) Deliveries(ctx context.Context, f autho.DeliveryFilter) ([]*autho.Delivery, error) {
	query := `SELECT ` + deliveryCols + ` FROM deliveries WHERE true`
	args := []any{limitAll(f.Limit)}
	if f.EndpointID != "" {
		args = append(args, f.EndpointID)
		query += fmt.Sprintf(` AND endpoint_id = $%d`, len(args))
	}
	if f.EventID != "" {
		args = append(args, f.EventID)
		query += fmt.Sprintf(` AND event_id = $%d`, len(args))
	}
	if f.Mail {
		query += ` AND endpoint_id = '' AND email <> ''`
	}
	query += ` ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $1`
	return list(ctx, s, "deliveries", scanDelivery, query, args...)
}

func scanAttempt(row scanner) (*autho.DeliveryAttempt, error) {
	var (
		a         autho.DeliveryAttempt
		n, status int32
		at        int64
	)
	if err := row.Scan(&a.DeliveryID, &n, &at, &status, &a.Error); err != nil {
		return nil, err
	}
	a.N, a.Status, a.At = int(n), int(status), fromMicros(at)
	return &a, nil
}

// DeliveryAttempts lists a delivery's attempts, first first; an unknown
// delivery has none.
func (s *Store) DeliveryAttempts(ctx context.Context, deliveryID string) ([]*autho.DeliveryAttempt, error) {
	return list(ctx, s, "delivery attempts", scanAttempt,
		`SELECT delivery_id, n, at, status, error FROM delivery_attempts WHERE delivery_id = $1 ORDER BY n`, deliveryID)
}

// RetryDelivery makes a failed delivery pending again, due at now.
func (s *Store) RetryDelivery(ctx context.Context, id string, now time.Time, entries ...autho.Entry) (*autho.Delivery, error) {
	var d *autho.Delivery
	err := s.inTx(ctx, "retry delivery", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRow(ctx, `UPDATE deliveries SET state = $3, next_attempt_at = $4, done_at = 0, lease = '', lease_until = 0
			WHERE id = $1 AND state = $2 RETURNING `+deliveryCols,
			id, string(autho.DeliveryFailed), string(autho.DeliveryPending), micros(now)))
		if errors.Is(err, pgx.ErrNoRows) {
			// Unknown (ErrNotFound), or not failed.
			if _, err := scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE id = $1`, id)); err != nil {
				return err
			}
			return fmt.Errorf("not failed: %w", autho.ErrConflict)
		}
		if err != nil {
			return err
		}
		return writeEntries(ctx, tx, entries)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}
