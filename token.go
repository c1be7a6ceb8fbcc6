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

// Revoked reports whether the token has been revoked.
func (t *APIToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// Expired reports whether the token's expiry time has passed at now.
func (t *APIToken) Expired(now time.Time) bool { return !now.Before(t.ExpiresAt) }

// APICredential is what the login exchange needs to know about an API token:
// the token and whether its user is active, read in one lookup by hash.
type APICredential struct {
	Token      APIToken
	UserActive bool
}

// TokenFilter narrows a token listing; empty fields do not filter.
type TokenFilter struct {
	AccountID string
	UserID    string
}

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
