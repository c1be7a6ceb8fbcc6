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

	// PartnerTokenHint is the display hint of the account's current partner
	// token (the newest one). Stores fill it on reads; it is never written
	// through an Account.
	PartnerTokenHint string
}

// Expired reports whether the account's expiry time has passed at now.
func (a *Account) Expired(now time.Time) bool { return !now.Before(a.ExpiresAt) }

// Open reports whether the account is active and unexpired at now: only
// then may its own people create tokens or change its users. A closed
// account's people can still sign in, look, and revoke.
func (a *Account) Open(now time.Time) bool { return a.Status == AccountActive && !a.Expired(now) }

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

// PartnerCredential is what the login exchange needs to know about a partner
// token: the token row and its account, read in one lookup by hash.
type PartnerCredential struct {
	TokenID        string
	TokenExpiresAt time.Time // zero: no end
	Account        Account
}
