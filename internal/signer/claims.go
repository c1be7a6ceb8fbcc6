package signer

import "github.com/autho/autho/internal/secret"

// NewJTI returns a fresh JWT id: 22 base62 characters (about 131 bits) from
// crypto/rand, so ids never repeat across nodes without coordination.
func NewJTI() string { return secret.Random(22) }
