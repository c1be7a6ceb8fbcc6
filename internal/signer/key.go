package signer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// The algorithms a key may have, spelled as in the JWT "alg" header and the
// AUTHO_JWT_ALG setting.
const (
	ES256 = "ES256" // ECDSA on P-256 with SHA-256; the default
	EdDSA = "EdDSA" // Ed25519
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys
	HS256 = "HS256" // HMAC-SHA-256 with a 32-byte secret; never published
)

// methods maps an algorithm to the golang-jwt method that signs with it.
var methods = map[string]jwt.SigningMethod{
	ES256: lowSES256{jwt.SigningMethodES256},
	EdDSA: jwt.SigningMethodEdDSA,
	RS256: jwt.SigningMethodRS256,
	HS256: jwt.SigningMethodHS256,
}

// lowSES256 is ES256 whose signatures have s in the lower half of the group
// order n. ECDSA accepts (r, s) and (r, n−s) alike, and crypto/ecdsa picks
// either; verifiers that want one string per JWT (the bearer package among
// them) refuse the high one, so the signer must write the low one.
type lowSES256 struct{ *jwt.SigningMethodECDSA }

func (m lowSES256) Sign(signingString string, key any) ([]byte, error) {
	sig, err := m.SigningMethodECDSA.Sign(signingString, key)
	if err != nil {
		return nil, err
	}
	n := elliptic.P256().Params().N
	s := new(big.Int).SetBytes(sig[32:])
	if new(big.Int).Lsh(s, 1).Cmp(n) > 0 {
		s.Sub(n, s).FillBytes(sig[32:])
	}
	return sig, nil
}

const (
	rsaBits     = 2048
	hmacKeySize = 32
)

// CheckAlgorithm reports whether alg names an algorithm autho signs with.
// The match is exact: JWT algorithm names are case-sensitive.
func CheckAlgorithm(alg string) error {
	switch alg {
	case ES256, EdDSA, RS256, HS256:
		return nil
	}
	return fmt.Errorf("unknown JWT algorithm %q: want ES256, EdDSA, RS256 or HS256", alg)
}

// NewKey makes a key of algorithm alg, created at now, with its private part
// sealed by s. Nothing but the sealed form of the private key leaves here.
func NewKey(alg string, s *Sealer, now time.Time) (*autho.SigningKey, error) {
	if err := CheckAlgorithm(alg); err != nil {
		return nil, err
	}
	var private, public any
	switch alg {
	case ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		private, public = k, &k.PublicKey
	case EdDSA:
		pub, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		private, public = k, pub
	case RS256:
		k, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return nil, err
		}
		private, public = k, &k.PublicKey
	}

	k := &autho.SigningKey{
		ID:        secret.NewID("key"),
		Algorithm: alg,
		CreatedAt: now,
	}
	var plaintext []byte
	if alg == HS256 {
		plaintext = make([]byte, hmacKeySize)
		rand.Read(plaintext) // never fails (crypto/rand since Go 1.24)
	} else {
		var err error
		if plaintext, err = x509.MarshalPKCS8PrivateKey(private); err != nil {
			return nil, err
		}
		if k.Public, err = x509.MarshalPKIXPublicKey(public); err != nil {
			return nil, err
		}
	}
	k.Sealed = s.Seal(k.ID, plaintext)
	clear(plaintext)
	return k, nil
}

// material is a key opened and parsed once, ready for signing and
// verification without further work.
type material struct {
	id      string
	alg     string
	method  jwt.SigningMethod
	private any    // what method.Sign takes
	public  any    // what method.Verify takes: a public key, or the HS256 secret
	jwk     *jwk   // nil for HS256, which is never published
	secret  []byte // the HS256 secret; nil otherwise
}

// openKey decrypts and parses k. It also checks that the stored public key
// is the one of the sealed private key: the public column is not sealed, and
// without this check whoever can write to the database could publish a key
// of their own under a trusted kid.
func openKey(s *Sealer, k *autho.SigningKey) (*material, error) {
	if err := CheckAlgorithm(k.Algorithm); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	plaintext, err := s.Open(k.ID, k.Sealed)
	if err != nil {
		return nil, err
	}
	m := &material{id: k.ID, alg: k.Algorithm, method: methods[k.Algorithm]}
	if k.Algorithm == HS256 {
		if len(plaintext) != hmacKeySize || len(k.Public) != 0 {
			return nil, fmt.Errorf("signing key %s: not a valid HS256 key", k.ID)
		}
		m.private, m.public, m.secret = plaintext, plaintext, plaintext
		return m, nil
	}

	private, err := x509.ParsePKCS8PrivateKey(plaintext)
	clear(plaintext)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: cannot parse the private key", k.ID)
	}
	var public any
	switch p := private.(type) {
	case *ecdsa.PrivateKey:
		if k.Algorithm == ES256 && p.Curve == elliptic.P256() {
			public = &p.PublicKey
		}
	case ed25519.PrivateKey:
		if k.Algorithm == EdDSA {
			public = p.Public()
		}
	case *rsa.PrivateKey:
		if k.Algorithm == RS256 && p.N.BitLen() >= rsaBits {
			public = &p.PublicKey
		}
	}
	if public == nil {
		return nil, fmt.Errorf("signing key %s: private key does not fit algorithm %s", k.ID, k.Algorithm)
	}
	der, err := x509.MarshalPKIXPublicKey(public)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	if !bytes.Equal(der, k.Public) {
		return nil, fmt.Errorf("signing key %s: stored public key does not match the private key", k.ID)
	}
	m.private, m.public = private, public
	if m.jwk, err = newJWK(k.ID, k.Algorithm, public); err != nil {
		return nil, err
	}
	return m, nil
}
