package server

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/introspect"
)

// /v1/autho/me/ answers from the signature and the current state: a JWT
// of a revoked token is 16, a store that cannot be read 14 (no verdict on
// the token), and a server built without a state checker refuses rather
// than answers from the signature alone.
func TestServer_handleMe(t *testing.T) {
	good, _ := hsToken(t)
	envelope := func(code, msg string) string {
		return `{"data":{"message":"` + msg + `"},"meta":{},"result":"` + code + `","status":"ERROR"}`
	}
	v, err := bearer.New(bearer.Config{Issuer: "https://auth.example", Audience: "autho", Keys: bearer.StaticSecret(hsKey), Algorithms: []string{bearer.HS256}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		store     *stateStore // nil: no Deps.State
		status    int
		want      string // a prefix of the body
		challenge string
		retry     string
	}{
		{name: "usable", store: &stateStore{}, status: 200, want: `{"data":{"message":"Success","user_id":"usr_1"`},
		{name: "revoked", store: &stateStore{revoked: true}, status: 401, want: envelope("16", "Invalid or expired token"),
			challenge: `Bearer realm="autho", error="invalid_token"`},
		{name: "store down", store: &stateStore{down: true}, status: 503, want: envelope("14", "Service unavailable"), retry: "5"},
		{name: "no state checker", status: 500, want: envelope("99", "Internal error")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deps := Deps{Bearer: v}
			if tc.store != nil {
				deps.State = introspect.NewState(tc.store, nil)
			}
			r := httptest.NewRequest("GET", "/v1/autho/me/", nil)
			r.Header.Set("Authorization", "Bearer "+good)
			w := httptest.NewRecorder()
			New(Config{}, deps).ServeHTTP(w, r)
			if w.Code != tc.status || !strings.HasPrefix(w.Body.String(), tc.want) {
				t.Fatalf("got %d %s\nwant %d %s", w.Code, w.Body, tc.status, tc.want)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Fatalf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			if got := w.Header().Get("Retry-After"); got != tc.retry {
				t.Fatalf("Retry-After %q, want %q", got, tc.retry)
			}
		})
	}
}
