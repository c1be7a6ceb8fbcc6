package bearer

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
)

// jwk holds the members of a JSON Web Key (RFC 7517, 7518, 8037) this package
// reads. Private members are listed only to notice them.
type jwk struct {
	Kid    string   `json:"kid"`
	Kty    string   `json:"kty"`
	Alg    string   `json:"alg"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Crv    string   `json:"crv"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	D      string   `json:"d"`
	K      string   `json:"k"`
}

// verifyKey is a key ready for the verifier: the one algorithm it is for, and
// the crypto/* value golang-jwt expects for that algorithm.
type verifyKey struct {
	alg string
	key any
}

var b64 = base64.RawURLEncoding.Strict()

// parseJWK turns one published key into a verifyKey, or says why it is
// skipped. The rules are deliberately narrow: a key must be usable for
// exactly one algorithm, decided by the publisher ("alg") or, when absent,
// by a kty/crv that allows only one. A symmetric ("oct") key is never taken
// from a JWKS, and a key that publishes private parts is treated as
// compromised.
func parseJWK(raw json.RawMessage) (string, verifyKey, error) {
	var k jwk
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", verifyKey{}, err
	}
	if k.Kid == "" {
		return "", verifyKey{}, errors.New("no kid")
	}
	if k.Use != "" && k.Use != "sig" {
		return k.Kid, verifyKey{}, errors.New(`use is not "sig"`)
	}
	if k.KeyOps != nil && !slices.Contains(k.KeyOps, "verify") {
		return k.Kid, verifyKey{}, errors.New(`key_ops lacks "verify"`)
	}
	if k.D != "" || k.K != "" {
		return k.Kid, verifyKey{}, errors.New("private or symmetric key material published")
	}
	var (
		vk  verifyKey
		err error
	)
	switch k.Kty {
	case "EC":
		vk, err = ecKey(k)
	case "OKP":
		vk, err = okpKey(k)
	case "RSA":
		vk, err = rsaKey(k)
	default:
		err = errors.New("unsupported kty")
	}
	return k.Kid, vk, err
}

func ecKey(k jwk) (verifyKey, error) {
	if k.Crv != "P-256" || (k.Alg != "" && k.Alg != ES256) {
		return verifyKey{}, errors.New("EC key is not P-256/ES256")
	}
	x, errX := b64.DecodeString(k.X)
	y, errY := b64.DecodeString(k.Y)
	// RFC 7518 §6.2.1.2: coordinates are the full 32 bytes, never shortened.
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return verifyKey{}, errors.New("bad EC coordinates")
	}
	point := append(append([]byte{4}, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point) // refuses points off the curve
	if err != nil {
		return verifyKey{}, err
	}
	return verifyKey{ES256, pub}, nil
}

func okpKey(k jwk) (verifyKey, error) {
	if k.Crv != "Ed25519" || (k.Alg != "" && k.Alg != EdDSA) {
		return verifyKey{}, errors.New("OKP key is not Ed25519/EdDSA")
	}
	x, err := b64.DecodeString(k.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return verifyKey{}, errors.New("bad Ed25519 key")
	}
	return verifyKey{EdDSA, ed25519.PublicKey(x)}, nil
}

// rsaKey needs an explicit alg: RSA keys serve RS256, PS256 and more, and
// guessing is how confusion starts.
func rsaKey(k jwk) (verifyKey, error) {
	if k.Alg != RS256 {
		return verifyKey{}, errors.New(`RSA key without alg "RS256"`)
	}
	n, errN := b64.DecodeString(k.N)
	e, errE := b64.DecodeString(k.E)
	if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 {
		return verifyKey{}, errors.New("bad RSA key")
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n)}
	for _, b := range e {
		pub.E = pub.E<<8 | int(b)
	}
	// Under 2048 bits is forgeable in practice; over 8192 only costs CPU.
	if bits := pub.N.BitLen(); bits < 2048 || bits > 8192 || pub.E < 3 || pub.E%2 == 0 {
		return verifyKey{}, errors.New("weak or unusual RSA key")
	}
	return verifyKey{RS256, pub}, nil
}
