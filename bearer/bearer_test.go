package bearer

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestVerifier_Verify_accepts(t *testing.T) {
	k := mustKeys(t)
	v := mustVerifier(t, Config{Keys: standardKeys(k)})
	hs := mustVerifier(t, Config{Keys: StaticSecret(k.secret), Algorithms: []string{HS256}})

	tests := []struct {
		name   string
		v      *Verifier
		alg    string
		kid    string
		claims map[string]any
	}{
		{"ES256", v, ES256, "es", goodClaims()},
		{"EdDSA", v, EdDSA, "ed", goodClaims()},
		{"RS256", v, RS256, "rs", goodClaims()},
		{"HS256 shared secret", hs, HS256, "key_any", goodClaims()},
		{"aud array containing ours", v, ES256, "es", with(map[string]any{"aud": []string{"billing", testAudience}})},
		{"no nbf, no iat", v, ES256, "es", with(map[string]any{"nbf": nil, "iat": nil})},
		{"expired within leeway", v, ES256, "es", with(map[string]any{"exp": testNow.Add(-20 * time.Second).Unix()})},
		{"nbf within leeway", v, ES256, "es", with(map[string]any{"nbf": testNow.Add(20 * time.Second).Unix()})},
		{"fractional exp", v, ES256, "es", with(map[string]any{"exp": float64(testNow.Unix()) + 3600.5})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.v.Verify(context.Background(), mustSign(t, tt.alg, tt.kid, tt.claims))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if id.UserID != "usr_1" || id.AccountID != "acc_1" || id.TokenID != "tok_1" || id.JTI != "jti_1" {
				t.Errorf("identity = %+v", id)
			}
			if !slices.Equal(id.Scopes, []string{"orders:read", "orders:write"}) {
				t.Errorf("scopes = %q", id.Scopes)
			}
			if exp := tt.claims["exp"]; exp != nil && id.ExpiresAt.Unix() != int64(toFloat(exp)) {
				t.Errorf("ExpiresAt = %v, want %v", id.ExpiresAt, exp)
			}
		})
	}
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case float64:
		return n
	}
	panic("not a number")
}

// TestVerifier_Verify_refuses is the list of hostile and broken tokens. Each
// names the reason it must be refused for.
func TestVerifier_Verify_refuses(t *testing.T) {
	k := mustKeys(t)
	keys := standardKeys(k)
	v := mustVerifier(t, Config{Keys: keys})
	// The worst sane configuration: HS256 allowed alongside the asymmetric
	// algorithms. Alg confusion must still fail, on the key's pinned alg.
	vHS := mustVerifier(t, Config{Keys: keys, Algorithms: []string{ES256, EdDSA, RS256, HS256}})
	vEdOnly := mustVerifier(t, Config{Keys: keys, Algorithms: []string{EdDSA}})

	// A listener that must never be contacted: a verifier that honoured jku
	// or x5u would fetch from it.
	var fetched atomic.Int32
	trap := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { fetched.Add(1) }))
	defer trap.Close()

	good := mustSign(t, ES256, "es", goodClaims())
	parts := strings.Split(good, ".")
	esHeader := func(extra map[string]any) []byte {
		h := map[string]any{"alg": ES256, "typ": "JWT", "kid": "es"}
		for k, v := range extra {
			h[k] = v
		}
		return mustJSON(t, h)
	}
	// signed makes a validly ES256-signed token from raw header and payload.
	signed := func(header []byte, payload []byte) string { return mustSignRaw(t, ES256, k.ec, header, payload) }
	claimsJSON := func(edits map[string]any) []byte { return mustJSON(t, with(edits)) }
	// claimsAnd is goodClaims' JSON with more members written as given, so
	// that a name can appear twice.
	claimsAnd := func(members string) []byte {
		b := claimsJSON(nil)
		return append(append(b[:len(b)-1:len(b)-1], ","+members...), '}')
	}
	unsigned := func(alg string) string {
		return seg(mustJSON(t, map[string]any{"alg": alg, "typ": "JWT", "kid": "es"})) + "." + parts[1] + "."
	}
	hsWith := func(kid string, secret []byte) string {
		return mustSignRaw(t, HS256, secret, mustJSON(t, map[string]any{"alg": HS256, "typ": "JWT", "kid": kid}), []byte(mustJSON(t, goodClaims())))
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}

	tests := []struct {
		name   string
		v      *Verifier
		token  string
		reason string
	}{
		{"empty", v, "", "empty token"},
		{"garbage", v, "hello world", "compact"},
		{"one dot", v, "abc.def", "compact"},
		{"four segments", v, good + ".AAAA", "compact"},
		{"JWE-shaped five segments", v, "a.b.c.d.e", "compact"},
		{"base64 padding", v, parts[0] + "==." + parts[1] + "." + parts[2], "compact"},
		{"whitespace inside", v, parts[0] + ". " + parts[1] + "." + parts[2], "compact"},
		{"JSON serialization (flattened)", v, `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, "compact"},
		{"JSON serialization (general)", v, `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`, "compact"},
		{"100 KB token", v, good + strings.Repeat("A", 100<<10), "larger than MaxTokenBytes"},
		{"1 MiB of dots", v, strings.Repeat(".", 1<<20), "larger than MaxTokenBytes"},

		{"alg none, no signature", v, unsigned("none"), "compact"},
		{"alg none", v, unsigned("none") + "AAAA", `alg "none"`},
		{"alg None", v, unsigned("None") + "AAAA", `alg "none"`},
		{"alg nOnE", v, unsigned("nOnE") + "AAAA", `alg "none"`},
		{"alg in another case (es256)", v, signed(esHeader(map[string]any{"alg": "es256"}), claimsJSON(nil)), "alg not allowed"},
		{"alg missing", v, signed(mustJSON(t, map[string]any{"typ": "JWT", "kid": "es"}), claimsJSON(nil)), "malformed header"},
		{"alg not a string", v, signed(esHeader(map[string]any{"alg": 7}), claimsJSON(nil)), "malformed header"},

		// The classic: the verifier holds a public key; the attacker HMACs
		// with that public key's bytes and says alg HS256.
		{"HS256 with the RSA public key as PEM", v, hsWith("rs", publicPEM(t, &k.rsa.PublicKey)), "alg not allowed"},
		{"HS256 with the RSA public key as PEM, HS256 allowed", vHS, hsWith("rs", publicPEM(t, &k.rsa.PublicKey)), "alg does not match the key"},
		{"HS256 with the RSA public key as JWK, HS256 allowed", vHS, hsWith("rs", mustJSON(t, jwkOf("rs", &k.rsa.PublicKey, RS256))), "alg does not match the key"},
		{"HS256 with the EC public key as PEM, HS256 allowed", vHS, hsWith("es", publicPEM(t, &k.ec.PublicKey)), "alg does not match the key"},
		{"HS256 with the EC public key as JWK, HS256 allowed", vHS, hsWith("es", mustJSON(t, jwkOf("es", &k.ec.PublicKey, ES256))), "alg does not match the key"},
		{"HS256 with the Ed25519 public key, HS256 allowed", vHS, hsWith("ed", k.ed.Public().(ed25519.PublicKey)), "alg does not match the key"},
		{"valid ES256 signature, only EdDSA configured", vEdOnly, good, "alg not allowed"},
		{"EdDSA header on the ES256 key", v, mustSign(t, EdDSA, "es", goodClaims()), "alg does not match the key"},
		{"kid pointing nowhere", v, mustSign(t, ES256, "nope", goodClaims()), "key lookup failed"},
		{"no kid", v, mustSign(t, ES256, "", goodClaims()), "key lookup failed"},
		{"kid not a string", v, signed(esHeader(map[string]any{"kid": 1}), claimsJSON(nil)), "malformed header"},

		{"jku to a listener", v, signed(esHeader(map[string]any{"jku": trap.URL + "/jwks.json"}), claimsJSON(nil)), "forbidden header"},
		{"x5u to a listener", v, signed(esHeader(map[string]any{"x5u": trap.URL + "/cert.pem"}), claimsJSON(nil)), "forbidden header"},
		{"embedded jwk", v, signed(esHeader(map[string]any{"jwk": jwkOf("es", &k.ec.PublicKey, ES256)}), claimsJSON(nil)), "forbidden header"},
		{"embedded x5c", v, signed(esHeader(map[string]any{"x5c": []string{"MIIB"}}), claimsJSON(nil)), "forbidden header"},
		{"unknown crit", v, signed(esHeader(map[string]any{"crit": []string{"exp"}, "exp": 1}), claimsJSON(nil)), "forbidden header"},
		{"jku spelled with escapes", v, signed([]byte(`{"alg":"ES256","kid":"es","j\u006bu":"`+trap.URL+`"}`), claimsJSON(nil)), "forbidden header"},
		{"alg given twice", v, signed([]byte(`{"alg":"ES256","kid":"es","alg":"HS256"}`), claimsJSON(nil)), "malformed header"},
		{"alg given twice, once escaped", v, signed([]byte(`{"alg":"ES256","kid":"es","\u0061lg":"ES256"}`), claimsJSON(nil)), "malformed header"},
		{"kid given twice", v, signed([]byte(`{"alg":"ES256","kid":"ed", "kid" : "es"}`), claimsJSON(nil)), "malformed header"},
		{"alg beside ALG", v, signed([]byte(`{"alg":"ES256","kid":"es","ALG":"HS256"}`), claimsJSON(nil)), "malformed header"},
		{"kid beside Kid", v, signed([]byte(`{"alg":"ES256","kid":"es","Kid":"ed"}`), claimsJSON(nil)), "malformed header"},
		{"header null", v, signed([]byte(`null`), claimsJSON(nil)), "malformed header"},
		{"header not an object", v, signed([]byte(`["ES256"]`), claimsJSON(nil)), "malformed header"},
		{"header with trailing data", v, signed([]byte(`{"alg":"ES256","kid":"es"}{}`), claimsJSON(nil)), "malformed header"},
		{"header not UTF-8", v, signed([]byte("{\"alg\":\"ES256\",\"kid\":\"es\",\"x\":\"\xff\"}"), claimsJSON(nil)), "malformed header"},
		{"typ of another kind of object", v, signed(esHeader(map[string]any{"typ": "dpop+jwt"}), claimsJSON(nil)), `typ is not "JWT"`},
		{"typ not a string", v, signed(esHeader(map[string]any{"typ": 1}), claimsJSON(nil)), `typ is not "JWT"`},
		{"typ empty", v, signed(esHeader(map[string]any{"typ": ""}), claimsJSON(nil)), `typ is not "JWT"`},
		// The feed is signed with the login keys; claims a bearer would
		// have must not make it one.
		{"typ of the revocation feed", v, signed(esHeader(map[string]any{"typ": RevocationsType}), claimsJSON(nil)), "revocation feed is not a bearer"},
		{"typ of the revocation feed, in capitals", v, signed(esHeader(map[string]any{"typ": "REVOCATIONS+JWT"}), claimsJSON(nil)), "revocation feed is not a bearer"},
		{"typ of the revocation feed, as a media type", v, signed(esHeader(map[string]any{"typ": "application/" + RevocationsType}), claimsJSON(nil)), "revocation feed is not a bearer"},
		{"the revocation feed itself", v, mustSignFeed(t, ES256, "es", RevocationsType, feedClaims(testNow, nil)), "revocation feed is not a bearer"},

		{"tampered payload", v, parts[0] + "." + seg(claimsJSON(map[string]any{"sub": "usr_admin"})) + "." + parts[2], "bad signature"},
		{"tampered signature", v, parts[0] + "." + parts[1] + "." + flip(parts[2], 10), "bad signature"},
		{"ES256 signature's twin with a high s", v, malleated(t, good), "high s"},
		{"signature of another key under our kid", v, mustSignRaw(t, ES256, mustOtherEC(t), esHeader(nil), claimsJSON(nil)), "bad signature"},
		{"payload not JSON", v, signed(esHeader(nil), []byte("not json")), "malformed"},
		{"sub given twice", v, signed(esHeader(nil), claimsAnd(`"sub":"usr_admin"`)), "malformed claims"},
		{"sub beside SUB", v, signed(esHeader(nil), claimsAnd(`"SUB":"usr_admin"`)), "malformed claims"},
		{"sub beside Sub", v, signed(esHeader(nil), claimsAnd(`"Sub":"usr_admin"`)), "malformed claims"},
		{"sub beside an escaped sub", v, signed(esHeader(nil), claimsAnd(`"\u0073ub":"usr_admin"`)), "malformed claims"},
		{"sub beside ſub, which folds to it", v, signed(esHeader(nil), claimsAnd(`"ſub":"usr_admin"`)), "malformed claims"},
		{"exp given twice", v, signed(esHeader(nil), claimsAnd(`"exp":253402300799`)), "malformed claims"},
		{"aud beside AUD", v, signed(esHeader(nil), claimsAnd(`"AUD":"billing"`)), "malformed claims"},
		{"a claim of no meaning to us in two cases", v, signed(esHeader(nil), claimsAnd(`"x":1,"X":2`)), "malformed claims"},
		{"claims not UTF-8", v, signed(esHeader(nil), claimsAnd("\"x\":\"\xff\"")), "malformed claims"},
		{"payload an array", v, signed(esHeader(nil), []byte(`[1,2]`)), "malformed"},

		{"missing exp", v, mustSign(t, ES256, "es", with(map[string]any{"exp": nil})), "required claim missing"},
		{"exp null", v, signed(esHeader(nil), withNull(t, "exp")), "malformed"},
		{"nbf null", v, signed(esHeader(nil), withNull(t, "nbf")), "malformed"},
		{"exp as a string", v, mustSign(t, ES256, "es", with(map[string]any{"exp": "1800003600"})), "malformed"},
		{"exp as a bool", v, mustSign(t, ES256, "es", with(map[string]any{"exp": true})), "malformed"},
		{"exp absurdly large", v, mustSign(t, ES256, "es", with(map[string]any{"exp": 1e300})), "malformed"},
		{"nbf as a string", v, mustSign(t, ES256, "es", with(map[string]any{"nbf": "0"})), "malformed"},
		{"iat as a string", v, mustSign(t, ES256, "es", with(map[string]any{"iat": "0"})), "malformed"},
		{"expired", v, mustSign(t, ES256, "es", with(map[string]any{"exp": testNow.Add(-31 * time.Second).Unix()})), "expired"},
		{"nbf in the future", v, mustSign(t, ES256, "es", with(map[string]any{"nbf": testNow.Add(2 * time.Minute).Unix()})), "not valid yet"},
		{"iat in the future", v, mustSign(t, ES256, "es", with(map[string]any{"iat": testNow.Add(2 * time.Minute).Unix()})), "issued in the future"},
		{"wrong iss", v, mustSign(t, ES256, "es", with(map[string]any{"iss": "https://evil.test"})), "wrong issuer"},
		{"missing iss", v, mustSign(t, ES256, "es", with(map[string]any{"iss": nil})), "required claim missing"},
		{"wrong aud", v, mustSign(t, ES256, "es", with(map[string]any{"aud": "billing"})), "wrong audience"},
		{"aud array without ours", v, mustSign(t, ES256, "es", with(map[string]any{"aud": []string{"a", "b"}})), "wrong audience"},
		{"empty aud", v, mustSign(t, ES256, "es", with(map[string]any{"aud": ""})), "required claim missing"},
		{"empty aud array", v, mustSign(t, ES256, "es", with(map[string]any{"aud": []string{}})), "required claim missing"},
		{"missing aud", v, mustSign(t, ES256, "es", with(map[string]any{"aud": nil})), "required claim missing"},
		{"aud a number", v, mustSign(t, ES256, "es", with(map[string]any{"aud": 42})), "malformed"},
		{"aud array of numbers", v, mustSign(t, ES256, "es", with(map[string]any{"aud": []int{1}})), "malformed"},
		{"missing sub", v, mustSign(t, ES256, "es", with(map[string]any{"sub": nil})), "sub, acc or tok missing"},
		{"missing acc", v, mustSign(t, ES256, "es", with(map[string]any{"acc": nil})), "sub, acc or tok missing"},
		{"missing tok", v, mustSign(t, ES256, "es", with(map[string]any{"tok": nil})), "sub, acc or tok missing"},
		{"sub not a string", v, mustSign(t, ES256, "es", with(map[string]any{"sub": 1})), "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.v.Verify(context.Background(), tt.token)
			wantRefused(t, id, err, tt.reason)
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error text contains the token")
			}
		})
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("the jku/x5u listener saw %d requests, want none", n)
	}
}

// withNull is goodClaims with claim set to JSON null.
func withNull(t *testing.T, claim string) []byte {
	c := goodClaims()
	c[claim] = nil
	return mustJSON(t, c)
}

func mustOtherEC(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
