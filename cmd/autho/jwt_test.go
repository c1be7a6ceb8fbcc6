package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/signer"
)

// TestJWT_VerifiesWithJWKS verifies login JWTs with go-jose, a JOSE library
// independent of the one the server signs with, against the published JWKS,
// on each backend.
func TestJWT_VerifiesWithJWKS(t *testing.T) { forEachBackend(t, testJWTVerifiesWithJWKS) }

func testJWTVerifiesWithJWKS(t *testing.T, b backend) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			ts := startServerOn(t, b, map[string]string{"AUTHO_JWT_ALG": alg})
			p := ts.newPartner()
			token := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))

			var set jose.JSONWebKeySet
			if err := json.Unmarshal(ts.do("GET", "/.well-known/jwks.json", "", nil).Body, &set); err != nil {
				t.Fatal(err)
			}
			hdr := jwtHeader(t, token)
			if hdr["alg"] != alg || hdr["typ"] != "JWT" || hdr["kid"] == "" {
				t.Fatalf("header %v", hdr)
			}
			keys := set.Key(hdr["kid"].(string))
			if len(keys) != 1 || keys[0].Algorithm != alg {
				t.Fatalf("JWKS has no single %s key for kid %v: %+v", alg, hdr["kid"], set)
			}
			parsed, err := josejwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			var std josejwt.Claims
			var ours struct {
				Acc string `json:"acc"`
				Tok string `json:"tok"`
			}
			if err := parsed.Claims(keys[0].Key, &std, &ours); err != nil {
				t.Fatalf("signature does not verify with the published key: %v", err)
			}
			if err := std.ValidateWithLeeway(josejwt.Expected{Issuer: ts.url, AnyAudience: []string{"autho"}, Subject: p.UserID, Time: time.Now()}, 0); err != nil {
				t.Fatal(err)
			}
			if ours.Acc != p.AccountID || ours.Tok != p.TokenID {
				t.Fatalf("claims %+v", ours)
			}
			// The bearer is accepted by /me.
			r := ts.do("GET", "/v1/autho/me/", "", nil, "Authorization", "Bearer "+token)
			if r.Status != 200 || r.data()["user_id"] != p.UserID || r.data()["token_id"] != p.TokenID {
				t.Fatalf("/me: %d %s", r.Status, r.Body)
			}
		})
	}
	t.Run("HS256", func(t *testing.T) {
		ts := startServerOn(t, b, map[string]string{"AUTHO_JWT_ALG": "HS256"})
		p := ts.newPartner()
		token := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
		var set struct{ Keys []any }
		json.Unmarshal(ts.do("GET", "/.well-known/jwks.json", "", nil).Body, &set)
		if len(set.Keys) != 0 {
			t.Fatalf("HS256 secret published: %v", set)
		}
		file := ts.exportHS256()
		secret := hs256SecretOf(t, file, kidOf(t, token))
		if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
			t.Fatalf("secret file mode %v", fi.Mode())
		}
		parsed, err := josejwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.HS256})
		if err != nil {
			t.Fatal(err)
		}
		var std josejwt.Claims
		if err := parsed.Claims(secret, &std); err != nil {
			t.Fatalf("does not verify with the exported secret: %v", err)
		}
		if std.Subject != p.UserID {
			t.Fatalf("sub %q", std.Subject)
		}
	})
}

// TestMe_RefusesForgedTokens checks the reference API refuses what an
// attacker or a clock can make of a token.
func TestMe_RefusesForgedTokens(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	good := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	hdr := jwtHeader(t, good)
	kid := hdr["kid"].(string)
	claims := jwtClaims(t, good)
	enc := func(v any) string { b, _ := json.Marshal(v); return b64(b) }
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for k2, v2 := range claims {
			c[k2] = v2
		}
		c[k] = v
		return c
	}
	// A validly signed token with chosen claims, from the server's own
	// keyring: what a clock or a misconfigured issuer would produce.
	at := func(t time.Time) bearer.NumericDate { return bearer.NumericDate{Time: t} }
	signed := func(mod func(*bearer.Claims)) string {
		c := &bearer.Claims{
			Issuer: ts.url, Subject: p.UserID, Audience: bearer.Audience{"autho"}, IssuedAt: at(time.Now()), NotBefore: at(time.Now()),
			ExpiresAt: at(time.Now().Add(time.Hour)), ID: signer.NewJTI(), Account: p.AccountID, Token: p.TokenID,
		}
		mod(c)
		s, err := ts.d.Keys.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// HS256 with the published public key as the HMAC secret.
	var set struct{ Keys []json.RawMessage }
	jwks := ts.do("GET", "/.well-known/jwks.json", "", nil).Body
	json.Unmarshal(jwks, &set)
	hsHead := enc(map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid})
	mac := hmac.New(sha256.New, set.Keys[0])
	mac.Write([]byte(hsHead + "." + parts[1]))
	hsWithPublic := hsHead + "." + parts[1] + "." + b64(mac.Sum(nil))

	tests := []struct {
		name  string
		token string
	}{
		{"alg none", enc(map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + "."},
		{"alg None with kid", enc(map[string]any{"alg": "None", "kid": kid}) + "." + parts[1] + "."},
		{"HS256 signed with the public key", hsWithPublic},
		{"tampered payload", parts[0] + "." + enc(with("sub", "usr_someoneelse")) + "." + parts[2]},
		{"tampered signature", parts[0] + "." + parts[1] + "." + b64([]byte("x"+parts[2]))},
		{"expired", signed(func(c *bearer.Claims) {
			c.IssuedAt, c.NotBefore, c.ExpiresAt = at(time.Now().Add(-3*time.Hour)), at(time.Now().Add(-3*time.Hour)), at(time.Now().Add(-2*time.Hour))
		})},
		{"not yet valid", signed(func(c *bearer.Claims) { c.NotBefore = at(time.Now().Add(time.Hour)) })},
		{"wrong issuer", signed(func(c *bearer.Claims) { c.Issuer = "https://evil.example" })},
		{"wrong audience", signed(func(c *bearer.Claims) { c.Audience = bearer.Audience{"someone-else"} })},
		{"garbage", "not.a.jwt"},
		{"unknown kid", enc(map[string]any{"alg": "ES256", "kid": "key_nope"}) + "." + parts[1] + "." + parts[2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do("GET", "/v1/autho/me/", "", nil, "Authorization", "Bearer "+tt.token)
			wantError(t, r, 401, "16")
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	for _, h := range []string{"", "Basic dXNlcjpwYXNz", "Token " + good} {
		r := ts.do("GET", "/v1/autho/me/", "", nil, "Authorization", h)
		wantError(t, r, 401, "15")
	}
	// The Bearer scheme with an empty credential is a bad token, not a
	// missing one.
	wantError(t, ts.do("GET", "/v1/autho/me/", "", nil, "Authorization", "Bearer "), 401, "16")
	// The good token still works: the refusals above were about the tokens.
	if r := ts.do("GET", "/v1/autho/me", "", nil, "Authorization", "Bearer "+good); r.Status != 200 {
		t.Fatalf("good token refused: %s", r.Body)
	}
}
