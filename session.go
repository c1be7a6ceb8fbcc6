package autho

import "time"

// Session is a portal sign-in, kept server-side so that every node sees it
// and so that ending one (logout, a password change, deactivation) takes
// effect at once. The browser holds a 256-bit random id; the store holds only
// its SHA-256, so a copy of the database cannot be replayed as a cookie.
type Session struct {
	Hash      []byte // SHA-256 of the session id; the primary key
	UserID    string
	CreatedAt time.Time // for the absolute timeout
	SeenAt    time.Time // last request, for the idle timeout
	IP        string    // client address at sign-in
	// PasswordEpoch is the user's PasswordEpoch when the password that
	// opened the session was checked: a later change ends the session
	// whenever the two interleave.
	PasswordEpoch int64
	// FactorAt is when a second factor was last used in this session (the
	// code that finished its sign-in, or a step-up since); zero: never.
	FactorAt time.Time
}

// LoginFailures summarises the refused portal sign-ins recorded under one
// throttling key (an email, a client IP, or the two together) since some
// time.
type LoginFailures struct {
	Count int
	Last  time.Time // zero when Count is 0
}
