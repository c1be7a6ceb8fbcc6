package view

import (
	"fmt"
	"strings"
	"time"

	"github.com/autho/autho"
)

// Webhook is a webhook endpoint; Secret only when it was just made.
type Webhook struct {
	ID           string            `json:"id"`
	URL          string            `json:"url"`
	Events       []autho.EventType `json:"events"` // empty: every type
	Status       string            `json:"status"` // "enabled" or "disabled"
	CreatedAt    time.Time         `json:"created_at"`
	DisabledAt   *time.Time        `json:"disabled_at"`
	FailingSince *time.Time        `json:"failing_since"`
	Secret       string            `json:"secret,omitempty"`
}

// WebhookOf is e, with its signing secret when it was just made.
func WebhookOf(e *autho.WebhookEndpoint, plaintext string) Webhook {
	status := "enabled"
	if !e.DisabledAt.IsZero() {
		status = "disabled"
	}
	events := e.Events
	if events == nil {
		events = []autho.EventType{}
	}
	return Webhook{
		ID: e.ID, URL: e.URL, Events: events, Status: status, CreatedAt: e.CreatedAt.UTC(),
		DisabledAt: OptionalTime(e.DisabledAt), FailingSince: OptionalTime(e.FailingSince), Secret: plaintext,
	}
}

// Line is the endpoint's line.
func (w Webhook) Line(when func(time.Time) string) string {
	events := "every event"
	if len(w.Events) > 0 {
		s := make([]string, len(w.Events))
		for i, e := range w.Events {
			s[i] = string(e)
		}
		events = strings.Join(s, " ")
	}
	return fmt.Sprintf("%s  %s  %s  %s  made %s", w.ID, w.URL, w.Status, events, when(w.CreatedAt))
}

// Delivery is one event on its way to an endpoint or a person, with its
// attempts when they were asked for.
type Delivery struct {
	ID            string            `json:"id"`
	EventID       string            `json:"event_id"`
	EndpointID    string            `json:"endpoint_id,omitempty"`
	Email         string            `json:"email,omitempty"`
	State         string            `json:"state"`
	Attempts      int               `json:"attempts"`
	NextAttemptAt *time.Time        `json:"next_attempt_at"`
	CreatedAt     time.Time         `json:"created_at"`
	DoneAt        *time.Time        `json:"done_at"`
	AttemptList   []DeliveryAttempt `json:"attempt_list,omitempty"`
}

// DeliveryAttempt is one try of a delivery.
type DeliveryAttempt struct {
	N      int       `json:"n"`
	At     time.Time `json:"at"`
	Status int       `json:"status"` // the answer's; 0 when none came
	Error  string    `json:"error"`
}

// DeliveryOf is d, with its attempts when given.
func DeliveryOf(d *autho.Delivery, attempts []*autho.DeliveryAttempt) Delivery {
	v := Delivery{
		ID: d.ID, EventID: d.EventID, EndpointID: d.EndpointID, Email: d.Email, State: string(d.State),
		Attempts: d.Attempts, CreatedAt: d.CreatedAt.UTC(), DoneAt: OptionalTime(d.DoneAt),
	}
	if d.State == autho.DeliveryPending {
		v.NextAttemptAt = OptionalTime(d.NextAttemptAt)
	}
	for _, a := range attempts {
		v.AttemptList = append(v.AttemptList, DeliveryAttempt{N: a.N, At: a.At.UTC(), Status: a.Status, Error: a.Error})
	}
	return v
}

// Line is the delivery's line.
func (d Delivery) Line(when func(time.Time) string) string {
	to := d.EndpointID
	if d.Email != "" {
		to = d.Email
	}
	next := ""
	if d.NextAttemptAt != nil {
		next = "  next attempt " + when(*d.NextAttemptAt)
	}
	return fmt.Sprintf("%s  event %s  to %s  %s  %d attempt(s)%s", d.ID, d.EventID, to, d.State, d.Attempts, next)
}
