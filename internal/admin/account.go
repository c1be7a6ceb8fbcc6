package admin

import (
	"context"
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
	if err := s.Store.CreateAccount(ctx, a, pt, e); err != nil {
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

// RenewAccount sets a new expiry, which must be in the future. Renewing does
// not reactivate a suspended account: the two are separate decisions.
func (s *Service) RenewAccount(ctx context.Context, by autho.Actor, id string, expiresAt time.Time) (*autho.Account, error) {
	now := s.now()
	if err := checkFuture("expires_at", expiresAt, now); err != nil {
		return nil, err
	}
	return s.updateAccount(ctx, by, id, autho.AuditAccountRenew, func(a *autho.Account) bool {
		a.ExpiresAt = stamp(expiresAt)
		return true
	})
}

// Suspend stops the account's logins at once. Suspending a suspended
// account returns it unchanged.
func (s *Service) Suspend(ctx context.Context, by autho.Actor, id string) (*autho.Account, error) {
	return s.setStatus(ctx, by, id, autho.AccountSuspended, autho.AuditAccountSuspend)
}

// Reactivate lifts a suspension. It does not change the expiry: an expired
// account stays expired until renewed. Reactivating an active account
// returns it unchanged.
func (s *Service) Reactivate(ctx context.Context, by autho.Actor, id string) (*autho.Account, error) {
	return s.setStatus(ctx, by, id, autho.AccountActive, autho.AuditAccountReactivate)
}

func (s *Service) setStatus(ctx context.Context, by autho.Actor, id string, st autho.AccountStatus, action autho.AuditAction) (*autho.Account, error) {
	return s.updateAccount(ctx, by, id, action, func(a *autho.Account) bool {
		if a.Status == st {
			return false
		}
		a.Status = st
		return true
	})
}

// updateAccount applies change atomically, audited as action in the same
// transaction; change reports whether it changed anything, so that a no-op
// writes nothing and leaves no audit event.
func (s *Service) updateAccount(ctx context.Context, by autho.Actor, id string, action autho.AuditAction, change func(*autho.Account) bool) (*autho.Account, error) {
	id, err := checkID("account", "acc", id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	e, err := audit(by, now, action, id, id, "")
	if err != nil {
		return nil, err
	}
	a, err := s.Store.UpdateAccount(ctx, id, func(a *autho.Account) error {
		if !change(a) {
			return autho.ErrUnchanged
		}
		a.UpdatedAt = now
		e.TargetName = a.Name
		return nil
	}, e)
	if err != nil {
		return nil, storeErr(err, "update account", notFound("account", "account %s not found", id))
	}
	return a, nil
}

// SetAccountScopes sets the scopes the account's own people may give their
// API tokens in the portal; none (an empty list) is the default and leaves
// their tokens without scopes. Only the operator sets them: they are the
// bound on what a partner may grant itself. Repeats are dropped and the
// order given is kept; the same set again records nothing. Tokens already
// made keep their scopes.
func (s *Service) SetAccountScopes(ctx context.Context, by autho.Actor, id string, scopes []string) (*autho.Account, error) {
	if !by.IsOperator() {
		return nil, forbidden("scopes", "only the platform's operator sets the scopes an account's tokens may have")
	}
	scopes, err := cleanScopes(scopes)
	if err != nil {
		return nil, err
	}
	return s.updateAccount(ctx, by, id, autho.AuditAccountScopes, func(a *autho.Account) bool {
		if slices.Equal(a.AllowedScopes, scopes) {
			return false
		}
		a.AllowedScopes = scopes
		return true
	})
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
	if err := s.Store.RotatePartnerToken(ctx, next, until, e); err != nil {
		return nil, "", time.Time{}, storeErr(err, "rotate partner token", notFound("account", "account %s not found", a.ID))
	}
	a.PartnerTokenHint = next.Hint
	return a, plain, until, nil
}
