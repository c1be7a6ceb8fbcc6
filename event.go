package autho

import (
	"encoding/json"
	"slices"
	"time"
)

// EventType names a lifecycle event. The values are the contract's (the
// webhook body's "type"), so they never change meaning.
type EventType string

// The lifecycle events of the SPEC's list.
const (
	EventAccountCreated      EventType = "account.created"
	EventAccountRenewed      EventType = "account.renewed"
	EventAccountSuspended    EventType = "account.suspended"
	EventAccountReactivated  EventType = "account.reactivated"
	EventAccountExpiring     EventType = "account.expiring" // 30, 7 and 1 days before
	EventAccountExpired      EventType = "account.expired"
	EventPartnerTokenRotated EventType = "partner_token.rotated"
	EventUserCreated         EventType = "user.created"
	EventUserDeactivated     EventType = "user.deactivated"
	EventUserActivated       EventType = "user.activated"
	EventAPITokenCreated     EventType = "api_token.created"
	EventAPITokenRevoked     EventType = "api_token.revoked"
	EventAPITokenExpiring    EventType = "api_token.expiring" // 7 and 1 days before
	EventAPITokenExpired     EventType = "api_token.expired"
	EventAPITokenLeaked      EventType = "api_token.leaked"
	EventSigningKeyRotated   EventType = "signing_key.rotated"
)

// EventInvitationMail is the mail of an invitation to a new user. It is
// not one of the platform's lifecycle events (EventTypes): it is queued
// and retried as an event's mail is, and never goes to a webhook.
const EventInvitationMail EventType = "invitation.mail"

// EventTypes is every event type, in the SPEC's order.
var EventTypes = []EventType{
	EventAccountCreated, EventAccountRenewed, EventAccountSuspended, EventAccountReactivated,
	EventAccountExpiring, EventAccountExpired, EventPartnerTokenRotated,
	EventUserCreated, EventUserDeactivated, EventUserActivated,
	EventAPITokenCreated, EventAPITokenRevoked, EventAPITokenExpiring, EventAPITokenExpired, EventAPITokenLeaked,
	EventSigningKeyRotated,
}

// Event is one thing that happened, as webhooks and mail tell it. It is an
// Entry: a change writes it in its own transaction, so an acknowledged
// change never lacks its event. With it the store queues a delivery to
// every enabled webhook endpoint that takes its type, and one mail to each
// of Mail.
type Event struct {
	ID        string // "evt_…", the webhook-id
	Type      EventType
	AccountID string // "" for an event of no account (a signing key)
	CreatedAt time.Time
	// Data is a JSON object: ids, names, emails, times and hints, never a
	// secret.
	Data []byte
	// Mail is whom to mail about the event, decided by the rules (the
	// account's admins, a token's owner) when the event is made; empty
	// when mail is off.
	Mail []Recipient
}

func (*Event) entry() {}

// NewEvent is the event id (a new "evt_…") of type t at at, in
// accountID's name ("" for none), with d as its data (its AccountID set
// to the event's) and mail as whom to mail: the one place an event is put
// together, whoever makes it.
func NewEvent(id string, t EventType, at time.Time, accountID string, d EventData, mail []Recipient) *Event {
	d.AccountID = accountID
	// EventData is plain strings, times and bools: it always marshals.
	b, _ := json.Marshal(d)
	return &Event{ID: id, Type: t, AccountID: accountID, CreatedAt: at, Data: b, Mail: mail}
}

// Recipient is a person a mail goes to.
type Recipient struct {
	UserID string
	Email  string
}

// WebhookEndpoint is where the platform wants events POSTed.
type WebhookEndpoint struct {
	ID     string // "whk_…"
	URL    string
	Events []EventType // the types it takes; empty: every type
	// Secret is the whsec_ signing secret sealed with the master key (it
	// must be recoverable to sign): never the secret itself.
	SealedSecret []byte
	CreatedAt    time.Time
	DisabledAt   time.Time // zero: enabled
	// FailingSince is the first failed attempt of the current run of
	// failures (zero once an attempt succeeds): after 5 days of it the
	// endpoint is disabled.
	FailingSince time.Time
}

// Takes reports whether the endpoint wants events of type t.
func (e *WebhookEndpoint) Takes(t EventType) bool {
	// "Every type" is every type of the contract's list, which a mail of
	// ours (an invitation) is not.
	if !slices.Contains(EventTypes, t) {
		return false
	}
	return len(e.Events) == 0 || slices.Contains(e.Events, t)
}

// DeliveryState is where a delivery is in its life.
type DeliveryState string

const (
	DeliveryPending   DeliveryState = "pending"   // to be attempted at NextAttemptAt
	DeliveryDelivered DeliveryState = "delivered" // a 2xx answer, or the mail server took it
	DeliveryFailed    DeliveryState = "failed"    // every attempt of the schedule failed
)

// Delivery is one event on its way to one webhook endpoint or one person.
// Exactly one of EndpointID and Email is set.
type Delivery struct {
	ID            string // "dlv_…"
	EventID       string
	EndpointID    string
	Email         string
	UserID        string // the person mailed, with Email
	State         DeliveryState
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
	DoneAt        time.Time // when it was delivered or failed; zero while pending

	// Filled by ClaimDelivery: what the attempt needs.
	Event    *Event           // without Mail
	Endpoint *WebhookEndpoint // for a webhook delivery
	// Lease is the claim's own id: FinishDelivery with another (a claim
	// that ran out and was taken by another node) changes nothing.
	Lease string
}

// DeliveryAttempt is one try of a delivery: the answer's status (0 when
// none came) and, when it failed, why in one line.
type DeliveryAttempt struct {
	DeliveryID string
	N          int // 1, 2, …
	At         time.Time
	Status     int
	Error      string
}

// DeliveryFilter selects deliveries, newest first.
type DeliveryFilter struct {
	EndpointID string // "": of every endpoint
	EventID    string // "": of every event
	Mail       bool   // only mail deliveries (EndpointID must be "")
	Limit      int    // 0: no limit
}

// Notice is a threshold a thing reached (an account 7 days from its
// expiry), recorded so that its event is made once whatever the number of
// nodes and restarts. Due is the expiry it was reached for: after a
// renewal the same threshold of the new expiry is a new notice.
type Notice struct {
	ThingID string // "acc_…" or "tok_…"
	Kind    string // "account.expiring:7d", "api_token.expired", …
	Due     time.Time
}

// EventData is an event's data: what a webhook receives under "data" and
// what a mail is written from. It holds ids, names, emails, times and
// hints, never a secret; the parts an event has no use for are left out.
type EventData struct {
	AccountID string        `json:"account_id,omitempty"`
	Account   *EventAccount `json:"account,omitempty"`
	User      *EventUser    `json:"user,omitempty"`
	Token     *EventToken   `json:"api_token,omitempty"`
	Key       *EventKey     `json:"signing_key,omitempty"`
	// By is who made the change (Actor.ID), when someone did.
	By string `json:"by,omitempty"`
	// Threshold is an expiring event's: "30d", "7d" or "1d".
	Threshold string `json:"threshold,omitempty"`
	// Kind and URL are a leak's: "api_token" or "partner_token", and where
	// it was found.
	Kind string `json:"kind,omitempty"`
	URL  string `json:"url,omitempty"`
	// Invitation is an invitation mail's: which invitation (its link is
	// not here: the outbox opens it from the invitation's sealed token).
	Invitation *EventInvitation `json:"invitation,omitempty"`
	// PreviousValidUntil is when a rotated-out partner token stops.
	PreviousValidUntil *time.Time `json:"previous_valid_until,omitempty"`
}

// EventAccount is an account as events tell it.
type EventAccount struct {
	ID               string        `json:"id"`
	Name             string        `json:"name"`
	Status           AccountStatus `json:"status"`
	ExpiresAt        time.Time     `json:"expires_at"`
	PartnerTokenHint string        `json:"partner_token_hint"`
}

// EventUser is a user as events tell it.
type EventUser struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Role   Role   `json:"role"`
	Active bool   `json:"active"`
}

// EventToken is an API token as events tell it.
type EventToken struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Hint      string     `json:"hint"`
	UserID    string     `json:"user_id"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// EventInvitation is an invitation as its mail tells it.
type EventInvitation struct {
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
	// InvitedBy is the email of who added the user, or "" for the
	// platform's operator.
	InvitedBy string `json:"invited_by,omitempty"`
}

// EventKey is a signing key as events tell it (its public part is in the
// JWKS).
type EventKey struct {
	ID        string `json:"kid"`
	Algorithm string `json:"alg"`
}

// EventAccountOf is a's part of an event.
func EventAccountOf(a *Account) *EventAccount {
	return &EventAccount{ID: a.ID, Name: a.Name, Status: a.Status, ExpiresAt: a.ExpiresAt, PartnerTokenHint: a.PartnerTokenHint}
}

// EventUserOf is u's part of an event.
func EventUserOf(u *User) *EventUser {
	return &EventUser{ID: u.ID, Email: u.Email, Role: u.Role, Active: u.Active}
}

// EventTokenOf is t's part of an event.
func EventTokenOf(t *APIToken) *EventToken {
	et := &EventToken{ID: t.ID, Name: t.Name, Hint: t.Hint, UserID: t.UserID, Scopes: t.Scopes, ExpiresAt: t.ExpiresAt}
	if et.Scopes == nil {
		et.Scopes = []string{}
	}
	if !t.RevokedAt.IsZero() {
		r := t.RevokedAt
		et.RevokedAt = &r
	}
	return et
}
