package signer

import (
	"crypto/elliptic"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
)

// TestKeyring_Sign_lowS: every ES256 signature has its s in the lower half
// of the group order, the one form verifiers that refuse malleated
// signatures accept, so that each JWT has exactly one string. Each is still
// a valid signature to an independent implementation.
func TestKeyring_Sign_lowS(t *testing.T) {
	db := newTestDB(t)
	k := db.keyring(t, ES256)
	mustEnsureKey(t, k)
	kid := k.Keys()[0].ID
	_, key, _ := k.VerificationKey(kid)
	n := elliptic.P256().Params().N
	const signatures = 200 // a high s turns up in half of them unless normalised
	for i := range signatures {
		token := mustSign(t, k, testClaims(db.clock.Now()))
		sig, err := base64.RawURLEncoding.DecodeString(token[strings.LastIndexByte(token, '.')+1:])
		if err != nil || len(sig) != 64 {
			t.Fatalf("signature %d is not 64 bytes of base64url: %v", i, err)
		}
		s := new(big.Int).SetBytes(sig[32:])
		if s.Sign() == 0 || new(big.Int).Lsh(s, 1).Cmp(n) > 0 {
			t.Fatalf("signature %d of %d has s = %x, outside 1..n/2", i+1, signatures, s)
		}
		verifyWithJose(t, token, ES256, kid, key)
	}
}
