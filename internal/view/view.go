// Package view is how autho shows its resources to the operator as JSON:
// the CLI's --json output, and the admin API's answers, in one shape each.
// Field names are the contract's snake_case; times are RFC 3339 in UTC; a
// time that has not happened (never used, not revoked) is null; a list is
// never null; a secret appears only in the answer that created it, under
// the contract's name for it and under "secret" too, so a script can take
// any new secret from one key.
package view

import (
	"fmt"
	"strings"
	"time"

	"github.com/autho/autho"
)

// Account is an account; PartnerToken only when it was just made.
type Account struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Status           string    `json:"status"`
	Expired          bool      `json:"expired"`
	ExpiresAt        time.Time `json:"expires_at"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	PartnerTokenHint string    `json:"partner_token_hint"`
	AllowedScopes    []string  `json:"allowed_scopes"`
	PartnerToken     string    `json:"partner_token,omitempty"`
	Secret           string    `json:"secret,omitempty"`
}

// User is a user; Password only when one was just generated.
type User struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Password  string    `json:"password,omitempty"`
	Secret    string    `json:"secret,omitempty"`
	// Invited says an invitation was mailed in place of a password.
	Invited bool `json:"invited,omitempty"`
}

// Token is an API token; Token only when it was just made.
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Status     string     `json:"status"`
	Hint       string     `json:"hint"`
	AccountID  string     `json:"account_id"`
	UserID     string     `json:"user_id"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	LastUsedIP string     `json:"last_used_ip"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Token      string     `json:"token,omitempty"`
	Secret     string     `json:"secret,omitempty"`
}

// AccountOf is a as shown at now, with its partner token when it was just
// made ("" otherwise).
func AccountOf(a *autho.Account, now time.Time, partnerToken string) Account {
	return Account{
		ID:               a.ID,
		Name:             a.Name,
		Status:           string(a.Status),
		Expired:          a.Expired(now),
		ExpiresAt:        a.ExpiresAt.UTC(),
		CreatedAt:        a.CreatedAt.UTC(),
		UpdatedAt:        a.UpdatedAt.UTC(),
		PartnerTokenHint: a.PartnerTokenHint,
		AllowedScopes:    orEmpty(a.AllowedScopes),
		PartnerToken:     partnerToken,
		Secret:           partnerToken,
	}
}

// UserOf is u, with the password generated for it just now ("" otherwise).
func UserOf(u *autho.User, generatedPassword string) User {
	return User{
		ID:        u.ID,
		AccountID: u.AccountID,
		Email:     u.Email,
		Role:      string(u.Role),
		Active:    u.Active,
		CreatedAt: u.CreatedAt.UTC(),
		UpdatedAt: u.UpdatedAt.UTC(),
		Password:  generatedPassword,
		Secret:    generatedPassword,
	}
}

// orEmpty is a list as JSON shows it: none is [], never null.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TokenOf is t as shown at now, with its secret when it was just made.
func TokenOf(t *autho.APIToken, now time.Time, plaintext string) Token {
	return Token{
		ID:         t.ID,
		Name:       t.Name,
		Status:     string(t.State(now)),
		Hint:       t.Hint,
		AccountID:  t.AccountID,
		UserID:     t.UserID,
		Scopes:     orEmpty(t.Scopes),
		CreatedAt:  t.CreatedAt.UTC(),
		ExpiresAt:  t.ExpiresAt.UTC(),
		LastUsedAt: OptionalTime(t.LastUsedAt),
		LastUsedIP: t.LastUsedIP,
		RevokedAt:  OptionalTime(t.RevokedAt),
		Token:      plaintext,
		Secret:     plaintext,
	}
}

// OptionalTime is t for JSON, with a time that has not happened as null.
func OptionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// Rotation is an account just given a new partner token, and when the old
// one stops: null without grace, since it has already stopped.
type Rotation struct {
	Account
	PreviousValidUntil *time.Time `json:"previous_valid_until"`
}

// RotationOf is the answer of a rotation with grace, the old token ending
// at until.
func RotationOf(a *autho.Account, now time.Time, partnerToken string, until time.Time, grace time.Duration) Rotation {
	r := Rotation{Account: AccountOf(a, now, partnerToken)}
	if grace > 0 {
		r.PreviousValidUntil = OptionalTime(until)
	}
	return r
}

// AuditEvent is one entry of an audit log.
type AuditEvent struct {
	ID         string    `json:"id"`
	AccountID  string    `json:"account_id,omitempty"` // none for a signing or operator key's event
	Actor      string    `json:"actor"`                // "usr_…", "operator:<name>" or "autho"
	ActorEmail string    `json:"actor_email,omitempty"`
	Action     string    `json:"action"`
	TargetID   string    `json:"target_id,omitempty"`
	TargetName string    `json:"target_name,omitempty"`
	At         time.Time `json:"at"`
	IP         string    `json:"ip,omitempty"`
}

// AuditEventOf is e.
func AuditEventOf(e *autho.AuditEvent) AuditEvent {
	return AuditEvent{ID: e.ID, AccountID: e.AccountID, Actor: e.ActorID, ActorEmail: e.ActorEmail, Action: string(e.Action),
		TargetID: e.TargetID, TargetName: e.TargetName, At: e.At.UTC(), IP: e.IP}
}

// OperatorKey is an admin API key; Key only when it was just made.
type OperatorKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Hint       string     `json:"hint"`
	ReadOnly   bool       `json:"read_only"`
	Status     string     `json:"status"` // "active" or "revoked"
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	LastUsedIP string     `json:"last_used_ip"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Key        string     `json:"key,omitempty"`
	Secret     string     `json:"secret,omitempty"`
}

// OperatorKeyOf is k, with its secret when it was just made.
func OperatorKeyOf(k *autho.OperatorKey, plaintext string) OperatorKey {
	status := "active"
	if k.Revoked() {
		status = "revoked"
	}
	return OperatorKey{
		ID:         k.ID,
		Name:       k.Name,
		Hint:       k.Hint,
		ReadOnly:   k.ReadOnly,
		Status:     status,
		CreatedAt:  k.CreatedAt.UTC(),
		LastUsedAt: OptionalTime(k.LastUsedAt),
		LastUsedIP: k.LastUsedIP,
		RevokedAt:  OptionalTime(k.RevokedAt),
		Key:        plaintext,
		Secret:     plaintext,
	}
}

// The one-line text forms, for a person at a terminal; when shows a time
// in the operator's zone ("never" for a zero one).

// Line is the account's line.
func (a Account) Line(when func(time.Time) string) string {
	state := a.Status
	if a.Expired {
		state += ", expired"
	}
	return fmt.Sprintf("%s  %q  %s  expires %s  partner token %s%s", a.ID, a.Name, state, when(a.ExpiresAt), a.PartnerTokenHint,
		scopeList("allowed scopes", a.AllowedScopes))
}

// Line is the user's line.
func (u User) Line() string {
	state := "active"
	if !u.Active {
		state = "deactivated"
	}
	return fmt.Sprintf("%s  %s  %s  %s  account %s", u.ID, u.Email, u.Role, state, u.AccountID)
}

// Line is the token's line.
func (t Token) Line(when func(time.Time) string) string {
	return fmt.Sprintf("%s  %q  %s  %s  expires %s  last used %s  user %s%s",
		t.ID, t.Name, t.Hint, t.Status, when(t.ExpiresAt), when(orZero(t.LastUsedAt)), t.UserID, scopeList("scopes", t.Scopes))
}

// Line is the key's line.
func (k OperatorKey) Line(when func(time.Time) string) string {
	access := "read-write"
	if k.ReadOnly {
		access = "read-only"
	}
	return fmt.Sprintf("%s  %q  %s  %s  %s  created %s  last used %s", k.ID, k.Name, k.Hint, access, k.Status, when(k.CreatedAt), when(orZero(k.LastUsedAt)))
}

// scopeList is the end of a line listing scopes under a label, "" for none.
func scopeList(label string, scopes []string) string {
	if len(scopes) == 0 {
		return ""
	}
	return "  " + label + " " + strings.Join(scopes, " ")
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
