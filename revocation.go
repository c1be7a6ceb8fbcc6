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
