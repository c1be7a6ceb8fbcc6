package autho

import "time"

// SigningKey is a JWT signing key. The private part is sealed (encrypted with
// the master key) before it reaches a Store; the store never sees plaintext.
type SigningKey struct {
	ID          string // "key_…"; also the JWT "kid"
	Algorithm   string // "ES256", "EdDSA", "RS256" or "HS256"
	Sealed      []byte // encrypted private key (or HMAC secret)
	Public      []byte // public key, PKIX DER; nil for HS256
	CreatedAt   time.Time
	RetiredAt   time.Time // zero while it may sign; set when a newer key replaces it
	VerifyUntil time.Time // zero while it signs; after it, the key is no longer published
}
