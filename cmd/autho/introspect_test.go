package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testIntrospectionSecret = "a-test-introspection-secret-of-32+-chars"

// introspect asks the server about token as another API would.
func (ts *testServer) introspect(token, auth string) *response {
	ts.t.Helper()
	form := url.Values{"token": {token}}.Encode()
	var h []string
	if auth != "" {
		h = []string{"Authorization", auth}
	}
	return ts.do("POST", "/v1/autho/token/introspect/", "application/x-www-form-urlencoded", strings.NewReader(form), h...)
}

// TestIntrospect (AC4): active with the claims for a good token; exactly
// {"active":false} once its API token is revoked or expired, its user
// deactivated, its account suspended or expired; 401 without the caller
// secret; 404 while the secret is unset.
func TestIntrospect(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_INTROSPECTION_SECRET": testIntrospectionSecret})
	auth := "Bearer " + testIntrospectionSecret

	t.Run("good token: active, with its claims", func(t *testing.T) {
		p := ts.newPartner()
		scoped := ts.newToken(p.Email, "--scope", "orders:read")
		res := ts.login(scoped.APIToken, p.PartnerToken)
		jwt := wantSuccess(t, res)
		claims := payloadOf(t, jwt)
		for _, r := range []*response{
			ts.introspect(jwt, auth),
			ts.do("POST", "/v1/autho/token/introspect", "application/json",
				bytes.NewReader(mustJSONBytes(t, map[string]string{"token": jwt})), "Authorization", auth),
		} {
			if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
			}
			var got map[string]any
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"active": true, "token_type": "Bearer", "scope": "orders:read",
				"iss": ts.url, "sub": p.UserID, "aud": "autho", "acc": p.AccountID, "tok": scoped.TokenID,
				"exp": claims["exp"], "iat": claims["iat"], "nbf": claims["nbf"], "jti": claims["jti"],
			}
			if !bytes.Equal(mustJSONBytes(t, got), mustJSONBytes(t, want)) {
				t.Fatalf("answer %s\nwant   %s", mustJSONBytes(t, got), mustJSONBytes(t, want))
			}
		}
	})

	for _, tc := range []struct {
		name  string
		apply func(p partner)
	}{
		{"API token revoked", func(p partner) { ts.mustCLI(nil, "token", "revoke", p.TokenID) }},
		{"API token expired", func(p partner) { ts.expireToken(p.TokenID) }},
		{"user deactivated", func(p partner) { ts.mustCLI(nil, "user", "deactivate", "--email", p.Email) }},
		{"account suspended", func(p partner) { ts.mustCLI(nil, "account", "suspend", p.AccountID) }},
		{"account expired", func(p partner) { ts.expireAccount(p.AccountID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ts.newPartner()
			jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
			if r := ts.introspect(jwt, auth); r.Status != 200 || !strings.HasPrefix(string(r.Body), `{"active":true,`) {
				t.Fatalf("before: %d %s", r.Status, r.Body)
			}
			tc.apply(p)
			wantInactive(t, ts.introspect(jwt, auth))
		})
	}

	t.Run("not a token of this server", func(t *testing.T) {
		other := startServer(t, nil)
		op := other.newPartner()
		foreign := wantSuccess(t, other.login(op.APIToken, op.PartnerToken))
		for _, tok := range []string{foreign, "garbage", ""} {
			wantInactive(t, ts.introspect(tok, auth))
		}
	})

	t.Run("caller without the secret", func(t *testing.T) {
		p := ts.newPartner()
		jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
		for _, tc := range []struct {
			auth string
			code string
		}{
			{"", "15"},
			{"Basic " + testIntrospectionSecret, "15"},
			{"Bearer wrong-secret", "16"},
			{"Bearer " + jwt, "16"}, // a partner's JWT is no caller secret
		} {
			r := ts.introspect(jwt, tc.auth)
			wantError(t, r, 401, tc.code)
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("401 without WWW-Authenticate")
			}
		}
	})

	t.Run("secret unset: 404", func(t *testing.T) {
		off := startServer(t, nil)
		p := off.newPartner()
		jwt := wantSuccess(t, off.login(p.APIToken, p.PartnerToken))
		for _, a := range []string{"", auth} {
			wantError(t, off.introspect(jwt, a), 404, "12")
		}
		wantError(t, off.do("GET", "/v1/autho/token/introspect/", "", nil), 404, "12")
	})
}

func wantInactive(t *testing.T, r *response) {
	t.Helper()
	if r.Status != 200 || string(bytes.TrimSpace(r.Body)) != `{"active":false}` {
		t.Fatalf("got %d %s, want 200 {\"active\":false}", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}
}

// The log never carries the token or the caller secret.
func TestIntrospect_logsNoSecret(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_INTROSPECTION_SECRET": testIntrospectionSecret})
	p := ts.newPartner()
	jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	ts.introspect(jwt, "Bearer "+testIntrospectionSecret)
	ts.introspect(jwt, "Bearer wrong")
	// The request line is written just after the answer.
	waitUntil(t, 5*time.Second, "both introspection requests in the log", func() bool {
		return strings.Count(ts.log.String(), `"route":"/v1/autho/token/introspect/"`) == 2
	})
	log := ts.log.String()
	for _, s := range []string{testIntrospectionSecret, jwt, strings.Split(jwt, ".")[2]} {
		if strings.Contains(log, s) {
			t.Fatalf("log contains a secret")
		}
	}
}

// The secrets are read from *_FILE as from their variables, and are never
// flags: a secret on the command line is visible to every local user.
func TestServe_SecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	introFile := filepath.Join(dir, "introspection-secret")
	if err := os.WriteFile(introFile, []byte(testIntrospectionSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "master-key")
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, map[string]string{"AUTHO_INTROSPECTION_SECRET_FILE": introFile, "AUTHO_MASTER_KEY_FILE": keyFile})
	if _, err := os.Stat(ts.db + ".masterkey"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a key file was written beside the database although AUTHO_MASTER_KEY_FILE gave the key: %v", err)
	}
	p := ts.newPartner()
	jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	if res := ts.introspect(jwt, "Bearer "+testIntrospectionSecret); res.Status != 200 || !strings.Contains(string(res.Body), `"active":true`) {
		t.Fatalf("introspection with the secret from the file: %d %s", res.Status, res.Body)
	}

	for _, flag := range []string{"--master-key=" + testIntrospectionSecret, "--introspection-secret=" + testIntrospectionSecret} {
		var out, errb bytes.Buffer
		code := run(t.Context(), []string{"serve", "--db", filepath.Join(dir, "x.db"), flag}, strings.NewReader(""), &out, &errb, func(string) string { return "" })
		if code != 2 || !strings.Contains(errb.String(), "unknown flag") || strings.Contains(errb.String(), testIntrospectionSecret) {
			t.Errorf("serve %s: exit %d, %q; want a usage error that does not repeat the value", strings.SplitN(flag, "=", 2)[0], code, errb.String())
		}
	}
}
