package bearer

import (
	"context"
	"slices"
	"time"
)

// Identity is who a verified bearer speaks for, read from the JWT's claims.
type Identity struct {
	UserID    string    // "sub", a "usr_…" id
	AccountID string    // "acc", an "acc_…" id
	TokenID   string    // "tok", the "tok_…" id of the API token the JWT was exchanged for
	Scopes    []string  // "scope", split on spaces; nil when the API token has none
	IssuedAt  time.Time // "iat"; zero if absent
	ExpiresAt time.Time // "exp"
	JTI       string    // "jti", unique per JWT
}

// HasScope reports whether the token was granted scope.
func (id *Identity) HasScope(scope string) bool {
	return id != nil && slices.Contains(id.Scopes, scope)
}

type contextKey struct{}

// NewContext returns ctx carrying id. Middleware uses it; it is exported so a
// service can test its handlers without minting tokens.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// FromContext returns the identity Middleware put in a request's context.
func FromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(contextKey{}).(*Identity)
	return id, ok && id != nil
}
