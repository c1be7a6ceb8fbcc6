package autho

import "time"

// RevocationKind says what a Revocation stopped: which claim of a login JWT
// its ID is matched against.
type RevocationKind string

// The things whose end refuses JWTs already issued.
const (
	RevokedToken   RevocationKind = "token"   // an API token revoked
	RevokedUser    RevocationKind = "user"    // a user deactivated
	RevokedAccount RevocationKind = "account" // an account suspended, or ended
)

// Revocation is a fact a store reports for the revocation feed: the thing
// of kind Kind and id ID stopped at At (its RevokedAt, DeactivatedAt,
// SuspendedAt or ExpiresAt). What that means for the JWTs of it is the
// feed's rule, not the store's.
type Revocation struct {
	Kind RevocationKind
	ID   string
	At   time.Time
}

// NotBefore is the first second whose JWTs a change at at does not refuse.
// A JWT's iat is in whole seconds, rounded down, so one issued in the
// second of the change may predate it and is refused with those before;
// one issued after a later reactivation has a later iat.
func NotBefore(at time.Time) int64 { return at.Unix() + 1 }

// IssuedBefore reports whether a JWT issued at iat predates a change at at,
// as the revocation feed says; a zero at is no change.
func IssuedBefore(iat, at time.Time) bool { return !at.IsZero() && iat.Unix() < NotBefore(at) }
