package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// jwk is a public key as RFC 7517 writes it, with the members of RFC 7518
// (EC, RSA) and RFC 8037 (OKP). Written by hand rather than with a JOSE
// library so that the tests, which read it with go-jose, check it
// independently.
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

func newJWK(kid, alg string, public any) (*jwk, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	j := &jwk{Use: "sig", Alg: alg, Kid: kid}
	switch p := public.(type) {
	case *ecdsa.PublicKey:
		// The uncompressed point is 0x04 || X || Y with each coordinate at
		// full length, which is what RFC 7518 §6.2.1.2 asks of "x" and "y".
		pt, err := p.Bytes()
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", kid, err)
		}
		size := (len(pt) - 1) / 2
		j.Kty, j.Crv = "EC", "P-256"
		j.X, j.Y = b64(pt[1:1+size]), b64(pt[1+size:])
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(p)
	case *rsa.PublicKey:
		// Minimal big-endian octets for both, as RFC 7518 §6.3.1 asks.
		j.Kty = "RSA"
		j.N, j.E = b64(p.N.Bytes()), b64(big.NewInt(int64(p.E)).Bytes())
	default:
		return nil, fmt.Errorf("signing key %s: no JWK form for %T", kid, public)
	}
	return j, nil
}

// marshalJWKS writes the JWKS document of the given keys, in order.
func marshalJWKS(keys []*jwk) []byte {
	set := struct {
		Keys []*jwk `json:"keys"`
	}{Keys: keys}
	if set.Keys == nil {
		set.Keys = []*jwk{} // "keys" is a required array, even when empty
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic(err) // plain strings only: cannot fail
	}
	return b
}

// Key makes the keyring a bearer.KeySource, so that this node's verifier
// uses its keys directly, without fetching its own JWKS over HTTP.
func (k *Keyring) Key(_ context.Context, kid string) (string, any, error) {
	alg, key, ok := k.VerificationKey(kid)
	if !ok {
		return "", nil, errUnknownKey
	}
	return alg, key, nil
}

var errUnknownKey = errors.New("unknown key id")
