package bearer

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
)

// KeySource finds the key a token's "kid" names. It answers with the one
// algorithm that key is for; the verifier refuses a token whose header claims
// any other, so a public key can never be replayed as an HMAC secret.
//
// key must be a *ecdsa.PublicKey on P-256 for "ES256", an ed25519.PublicKey
// for "EdDSA", a *rsa.PublicKey of at least 2048 bits for "RS256", or a []byte
// of at least 32 bytes for "HS256". Implementations must be safe for
// concurrent use; Key is called once per verification, so it should be fast
// (cache, don't fetch, on the common path).
type KeySource interface {
	Key(ctx context.Context, kid string) (alg string, key any, err error)
}

// Algorithm names as they appear in a JWS header.
const (
	ES256 = "ES256"
	EdDSA = "EdDSA"
	RS256 = "RS256"
	HS256 = "HS256"
)

// defaultAlgorithms leaves HS256 out: a shared secret is a deliberate choice,
// and leaving it out by default closes the door on any key source that might
// hand back bytes an attacker also knows.
var defaultAlgorithms = []string{ES256, EdDSA, RS256}

func supported(alg string) bool {
	switch alg {
	case ES256, EdDSA, RS256, HS256:
		return true
	}
	return false
}

// minSecretBytes follows RFC 7518 §3.2: an HS256 key must be at least as long
// as the hash output.
const minSecretBytes = 32

// StaticSecret is a KeySource for autho deployments that sign with HS256: every
// kid gets the same shared secret, pinned to HS256. The secret is copied. New
// refuses it unless Config.Algorithms lists HS256 and the secret is at least
// 32 bytes long. autho's secret changes at every key rotation, so a service
// that must not restart then reads "autho keys export-hs256" with
// NewSecretFile instead.
func StaticSecret(secret []byte) KeySource {
	return staticSecret{secret: append([]byte(nil), secret...)}
}

type staticSecret struct{ secret []byte }

func (s staticSecret) Key(context.Context, string) (string, any, error) {
	return HS256, s.secret, nil
}

var errKeyUnfit = errors.New("key source returned a key unfit for its algorithm")

// checkKey guards against a KeySource (perhaps one written by the caller) that
// pairs an algorithm with the wrong kind of key: golang-jwt would refuse most
// such pairs too, but the pinning must not rest on that.
func checkKey(alg string, key any) error {
	ok := false
	switch alg {
	case ES256:
		k, is := key.(*ecdsa.PublicKey)
		ok = is && k != nil && k.Curve == elliptic.P256()
	case EdDSA:
		k, is := key.(ed25519.PublicKey)
		ok = is && len(k) == ed25519.PublicKeySize
	case RS256:
		k, is := key.(*rsa.PublicKey)
		ok = is && k != nil && k.N != nil && k.N.BitLen() >= 2048
	case HS256:
		k, is := key.([]byte)
		ok = is && len(k) >= minSecretBytes
	}
	if !ok {
		return errKeyUnfit
	}
	return nil
}
