package autho

import "time"

// Second factors of portal sign-in. A user's factors are what the portal
// asks for after a right password; today a TOTP authenticator app, with
// passkeys to join the same notion. Recovery codes are not a factor of
// their own: they stand in for a lost one, and exist while a factor does.
// A passkey (a WebAuthn credential) is a factor, and also signs in alone.

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

// Passkey is a WebAuthn credential of a user: a key pair whose private half
// never leaves the authenticator. It holds what the library needs to check
// an assertion against it; none of it is secret.
type Passkey struct {
	ID           string // "pk_…"
	UserID       string
	Name         string // the user's name for it ("laptop")
	CredentialID []byte // the authenticator's id of it, unique across users
	PublicKey    []byte // COSE-encoded
	// SignCount is the authenticator's counter at the last use; a counter
	// that goes back hints at a cloned key.
	SignCount         uint32
	AAGUID            []byte // the authenticator model
	Transports        []string
	Flags             byte // UP, UV, BE, BS as the library encodes them (CredentialFlags.MsgpByte)
	AttestationType   string
	AttestationFormat string
	Attachment        string // "platform", "cross-platform" or ""
	CreatedAt         time.Time
	LastUsedAt        time.Time // zero: never used to sign in
}

// CeremonyKind is what a WebAuthn ceremony is for.
type CeremonyKind string

// The ceremonies: adding a passkey, signing in with one alone, using one
// after a password, and using one again before a sensitive action.
const (
	CeremonyRegister     CeremonyKind = "register"
	CeremonySignIn       CeremonyKind = "sign-in"
	CeremonySecondFactor CeremonyKind = "second-factor"
	CeremonyStepUp       CeremonyKind = "step-up"
)

// Ceremony is a WebAuthn ceremony between its two requests (the options
// given to the browser, the browser's answer). It is kept in the store so
// that any node can finish what another began, and taken once. The
// browser holds a random id; the store its SHA-256.
type Ceremony struct {
	Hash   []byte
	Kind   CeremonyKind
	UserID string // "" for a passwordless sign-in: the passkey says who
	// Bound is the hash of what the ceremony belongs to: the session
	// (register, step-up) or the pending sign-in (second factor); nil for
	// a passwordless sign-in, which only its own cookie holds.
	Bound []byte
	Name  string // register: the new passkey's name
	// Data is the library's SessionData as JSON. It holds the challenge.
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}
