package autho

import "time"

// APIToken belongs to one user; the partner's software trades it, with the
// partner token, for a JWT. Only its SHA-256 hash and a hint are stored.
type APIToken struct {
	ID         string // "tok_…"
	UserID     string
	AccountID  string // the user's account, kept on the token for the login join
	Name       string
	Hash       []byte // SHA-256 of the secret
	Hint       string
	Scopes     []string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time // zero: never used
	LastUsedIP string
	RevokedAt  time.Time // zero: not revoked
}

// TokenState is what an API token is at a moment: the word lists show, and
// what the login decides on.
type TokenState string

// API token states. A revoked token is revoked whatever its expiry: a
// revocation is a decision, an expiry only a date.
const (
	TokenActive  TokenState = "active"
	TokenExpired TokenState = "expired"
	TokenRevoked TokenState = "revoked"
)

// Revoked reports whether the token has been revoked.
func (t *APIToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// Expired reports whether the token's expiry time has passed at now.
func (t *APIToken) Expired(now time.Time) bool { return expired(t.ExpiresAt, now) }

// State is the token's state at now.
func (t *APIToken) State(now time.Time) TokenState { return tokenState(t.ExpiresAt, t.RevokedAt, now) }

// tokenState is APIToken.State's rule, shared with LoginToken.
func tokenState(expiresAt, revokedAt, now time.Time) TokenState {
	switch {
	case !revokedAt.IsZero():
		return TokenRevoked
	case expired(expiresAt, now):
		return TokenExpired
	}
	return TokenActive
}

// APICredential is an API token found by the hash of its secret, with
// whether its user is active, read in one lookup. (A login reads a
// LoginRecord instead: both secrets in one snapshot.)
type APICredential struct {
	Token      APIToken
	UserActive bool
}

// TokenFilter narrows a store's token listing by ids; empty fields do not
// filter.
type TokenFilter struct {
	AccountID string
	UserID    string
	// Expiring, when set, keeps only tokens not revoked whose expiry is
	// after its From and at or before its To: the expiry sweep's question.
	Expiring *TimeRange
}

// TimeRange is the times after From and at or before To.
type TimeRange struct{ From, To time.Time }

// TokenUse is one successful login to record against an API token.
type TokenUse struct {
	TokenID string
	At      time.Time
	IP      string
}

// NewestUses keeps the newest use of each token in uses, by token id. A
// store writes one row per token, so a batch must not name one twice.
func NewestUses(uses []TokenUse) map[string]TokenUse {
	newest := make(map[string]TokenUse, len(uses))
	for _, u := range uses {
		if old, ok := newest[u.TokenID]; !ok || u.At.After(old.At) {
			newest[u.TokenID] = u
		}
	}
	return newest
}
