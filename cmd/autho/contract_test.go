package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLogin_ErrorTable walks every row of the contract's error table, and
// combinations of failing conditions that prove the table's order: the first
// failing row answers. It runs on each backend.
func TestLogin_ErrorTable(t *testing.T) { forEachBackend(t, testLoginErrorTable) }

func testLoginErrorTable(t *testing.T, b backend) {
	ts := startServerOn(t, b, nil)
	good := ts.newPartner()
	other := ts.newPartner()

	expiredAcc := ts.newPartner()
	ts.expireAccount(expiredAcc.AccountID)

	suspended := ts.newPartner()
	ts.mustCLI(nil, "account", "suspend", suspended.AccountID)

	suspendedExpired := ts.newPartner()
	ts.mustCLI(nil, "account", "suspend", suspendedExpired.AccountID)
	ts.expireAccount(suspendedExpired.AccountID)

	revoked := ts.newToken(good.Email)
	ts.mustCLI(nil, "token", "revoke", revoked.TokenID)

	expiredTok := ts.newToken(good.Email)
	ts.expireToken(expiredTok.TokenID)

	otherExpiredTok := ts.newToken(other.Email)
	ts.expireToken(otherExpiredTok.TokenID)

	otherRevokedTok := ts.newToken(other.Email)
	ts.mustCLI(nil, "token", "revoke", otherRevokedTok.TokenID)

	deactivated := ts.newPartner()
	ts.mustCLI(nil, "user", "deactivate", "--email", deactivated.Email)
	deactivatedExpiredTok := ts.newToken(deactivated.Email)
	ts.expireToken(deactivatedExpiredTok.TokenID)

	rotated := ts.newPartner()
	ts.mustCLI(nil, "account", "rotate-partner-token", rotated.AccountID)

	flip := func(s string) string { // one wrong checksum character
		last := s[len(s)-1]
		if last == 'a' {
			last = 'b'
		} else {
			last = 'a'
		}
		return s[:len(s)-1] + string(last)
	}
	unknownAPI := "autho_api_" + strings.Repeat("A", 30)
	unknownAPI = unknownAPI + checksumOf(unknownAPI)
	unknownPtn := "autho_ptn_" + strings.Repeat("A", 30)
	unknownPtn = unknownPtn + checksumOf(unknownPtn)

	tests := []struct {
		name     string
		api, ptn string
		status   int
		code     string
	}{
		{"02 partner token malformed", good.APIToken, "nope", 401, "02"},
		{"02 partner token bad checksum", good.APIToken, flip(good.PartnerToken), 401, "02"},
		{"02 partner token unknown", good.APIToken, unknownPtn, 401, "02"},
		{"02 API token in the partner field", good.APIToken, good.APIToken, 401, "02"},
		{"02 rotated-out partner token", rotated.APIToken, rotated.PartnerToken, 401, "02"},
		{"03 account expired", expiredAcc.APIToken, expiredAcc.PartnerToken, 403, "03"},
		{"03 before 04: expired account, unknown API token", unknownAPI, expiredAcc.PartnerToken, 403, "03"},
		{"03 before 07: expired and suspended", suspendedExpired.APIToken, suspendedExpired.PartnerToken, 403, "03"},
		{"07 account suspended", suspended.APIToken, suspended.PartnerToken, 403, "07"},
		{"07 before 04: suspended, malformed API token", "x", suspended.PartnerToken, 403, "07"},
		{"04 API token malformed", "autho_api_short", good.PartnerToken, 401, "04"},
		{"04 API token bad checksum", flip(good.APIToken), good.PartnerToken, 401, "04"},
		{"04 API token unknown", unknownAPI, good.PartnerToken, 401, "04"},
		{"04 API token revoked", revoked.APIToken, good.PartnerToken, 401, "04"},
		{"04 before 06: revoked token of another account", otherRevokedTok.APIToken, good.PartnerToken, 401, "04"},
		{"06 API token of another account", other.APIToken, good.PartnerToken, 401, "06"},
		{"06 before 05: expired token of another account", otherExpiredTok.APIToken, good.PartnerToken, 401, "06"},
		{"05 API token expired", expiredTok.APIToken, good.PartnerToken, 401, "05"},
		{"05 before 07: expired token of a deactivated user", deactivatedExpiredTok.APIToken, deactivated.PartnerToken, 401, "05"},
		{"07 user deactivated", deactivated.APIToken, deactivated.PartnerToken, 403, "07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.login(tt.api, tt.ptn)
			wantError(t, r, tt.status, tt.code)
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("Cache-Control %q", r.Header.Get("Cache-Control"))
			}
		})
	}
	t.Run("ok", func(t *testing.T) {
		wantSuccess(t, ts.login(good.APIToken, good.PartnerToken))
	})
}

func checksumOf(head string) string {
	// The spec's checksum, computed here independently of internal/secret.
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	v := crc32IEEE([]byte(head))
	out := []byte("000000")
	for i := 5; i >= 0; i-- {
		out[i] = alphabet[v%62]
		v /= 62
	}
	return string(out)
}

// TestLogin_Bodies covers 08 and 01 and the answers outside the table.
func TestLogin_Bodies(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	form := url.Values{"api_token": {p.APIToken}, "partner_token": {p.PartnerToken}}.Encode()
	jsonBody := `{"api_token":"` + p.APIToken + `","partner_token":"` + p.PartnerToken + `"}`
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		status      int
		code        string
	}{
		{"json", "POST", "/v1/autho/apitoken/login/", "application/json", jsonBody, 200, "00"},
		{"json charset", "POST", "/v1/autho/apitoken/login/", "application/json; charset=utf-8", jsonBody, 200, "00"},
		{"no content type", "POST", "/v1/autho/apitoken/login/", "", jsonBody, 200, "00"},
		{"form", "POST", "/v1/autho/apitoken/login/", "application/x-www-form-urlencoded", form, 200, "00"},
		{"path without slash", "POST", "/v1/autho/apitoken/login", "application/json", jsonBody, 200, "00"},
		{"extra fields ignored", "POST", "/v1/autho/apitoken/login/", "application/json", `{"x":{"y":[1]},` + jsonBody[1:], 200, "00"},
		{"08 not json", "POST", "/v1/autho/apitoken/login/", "application/json", `api_token=x`, 400, "08"},
		{"08 array", "POST", "/v1/autho/apitoken/login/", "application/json", `[1]`, 400, "08"},
		{"08 empty body", "POST", "/v1/autho/apitoken/login/", "application/json", ``, 400, "08"},
		{"08 duplicate key", "POST", "/v1/autho/apitoken/login/", "application/json", `{"api_token":"a",` + jsonBody[1:], 400, "08"},
		{"08 case variant key", "POST", "/v1/autho/apitoken/login/", "application/json", `{"API_TOKEN":"a",` + jsonBody[1:], 400, "08"},
		{"08 trailing data", "POST", "/v1/autho/apitoken/login/", "application/json", jsonBody + `{}`, 400, "08"},
		{"08 invalid utf-8", "POST", "/v1/autho/apitoken/login/", "application/json", `{"x":"` + "\xff" + `",` + jsonBody[1:], 400, "08"},
		{"08 bad form", "POST", "/v1/autho/apitoken/login/", "application/x-www-form-urlencoded", "api_token=%zz", 400, "08"},
		{"08 before 01: malformed and missing", "POST", "/v1/autho/apitoken/login/", "application/json", `{"api_token":1`, 400, "08"},
		{"01 missing api_token", "POST", "/v1/autho/apitoken/login/", "application/json", `{"partner_token":"` + p.PartnerToken + `"}`, 400, "01"},
		{"01 empty partner_token", "POST", "/v1/autho/apitoken/login/", "application/json", `{"api_token":"a","partner_token":""}`, 400, "01"},
		{"01 not a string", "POST", "/v1/autho/apitoken/login/", "application/json", `{"api_token":["a"],"partner_token":"p"}`, 400, "01"},
		{"01 form missing", "POST", "/v1/autho/apitoken/login/", "application/x-www-form-urlencoded", "api_token=a", 400, "01"},
		{"415", "POST", "/v1/autho/apitoken/login/", "text/plain", jsonBody, 415, "13"},
		{"415 multipart", "POST", "/v1/autho/apitoken/login/", "multipart/form-data; boundary=x", jsonBody, 415, "13"},
		{"413", "POST", "/v1/autho/apitoken/login/", "application/json", `{"x":"` + strings.Repeat("a", 64<<10) + `"}`, 413, "11"},
		{"405 GET", "GET", "/v1/autho/apitoken/login/", "", "", 405, "10"},
		{"405 PUT without slash", "PUT", "/v1/autho/apitoken/login", "application/json", jsonBody, 405, "10"},
		{"404", "GET", "/v1/nothing", "", "", 404, "12"},
		{"404 below login", "POST", "/v1/autho/apitoken/login/x", "application/json", jsonBody, 404, "12"},
		{"404 unknown path", "GET", "/nope", "", "", 404, "12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do(tt.method, tt.path, tt.contentType, strings.NewReader(tt.body))
			if tt.code == "00" {
				wantSuccess(t, r)
				return
			}
			wantError(t, r, tt.status, tt.code)
			if tt.status == 405 && r.Header.Get("Allow") != "POST" {
				t.Fatalf("Allow %q", r.Header.Get("Allow"))
			}
		})
	}
}

var expiresOnRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$`)

// TestLogin_Success checks the success envelope exactly: its keys and
// types, the expires_on format in the configured zone, and its agreement
// with the JWT's claims.
func TestLogin_Success(t *testing.T) {
	for _, zone := range []struct{ name, offset string }{{"UTC", "+00:00"}, {"Asia/Kathmandu", "+05:45"}} {
		t.Run(zone.name, func(t *testing.T) {
			ts := startServer(t, map[string]string{"AUTHO_TIMEZONE": zone.name})
			p := ts.newPartner()
			before := time.Now()
			r := ts.login(p.APIToken, p.PartnerToken)
			wantSuccess(t, r)
			if got := r.Header.Get("Content-Type"); got != "application/json" {
				t.Fatalf("Content-Type %q", got)
			}
			if got := r.Header.Get("Cache-Control"); got != "no-store" {
				t.Fatalf("Cache-Control %q", got)
			}
			var env struct {
				Data   map[string]any `json:"data"`
				Meta   map[string]any `json:"meta"`
				Result string         `json:"result"`
				Status string         `json:"status"`
			}
			dec := json.NewDecoder(bytes.NewReader(r.Body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&env); err != nil {
				t.Fatalf("envelope: %v: %s", err, r.Body)
			}
			if env.Status != "OK" || env.Result != "00" || len(env.Meta) != 0 {
				t.Fatalf("envelope %s", r.Body)
			}
			keys := make([]string, 0, len(env.Data))
			for k, v := range env.Data {
				keys = append(keys, k)
				if _, ok := v.(string); !ok {
					t.Fatalf("data.%s is %T, want string", k, v)
				}
			}
			if len(keys) != 3 || env.Data["message"] != "Success" {
				t.Fatalf("data %v", env.Data)
			}
			// Key order is the contract's too.
			if !bytes.HasPrefix(r.Body, []byte(`{"data":{"message":"Success","token":"`)) ||
				!bytes.Contains(r.Body, []byte(`"meta":{},"result":"00","status":"OK"}`)) {
				t.Fatalf("order: %s", r.Body)
			}
			on := env.Data["expires_on"].(string)
			if !expiresOnRE.MatchString(on) || !strings.HasSuffix(on, zone.offset) {
				t.Fatalf("expires_on %q, want microseconds and offset %s", on, zone.offset)
			}
			exp, err := time.Parse(time.RFC3339Nano, on)
			if err != nil {
				t.Fatal(err)
			}
			claims := jwtClaims(t, env.Data["token"].(string))
			if d := exp.Sub(time.Unix(int64(claims["exp"].(float64)), 0)); d < -time.Second || d > time.Second {
				t.Fatalf("expires_on %s and exp %v differ by %s", on, claims["exp"], d)
			}
			if ttl := exp.Sub(before); ttl < 24*time.Hour-5*time.Second || ttl > 24*time.Hour+time.Second {
				t.Fatalf("lifetime %s, want 24h", ttl)
			}
			want := map[string]any{"iss": ts.url, "sub": p.UserID, "aud": "autho", "acc": p.AccountID, "tok": p.TokenID}
			for k, v := range want {
				if claims[k] != v {
					t.Fatalf("claim %s = %v, want %v (claims %v)", k, claims[k], v, claims)
				}
			}
			for _, k := range []string{"iat", "nbf", "exp", "jti"} {
				if claims[k] == nil {
					t.Fatalf("claim %s missing: %v", k, claims)
				}
			}
			if _, ok := claims["scope"]; ok {
				t.Fatalf("scope present without scopes: %v", claims)
			}
		})
	}
}

// TestLogin_Claims checks the JWT's lifetime is capped by the account's and
// the token's expiry, and that scopes are carried, on each backend (each
// stores times and scopes its own way).
func TestLogin_Claims(t *testing.T) { forEachBackend(t, testLoginClaims) }

func testLoginClaims(t *testing.T, b backend) {
	ts := startServerOn(t, b, nil)
	p := ts.newPartner()
	soon := time.Now().Add(2 * time.Hour).UTC()
	tok := ts.newToken(p.Email, "--expires-in", "2h", "--scope", "orders:read", "--scope", "orders:write")
	claims := jwtClaims(t, wantSuccess(t, ts.login(tok.APIToken, p.PartnerToken)))
	if exp := time.Unix(int64(claims["exp"].(float64)), 0); exp.After(soon.Add(time.Second)) || exp.Before(soon.Add(-10*time.Second)) {
		t.Fatalf("exp %s, want capped at the token's expiry %s", exp, soon)
	}
	if claims["scope"] != "orders:read orders:write" {
		t.Fatalf("scope %v", claims["scope"])
	}
	accSoon := time.Now().Add(3 * time.Hour).UTC().Truncate(time.Second)
	ts.mustCLI(nil, "account", "renew", p.AccountID, "--expires", accSoon.Format(time.RFC3339))
	claims = jwtClaims(t, wantSuccess(t, ts.login(p.APIToken, p.PartnerToken)))
	if exp := time.Unix(int64(claims["exp"].(float64)), 0); !exp.Equal(accSoon) {
		t.Fatalf("exp %s, want capped at the account's expiry %s", exp, accSoon)
	}
}

// TestEveryAnswerIsJSON checks Content-Type on the answers of every route.
func TestEveryAnswerIsJSON(t *testing.T) {
	ts := startServer(t, nil)
	for _, c := range []struct{ method, path string }{
		{"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/.well-known/jwks.json"},
		{"GET", "/.well-known/openid-configuration"}, {"GET", "/v1/autho/me/"}, {"DELETE", "/healthz"},
		{"GET", "/nowhere"}, {"POST", "/v1/autho/apitoken/login/"},
		{"GET", "/.well-known/oauth-authorization-server"}, {"POST", "/oauth2/token"}, {"GET", "/oauth2/token"},
	} {
		r := ts.do(c.method, c.path, "", nil)
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", c.method, c.path, ct)
		}
		if !json.Valid(r.Body) {
			t.Errorf("%s %s: body not JSON: %s", c.method, c.path, r.Body)
		}
	}
	r := ts.do("GET", "/.well-known/openid-configuration", "", nil)
	var disc map[string]any
	json.Unmarshal(r.Body, &disc)
	if disc["issuer"] != ts.url || disc["jwks_uri"] != ts.url+"/.well-known/jwks.json" {
		t.Fatalf("discovery %s", r.Body)
	}
	if r := ts.do("GET", "/healthz", "", nil); r.Status != 200 || r.result() != "00" {
		t.Fatalf("healthz %d %s", r.Status, r.Body)
	}
	if r := ts.do("GET", "/readyz", "", nil); r.Status != 200 || r.result() != "00" {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
}

// jwtClaims decodes a JWT's payload without verifying it; verification has
// tests of its own.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func jwtHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	json.Unmarshal(b, &h)
	return h
}

func crc32IEEE(b []byte) uint32 {
	// Bitwise CRC-32/IEEE, deliberately not hash/crc32, so the test checks
	// the format rather than repeating the implementation.
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for i := 0; i < 8; i++ {
			if crc&1 == 1 {
				crc = crc>>1 ^ 0xEDB88320
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}
