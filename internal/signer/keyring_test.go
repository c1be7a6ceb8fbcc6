package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/sqlite"
)

var algorithms = []string{ES256, EdDSA, RS256, HS256}

// clock is a settable clock shared by the keyrings of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	// Microseconds in the start time, as the stores keep them.
	return &clock{t: time.Date(2026, 11, 27, 13, 0, 55, 400174000, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testDB is one SQLite database and the master key its keys are sealed with.
type testDB struct {
	path   string
	store  *sqlite.Store
	sealer *Sealer
	clock  *clock
}

func newTestDB(tb testing.TB) *testDB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "autho.db")
	s, err := sqlite.Open(path)
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return &testDB{path: path, store: s, sealer: mustSealer(tb, newMasterKey()), clock: newClock()}
}

const ttl = 24 * time.Hour

// keyring is a new keyring on db, as another server node would make it.
func (db *testDB) keyring(tb testing.TB, alg string) *Keyring {
	tb.Helper()
	k, err := NewKeyring(db.store, db.sealer, Options{Algorithm: alg, TokenTTL: ttl, Now: db.clock.Now, Logger: testLogger(tb)})
	if err != nil {
		tb.Fatalf("NewKeyring(%s): %v", alg, err)
	}
	return k
}

// testLogger shows what Run logs with the test's own output.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), nil))
}

func mustEnsureKey(tb testing.TB, k *Keyring) {
	tb.Helper()
	if err := k.EnsureKey(context.Background()); err != nil {
		tb.Fatalf("EnsureKey: %v", err)
	}
}

func mustRefresh(tb testing.TB, k *Keyring) {
	tb.Helper()
	if err := k.Refresh(context.Background()); err != nil {
		tb.Fatalf("Refresh: %v", err)
	}
}

func mustRotate(tb testing.TB, k *Keyring) *autho.SigningKey {
	tb.Helper()
	key, err := k.Rotate(context.Background(), autho.OperatorCLI)
	if err != nil {
		tb.Fatalf("Rotate: %v", err)
	}
	return key
}

func testClaims(now time.Time) *bearer.Claims {
	return &bearer.Claims{
		Issuer:    "https://auth.example.com",
		Subject:   "usr_0123456789abcdefghij",
		Audience:  bearer.Audience{"autho"},
		IssuedAt:  bearer.NumericDate{Time: now},
		NotBefore: bearer.NumericDate{Time: now},
		ExpiresAt: bearer.NumericDate{Time: now.Add(ttl)},
		ID:        NewJTI(),
		Account:   "acc_0123456789abcdefghij",
		Token:     "tok_0123456789abcdefghij",
		Scope:     "read write",
	}
}

func mustSign(tb testing.TB, k *Keyring, c *bearer.Claims) string {
	tb.Helper()
	tok, err := k.Sign(c)
	if err != nil {
		tb.Fatalf("Sign: %v", err)
	}
	return tok
}

// kidOf reads the kid of a token without verifying it.
func kidOf(tb testing.TB, token string) string {
	tb.Helper()
	header, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		tb.Fatalf("header of %q: %v", token, err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(b, &h); err != nil {
		tb.Fatalf("header of %q: %v", token, err)
	}
	return h.Kid
}

// jwksKids lists the kids of a JWKS document, parsed by go-jose.
func jwksKids(tb testing.TB, doc []byte) []string {
	tb.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		tb.Fatalf("go-jose cannot read the JWKS %s: %v", doc, err)
	}
	kids := []string{}
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	return kids
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// verifyWithJose checks token with go-jose, an implementation independent of
// the one that signed it, against key, and returns its claims as JSON values.
func verifyWithJose(t *testing.T, token, alg, kid string, key any) map[string]any {
	t.Helper()
	tok, err := josejwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("go-jose ParseSigned: %v", err)
	}
	if len(tok.Headers) != 1 {
		t.Fatalf("%d signatures, want 1", len(tok.Headers))
	}
	h := tok.Headers[0]
	if h.KeyID != kid || h.Algorithm != alg || h.ExtraHeaders["typ"] != "JWT" {
		t.Errorf("header kid=%q alg=%q typ=%v, want kid=%q alg=%q typ=JWT", h.KeyID, h.Algorithm, h.ExtraHeaders["typ"], kid, alg)
	}
	var claims map[string]any
	if err := tok.Claims(key, &claims); err != nil {
		t.Fatalf("go-jose verification with the published key: %v", err)
	}
	return claims
}

func wantClaims(c *bearer.Claims) map[string]any {
	m := map[string]any{
		"iss": c.Issuer,
		"sub": c.Subject,
		"aud": c.Audience[0], // a string, not a one-element array
		"iat": float64(c.IssuedAt.Unix()),
		"nbf": float64(c.NotBefore.Unix()),
		"exp": float64(c.ExpiresAt.Unix()),
		"jti": c.ID,
		"acc": c.Account,
		"tok": c.Token,
	}
	if c.Scope != "" {
		m["scope"] = c.Scope
	}
	return m
}

func TestKeyring_Sign(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			db := newTestDB(t)
			k := db.keyring(t, alg)
			mustEnsureKey(t, k)
			keys := k.Keys()
			if len(keys) != 1 || keys[0].Algorithm != alg || keys[0].State != StateSigning {
				t.Fatalf("Keys = %+v, want one %s key, signing", keys, alg)
			}
			kid := keys[0].ID

			// The key a verifier gets: from the JWKS, or the shared secret.
			var key any
			if alg == HS256 {
				if kids := jwksKids(t, k.JWKS()); len(kids) != 0 {
					t.Fatalf("JWKS publishes %q; HS256 keys must never be published", kids)
				}
				secret, ok := k.HS256Secret("")
				if !ok || len(secret) != 32 {
					t.Fatalf("HS256Secret = %d bytes, %v; want 32, true", len(secret), ok)
				}
				if other, _ := k.HS256Secret(kid); !bytes.Equal(other, secret) {
					t.Fatal("HS256Secret(kid) differs from the current secret")
				}
				key = secret
			} else {
				var set jose.JSONWebKeySet
				if err := json.Unmarshal(k.JWKS(), &set); err != nil {
					t.Fatalf("go-jose cannot read the JWKS: %v", err)
				}
				found := set.Key(kid)
				if len(found) != 1 {
					t.Fatalf("JWKS has %d keys with kid %s, want 1", len(found), kid)
				}
				jwk := found[0]
				if !jwk.Valid() || !jwk.IsPublic() || jwk.Algorithm != alg || jwk.Use != "sig" {
					t.Fatalf("JWK valid=%v public=%v alg=%q use=%q", jwk.Valid(), jwk.IsPublic(), jwk.Algorithm, jwk.Use)
				}
				key = jwk
				if _, ok := k.HS256Secret(""); ok {
					t.Error("HS256Secret answers for a non-HS256 key")
				}
			}

			for _, scope := range []string{"read write", ""} {
				c := testClaims(db.clock.Now())
				c.Scope = scope
				token := mustSign(t, k, c)
				got := verifyWithJose(t, token, alg, kid, key)
				if want := wantClaims(c); !reflect.DeepEqual(got, want) {
					t.Errorf("claims (scope %q) = %v, want %v", scope, got, want)
				}
			}

			// In-process verification, as the server's /me would do it.
			c := testClaims(db.clock.Now())
			token := mustSign(t, k, c)
			parsed, err := jwt.Parse(token, func(tok *jwt.Token) (any, error) {
				kid, _ := tok.Header["kid"].(string)
				alg, key, ok := k.VerificationKey(kid)
				if !ok || alg != tok.Method.Alg() {
					return nil, errors.New("unknown key")
				}
				return key, nil
			}, jwt.WithValidMethods([]string{alg}), jwt.WithTimeFunc(db.clock.Now), jwt.WithAudience("autho"))
			if err != nil || !parsed.Valid {
				t.Fatalf("golang-jwt with VerificationKey: %v", err)
			}
		})
	}
}

func TestKeyring_JWKSMembers(t *testing.T) {
	// The members each key type must have (RFC 7517, 7518, 8037), and no
	// private member.
	want := map[string][]string{
		ES256: {"alg", "crv", "kid", "kty", "use", "x", "y"},
		EdDSA: {"alg", "crv", "kid", "kty", "use", "x"},
		RS256: {"alg", "e", "kid", "kty", "n", "use"},
	}
	wantKty := map[string]string{ES256: "EC", EdDSA: "OKP", RS256: "RSA"}
	for alg, members := range want {
		t.Run(alg, func(t *testing.T) {
			db := newTestDB(t)
			k := db.keyring(t, alg)
			mustEnsureKey(t, k)
			var doc struct{ Keys []map[string]string }
			if err := json.Unmarshal(k.JWKS(), &doc); err != nil {
				t.Fatalf("JWKS: %v", err)
			}
			if len(doc.Keys) != 1 {
				t.Fatalf("JWKS has %d keys, want 1", len(doc.Keys))
			}
			var got []string
			for m := range doc.Keys[0] {
				got = append(got, m)
			}
			if !sameSet(got, members) {
				t.Errorf("JWK members = %q, want %q", got, members)
			}
			if doc.Keys[0]["kty"] != wantKty[alg] || doc.Keys[0]["use"] != "sig" {
				t.Errorf("JWK = %v", doc.Keys[0])
			}
			switch alg {
			case ES256:
				if doc.Keys[0]["crv"] != "P-256" || len(doc.Keys[0]["x"]) != 43 || len(doc.Keys[0]["y"]) != 43 {
					t.Errorf("EC JWK = %v, want P-256 with 32-byte coordinates", doc.Keys[0])
				}
			case EdDSA:
				if doc.Keys[0]["crv"] != "Ed25519" || len(doc.Keys[0]["x"]) != 43 {
					t.Errorf("OKP JWK = %v, want Ed25519 with a 32-byte x", doc.Keys[0])
				}
			case RS256:
				if doc.Keys[0]["e"] != "AQAB" || len(doc.Keys[0]["n"]) != 342 {
					t.Errorf("RSA JWK = %v, want e=AQAB and a 2048-bit n", doc.Keys[0])
				}
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		db := newTestDB(t)
		if got := string(db.keyring(t, ES256).JWKS()); got != `{"keys":[]}` {
			t.Fatalf("JWKS before any key = %s", got)
		}
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !contains(b, s) {
			return false
		}
	}
	return true
}

func TestKeyring_KeysAtRest(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			db := newTestDB(t)
			mustEnsureKey(t, db.keyring(t, alg))
			stored, err := db.store.SigningKeys(t.Context())
			if err != nil || len(stored) != 1 {
				t.Fatalf("SigningKeys = %d keys, %v", len(stored), err)
			}
			key := stored[0]
			plaintext, err := db.sealer.Open(key.ID, key.Sealed)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if bytes.Contains(key.Sealed, plaintext) {
				t.Error("the stored sealed key contains the private key")
			}

			if alg == HS256 {
				if len(plaintext) != 32 || len(key.Public) != 0 {
					t.Errorf("HS256 key: %d-byte secret, %d-byte public; want 32 and none", len(plaintext), len(key.Public))
				}
			} else {
				private, err := x509.ParsePKCS8PrivateKey(plaintext)
				if err != nil {
					t.Fatalf("sealed key is not PKCS#8: %v", err)
				}
				public, err := x509.ParsePKIXPublicKey(key.Public)
				if err != nil {
					t.Fatalf("Public is not PKIX DER: %v", err)
				}
				if !public.(interface{ Equal(crypto.PublicKey) bool }).Equal(private.(crypto.Signer).Public()) {
					t.Error("Public is not the private key's public key")
				}
			}

			// Nor anywhere in the database files, in any usual encoding.
			files, _ := filepath.Glob(db.path + "*")
			if len(files) == 0 {
				t.Fatalf("no database files at %s", db.path)
			}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				for _, enc := range []string{string(plaintext), base64.StdEncoding.EncodeToString(plaintext), base64.RawURLEncoding.EncodeToString(plaintext), hex.EncodeToString(plaintext)} {
					if bytes.Contains(b, []byte(enc)) {
						t.Errorf("%s holds the private key in plaintext", filepath.Base(f))
					}
				}
			}
		})
	}
}

func TestNewKeyring_Refuses(t *testing.T) {
	db := newTestDB(t)
	tests := []struct {
		name string
		opt  Options
	}{
		{"no algorithm", Options{TokenTTL: ttl}},
		{"algorithm in lower case", Options{Algorithm: "es256", TokenTTL: ttl}},
		{"unsupported algorithm", Options{Algorithm: "ES384", TokenTTL: ttl}},
		{"none", Options{Algorithm: "none", TokenTTL: ttl}},
		{"no TTL", Options{Algorithm: ES256}},
		{"negative rotation", Options{Algorithm: ES256, TokenTTL: ttl, RotateEvery: -time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewKeyring(db.store, db.sealer, tt.opt); err == nil {
				t.Fatalf("NewKeyring(%+v) = nil error", tt.opt)
			}
		})
	}
	if _, err := NewKey("RS512", db.sealer, db.clock.Now()); err == nil {
		t.Error("NewKey(RS512) = nil error")
	}
}

// TestKeyring_Current: Current names the key Sign uses, after each change
// of the store; a keyring of another algorithm has none.
func TestKeyring_Current(t *testing.T) {
	db := newTestDB(t)
	k, other := db.keyring(t, ES256), db.keyring(t, EdDSA)
	for _, step := range []struct {
		name    string
		do      func(t *testing.T)
		current bool
	}{
		{"empty", func(t *testing.T) { mustRefresh(t, k) }, false},
		{"first key", func(t *testing.T) { mustEnsureKey(t, k) }, true},
		{"rotated", func(t *testing.T) { mustRotate(t, k) }, true},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.do(t)
			got, ok := k.Current()
			token, err := k.Sign(testClaims(db.clock.Now()))
			switch {
			case ok != step.current:
				t.Fatalf("Current = %+v, %v; want a current key: %v", got, ok, step.current)
			case !ok && !errors.Is(err, ErrNoKey):
				t.Fatalf("Current = none, but Sign: %v", err)
			case ok && (err != nil || kidOf(t, token) != got.ID || got.State != StateSigning):
				t.Fatalf("Current = %+v, but Sign: %v", got, err)
			}
			mustRefresh(t, other)
			if got, ok := other.Current(); ok {
				t.Fatalf("the EdDSA keyring's Current = %q, want none", got.ID)
			}
		})
	}
}

// TestKeyring_ServedByOther: a keyring tells when the servers, as the store
// shows, sign with another algorithm than the one it would rotate in.
func TestKeyring_ServedByOther(t *testing.T) {
	db := newTestDB(t)
	hs, es := db.keyring(t, HS256), db.keyring(t, ES256)
	if _, other := hs.ServedByOther(); other {
		t.Fatal("an empty store is served by another algorithm")
	}
	mustEnsureKey(t, hs)
	cur, _ := hs.Current()
	mustRefresh(t, es)
	for _, tc := range []struct {
		name string
		k    *Keyring
		want bool
	}{{"same algorithm", hs, false}, {"another algorithm", es, true}} {
		t.Run(tc.name, func(t *testing.T) {
			served, other := tc.k.ServedByOther()
			if other != tc.want || served.ID != cur.ID {
				t.Fatalf("ServedByOther = %s, %v; want %s, %v", served.ID, other, cur.ID, tc.want)
			}
		})
	}
}

// TestKeyring_SignRevocations: the feed is signed by the current key, and
// its header says what it is.
func TestKeyring_SignRevocations(t *testing.T) {
	db := newTestDB(t)
	k := db.keyring(t, ES256)
	mustEnsureKey(t, k)
	now := db.clock.Now().Truncate(time.Second)
	l := &bearer.RevocationList{Issuer: "http://x", IssuedAt: bearer.NumericDate{Time: now},
		ExpiresAt: bearer.NumericDate{Time: now.Add(5 * time.Minute)},
		Revoked:   []bearer.Revocation{{Kind: bearer.RevokedToken, ID: "tok_1", NotBefore: bearer.RevokedForever}}}
	s, err := k.SignRevocations(l)
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := k.Current()
	got := new(bearer.RevocationList)
	tok, err := jwt.NewParser(jwt.WithTimeFunc(db.clock.Now)).ParseWithClaims(s, got, func(t *jwt.Token) (any, error) {
		_, key, ok := k.VerificationKey(t.Header["kid"].(string))
		if !ok {
			return nil, errors.New("unknown kid")
		}
		return key, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["typ"] != bearer.RevocationsType || tok.Header["kid"] != cur.ID || tok.Header["alg"] != ES256 {
		t.Fatalf("header %v", tok.Header)
	}
	if len(got.Revoked) != 1 || got.Revoked[0] != l.Revoked[0] || got.Issuer != "http://x" || !got.IssuedAt.Equal(now) {
		t.Fatalf("claims %+v", got)
	}
}
