package autho

import (
	"strings"
	"time"
)

// Role is what a user may do within its account.
type Role string

// Roles. An admin manages the account's users and sees all its tokens.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleMember }

// User is a person at a partner, who logs into the portal.
type User struct {
	ID           string // "usr_…"
	AccountID    string
	Email        string // as given; unique by EmailKey
	PasswordHash string // PHC string (argon2id); empty: cannot log in with a password
	// PasswordEpoch moves on at every password change or reset; a portal
	// session is valid only while it carries the epoch its user has.
	PasswordEpoch int64
	Role          Role
	Active        bool
	// DeactivatedAt is when the user was last deactivated; zero: never.
	// A reactivation keeps it, because the JWTs issued before it must
	// stay refused (the revocation feed's rule); SetActive sets it.
	DeactivatedAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// SetActive makes the user active or not, as of now, and reports whether
// that changed anything. It is the one place a deactivation is stamped:
// every writer of Active goes through it, so that DeactivatedAt is never
// left behind a deactivation.
func (u *User) SetActive(active bool, now time.Time) bool {
	if u.Active == active {
		return false
	}
	u.Active = active
	if !active {
		u.DeactivatedAt = now
	}
	return true
}

// EmailKey is the form of an email address that uniqueness and look-ups use:
// emails are unique regardless of letter case.
func EmailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
