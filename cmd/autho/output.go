package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/autho/autho"
)

// The JSON shapes of --json output. Field names are the contract's
// snake_case; times are RFC 3339 in UTC; a time that has not happened
// (never used, not revoked) is null; a secret appears only in the output of
// the command that created it, under the contract's name for it and under
// "secret" too, so a script can take any command's new secret from one key.

type accountJSON struct {
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

type userJSON struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Password  string    `json:"password,omitempty"`
	Secret    string    `json:"secret,omitempty"`
}

type tokenJSON struct {
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

func (o *op) accountJSON(a *autho.Account, partnerToken string) accountJSON {
	return accountJSON{
		ID:               a.ID,
		Name:             a.Name,
		Status:           string(a.Status),
		Expired:          a.Expired(o.now),
		ExpiresAt:        a.ExpiresAt.UTC(),
		CreatedAt:        a.CreatedAt.UTC(),
		UpdatedAt:        a.UpdatedAt.UTC(),
		PartnerTokenHint: a.PartnerTokenHint,
		AllowedScopes:    orEmpty(a.AllowedScopes),
		PartnerToken:     partnerToken,
		Secret:           partnerToken,
	}
}

func userView(u *autho.User, generatedPassword string) userJSON {
	return userJSON{
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

func (o *op) tokenJSON(t *autho.APIToken, plaintext string) tokenJSON {
	return tokenJSON{
		ID:         t.ID,
		Name:       t.Name,
		Status:     string(t.State(o.now)),
		Hint:       t.Hint,
		AccountID:  t.AccountID,
		UserID:     t.UserID,
		Scopes:     orEmpty(t.Scopes),
		CreatedAt:  t.CreatedAt.UTC(),
		ExpiresAt:  t.ExpiresAt.UTC(),
		LastUsedAt: optionalTime(t.LastUsedAt),
		LastUsedIP: t.LastUsedIP,
		RevokedAt:  optionalTime(t.RevokedAt),
		Token:      plaintext,
		Secret:     plaintext,
	}
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// printJSON writes v as the one JSON object of the command's stdout.
func (o *op) printJSON(v any) error { return writeJSON(o.stdout, v) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printf writes human output.
func (o *op) printf(format string, args ...any) {
	fmt.Fprintf(o.stdout, format, args...)
}

// when shows a time to a person, in AUTHO_TIMEZONE.
func (o *op) when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(o.loc).Format("2006-01-02 15:04:05 MST")
}

func (o *op) printAccount(a *autho.Account) {
	state := string(a.Status)
	if a.Expired(o.now) {
		state += ", expired"
	}
	o.printf("%s  %q  %s  expires %s  partner token %s%s\n", a.ID, a.Name, state, o.when(a.ExpiresAt), a.PartnerTokenHint,
		scopeList("allowed scopes", a.AllowedScopes))
}

// scopeList is the end of a line listing scopes under a label, "" for none.
func scopeList(label string, scopes []string) string {
	if len(scopes) == 0 {
		return ""
	}
	return "  " + label + " " + strings.Join(scopes, " ")
}

func (o *op) printUser(u *autho.User) {
	state := "active"
	if !u.Active {
		state = "deactivated"
	}
	o.printf("%s  %s  %s  %s  account %s\n", u.ID, u.Email, u.Role, state, u.AccountID)
}

func (o *op) printToken(t *autho.APIToken) {
	o.printf("%s  %q  %s  %s  expires %s  last used %s  user %s%s\n",
		t.ID, t.Name, t.Hint, t.State(o.now), o.when(t.ExpiresAt), o.when(t.LastUsedAt), t.UserID, scopeList("scopes", t.Scopes))
}

// warn tells the operator, on stderr in one line, of a likely mistake in a
// request that was valid and done all the same.
func (o *op) warn(format string, args ...any) {
	fmt.Fprintf(o.stderr, "autho: warning: %s\n", oneLine(fmt.Sprintf(format, args...)))
}

// printSecret says plainly that a secret will not be shown again: the
// database keeps only its hash.
func (o *op) printSecret(what, value string) {
	o.printf("%s (shown once; autho keeps only its hash, so copy it now):\n%s\n", what, value)
}
