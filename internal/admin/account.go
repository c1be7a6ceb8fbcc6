package admin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// CreateAccount adds a partner account, active until expiresAt, with a new
// partner token. It returns the account and the token's plaintext, which
// exists nowhere else: the store keeps only its hash.
func (s *Service) CreateAccount(ctx context.Context, by autho.Actor, name string, expiresAt time.Time) (*autho.Account, string, error) {
	now := s.now()
	name, err := cleanName("name", name)
	if err != nil {
		return nil, "", err
	}
	if err := checkFuture("expires_at", expiresAt, now); err != nil {
		return nil, "", err
	}
	plain := secret.New(secret.PartnerToken)
	a := &autho.Account{
		ID:               secret.NewID("acc"),
		Name:             name,
		Status:           autho.AccountActive,
		ExpiresAt:        stamp(expiresAt),
		CreatedAt:        now,
		UpdatedAt:        now,
		PartnerTokenHint: secret.Hint(plain),
	}
	pt := &autho.PartnerToken{
		ID:        secret.NewID("ptk"),
		AccountID: a.ID,
		Hash:      secret.Hash(plain),
		Hint:      a.PartnerTokenHint,
		CreatedAt: now,
	}
	e, err := audit(by, now, autho.AuditAccountCreate, a.ID, a.ID, a.Name)
	if err != nil {
		return nil, "", err
	}
	if err := s.Store.CreateAccount(ctx, a, pt, e, eventOf(e, autho.EventData{Account: autho.EventAccountOf(a)}, nil)); err != nil {
		return nil, "", storeErr(err, "create account", nil)
	}
	return a, plain, nil
}

// Account returns one account.
func (s *Service) Account(ctx context.Context, id string) (*autho.Account, error) {
	id, err := checkID("account", "acc", id)
	if err != nil {
		return nil, err
	}
	a, err := s.Store.Account(ctx, id)
	if err != nil {
		return nil, storeErr(err, "read account", notFound("account", "account %s not found", id))
	}
	return a, nil
}

// refuseClosed refuses a change by the account's own people while the
// account is not usable; what names the change. The operator's actions
// never ask.
func refuseClosed(a *autho.Account, now time.Time, what string) error {
	switch a.State(now) {
	case autho.AccountStateSuspended:
		return forbidden("account", "account %s is %s: %s until it is reactivated", a.ID, a.Status, what)
	case autho.AccountStateExpired:
		return forbidden("account", "account %s has expired: %s until it is renewed", a.ID, what)
	}
	return nil
}

// CheckUserManagement refuses (ErrForbidden) an account's own admin
// changing its users, by adding one, deactivating, reactivating or
// resetting a password, while the account is suspended or expired, as
// CreateToken refuses its people new tokens then. The operator is not
// bound by it: the CLI never asks.
func (s *Service) CheckUserManagement(a *autho.Account) error {
	return refuseClosed(a, s.now(), "no changes to its users")
}

// Accounts returns every account, in the store's order.
func (s *Service) Accounts(ctx context.Context) ([]*autho.Account, error) {
	as, err := s.Store.Accounts(ctx)
	if err != nil {
		return nil, storeErr(err, "list accounts", nil)
	}
	return as, nil
}

// AccountQuery selects accounts; the zero query is every account.
type AccountQuery struct {
	Status         autho.AccountStatus // "": any
	ExpiringBefore time.Time           // zero: any expiry; else those whose expiry comes before it, ended ones too
}

// AccountsWhere returns the accounts q selects, in the store's order.
func (s *Service) AccountsWhere(ctx context.Context, q AccountQuery) ([]*autho.Account, error) {
	as, err := s.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	kept := as[:0]
	for _, a := range as {
		if (q.Status == "" || a.Status == q.Status) && (q.ExpiringBefore.IsZero() || a.ExpiresAt.Before(q.ExpiringBefore)) {
			kept = append(kept, a)
		}
	}
	return kept, nil
}

// AccountsNamed returns the accounts whose name is name, ignoring case and
// surrounding space: two partners of one name are allowed (companies do
// share names), but are more often one partner created twice, which the
// operator should hear of.
func (s *Service) AccountsNamed(ctx context.Context, name string) ([]*autho.Account, error) {
	as, err := s.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	var same []*autho.Account
	for _, a := range as {
		if strings.EqualFold(a.Name, name) {
			same = append(same, a)
		}
	}
	return same, nil
}

// AccountChange is a change of one account; nil fields stay as they are.
// Its parts are made together, in one transaction, or not at all.
type AccountChange struct {
	Name          *string
	ExpiresAt     *time.Time // in the future: a renewal
	Status        *autho.AccountStatus
	AllowedScopes *[]string // the operator's alone
	// MFARequired: whether every person of the account must have a
	// second factor (see MustEnroll). An account admin's to set.
	MFARequired *bool
}

// ChangeAccount makes every part of c, audited part by part (a rename, a
// renewal, a suspension or reactivation, the allowed scopes) in the same
// transaction. Every part is checked before anything is written, so a
// refused change changes nothing; a part that changes nothing (the status
// the account has) records nothing, and a change that changes nothing at
// all returns the account as it is.
//
// Renewing does not reactivate a suspended account, nor reactivating renew
// an expired one: they are separate decisions. The allowed scopes bound
// what a partner's people may grant themselves, so only the operator sets
// them; tokens already made keep theirs.
func (s *Service) ChangeAccount(ctx context.Context, by autho.Actor, id string, c AccountChange) (*autho.Account, error) {
	id, err := checkID("account", "acc", id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var name string
	if c.Name != nil {
		if name, err = cleanName("name", *c.Name); err != nil {
			return nil, err
		}
	}
	if c.ExpiresAt != nil {
		if err := checkFuture("expires_at", *c.ExpiresAt, now); err != nil {
			return nil, err
		}
	}
	if c.Status != nil && *c.Status != autho.AccountActive && *c.Status != autho.AccountSuspended {
		return nil, invalid("status", "status must be %q or %q", autho.AccountActive, autho.AccountSuspended)
	}
	var scopes []string
	if c.AllowedScopes != nil {
		if !by.IsOperator() {
			return nil, forbidden("allowed_scopes", "only the platform's operator sets the scopes an account's tokens may have")
		}
		if scopes, err = cleanScopes(*c.AllowedScopes); err != nil {
			return nil, err
		}
	}
	// One event per part, each dropped (nil) by the update when its part
	// turns out to change nothing.
	type part struct {
		asked  bool
		action autho.AuditAction
		apply  func(*autho.Account) bool // reports whether it changed a
	}
	statusAction := autho.AuditAccountReactivate
	if c.Status != nil && *c.Status == autho.AccountSuspended {
		statusAction = autho.AuditAccountSuspend
	}
	parts := []part{
		{c.Name != nil, autho.AuditAccountRename, func(a *autho.Account) bool {
			changed := a.Name != name
			a.Name = name
			return changed
		}},
		{c.ExpiresAt != nil, autho.AuditAccountRenew, func(a *autho.Account) bool {
			a.ExpiresAt = stamp(*c.ExpiresAt)
			return true // a renewal is recorded even to the same time: the operator decided it again
		}},
		{c.Status != nil, statusAction, func(a *autho.Account) bool { return a.SetStatus(*c.Status, now) }},
		{c.AllowedScopes != nil, autho.AuditAccountScopes, func(a *autho.Account) bool {
			changed := !slices.Equal(a.AllowedScopes, scopes)
			a.AllowedScopes = scopes
			return changed
		}},
		{c.MFARequired != nil, autho.AuditAccountMFARequired, func(a *autho.Account) bool {
			changed := a.MFARequired != *c.MFARequired
			a.MFARequired = *c.MFARequired
			return changed
		}},
	}
	var asked []part
	for _, p := range parts {
		if p.asked {
			asked = append(asked, p)
		}
	}
	// Each part leaves its audit event and, when it is a lifecycle one,
	// its event: two entries, both dropped when the part changes nothing.
	entries := make([]autho.Entry, 2*len(asked))
	events := make([]*autho.AuditEvent, len(asked))
	for i, p := range asked {
		if events[i], err = audit(by, now, p.action, id, id, ""); err != nil {
			return nil, err
		}
	}
	// A suspension is mailed to the account's admins, read before it.
	var mail []autho.Recipient
	if c.Status != nil && *c.Status == autho.AccountSuspended {
		if mail, err = s.adminsOf(ctx, id); err != nil && !errors.Is(err, autho.ErrNotFound) {
			return nil, err
		}
	}
	a, err := s.Store.UpdateAccount(ctx, id, func(a *autho.Account) error {
		changed := make([]bool, len(asked))
		for i, p := range asked {
			changed[i] = p.apply(a)
		}
		if !slices.Contains(changed, true) {
			return autho.ErrUnchanged
		}
		a.UpdatedAt = now
		for i, e := range events {
			entries[2*i], entries[2*i+1] = nil, nil
			if changed[i] {
				e.TargetName = a.Name
				var to []autho.Recipient
				if e.Action == autho.AuditAccountSuspend {
					to = mail
				}
				entries[2*i], entries[2*i+1] = e, eventOf(e, autho.EventData{Account: autho.EventAccountOf(a)}, to)
			}
		}
		return nil
	}, entries...)
	if err != nil {
		return nil, storeErr(err, "update account", notFound("account", "account %s not found", id))
	}
	return a, nil
}

// RenewAccount sets a new expiry, which must be in the future.
func (s *Service) RenewAccount(ctx context.Context, by autho.Actor, id string, expiresAt time.Time) (*autho.Account, error) {
	return s.ChangeAccount(ctx, by, id, AccountChange{ExpiresAt: &expiresAt})
}

// Suspend stops the account's logins at once. Suspending a suspended
// account returns it unchanged.
func (s *Service) Suspend(ctx context.Context, by autho.Actor, id string) (*autho.Account, error) {
	st := autho.AccountSuspended
	return s.ChangeAccount(ctx, by, id, AccountChange{Status: &st})
}

// Reactivate lifts a suspension. Reactivating an active account returns it
// unchanged.
func (s *Service) Reactivate(ctx context.Context, by autho.Actor, id string) (*autho.Account, error) {
	st := autho.AccountActive
	return s.ChangeAccount(ctx, by, id, AccountChange{Status: &st})
}

// SetMFARequired makes the account require a second factor of all its
// people, or no longer; the same setting again records nothing.
func (s *Service) SetMFARequired(ctx context.Context, by autho.Actor, id string, required bool) (*autho.Account, error) {
	return s.ChangeAccount(ctx, by, id, AccountChange{MFARequired: &required})
}

// SetAccountScopes sets the scopes the account's own people may give their
// API tokens in the portal; none (an empty list) is the default. Repeats
// are dropped and the order given is kept; the same set again records
// nothing.
func (s *Service) SetAccountScopes(ctx context.Context, by autho.Actor, id string, scopes []string) (*autho.Account, error) {
	return s.ChangeAccount(ctx, by, id, AccountChange{AllowedScopes: &scopes})
}

// RotatePartnerToken gives the account a new partner token and returns its
// plaintext, and when the old one stops: it keeps working for grace (zero:
// it stops at once, and the time returned is now), so a partner can switch
// without downtime.
func (s *Service) RotatePartnerToken(ctx context.Context, by autho.Actor, id string, grace time.Duration) (*autho.Account, string, time.Time, error) {
	if grace < 0 {
		return nil, "", time.Time{}, invalid("grace", "grace period must not be negative")
	}
	a, err := s.Account(ctx, id)
	if err != nil {
		return nil, "", time.Time{}, err
	}
	now := s.now()
	plain := secret.New(secret.PartnerToken)
	next := &autho.PartnerToken{
		ID:        secret.NewID("ptk"),
		AccountID: a.ID,
		Hash:      secret.Hash(plain),
		Hint:      secret.Hint(plain),
		CreatedAt: now,
	}
	e, err := audit(by, now, autho.AuditPartnerTokenRotate, a.ID, a.ID, a.Name)
	if err != nil {
		return nil, "", time.Time{}, err
	}
	// Truncated as the store keeps it, so what is returned is what a later
	// read finds.
	until := stamp(now.Add(grace))
	rotated := *a
	rotated.PartnerTokenHint = next.Hint
	ev := eventOf(e, autho.EventData{Account: autho.EventAccountOf(&rotated), PreviousValidUntil: &until}, nil)
	if err := s.Store.RotatePartnerToken(ctx, next, until, e, ev); err != nil {
		return nil, "", time.Time{}, storeErr(err, "rotate partner token", notFound("account", "account %s not found", a.ID))
	}
	a.PartnerTokenHint = next.Hint
	return a, plain, until, nil
}
