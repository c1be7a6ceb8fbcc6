package autho

import "time"

// Second factors of portal sign-in. A user's factors are what the portal
// asks for after a right password; today a TOTP authenticator app, with
// passkeys to join the same notion. Recovery codes are not a factor of
// their own: they stand in for a lost one, and exist while a factor does.

// TOTPFactor is a user's authenticator app (RFC 6238: SHA-1, 6 digits, 30 s
// steps). A user has at most one.
type TOTPFactor struct {
	ID     string // "mfa_…"; the sealed secret is bound to it
	UserID string
	// SealedSecret is the base32 secret sealed with the master key: it must
	// be read back to check codes, so it cannot be a hash.
	SealedSecret []byte
	CreatedAt    time.Time
	// ConfirmedAt is when a first code from it was entered; zero while
	// enrollment is unfinished, when the factor does not count.
	ConfirmedAt time.Time
	// LastStep is the last time step (Unix time / 30 s) whose code was
	// accepted; only codes of later steps are, so each code works once.
	LastStep int64
}

// Confirmed reports whether the factor counts.
func (f *TOTPFactor) Confirmed() bool { return !f.ConfirmedAt.IsZero() }

// RecoveryCode is one of a user's one-time recovery codes, which sign in in
// place of a lost factor. Only its hash is kept.
type RecoveryCode struct {
	UserID    string
	Hash      []byte // SHA-256 of the code as the user types it, normalised
	CreatedAt time.Time
	UsedAt    time.Time // zero: still usable
}

// PendingSignIn is the state between a right password and the second
// factor: it grants nothing but the right to enter a code, for a few
// minutes, once. The browser holds a random id; the store its SHA-256.
type PendingSignIn struct {
	Hash      []byte
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	IP        string
	// PasswordEpoch is the user's when the password was checked, for the
	// session the sign-in becomes.
	PasswordEpoch int64
}
