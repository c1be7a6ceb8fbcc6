package admin_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/secret"
)

func hashOf(s string) []byte { return secret.Hash(s) }

func TestService_CreateToken(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		f := newFixture(t)
		a, _ := f.mustAccount(t, "Acme")
		u := f.mustUser(t, a.ID, "ann@example.com")
		until := start.Add(7 * 24 * time.Hour)
		tk, plain, err := f.svc.CreateToken(t.Context(), autho.OperatorCLI, admin.NewToken{
			User: "ANN@example.com", Name: " billing sync ", ExpiresAt: until,
			Scopes: []string{"orders:read", "orders:write", "orders:read"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := secret.Check(secret.APIToken, plain); err != nil {
			t.Fatalf("token malformed: %v", err)
		}
		if !strings.HasPrefix(tk.ID, "tok_") || tk.UserID != u.ID || tk.AccountID != a.ID || tk.Name != "billing sync" ||
			tk.Hint != secret.Hint(plain) || !tk.ExpiresAt.Equal(until) || !tk.CreatedAt.Equal(start) ||
			!slices.Equal(tk.Scopes, []string{"orders:read", "orders:write"}) {
			t.Fatalf("token = %+v", tk)
		}
		cred, err := f.store.APICredential(t.Context(), secret.Hash(plain))
		if err != nil || cred.Token.ID != tk.ID || !cred.UserActive {
			t.Fatalf("token not stored by hash: %+v, %v", cred, err)
		}
	})

	// Portal rules and operator rules, by account state.
	states := []struct {
		name     string
		setup    func(f *fixture, a *autho.Account, u *autho.User)
		portalOK bool
		msg      string
	}{
		{"active", func(*fixture, *autho.Account, *autho.User) {}, true, ""},
		{"suspended", func(f *fixture, a *autho.Account, _ *autho.User) { f.svc.Suspend(t.Context(), autho.OperatorCLI, a.ID) }, false, "is suspended"},
		{"expired", func(f *fixture, a *autho.Account, _ *autho.User) {
			f.svc.RenewAccount(t.Context(), autho.OperatorCLI, a.ID, start.Add(time.Hour))
			f.now = start.Add(2 * time.Hour)
		}, false, "has expired"},
		{"user deactivated", func(f *fixture, _ *autho.Account, u *autho.User) {
			f.svc.DeactivateUser(t.Context(), autho.OperatorCLI, u.ID)
		}, false, "is deactivated"},
	}
	for _, st := range states {
		for _, operator := range []bool{false, true} {
			who := "portal"
			if operator {
				who = "operator"
			}
			t.Run(st.name+"/"+who, func(t *testing.T) {
				f := newFixture(t)
				a, _ := f.mustAccount(t, "Acme")
				u := f.mustUser(t, a.ID, "ann@example.com")
				st.setup(f, a, u)
				before := snapshot(t, f.store)
				by := autho.UserActor(u, "192.0.2.1")
				if operator {
					by = autho.OperatorCLI
				}
				_, plain, err := f.svc.CreateToken(t.Context(), by, admin.NewToken{
					User: u.ID, Name: "n", ExpiresAt: f.now.Add(24 * time.Hour),
				})
				if operator || st.portalOK {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				wantInputError(t, err, st.msg, admin.ErrForbidden)
				if plain != "" {
					t.Fatal("secret returned with an error")
				}
				if after := snapshot(t, f.store); after != before {
					t.Fatal("store changed")
				}
			})
		}
	}

	t.Run("maximum lifetime", func(t *testing.T) {
		f := newFixture(t)
		a, _ := f.mustAccount(t, "Acme")
		u := f.mustUser(t, a.ID, "ann@example.com")
		capped := start.Add(f.svc.MaxTokenTTL)
		ann := autho.UserActor(u, "192.0.2.1")
		if _, _, err := f.svc.CreateToken(t.Context(), ann, admin.NewToken{User: u.ID, Name: "n", ExpiresAt: capped}); err != nil {
			t.Fatalf("exactly the maximum: %v", err)
		}
		_, _, err := f.svc.CreateToken(t.Context(), ann, admin.NewToken{User: u.ID, Name: "n", ExpiresAt: capped.Add(time.Second)})
		wantInputError(t, err, "expiry must be at most 30 days from now", nil)
		if _, _, err := f.svc.CreateToken(t.Context(), autho.OperatorCLI, admin.NewToken{User: u.ID, Name: "n", ExpiresAt: start.Add(10 * 365 * 24 * time.Hour)}); err != nil {
			t.Fatalf("the operator may exceed the maximum: %v", err)
		}
	})

	t.Run("not past the account's expiry", func(t *testing.T) {
		f := newFixture(t)
		a, _ := f.mustAccount(t, "Acme")
		u := f.mustUser(t, a.ID, "ann@example.com")
		ann := autho.UserActor(u, "192.0.2.1")
		end := start.Add(10 * 24 * time.Hour)
		if _, err := f.svc.RenewAccount(t.Context(), autho.OperatorCLI, a.ID, end); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.CreateToken(t.Context(), ann, admin.NewToken{User: u.ID, Name: "n", ExpiresAt: end}); err != nil {
			t.Fatalf("until the account's last moment: %v", err)
		}
		before := snapshot(t, f.store)
		_, _, err := f.svc.CreateToken(t.Context(), ann, admin.NewToken{User: u.ID, Name: "n", ExpiresAt: end.Add(time.Second)})
		wantInputError(t, err, "expiry must not be after the account expires (2026-03-11 12:00 UTC)", nil)
		if snapshot(t, f.store) != before {
			t.Fatal("store changed")
		}
		if _, _, err := f.svc.CreateToken(t.Context(), autho.OperatorCLI, admin.NewToken{User: u.ID, Name: "n", ExpiresAt: end.Add(time.Hour)}); err != nil {
			t.Fatalf("the operator may outlast the account: %v", err)
		}
	})

	t.Run("an id given twice", func(t *testing.T) {
		f := newFixture(t)
		a, _ := f.mustAccount(t, "Acme")
		u := f.mustUser(t, a.ID, "ann@example.com")
		ann := autho.UserActor(u, "192.0.2.1")
		req := admin.NewToken{ID: "tok_sentTwice", User: u.ID, Name: "n", ExpiresAt: start.Add(time.Hour)}
		tk, _, err := f.svc.CreateTokenCapped(t.Context(), ann, req, 0)
		if err != nil || tk.ID != req.ID {
			t.Fatalf("first: %+v, %v", tk, err)
		}
		before := snapshot(t, f.store)
		_, plain, err := f.svc.CreateTokenCapped(t.Context(), ann, req, 0)
		wantInputError(t, err, "token tok_sentTwice exists already", autho.ErrConflict)
		if plain != "" || snapshot(t, f.store) != before {
			t.Fatal("a second token was made")
		}
		req.ID = "usr_x"
		_, _, err = f.svc.CreateToken(t.Context(), ann, req)
		wantInputError(t, err, "token id must begin with tok_", nil)
	})

	t.Run("default maximum", func(t *testing.T) {
		f := newFixture(t)
		f.svc.MaxTokenTTL = 0
		a, _ := f.mustAccount(t, "Acme")
		u := f.mustUser(t, a.ID, "ann@example.com")
		_, _, err := f.svc.CreateToken(t.Context(), autho.UserActor(u, "192.0.2.1"), admin.NewToken{User: u.ID, Name: "n", ExpiresAt: start.Add(admin.DefaultMaxTokenTTL + time.Second)})
		wantInputError(t, err, "at most 365 days", nil)
	})

	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	before := snapshot(t, f.store)
	ok := admin.NewToken{User: u.ID, Name: "n", ExpiresAt: start.Add(time.Hour)}
	with := func(change func(*admin.NewToken)) admin.NewToken { r := ok; change(&r); return r }
	tests := []struct {
		name string
		req  admin.NewToken
		msg  string
		kind error
	}{
		{"unknown user", with(func(r *admin.NewToken) { r.User = "nobody@example.com" }), "user nobody@example.com not found", autho.ErrNotFound},
		{"no user", with(func(r *admin.NewToken) { r.User = "" }), "must not be empty", nil},
		{"no name", with(func(r *admin.NewToken) { r.Name = " " }), "name must not be empty", nil},
		{"past expiry", with(func(r *admin.NewToken) { r.ExpiresAt = start.Add(-time.Hour) }), "expiry must be in the future", nil},
		{"no expiry", with(func(r *admin.NewToken) { r.ExpiresAt = time.Time{} }), "expiry is required", nil},
		{"empty scope", with(func(r *admin.NewToken) { r.Scopes = []string{""} }), "a scope must not be empty", nil},
		{"scope with space", with(func(r *admin.NewToken) { r.Scopes = []string{"a b"} }), `invalid scope "a b"`, nil},
		{"scope with quote", with(func(r *admin.NewToken) { r.Scopes = []string{`a"b`} }), "invalid scope", nil},
		{"scope with backslash", with(func(r *admin.NewToken) { r.Scopes = []string{`a\b`} }), "invalid scope", nil},
		{"non-ASCII scope", with(func(r *admin.NewToken) { r.Scopes = []string{"café"} }), "invalid scope", nil},
		{"long scope", with(func(r *admin.NewToken) { r.Scopes = []string{strings.Repeat("s", 129)} }), "at most 128", nil},
		{"too many scopes", with(func(r *admin.NewToken) {
			r.Scopes = nil
			for i := range 51 {
				r.Scopes = append(r.Scopes, "s"+strings.Repeat("x", i))
			}
		}), "at most 50 scopes", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, plain, err := f.svc.CreateToken(t.Context(), autho.OperatorCLI, tt.req)
			wantInputError(t, err, tt.msg, tt.kind)
			if plain != "" {
				t.Fatal("secret returned with an error")
			}
			if after := snapshot(t, f.store); after != before {
				t.Fatal("store changed")
			}
		})
	}
	t.Run("every RFC 6749 scope character", func(t *testing.T) {
		var b strings.Builder
		for c := byte(0x21); c <= 0x7e; c++ {
			if c != '"' && c != '\\' {
				b.WriteByte(c)
			}
		}
		if _, _, err := f.svc.CreateToken(t.Context(), autho.OperatorCLI, with(func(r *admin.NewToken) { r.Scopes = []string{b.String()} })); err != nil {
			t.Fatal(err)
		}
	})
}

// A partner's people may give their tokens only the scopes the operator
// allows their account; the operator gives any.
func TestService_CreateTokenAllowedScopes(t *testing.T) {
	tests := []struct {
		name     string
		allowed  []string
		operator bool
		scopes   []string
		want     []string // nil with msg set: refused
		msg      string
	}{
		{"an allowed scope", []string{"orders:read", "orders:write"}, false, []string{"orders:read"}, []string{"orders:read"}, ""},
		{"every allowed scope, repeated", []string{"orders:read", "orders:write"}, false, []string{"orders:write", "orders:read", "orders:write"}, []string{"orders:write", "orders:read"}, ""},
		{"no scope", []string{"orders:read"}, false, nil, []string{}, ""},
		{"no scope of an account allowing none", nil, false, nil, []string{}, ""},
		{"one not allowed", []string{"orders:read", "orders:write"}, false, []string{"orders:read", "admin"}, nil, `scope "admin" is not allowed for this account (allowed: orders:read orders:write)`},
		{"any of an account allowing none", nil, false, []string{"orders:read"}, nil, `scope "orders:read" is not allowed for this account (it allows none)`},
		{"a prefix is not the scope", []string{"orders:read"}, false, []string{"orders"}, nil, `scope "orders" is not allowed`},
		{"letter case counts", []string{"orders:read"}, false, []string{"Orders:Read"}, nil, `scope "Orders:Read" is not allowed`},
		{"the operator, any scope", []string{"orders:read"}, true, []string{"admin"}, []string{"admin"}, ""},
		{"the operator, of an account allowing none", nil, true, []string{"admin"}, []string{"admin"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			a, _ := f.mustAccount(t, "Acme")
			u := f.mustUser(t, a.ID, "ann@example.com")
			if _, err := f.svc.SetAccountScopes(t.Context(), autho.OperatorCLI, a.ID, tt.allowed); err != nil {
				t.Fatal(err)
			}
			by := autho.UserActor(u, "192.0.2.1")
			if tt.operator {
				by = autho.OperatorCLI
			}
			before := snapshot(t, f.store)
			tk, plain, err := f.svc.CreateTokenCapped(t.Context(), by, admin.NewToken{
				User: u.ID, Name: "n", ExpiresAt: start.Add(time.Hour), Scopes: tt.scopes,
			}, 0)
			if tt.msg != "" {
				wantInputError(t, err, tt.msg, nil)
				var ae *admin.Error
				if errors.As(err, &ae); ae.Field != "scopes" {
					t.Fatalf("field %q, want scopes", ae.Field)
				}
				if plain != "" || snapshot(t, f.store) != before {
					t.Fatal("a refused token was made")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(tk.Scopes, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("Scopes = %q, want %q", tk.Scopes, tt.want)
			}
		})
	}
}

func TestService_Tokens(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	b, _ := f.mustAccount(t, "Beta")
	ua := f.mustUser(t, a.ID, "ann@example.com")
	ub := f.mustUser(t, b.ID, "bob@example.com")
	f.mustToken(t, ua.ID)
	f.now = start.Add(time.Second)
	f.mustToken(t, ua.ID)
	f.mustToken(t, ub.ID)

	tests := []struct {
		name   string
		filter admin.TokenQuery
		want   int
		msg    string
	}{
		{"all", admin.TokenQuery{}, 3, ""},
		{"by account", admin.TokenQuery{AccountID: a.ID}, 2, ""},
		{"by user id", admin.TokenQuery{User: ub.ID}, 1, ""},
		{"by user email", admin.TokenQuery{User: "ANN@example.com"}, 2, ""},
		{"unknown account", admin.TokenQuery{AccountID: "acc_nope"}, 0, "account acc_nope not found"},
		{"unknown user", admin.TokenQuery{User: "nobody@example.com"}, 0, "user nobody@example.com not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := f.svc.Tokens(t.Context(), tt.filter)
			if tt.msg != "" {
				wantInputError(t, err, tt.msg, autho.ErrNotFound)
				return
			}
			if err != nil || len(ts) != tt.want {
				t.Fatalf("Tokens = %d, %v; want %d", len(ts), err, tt.want)
			}
			for i := 1; i < len(ts); i++ {
				if ts[i].CreatedAt.After(ts[i-1].CreatedAt) {
					t.Fatal("not newest first")
				}
			}
		})
	}
}

func TestService_Revoke(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	tk, plain := f.mustToken(t, u.ID)

	f.now = start.Add(time.Minute)
	got, err := f.svc.Revoke(t.Context(), autho.OperatorCLI, tk.ID)
	if err != nil || !got.RevokedAt.Equal(f.now) {
		t.Fatalf("Revoke = %+v, %v", got, err)
	}
	cred, err := f.store.APICredential(t.Context(), secret.Hash(plain))
	if err != nil || !cred.Token.Revoked() {
		t.Fatalf("stored token not revoked: %+v, %v", cred, err)
	}
	t.Run("twice keeps the first time", func(t *testing.T) {
		f.now = start.Add(time.Hour)
		again, err := f.svc.Revoke(t.Context(), autho.OperatorCLI, tk.ID)
		if err != nil || !again.RevokedAt.Equal(got.RevokedAt) {
			t.Fatalf("Revoke again = %+v, %v", again, err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := f.svc.Revoke(t.Context(), autho.OperatorCLI, "tok_nope")
		wantInputError(t, err, "token tok_nope not found", autho.ErrNotFound)
		_, err = f.svc.Token(t.Context(), "tok_nope")
		wantInputError(t, err, "token tok_nope not found", autho.ErrNotFound)
	})
}

func TestService_CreateTokenCapped(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	other := f.mustUser(t, a.ID, "bob@example.com")
	req := admin.NewToken{User: u.Email, Name: "n", ExpiresAt: start.Add(24 * time.Hour)}
	for i := 0; i < 3; i++ {
		if _, _, err := f.svc.CreateTokenCapped(t.Context(), autho.UserActor(u, "192.0.2.1"), req, 3); err != nil {
			t.Fatalf("token %d: %v", i+1, err)
		}
	}
	f.mustToken(t, other.ID) // another user's tokens do not count
	before := snapshot(t, f.store)
	_, plain, err := f.svc.CreateTokenCapped(t.Context(), autho.UserActor(u, "192.0.2.1"), req, 3)
	wantInputError(t, err, "you already have the most active tokens one user may hold (3)", admin.ErrForbidden)
	if plain != "" || snapshot(t, f.store) != before {
		t.Fatal("a token beyond the cap was made")
	}

	ts, _ := f.store.APITokens(t.Context(), autho.TokenFilter{UserID: u.ID})
	if _, err := f.svc.Revoke(t.Context(), autho.OperatorCLI, ts[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateTokenCapped(t.Context(), autho.UserActor(u, "192.0.2.1"), req, 3); err != nil {
		t.Fatalf("after a revocation: %v", err)
	}
	// Expired tokens do not count either.
	f.now = start.Add(48 * time.Hour)
	req.ExpiresAt = f.now.Add(time.Hour)
	if _, _, err := f.svc.CreateTokenCapped(t.Context(), autho.UserActor(u, "192.0.2.1"), req, 3); err != nil {
		t.Fatalf("after the others expired: %v", err)
	}
	t.Run("portal rules still apply", func(t *testing.T) {
		_, _, err := f.svc.CreateTokenCapped(t.Context(), autho.UserActor(u, "192.0.2.1"), admin.NewToken{User: u.ID, Name: "n", ExpiresAt: f.now.Add(365 * 24 * time.Hour)}, 0)
		wantInputError(t, err, "expiry must be at most 30 days", nil)
		_, _, err = f.svc.CreateTokenCapped(t.Context(), autho.UserActor(u, "192.0.2.1"), admin.NewToken{User: "nobody@example.com", Name: "n", ExpiresAt: f.now.Add(time.Hour)}, 0)
		wantInputError(t, err, "not found", autho.ErrNotFound)
	})
}
