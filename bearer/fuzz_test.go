package bearer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// FuzzVerify: Verify never panics, refuses only with *Error, and accepts
// nothing that an independent JOSE implementation (go-jose) does not also
// find correctly signed by the test keys.
func FuzzVerify(f *testing.F) {
	k := mustKeys(f)
	keys := standardKeys(k)
	keys["hs"] = verifyKey{HS256, k.secret}
	v := mustVerifier(f, Config{Keys: keys, Algorithms: []string{ES256, EdDSA, RS256, HS256}})

	good := mustSign(f, ES256, "es", goodClaims())
	parts := strings.Split(good, ".")
	for _, s := range []string{
		good,
		mustSign(f, EdDSA, "ed", goodClaims()),
		mustSign(f, RS256, "rs", goodClaims()),
		mustSign(f, HS256, "hs", goodClaims()),
		seg([]byte(`{"alg":"none","kid":"es"}`)) + "." + parts[1] + ".",
		seg([]byte(`{"alg":"nOnE","kid":"es"}`)) + "." + parts[1] + "." + parts[2],
		mustSignRaw(f, HS256, publicPEM(f, &k.rsa.PublicKey), []byte(`{"alg":"HS256","kid":"rs"}`), []byte(parts[1])),
		mustSignRaw(f, ES256, k.ec, []byte(`{"alg":"ES256","kid":"es","jku":"http://127.0.0.1:1/"}`), mustJSON(f, goodClaims())),
		mustSignRaw(f, ES256, k.ec, []byte(`{"alg":"ES256","kid":"es","crit":["b64"],"b64":false}`), mustJSON(f, goodClaims())),
		mustSignRaw(f, ES256, k.ec, []byte(`{"alg":"ES256","kid":"es","alg":"HS256"}`), mustJSON(f, goodClaims())),
		mustSign(f, ES256, "es", with(map[string]any{"exp": "1800003600"})),
		`{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`,
		strings.Repeat(".", 100),
		"",
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, token string) {
		id, err := v.Verify(context.Background(), token)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("refusal is %T %v, want *Error of kind ErrInvalidToken", err, err)
			}
			return
		}
		jws, perr := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256, jose.HS256})
		if perr != nil {
			t.Fatalf("accepted a token go-jose cannot parse: %v", perr)
		}
		key, ok := keys[jws.Signatures[0].Header.KeyID]
		if !ok || string(jws.Signatures[0].Header.Algorithm) != key.alg {
			t.Fatalf("accepted a token whose kid/alg go-jose reads differently: %+v", jws.Signatures[0].Header)
		}
		if _, verr := jws.Verify(key.key); verr != nil {
			t.Fatalf("accepted a token go-jose finds badly signed: %v", verr)
		}
		if id.UserID == "" || id.AccountID == "" || id.TokenID == "" || id.ExpiresAt.IsZero() {
			t.Fatalf("accepted an incomplete identity %+v", id)
		}
	})
}
