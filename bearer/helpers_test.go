package bearer

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testIssuer   = "https://auth.test"
	testAudience = "autho"
)

// testNow is the fixed instant every test verifies at.
var testNow = time.Unix(1_800_000_000, 0)

// testKeys are generated once per test binary: RSA generation is slow and
// the tests only need keys nobody else knows.
type testKeys struct {
	ec     *ecdsa.PrivateKey
	ed     ed25519.PrivateKey
	rsa    *rsa.PrivateKey
	secret []byte
}

var (
	keysOnce sync.Once
	keysVal  testKeys
)

func mustKeys(tb testing.TB) testKeys {
	tb.Helper()
	keysOnce.Do(func() {
		var err error
		if keysVal.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, keysVal.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		if keysVal.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		keysVal.secret = []byte("0123456789abcdef0123456789abcdef-test")
	})
	return keysVal
}

// keyMap is an in-memory KeySource, like the one autho's own server uses.
type keyMap map[string]verifyKey

func (m keyMap) Key(_ context.Context, kid string) (string, any, error) {
	k, ok := m[kid]
	if !ok {
		return "", nil, errUnknownKID
	}
	return k.alg, k.key, nil
}

// standardKeys publishes one key per asymmetric algorithm; kids name the alg.
func standardKeys(k testKeys) keyMap {
	return keyMap{
		"es": {ES256, &k.ec.PublicKey},
		"ed": {EdDSA, k.ed.Public().(ed25519.PublicKey)},
		"rs": {RS256, &k.rsa.PublicKey},
	}
}

func mustVerifier(tb testing.TB, cfg Config) *Verifier {
	tb.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = testIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = testAudience
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	v, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

// goodClaims are what autho's login endpoint puts in a JWT.
func goodClaims() map[string]any {
	return map[string]any{
		"iss":   testIssuer,
		"sub":   "usr_1",
		"aud":   testAudience,
		"iat":   testNow.Add(-time.Minute).Unix(),
		"nbf":   testNow.Add(-time.Minute).Unix(),
		"exp":   testNow.Add(time.Hour).Unix(),
		"jti":   "jti_1",
		"acc":   "acc_1",
		"tok":   "tok_1",
		"scope": "orders:read orders:write",
	}
}

// with returns goodClaims changed by edits; a nil value deletes the claim.
func with(edits map[string]any) map[string]any {
	c := goodClaims()
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func signingKey(k testKeys, alg string) any {
	switch alg {
	case ES256:
		return k.ec
	case EdDSA:
		return k.ed
	case RS256:
		return k.rsa
	case HS256:
		return k.secret
	}
	panic("no key for " + alg)
}

// mustSign signs claims the ordinary way, with golang-jwt, and an ES256
// signature in the low-s form, as autho's signer writes it.
func mustSign(tb testing.TB, alg, kid string, claims map[string]any) string {
	tb.Helper()
	t := jwt.NewWithClaims(jwt.GetSigningMethod(alg), jwt.MapClaims(claims))
	if kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(signingKey(mustKeys(tb), alg))
	if err != nil {
		tb.Fatal(err)
	}
	return lowSForm(tb, alg, s)
}

func seg(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// mustSignRaw signs exactly the header and payload bytes given, so tests can
// build what no well-behaved library would emit (duplicate parameters, jku,
// "exp" as a string) with a signature that is nonetheless valid.
func mustSignRaw(tb testing.TB, alg string, key any, header, payload []byte) string {
	tb.Helper()
	input := seg(header) + "." + seg(payload)
	sig, err := jwt.GetSigningMethod(alg).Sign(input, key)
	if err != nil {
		tb.Fatal(err)
	}
	return lowSForm(tb, alg, input+"."+seg(sig))
}

// malleated is token with its ES256 signature (r, s) replaced by (r, n−s),
// n the order of P-256: the other string that ecdsa.Verify accepts as a
// signature of the same header and claims.
func malleated(tb testing.TB, token string) string {
	tb.Helper()
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || len(sig) != 64 {
		tb.Fatalf("not an ES256 signature: %q", token[i+1:])
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s).FillBytes(sig[32:])
	return token[:i+1] + seg(sig)
}

// lowSForm is token with an ES256 signature's s in the lower half of the
// group order (malleated if it was not); other algorithms are unchanged.
func lowSForm(tb testing.TB, alg, token string) string {
	tb.Helper()
	if alg != ES256 {
		return token
	}
	if highS(token[strings.LastIndexByte(token, '.')+1:]) {
		return malleated(tb, token)
	}
	return token
}

func publicPEM(tb testing.TB, pub any) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// jwkOf writes a public key as a JWK, the way autho publishes it.
func jwkOf(kid string, pub any, alg string) map[string]any {
	j := map[string]any{"kid": kid, "use": "sig"}
	if alg != "" {
		j["alg"] = alg
	}
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		b, _ := p.Bytes()
		j["kty"], j["crv"], j["x"], j["y"] = "EC", "P-256", seg(b[1:33]), seg(b[33:])
	case ed25519.PublicKey:
		j["kty"], j["crv"], j["x"] = "OKP", "Ed25519", seg(p)
	case *rsa.PublicKey:
		j["kty"], j["n"], j["e"] = "RSA", seg(p.N.Bytes()), seg(big.NewInt(int64(p.E)).Bytes())
	}
	return j
}

// wantRefused fails unless err is a refusal of kind ErrInvalidToken whose
// reason mentions reason: a hostile token refused for the wrong reason means
// the check meant for it was never reached.
func wantRefused(tb testing.TB, id *Identity, err error, reason string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("accepted (%+v), want refused: %s", id, reason)
	}
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrInvalidToken) {
		tb.Fatalf("error %v (%T), want *Error of kind ErrInvalidToken", err, err)
	}
	if !strings.Contains(e.Error(), reason) {
		tb.Fatalf("refused with %q, want reason containing %q", e.Error(), reason)
	}
}
