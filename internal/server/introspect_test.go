package server

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/introspect"
)

const introspectionSecret = "introspection secret, 32 characters or more"

var hsKey = []byte("an hs256 secret of at least thirty-two bytes")

// stateStore is one API token, user and account, all active unless the
// test says otherwise.
type stateStore struct {
	revoked bool
	down    bool
}

func (s *stateStore) APIToken(_ context.Context, id string) (*autho.APIToken, error) {
	if s.down {
		return nil, fmt.Errorf("dial: %w", autho.ErrUnavailable)
	}
	t := &autho.APIToken{ID: id, UserID: "usr_1", AccountID: "acc_1", ExpiresAt: time.Now().Add(time.Hour)}
	if s.revoked {
		t.RevokedAt = time.Now()
	}
	return t, nil
}

func (s *stateStore) User(_ context.Context, id string) (*autho.User, error) {
	return &autho.User{ID: id, AccountID: "acc_1", Active: true}, nil
}

func (s *stateStore) Account(_ context.Context, id string) (*autho.Account, error) {
	return &autho.Account{ID: id, Status: autho.AccountActive, ExpiresAt: time.Now().Add(time.Hour)}, nil
}

func introspectionServer(t *testing.T, st *stateStore) *Server {
	t.Helper()
	v, err := bearer.New(bearer.Config{Issuer: "https://auth.example", Audience: "autho", Keys: bearer.StaticSecret(hsKey), Algorithms: []string{bearer.HS256}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := introspect.New(st, v, introspect.Config{Secret: introspectionSecret})
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{}, Deps{Introspection: svc})
}

func hsToken(t *testing.T) (string, jwt.MapClaims) {
	t.Helper()
	now := time.Now().Unix()
	c := jwt.MapClaims{
		"iss": "https://auth.example", "aud": "autho", "sub": "usr_1", "acc": "acc_1", "tok": "tok_1",
		"jti": "j1", "iat": now, "nbf": now, "exp": now + 3600,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(hsKey)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func TestServer_handleIntrospect(t *testing.T) {
	good, claims := hsToken(t)
	activeBody := fmt.Sprintf(`{"active":true,"token_type":"Bearer","iss":"https://auth.example","sub":"usr_1","aud":"autho","exp":%d,"iat":%d,"nbf":%d,"jti":"j1","acc":"acc_1","tok":"tok_1"}`,
		claims["exp"], claims["iat"], claims["nbf"])
	const inactiveBody = `{"active":false}`
	envelope := func(code, msg string) string {
		return `{"data":{"message":"` + msg + `"},"meta":{},"result":"` + code + `","status":"ERROR"}`
	}
	auth := "Bearer " + introspectionSecret
	for _, tc := range []struct {
		name        string
		store       *stateStore // nil: the secret is unset
		method      string
		path        string
		contentType string
		auth        string
		body        string
		status      int
		want        string
		challenge   string
	}{
		{name: "secret unset", method: "POST", body: "token=" + good, auth: auth, status: 404, want: envelope("12", "Not found")},
		{name: "secret unset, GET", method: "GET", auth: auth, status: 404, want: envelope("12", "Not found")},
		{name: "active, form", store: &stateStore{}, body: "token=" + good, auth: auth, status: 200, want: activeBody},
		{name: "active, JSON", store: &stateStore{}, contentType: "application/json", body: `{"token":"` + good + `"}`, auth: auth, status: 200, want: activeBody},
		{name: "active, no trailing slash", store: &stateStore{}, path: "/v1/autho/token/introspect", body: "token=" + good, auth: auth, status: 200, want: activeBody},
		{name: "revoked", store: &stateStore{revoked: true}, body: "token=" + good, auth: auth, status: 200, want: inactiveBody},
		{name: "garbage token", store: &stateStore{}, body: "token=garbage", auth: auth, status: 200, want: inactiveBody},
		{name: "empty token", store: &stateStore{}, body: "token=", auth: auth, status: 200, want: inactiveBody},
		{name: "no caller secret", store: &stateStore{}, body: "token=" + good, status: 401, want: envelope("15", "Authentication credentials were not provided."), challenge: `Bearer realm="autho"`},
		{name: "Basic caller", store: &stateStore{}, body: "token=" + good, auth: "Basic " + introspectionSecret, status: 401, want: envelope("15", "Authentication credentials were not provided."), challenge: `Bearer realm="autho"`},
		{name: "wrong caller secret", store: &stateStore{}, body: "token=" + good, auth: auth + "x", status: 401, want: envelope("16", "Invalid or expired token"), challenge: `Bearer realm="autho", error="invalid_token"`},
		{name: "the token itself as caller", store: &stateStore{}, body: "token=" + good, auth: "Bearer " + good, status: 401, want: envelope("16", "Invalid or expired token"), challenge: `Bearer realm="autho", error="invalid_token"`},
		{name: "no token field", store: &stateStore{}, body: "tok=" + good, auth: auth, status: 400, want: envelope("08", "Malformed request body")},
		{name: "other content type", store: &stateStore{}, contentType: "text/plain", body: good, auth: auth, status: 415, want: envelope("13", "Unsupported media type")},
		{name: "body too large", store: &stateStore{}, body: "token=" + strings.Repeat("a", 65<<10), auth: auth, status: 413, want: envelope("11", "Request body too large")},
		{name: "GET", store: &stateStore{}, method: "GET", auth: auth, status: 405, want: envelope("10", "Method not allowed")},
		{name: "store down", store: &stateStore{down: true}, body: "token=" + good, auth: auth, status: 503, want: envelope("14", "Service unavailable")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{}, Deps{})
			if tc.store != nil {
				s = introspectionServer(t, tc.store)
			}
			method, path, ct := tc.method, tc.path, tc.contentType
			if method == "" {
				method = "POST"
			}
			if path == "" {
				path = "/v1/autho/token/introspect/"
			}
			if ct == "" && method == "POST" {
				ct = "application/x-www-form-urlencoded"
			}
			r := httptest.NewRequest(method, path, strings.NewReader(tc.body))
			if ct != "" {
				r.Header.Set("Content-Type", ct)
			}
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != tc.status || strings.TrimSpace(w.Body.String()) != tc.want {
				t.Fatalf("got %d %s\nwant %d %s", w.Code, w.Body, tc.status, tc.want)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.store != nil && tc.status != 405 {
				if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", cc)
				}
			}
		})
	}
}
