package introspect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
)

var (
	testNow    = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	testSecret = []byte("an hs256 secret of at least thirty-two bytes")
)

// fakeStore holds one row of each kind and can fail on demand.
type fakeStore struct {
	tokens   map[string]*autho.APIToken
	users    map[string]*autho.User
	accounts map[string]*autho.Account
	err      error
}

func get[T any](m map[string]*T, id string, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	v, ok := m[id]
	if !ok {
		return nil, fmt.Errorf("%s: %w", id, autho.ErrNotFound)
	}
	c := *v
	return &c, nil
}

func (s *fakeStore) APIToken(_ context.Context, id string) (*autho.APIToken, error) {
	return get(s.tokens, id, s.err)
}
func (s *fakeStore) User(_ context.Context, id string) (*autho.User, error) {
	return get(s.users, id, s.err)
}
func (s *fakeStore) Account(_ context.Context, id string) (*autho.Account, error) {
	return get(s.accounts, id, s.err)
}

func goodStore() *fakeStore {
	return &fakeStore{
		tokens: map[string]*autho.APIToken{"tok_1": {
			ID: "tok_1", UserID: "usr_1", AccountID: "acc_1", ExpiresAt: testNow.Add(24 * time.Hour),
		}},
		users:    map[string]*autho.User{"usr_1": {ID: "usr_1", AccountID: "acc_1", Active: true}},
		accounts: map[string]*autho.Account{"acc_1": {ID: "acc_1", Status: autho.AccountActive, ExpiresAt: testNow.Add(48 * time.Hour)}},
	}
}

func mustService(t *testing.T, st Store) *Service {
	t.Helper()
	v, err := bearer.New(bearer.Config{
		Issuer:     "https://auth.example",
		Audience:   "autho",
		Keys:       bearer.StaticSecret(testSecret),
		Algorithms: []string{bearer.HS256},
		Now:        func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(st, v, Config{Secret: "caller secret of at least 32 characters", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustToken(t *testing.T, key []byte, edits map[string]any) string {
	t.Helper()
	c := jwt.MapClaims{
		"iss": "https://auth.example", "aud": "autho", "sub": "usr_1", "acc": "acc_1", "tok": "tok_1",
		"scope": "orders:read", "jti": "j1",
		"iat": testNow.Unix(), "nbf": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix(),
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestService_Introspect(t *testing.T) {
	good := mustToken(t, testSecret, nil)
	for _, tc := range []struct {
		name    string
		token   string
		arrange func(*fakeStore)
		active  bool
	}{
		{name: "ok", token: good, active: true},
		{name: "API token revoked", token: good, arrange: func(s *fakeStore) { s.tokens["tok_1"].RevokedAt = testNow.Add(-time.Minute) }},
		{name: "API token expired", token: good, arrange: func(s *fakeStore) { s.tokens["tok_1"].ExpiresAt = testNow }},
		{name: "API token unknown", token: good, arrange: func(s *fakeStore) { delete(s.tokens, "tok_1") }},
		{name: "API token of another user", token: good, arrange: func(s *fakeStore) { s.tokens["tok_1"].UserID = "usr_2" }},
		{name: "API token of another account", token: good, arrange: func(s *fakeStore) { s.tokens["tok_1"].AccountID = "acc_2" }},
		{name: "user deactivated", token: good, arrange: func(s *fakeStore) { s.users["usr_1"].Active = false }},
		{name: "user unknown", token: good, arrange: func(s *fakeStore) { delete(s.users, "usr_1") }},
		{name: "user in another account", token: good, arrange: func(s *fakeStore) { s.users["usr_1"].AccountID = "acc_2" }},
		{name: "account suspended", token: good, arrange: func(s *fakeStore) { s.accounts["acc_1"].Status = autho.AccountSuspended }},
		{name: "account expired", token: good, arrange: func(s *fakeStore) { s.accounts["acc_1"].ExpiresAt = testNow }},
		{name: "user reactivated, JWT from before", token: good, arrange: func(s *fakeStore) { s.users["usr_1"].DeactivatedAt = testNow }},
		{name: "user reactivated, JWT from after", token: good, active: true,
			arrange: func(s *fakeStore) { s.users["usr_1"].DeactivatedAt = testNow.Add(-time.Second) }},
		{name: "account reactivated, JWT from before", token: good, arrange: func(s *fakeStore) { s.accounts["acc_1"].SuspendedAt = testNow.Add(time.Millisecond) }},
		{name: "account reactivated, JWT from after", token: good, active: true,
			arrange: func(s *fakeStore) { s.accounts["acc_1"].SuspendedAt = testNow.Add(-time.Second) }},
		{name: "account unknown", token: good, arrange: func(s *fakeStore) { delete(s.accounts, "acc_1") }},
		{name: "JWT expired", token: mustToken(t, testSecret, map[string]any{"exp": testNow.Add(-time.Hour).Unix()})},
		{name: "JWT expired within the verifier's leeway", token: mustToken(t, testSecret, map[string]any{"exp": testNow.Add(-10 * time.Second).Unix()})},
		{name: "JWT of another issuer", token: mustToken(t, testSecret, map[string]any{"iss": "https://evil.example"})},
		{name: "JWT signed with another key", token: mustToken(t, []byte(strings.Repeat("k", 32)), nil)},
		{name: "JWT without tok", token: mustToken(t, testSecret, map[string]any{"tok": nil})},
		{name: "garbage", token: "not a token"},
		{name: "empty", token: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := goodStore()
			if tc.arrange != nil {
				tc.arrange(st)
			}
			res, err := mustService(t, st).Introspect(context.Background(), tc.token)
			if err != nil {
				t.Fatal(err)
			}
			if res.Active != tc.active {
				t.Fatalf("active = %v, want %v", res.Active, tc.active)
			}
			if !tc.active && res.Claims.Subject != "" {
				t.Fatalf("an inactive answer carries claims: %+v", res.Claims)
			}
		})
	}
}

func TestService_Introspect_claims(t *testing.T) {
	res, err := mustService(t, goodStore()).Introspect(context.Background(), mustToken(t, testSecret, nil))
	if err != nil || !res.Active {
		t.Fatalf("%+v %v", res, err)
	}
	at := func(sec int64) bearer.NumericDate { return bearer.NumericDate{Time: time.Unix(sec, 0)} }
	want := bearer.Claims{
		Issuer: "https://auth.example", Subject: "usr_1", Audience: bearer.Audience{"autho"},
		ExpiresAt: at(testNow.Add(time.Hour).Unix()), IssuedAt: at(testNow.Unix()), NotBefore: at(testNow.Unix()),
		ID: "j1", Account: "acc_1", Token: "tok_1", Scope: "orders:read",
	}
	if fmt.Sprint(res.Claims) != fmt.Sprint(want) {
		t.Fatalf("claims %+v, want %+v", res.Claims, want)
	}
}

func TestService_Introspect_storeDown(t *testing.T) {
	st := goodStore()
	st.err = fmt.Errorf("dial: %w", autho.ErrUnavailable)
	res, err := mustService(t, st).Introspect(context.Background(), mustToken(t, testSecret, nil))
	if !errors.Is(err, autho.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable (no answer rather than a guess)", err)
	}
	if res.Active {
		t.Fatal("active while the store is down")
	}
}

func TestService_Authorized(t *testing.T) {
	s := mustService(t, goodStore())
	for _, tc := range []struct {
		presented string
		want      bool
	}{
		{"caller secret of at least 32 characters", true},
		{"caller secret of at least 32 characterS", false},
		{"caller secret of at least 32 characters ", false},
		{"caller", false},
		{"", false},
	} {
		if got := s.Authorized(tc.presented); got != tc.want {
			t.Errorf("Authorized(%q) = %v, want %v", tc.presented, got, tc.want)
		}
	}
}

func TestNew_requiresSecret(t *testing.T) {
	v, _ := bearer.New(bearer.Config{Issuer: "i", Audience: "a", Keys: bearer.StaticSecret(testSecret), Algorithms: []string{bearer.HS256}})
	if _, err := New(goodStore(), v, Config{}); err == nil {
		t.Fatal("New without a secret succeeded")
	}
}

func TestParseBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		form bool
		want string
		bad  bool
	}{
		{name: "json", body: `{"token":"abc"}`, want: "abc"},
		{name: "json with hint", body: `{"token":"abc","token_type_hint":"access_token"}`, want: "abc"},
		{name: "json empty token", body: `{"token":""}`, want: ""},
		{name: "json missing token", body: `{"tok":"abc"}`, bad: true},
		{name: "json token not a string", body: `{"token":1}`, bad: true},
		{name: "json token null", body: `{"token":null}`, bad: true},
		{name: "json token twice", body: `{"token":"a","token":"b"}`, bad: true},
		{name: "json token in another case", body: `{"token":"a","Token":"b"}`, bad: true},
		{name: "json array", body: `["abc"]`, bad: true},
		{name: "json trailing data", body: `{"token":"abc"}{}`, bad: true},
		{name: "json invalid utf-8", body: "{\"token\":\"\xff\"}", bad: true},
		{name: "form", body: "token=abc&token_type_hint=access_token", form: true, want: "abc"},
		{name: "form escaped", body: "token=a%2Eb", form: true, want: "a.b"},
		{name: "form missing token", body: "tok=abc", form: true, bad: true},
		{name: "form token twice", body: "token=a&token=b", form: true, bad: true},
		{name: "form token in another case", body: "TOKEN=a", form: true, bad: true},
		{name: "form invalid escape", body: "token=%zz", form: true, bad: true},
		{name: "form escaped invalid utf-8", body: "token=%ff", form: true, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBody([]byte(tc.body), tc.form)
			if tc.bad {
				if err != autho.ErrMalformedBody {
					t.Fatalf("got %q, %v; want ErrMalformedBody", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
