// Package outbox delivers lifecycle events: webhooks to the platform's
// endpoints and mail to a partner's people. The queue is the deliveries
// table, written with each change in its own transaction; every node runs
// a Worker on it, and a lease makes each attempt one node's. It is the
// smallest outbox that meets the contract (at least once, growing waits,
// one attempt at a time, stuck work taken over after a crash) rather than a
// job queue: see the package's test and the README for why.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/autho/autho"
)

// Retries are the waits after each failed attempt, the SPEC's schedule:
// after the last, the delivery is failed (eight attempts in all, over
// about 28 hours).
var Retries = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// DisableAfter is how long an endpoint may fail without a success before
// it is disabled.
const DisableAfter = 5 * 24 * time.Hour

// Lease is how long a claim holds a delivery: longer than any attempt
// (a webhook's 10 s, a mail's 30 s), short enough that an attempt cut off
// by a crash is made again within a minute.
const Lease = 45 * time.Second

// Webhooks sends an event to an endpoint: the Standard Webhooks POST.
// status is the answer's (0 when none came); err is nil only for a 2xx.
type Webhooks interface {
	Send(ctx context.Context, url, secret, id string, ts time.Time, body []byte) (status int, err error)
}

// Mailer sends the mail of an event to one person.
type Mailer interface {
	Mail(ctx context.Context, to autho.Recipient, ev *autho.Event) error
}

// Opener recovers an endpoint's signing secret from its sealed form.
type Opener interface {
	Open(id string, sealed []byte) ([]byte, error)
}

// Worker takes due deliveries from the store and attempts them.
type Worker struct {
	Store    autho.Store
	Webhooks Webhooks
	Mailer   Mailer // nil: mail is off, and mail deliveries fail saying so
	Secrets  Opener
	Log      *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Scale multiplies every wait (Retries, DisableAfter): 1 when zero.
	// Tests shrink hours to milliseconds with it.
	Scale float64
	// Parallel is how many attempts this node makes at once (4 when
	// zero), so that one endpoint that hangs does not hold up the rest.
	Parallel int
	// Poll is how often an idle worker looks for due work (1 s when
	// zero).
	Poll time.Duration
	// Attempted, when set, hears of every attempt (for metrics).
	Attempted func(kind string, ok bool)
}

func (w *Worker) now() time.Time {
	if w.Now == nil {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return w.Now().UTC().Truncate(time.Microsecond)
}

func (w *Worker) scaled(d time.Duration) time.Duration {
	if w.Scale <= 0 {
		return d
	}
	return time.Duration(float64(d) * w.Scale)
}

// Run attempts due deliveries until ctx ends, Parallel at a time.
func (w *Worker) Run(ctx context.Context) {
	n := w.Parallel
	if n <= 0 {
		n = 4
	}
	poll := w.Poll
	if poll <= 0 {
		poll = time.Second
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			t := time.NewTicker(poll)
			defer t.Stop()
			for ctx.Err() == nil {
				if w.Step(ctx) {
					continue // there may be more due at once
				}
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
}

// Step claims one due delivery and attempts it, reporting whether there
// was one.
func (w *Worker) Step(ctx context.Context) bool {
	now := w.now()
	d, err := w.Store.ClaimDelivery(ctx, now, now.Add(Lease))
	if errors.Is(err, autho.ErrNotFound) {
		return false
	}
	if err != nil {
		if ctx.Err() == nil {
			w.log().Warn("outbox: cannot claim a delivery", "err", err)
		}
		return false
	}
	w.attempt(ctx, d)
	return true
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

// attempt makes one try of d and records it, deciding what comes next.
func (w *Worker) attempt(ctx context.Context, d *autho.Delivery) {
	at := w.now()
	kind := "mail"
	var status int
	var err error
	if d.EndpointID != "" {
		kind = "webhook"
		status, err = w.send(ctx, d)
	} else {
		err = w.mail(ctx, d)
	}
	if ctx.Err() != nil && err != nil {
		// Shutting down mid-attempt: the lease runs out and another
		// node, or this one after its restart, makes it again.
		return
	}
	a := autho.DeliveryAttempt{DeliveryID: d.ID, N: d.Attempts + 1, At: at, Status: status}
	d.Attempts++
	done := w.now()
	switch {
	case err == nil:
		d.State, d.DoneAt = autho.DeliveryDelivered, done
	case errors.Is(err, ErrPermanent) || d.Attempts > len(Retries):
		a.Error = oneLine(err)
		d.State, d.DoneAt = autho.DeliveryFailed, done
	default:
		a.Error = oneLine(err)
		d.NextAttemptAt = done.Add(w.scaled(Retries[d.Attempts-1]))
	}
	if w.Attempted != nil {
		w.Attempted(kind, err == nil)
	}
	if ferr := w.Store.FinishDelivery(ctx, d, a); ferr != nil {
		// ErrConflict: the lease ran out and another node has it; anything
		// else: the attempt happens again when the lease runs out.
		w.log().Warn("outbox: cannot record an attempt", "delivery", d.ID, "err", ferr)
		return
	}
	if d.EndpointID != "" {
		w.endpointHealth(ctx, d.EndpointID, err == nil, done)
	}
	if err != nil {
		w.log().Info("outbox: attempt failed", "delivery", d.ID, "kind", kind, "event", d.Event.Type,
			"attempt", a.N, "status", status, "state", d.State, "err", a.Error)
	}
}

// ErrPermanent marks a failure no retry can mend: the delivery fails at
// once. A Webhooks or Mailer wraps it into such an error.
var ErrPermanent = errors.New("permanent")

func (w *Worker) send(ctx context.Context, d *autho.Delivery) (int, error) {
	if d.Endpoint == nil || !d.Endpoint.DisabledAt.IsZero() {
		return 0, fmt.Errorf("%w: the endpoint is disabled", ErrPermanent)
	}
	sec, err := w.Secrets.Open(d.Endpoint.ID, d.Endpoint.SealedSecret)
	if err != nil {
		return 0, fmt.Errorf("%w: the endpoint's signing secret cannot be opened with this master key", ErrPermanent)
	}
	body, err := Body(d.Event)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	return w.Webhooks.Send(ctx, d.Endpoint.URL, string(sec), d.Event.ID, w.now(), body)
}

func (w *Worker) mail(ctx context.Context, d *autho.Delivery) error {
	if w.Mailer == nil {
		return fmt.Errorf("%w: mail is not configured on this node (AUTHO_SMTP_URL)", ErrPermanent)
	}
	return w.Mailer.Mail(ctx, autho.Recipient{UserID: d.UserID, Email: d.Email}, d.Event)
}

// endpointHealth keeps the endpoint's run of failures, and disables it
// once that run is DisableAfter long.
func (w *Worker) endpointHealth(ctx context.Context, id string, ok bool, now time.Time) {
	disabled := false
	_, err := w.Store.UpdateWebhookEndpoint(ctx, id, func(e *autho.WebhookEndpoint) error {
		switch {
		case ok && e.FailingSince.IsZero(), !ok && !e.DisabledAt.IsZero():
			return autho.ErrUnchanged
		case ok:
			e.FailingSince = time.Time{}
		case e.FailingSince.IsZero():
			e.FailingSince = now
		case now.Sub(e.FailingSince) >= w.scaled(DisableAfter):
			e.DisabledAt, disabled = now, true
		default:
			return autho.ErrUnchanged
		}
		return nil
	})
	if err != nil && !errors.Is(err, autho.ErrNotFound) {
		w.log().Warn("outbox: cannot record the endpoint's health", "endpoint", id, "err", err)
	}
	if disabled {
		w.log().Warn("outbox: webhook endpoint disabled after failing for 5 days; enable it again by making a new one", "endpoint", id)
	}
}

// Body is the JSON a webhook POSTs for ev: {"id", "type", "created_at",
// "data"}.
func Body(ev *autho.Event) ([]byte, error) {
	return json.Marshal(struct {
		ID        string          `json:"id"`
		Type      autho.EventType `json:"type"`
		CreatedAt time.Time       `json:"created_at"`
		Data      json.RawMessage `json:"data"`
	}{ev.ID, ev.Type, ev.CreatedAt, ev.Data})
}

// oneLine is err as an attempt keeps it: one line, short.
func oneLine(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
