package autho

import "time"

// Invitation is a one-time link mailed to a new user, who sets their own
// password with it. The link's secret is shown to nobody but the mail:
// the store keeps its SHA-256, and SealedToken (the token sealed with the
// master key, the invitation's id as additional data) only until the mail
// has gone out, so that the outbox can write the link.
//
// An *Invitation is an Entry: CreateUser writes it in the user's own
// transaction, so a user invited never lacks their invitation.
type Invitation struct {
	ID          string // "inv_…"
	UserID      string
	AccountID   string
	Hash        []byte // SHA-256 of the token in the link
	SealedToken []byte // nil once the mail is sent (or the link is dead)
	// InvitedBy is the actor who added the user (Actor.ID), and
	// InvitedByEmail that person's email ("" for the operator): the mail
	// says who invited.
	InvitedBy      string
	InvitedByEmail string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	UsedAt         time.Time // zero: not used
	// ExpiredNoticedAt is when its expiry was audited (zero: not yet), so
	// that the audit is written once whatever the number of nodes.
	ExpiredNoticedAt time.Time
}

func (*Invitation) entry() {}

// InvitationTTL is how long an invitation's link works.
const InvitationTTL = 72 * time.Hour

// Live reports whether the link still works at now: unused and not
// expired.
func (i *Invitation) Live(now time.Time) bool {
	return i.UsedAt.IsZero() && now.Before(i.ExpiresAt)
}
