package autho

import "time"

// AccountStatus is whether a partner account may use its tokens.
type AccountStatus string

// Account statuses. An expired account keeps its status; expiry is a time.
const (
	AccountActive    AccountStatus = "active"
	AccountSuspended AccountStatus = "suspended"
)

// Valid reports whether s is one of the defined statuses.
func (s AccountStatus) Valid() bool { return s == AccountActive || s == AccountSuspended }

// Account is one partner company.
type Account struct {
	ID        string // "acc_…"
	Name      string
	Status    AccountStatus
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	// SuspendedAt is when the account was last suspended; zero: never.
	// A reactivation keeps it, because the JWTs issued before it must
	// stay refused (the revocation feed's rule); SetStatus sets it.
	SuspendedAt time.Time

	// AllowedScopes are the scopes the account's own people may give their
	// API tokens in the portal, set by the operator; none by default. The
	// operator's own tokens are not held to them.
	AllowedScopes []string

	// MFARequired says the account's admins require a second factor of
	// all its people: one without it reaches only enrollment.
	MFARequired bool

	// PartnerTokenHint is the display hint of the account's current partner
	// token (the newest one). Stores fill it on reads; it is never written
	// through an Account.
	PartnerTokenHint string
}

// SetStatus gives the account status st, as of now, and reports whether
// that changed anything. It is the one place a suspension is stamped:
// every writer of Status goes through it. Any status but active stops the
// account (State's rule), so any move away from active stamps SuspendedAt.
func (a *Account) SetStatus(st AccountStatus, now time.Time) bool {
	if a.Status == st {
		return false
	}
	was := a.Status
	a.Status = st
	if was == AccountActive {
		a.SuspendedAt = now
	}
	return true
}

// Expired reports whether the account's expiry time has passed at now.
func (a *Account) Expired(now time.Time) bool { return expired(a.ExpiresAt, now) }

// Usable reports whether the account is active and unexpired at now: only
// then do its secrets log in, and only then may its own people create
// tokens or change its users. An unusable account's people can still sign
// in to the portal, look, and revoke.
func (a *Account) Usable(now time.Time) bool { return usable(a.Status, a.ExpiresAt, now) }

// AccountState is what an account is, for people: active, suspended or
// expired.
type AccountState string

// The account states. A suspended account that has also expired is
// "suspended": the suspension is what someone must lift first. (The login
// answers the other way round, 03 before 07: login.Refusal is the
// contract's order.)
const (
	AccountStateActive    AccountState = "active"
	AccountStateSuspended AccountState = "suspended"
	AccountStateExpired   AccountState = "expired"
)

// State is the account's state at now.
func (a *Account) State(now time.Time) AccountState {
	switch {
	case a.Status != AccountActive:
		return AccountStateSuspended
	case a.Expired(now):
		return AccountStateExpired
	}
	return AccountStateActive
}

// usable is Account.Usable's rule, shared with LoginAccount.
func usable(s AccountStatus, expiresAt, now time.Time) bool {
	return s == AccountActive && !expired(expiresAt, now)
}

// expired is every expiry's rule: a thing has expired from its expiry time
// on, not only after it.
func expired(expiresAt, now time.Time) bool { return !now.Before(expiresAt) }

// PartnerToken is the one persistent secret of an account. Only its SHA-256
// hash and a display hint are stored. After a rotation the previous token
// keeps working until its ExpiresAt (the grace period); the current token has
// a zero ExpiresAt.
type PartnerToken struct {
	ID        string // "ptk_…", internal only
	AccountID string
	Hash      []byte // SHA-256 of the secret
	Hint      string
	CreatedAt time.Time
	ExpiresAt time.Time // zero: no end
}

// PartnerCredential is a partner token found by the hash of its secret,
// with its account, read in one lookup. (A login reads a LoginRecord
// instead: both secrets in one snapshot.)
type PartnerCredential struct {
	TokenID        string
	TokenExpiresAt time.Time // zero: no end
	Account        Account
}
