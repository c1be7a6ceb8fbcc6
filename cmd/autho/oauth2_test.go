package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/autho/autho"
)

// basicAuth is client_secret_basic as RFC 6749 §2.3.1 writes it: each part
// form-urlencoded, then joined by ":" and base64-encoded.
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// tokenRequest posts form to the OAuth2 token endpoint, with the
// Authorization header auth when it is not empty.
func (ts *testServer) tokenRequest(form url.Values, auth string) *response {
	ts.t.Helper()
	var h []string
	if auth != "" {
		h = []string{"Authorization", auth}
	}
	return ts.do("POST", "/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), h...)
}

// wantOAuthError asserts an RFC 6749 §5.2 answer: status, error, the exact
// description, and nothing else in the body.
func wantOAuthError(t *testing.T, r *response, status int, code, description string) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("%d, body not JSON: %s", r.Status, r.Body)
	}
	if _, ok := got["access_token"]; ok {
		got["access_token"] = "<a JWT>" // not printed below
	}
	want := map[string]any{"error": code, "error_description": description}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if r.Status != status || !bytes.Equal(gotJSON, wantJSON) {
		t.Fatalf("got %d %s, want %d %s", r.Status, gotJSON, status, wantJSON)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	// RFC 6749 §5.2 allows %x20-21 / %x23-5B / %x5D-7E in a description.
	// The contract's 01 message has quotes: the contract wins there.
	for _, c := range description {
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') && description != autho.ErrMissingTokens.Message {
			t.Fatalf("description %q has %q, which RFC 6749 §5.2 does not allow", description, c)
		}
	}
	if c := r.Header.Get("WWW-Authenticate"); c != "" && status != 401 {
		t.Fatalf("WWW-Authenticate %q on a %d", c, status)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}
}

// claimsBut is a JWT's claims without those that differ between any two
// JWTs of one token (times and id).
func claimsBut(t *testing.T, jwt string) map[string]any {
	t.Helper()
	c := jwtClaims(t, jwt)
	for _, k := range []string{"iat", "nbf", "exp", "jti"} {
		delete(c, k)
	}
	return c
}

// lifetime is a JWT's exp − iat, in seconds.
func lifetime(t *testing.T, jwt string) int64 {
	t.Helper()
	c := jwtClaims(t, jwt)
	exp, _ := c["exp"].(float64)
	iat, _ := c["iat"].(float64)
	return int64(exp - iat)
}

// TestOAuth2_ClientCredentials: an unmodified golang.org/x/oauth2
// clientcredentials client, with either way of sending its credentials,
// gets a JWT equal to a login's (but for times and id) and calls the
// reference API with it; a narrower scope is granted, a wider one refused.
func TestOAuth2_ClientCredentials(t *testing.T) { forEachBackend(t, testOAuth2ClientCredentials) }

func testOAuth2ClientCredentials(t *testing.T, b backend) {
	ts := startServerOn(t, b, nil)
	p := ts.newPartner()
	scoped := ts.newToken(p.Email, "--scope", "orders:read", "--scope", "orders:write")
	for _, style := range []struct {
		name  string
		style oauth2.AuthStyle
	}{{"client_secret_basic", oauth2.AuthStyleInHeader}, {"client_secret_post", oauth2.AuthStyleInParams}} {
		t.Run(style.name, func(t *testing.T) {
			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, client)
			cfg := clientcredentials.Config{
				ClientID:     p.PartnerToken,
				ClientSecret: scoped.APIToken,
				TokenURL:     ts.url + "/oauth2/token",
				AuthStyle:    style.style,
			}
			tok, err := cfg.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			leaks.add(tok.AccessToken)
			if tok.TokenType != "Bearer" || tok.Extra("scope") != "orders:read orders:write" {
				t.Fatalf("token type %q, scope %v", tok.TokenType, tok.Extra("scope"))
			}
			loginJWT := wantSuccess(t, ts.login(scoped.APIToken, p.PartnerToken))
			got, want := claimsBut(t, tok.AccessToken), claimsBut(t, loginJWT)
			if gj, wj := mustJSON(got), mustJSON(want); gj != wj {
				t.Fatalf("claims %s, a login's %s", gj, wj)
			}
			if a, l := lifetime(t, tok.AccessToken), lifetime(t, loginJWT); a != l || a != 24*3600 {
				t.Fatalf("exp − iat %d, a login's %d", a, l)
			}
			if d := time.Until(tok.Expiry); d < 24*time.Hour-time.Minute || d > 24*time.Hour {
				t.Fatalf("expires in %v", d)
			}

			// The library's own client sends the bearer to the reference API.
			res, err := cfg.Client(ctx).Get(ts.url + "/v1/autho/me/")
			if err != nil {
				t.Fatal(err)
			}
			var me struct{ Data map[string]any }
			json.NewDecoder(res.Body).Decode(&me)
			res.Body.Close()
			if res.StatusCode != 200 || me.Data["user_id"] != p.UserID || me.Data["token_id"] != scoped.TokenID {
				t.Fatalf("/me: %d %v", res.StatusCode, me.Data)
			}

			narrow := cfg
			narrow.Scopes = []string{"orders:read"}
			tok, err = narrow.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			leaks.add(tok.AccessToken)
			if c := jwtClaims(t, tok.AccessToken); c["scope"] != "orders:read" || tok.Extra("scope") != "orders:read" {
				t.Fatalf("narrowed: claim %v, answer %v", c["scope"], tok.Extra("scope"))
			}

			wide := cfg
			wide.Scopes = []string{"orders:read", "orders:delete"}
			_, err = wide.Token(ctx)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_scope" || re.Response.StatusCode != 400 {
				t.Fatalf("wider scope: %v, want invalid_scope", err)
			}
		})
	}

	t.Run("answer", func(t *testing.T) {
		// The exact answer, read without a library: headers, fields, and
		// no scope for a token without any.
		r := ts.tokenRequest(url.Values{"grant_type": {"client_credentials"}}, basicAuth(p.PartnerToken, p.APIToken))
		if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" ||
			r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
		}
		var ans map[string]json.RawMessage
		if err := json.Unmarshal(r.Body, &ans); err != nil {
			t.Fatal(err)
		}
		var jwt string
		json.Unmarshal(ans["access_token"], &jwt)
		leaks.add(jwt)
		keys := make([]string, 0, len(ans))
		for k := range ans {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if strings.Join(keys, " ") != "access_token expires_in token_type" || string(ans["token_type"]) != `"Bearer"` {
			t.Fatalf("answer %s", r.Body)
		}
		if string(ans["expires_in"]) != "86400" || lifetime(t, jwt) != 86400 {
			t.Fatalf("expires_in %s, JWT lifetime %d", ans["expires_in"], lifetime(t, jwt))
		}
		if c := jwtClaims(t, jwt); c["sub"] != p.UserID || c["tok"] != p.TokenID || c["scope"] != nil {
			t.Fatalf("claims %v", c)
		}
	})

	t.Run("last used", func(t *testing.T) {
		// The login's own last-used record: a token used only here.
		fresh := ts.newToken(p.Email)
		r := ts.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_id": {p.PartnerToken}, "client_secret": {fresh.APIToken}}, "")
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		st := ts.store()
		for i := 0; ; i++ {
			tk, err := st.APIToken(context.Background(), fresh.TokenID)
			if err != nil {
				t.Fatal(err)
			}
			if !tk.LastUsedAt.IsZero() {
				if tk.LastUsedIP != "127.0.0.1" {
					t.Fatalf("last used from %q", tk.LastUsedIP)
				}
				break
			}
			if i == 200 {
				t.Fatal("last use not recorded within 10 s")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestOAuth2_ErrorTable: every refusal of the login's table is
// invalid_client with the contract's message (with the Basic challenge
// exactly when Basic was used); the bridge's own refusals have theirs.
func TestOAuth2_ErrorTable(t *testing.T) { forEachBackend(t, testOAuth2ErrorTable) }

func testOAuth2ErrorTable(t *testing.T, b backend) {
	ts := startServerOn(t, b, map[string]string{"AUTHO_INTROSPECTION_SECRET": "s3cret-for-introspection-tests-0123456789"})
	good := ts.newPartner()
	other := ts.newPartner()
	expiredAcc := ts.newPartner()
	ts.expireAccount(expiredAcc.AccountID)
	suspended := ts.newPartner()
	ts.mustCLI(nil, "account", "suspend", suspended.AccountID)
	revoked := ts.newToken(good.Email)
	ts.mustCLI(nil, "token", "revoke", revoked.TokenID)
	expiredTok := ts.newToken(good.Email)
	ts.expireToken(expiredTok.TokenID)
	deactivated := ts.newPartner()
	ts.mustCLI(nil, "user", "deactivate", "--email", deactivated.Email)
	unknownPtn := "autho_ptn_" + strings.Repeat("A", 30)
	unknownPtn += checksumOf(unknownPtn)

	refusals := []struct {
		name     string
		ptn, api string
		want     *autho.Error
	}{
		{"02 unknown partner token", unknownPtn, good.APIToken, autho.ErrInvalidPartnerToken},
		{"02 malformed partner token", "nope", good.APIToken, autho.ErrInvalidPartnerToken},
		{"03 expired account", expiredAcc.PartnerToken, expiredAcc.APIToken, autho.ErrAccountExpired},
		{"07 suspended account", suspended.PartnerToken, suspended.APIToken, autho.ErrInvalidUser},
		{"04 unknown API token", good.PartnerToken, "autho_api_short", autho.ErrInvalidAPIToken},
		{"04 revoked API token", good.PartnerToken, revoked.APIToken, autho.ErrInvalidAPIToken},
		{"06 token of another account", good.PartnerToken, other.APIToken, autho.ErrWrongAccount},
		{"05 expired API token", good.PartnerToken, expiredTok.APIToken, autho.ErrAPITokenExpired},
		{"07 deactivated user", deactivated.PartnerToken, deactivated.APIToken, autho.ErrInvalidUser},
		{"01 no secret", good.PartnerToken, "", autho.ErrMissingTokens},
		{"01 no client id", "", good.APIToken, autho.ErrMissingTokens},
	}
	grant := url.Values{"grant_type": {"client_credentials"}}
	for _, tc := range refusals {
		t.Run(tc.name+", basic", func(t *testing.T) {
			r := ts.tokenRequest(grant, basicAuth(tc.ptn, tc.api))
			wantOAuthError(t, r, 401, "invalid_client", tc.want.Message)
			if got := r.Header.Get("WWW-Authenticate"); got != `Basic realm="autho"` {
				t.Fatalf("WWW-Authenticate %q", got)
			}
		})
		t.Run(tc.name+", post", func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}}
			if tc.ptn != "" {
				form.Set("client_id", tc.ptn)
			}
			if tc.api != "" {
				form.Set("client_secret", tc.api)
			}
			r := ts.tokenRequest(form, "")
			wantOAuthError(t, r, 401, "invalid_client", tc.want.Message)
			if got := r.Header.Get("WWW-Authenticate"); got != "" {
				t.Fatalf("WWW-Authenticate %q without Basic", got)
			}
		})
	}

	both := url.Values{"grant_type": {"client_credentials"}, "client_id": {good.PartnerToken}}
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		auth        string
		status      int
		code        string
		description string
	}{
		{"no credentials at all", "", grant.Encode(), "", 401, "invalid_client", autho.ErrMissingTokens.Message},
		{"a bearer is no client authentication", "", grant.Encode(), "Bearer x", 401, "invalid_client", autho.ErrMissingTokens.Message},
		{"malformed form", "", "grant_type=client_credentials&%zz", basicAuth(good.PartnerToken, good.APIToken), 400, "invalid_request", autho.ErrMalformedBody.Message},
		{"a parameter twice", "", "grant_type=client_credentials&grant_type=client_credentials", basicAuth(good.PartnerToken, good.APIToken), 400, "invalid_request", autho.ErrMalformedBody.Message},
		{"JSON", "application/json", `{"grant_type":"client_credentials"}`, basicAuth(good.PartnerToken, good.APIToken), 400, "invalid_request", "Body must be application/x-www-form-urlencoded"},
		{"no grant_type", "", "scope=orders:read", basicAuth(good.PartnerToken, good.APIToken), 400, "invalid_request", "Must include grant_type"},
		{"another grant", "", "grant_type=password", basicAuth(good.PartnerToken, good.APIToken), 400, "unsupported_grant_type", "Only client_credentials is supported"},
		{"credentials twice", "", both.Encode(), basicAuth(good.PartnerToken, good.APIToken), 400, "invalid_request", "Client credentials given both in the Authorization header and in the body"},
		{"malformed Basic", "", grant.Encode(), "Basic !!!", 400, "invalid_request", "Malformed Authorization header"},
		{"a scope the token lacks", "", "grant_type=client_credentials&scope=orders:read", basicAuth(good.PartnerToken, good.APIToken), 400, "invalid_scope", "Scope not granted to the API token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			var h []string
			if tc.auth != "" {
				h = []string{"Authorization", tc.auth}
			}
			r := ts.do("POST", "/oauth2/token", ct, strings.NewReader(tc.body), h...)
			wantOAuthError(t, r, tc.status, tc.code, tc.description)
		})
	}

	t.Run("405 keeps the envelope", func(t *testing.T) {
		r := ts.do("GET", "/oauth2/token", "", nil)
		wantError(t, r, 405, "10")
		if r.Header.Get("Allow") != "POST" {
			t.Fatalf("Allow %q", r.Header.Get("Allow"))
		}
	})

	t.Run("metadata", func(t *testing.T) {
		wantASMetadata(t, ts, true)
	})
}

// wantASMetadata checks the RFC 8414 document: its required fields, an
// issuer that is the configured one (https or, here, loopback http; no
// query or fragment), endpoints under it, and introspection's presence.
func wantASMetadata(t *testing.T, ts *testServer, introspection bool) {
	t.Helper()
	r := ts.do("GET", "/.well-known/oauth-authorization-server", "", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	var md map[string]any
	if err := json.Unmarshal(r.Body, &md); err != nil {
		t.Fatal(err)
	}
	iss, _ := md["issuer"].(string)
	u, err := url.Parse(iss)
	if err != nil || iss != ts.url || u.RawQuery != "" || u.Fragment != "" || strings.Contains(iss, "#") || u.Host == "" {
		t.Fatalf("issuer %q, want %q without query or fragment", iss, ts.url)
	}
	under := func(field, path string) {
		t.Helper()
		if s, _ := md[field].(string); s != iss+path {
			t.Fatalf("%s %q, want %q", field, s, iss+path)
		}
	}
	under("token_endpoint", "/oauth2/token")
	under("jwks_uri", "/.well-known/jwks.json")
	list := func(field string, want ...string) {
		t.Helper()
		if got := mustJSON(md[field]); got != mustJSON(want) {
			t.Fatalf("%s %s, want %s", field, got, mustJSON(want))
		}
	}
	list("grant_types_supported", "client_credentials")
	list("token_endpoint_auth_methods_supported", "client_secret_basic", "client_secret_post")
	list("response_types_supported", "token") // RFC 8414 §2: REQUIRED
	if introspection {
		under("introspection_endpoint", "/v1/autho/token/introspect/")
	} else if _, ok := md["introspection_endpoint"]; ok {
		t.Fatalf("introspection_endpoint while introspection is off: %s", r.Body)
	}
	// The OpenID document names the same token endpoint.
	var disc map[string]any
	json.Unmarshal(ts.do("GET", "/.well-known/openid-configuration", "", nil).Body, &disc)
	if disc["token_endpoint"] != md["token_endpoint"] || disc["issuer"] != iss {
		t.Fatalf("openid-configuration %v", disc)
	}
	// And a token endpoint found through the document works.
	if r := ts.do("POST", strings.TrimPrefix(md["token_endpoint"].(string), ts.url), "application/x-www-form-urlencoded",
		strings.NewReader("grant_type=client_credentials")); r.Status != 401 {
		t.Fatalf("token endpoint of the document: %d", r.Status)
	}
}

// TestOAuth2_Metadata: without introspection the document does not name it.
func TestOAuth2_Metadata(t *testing.T) {
	ts := startServer(t, nil)
	wantASMetadata(t, ts, false)
}

// TestOAuth2_RateLimit: refusals through the token endpoint spend the same
// buckets as the login's: once spent, the token endpoint answers 429
// temporarily_unavailable with Retry-After, and so does the login, and a
// correct token request too. 400 answers spend nothing.
func TestOAuth2_RateLimit(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_LOGIN_FAILURES_PER_MINUTE": "3"})
	p := ts.newPartner()
	grant := url.Values{"grant_type": {"client_credentials"}}
	// 400s do not count, as for the login.
	for range 5 {
		wantOAuthError(t, ts.tokenRequest(url.Values{"grant_type": {"password"}}, basicAuth(p.PartnerToken, p.APIToken)),
			400, "unsupported_grant_type", "Only client_credentials is supported")
	}
	// One refusal by the login, two by the token endpoint: the bucket of
	// three is spent.
	wantError(t, ts.login("autho_api_x", "autho_ptn_x"), 401, "02")
	for range 2 {
		wantOAuthError(t, ts.tokenRequest(grant, basicAuth("autho_ptn_x", "autho_api_x")), 401, "invalid_client", autho.ErrInvalidPartnerToken.Message)
	}
	r := ts.tokenRequest(grant, basicAuth(p.PartnerToken, p.APIToken))
	wantOAuthError(t, r, 429, "temporarily_unavailable", autho.ErrTooManyRequests.Message)
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	l := ts.login(p.APIToken, p.PartnerToken)
	wantError(t, l, 429, "09")

	// And the other way round, on a server of its own: the login's
	// refusals spend the token endpoint's bucket.
	ts2 := startServer(t, map[string]string{"AUTHO_LOGIN_FAILURES_PER_MINUTE": "2"})
	p2 := ts2.newPartner()
	for range 2 {
		wantError(t, ts2.login("autho_api_x", p2.PartnerToken), 401, "04")
	}
	wantOAuthError(t, ts2.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_id": {p2.PartnerToken}, "client_secret": {p2.APIToken}}, ""),
		429, "temporarily_unavailable", autho.ErrTooManyRequests.Message)
}

// TestOAuth2_Metrics: the logins counter tells the two endpoints apart.
func TestOAuth2_Metrics(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	grant := url.Values{"grant_type": {"client_credentials"}}
	for range 2 {
		if r := ts.tokenRequest(grant, basicAuth(p.PartnerToken, p.APIToken)); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	ts.tokenRequest(grant, basicAuth("nope", p.APIToken))
	ts.tokenRequest(url.Values{"grant_type": {"password"}}, "")
	body := string(ts.do("GET", "/metrics", "", nil).Body)
	for _, line := range []string{
		`autho_logins_total{endpoint="login",result="00"} 1`,
		`autho_logins_total{endpoint="oauth2",result="00"} 2`,
		`autho_logins_total{endpoint="oauth2",result="02"} 1`,
		`autho_logins_total{endpoint="oauth2",result="unsupported_grant_type"} 1`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	if strings.Contains(body, p.PartnerToken) || strings.Contains(body, p.APIToken) {
		t.Error("/metrics holds a secret")
	}
}
