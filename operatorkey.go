package autho

import "time"

// OperatorKey lets one of the platform's back-office systems (a CRM,
// billing, a support tool) call the admin API. Like every secret, only its
// SHA-256 hash and a hint are stored. Its name is who made a change in the
// audit log ("operator:<name>"), so names are unique.
type OperatorKey struct {
	ID         string // "opk_…"
	Name       string
	Hash       []byte // SHA-256 of the secret
	Hint       string
	ReadOnly   bool // may only GET
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	LastUsedIP string
	RevokedAt  time.Time // zero: not revoked
}

// Revoked reports whether the key has been revoked.
func (k *OperatorKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Actor is the operator acting with this key.
func (k *OperatorKey) Actor(ip string) Actor { return Actor{Operator: k.Name, IP: ip} }
