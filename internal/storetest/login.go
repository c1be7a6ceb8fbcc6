package storetest

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// pairReader is the login's one-round-trip read (internal/login uses it when
// a store has it). Every backend must have it: without it each login costs
// two round trips.
type pairReader interface {
	LoginCredentials(ctx context.Context, partnerHash, apiHash []byte) (*autho.PartnerCredential, *autho.APICredential, error)
}

// loginPartner and loginAPI are the fields of each credential that the login
// reads; LoginCredentials need fill no others.
type loginPartner struct {
	TokenExpiresAt, AccountExpiresAt time.Time
	AccountID                        string
	AccountStatus                    autho.AccountStatus
}

type loginAPI struct {
	ID, UserID, AccountID string
	Hash                  []byte
	Scopes                []string
	ExpiresAt, RevokedAt  time.Time
	UserActive            bool
}

func partnerView(c *autho.PartnerCredential) loginPartner {
	return loginPartner{TokenExpiresAt: c.TokenExpiresAt, AccountExpiresAt: c.Account.ExpiresAt,
		AccountID: c.Account.ID, AccountStatus: c.Account.Status}
}

func apiView(c *autho.APICredential) loginAPI {
	t := &c.Token
	return loginAPI{ID: t.ID, UserID: t.UserID, AccountID: t.AccountID, Hash: t.Hash, Scopes: t.Scopes,
		ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, UserActive: c.UserActive}
}

// describeAPI shows c for a failure, without its hash.
func describeAPI(c *autho.APICredential) string {
	if c == nil {
		return "no API token"
	}
	v := apiView(c)
	v.Hash = nil
	return fmt.Sprintf("%+v", v)
}

// loginFixture is one account with its partner token, one user of it and
// one API token of that user.
type loginFixture struct {
	s  autho.Store
	a  *autho.Account
	pt *autho.PartnerToken
	u  *autho.User
	tk *autho.APIToken
}

// agreeLogin fails unless LoginCredentials answers what PartnerCredential
// and APICredential answer, on every field the login reads, and returns its
// answer.
func agreeLogin(t *testing.T, s autho.Store, ptHash, apiHash []byte) (*autho.PartnerCredential, *autho.APICredential) {
	t.Helper()
	pc, ac, err := s.(pairReader).LoginCredentials(t.Context(), ptHash, apiHash)
	noLeak(t, err, ptHash)
	noLeak(t, err, apiHash)
	wantP, errP := s.PartnerCredential(t.Context(), ptHash)
	if errP != nil {
		wantErr(t, "PartnerCredential", errP, autho.ErrNotFound)
		wantErr(t, "LoginCredentials of an unknown partner token", err, autho.ErrNotFound)
		if pc != nil || ac != nil {
			t.Fatalf("LoginCredentials of an unknown partner token = %+v, %s, want nil, nil", pc, describeAPI(ac))
		}
		return nil, nil
	}
	wantErr(t, "LoginCredentials", err, nil)
	check(t, "partner", partnerView(pc), partnerView(wantP))
	wantA, errA := s.APICredential(t.Context(), apiHash)
	if errA != nil {
		wantErr(t, "APICredential", errA, autho.ErrNotFound)
		if ac != nil {
			t.Fatalf("LoginCredentials of an unknown API token = %s, want nil", describeAPI(ac))
		}
		return pc, nil
	}
	if ac == nil {
		t.Fatalf("LoginCredentials: no API token, APICredential found %s", wantA.Token.ID)
	}
	check(t, "api", apiView(ac), apiView(wantA))
	return pc, ac
}

// testLoginCredentials: the one-statement read agrees with the two lookups
// it replaces, in every state a login tells apart.
func testLoginCredentials(t *testing.T, newStore newStoreFunc) {
	if _, ok := newStore(t).(pairReader); !ok {
		t.Fatal("the store has no LoginCredentials: every backend must read a login in one round trip")
	}
	setup := func(t *testing.T) *loginFixture {
		s := newStore(t)
		a, pt := mustAccount(t, s)
		u := mustUser(t, s, a.ID)
		return &loginFixture{s: s, a: a, pt: pt, u: u, tk: mustAPIToken(t, s, u, t0)}
	}
	updateAccount := func(t *testing.T, f *loginFixture, fn func(*autho.Account)) {
		t.Helper()
		_, err := f.s.UpdateAccount(t.Context(), f.a.ID, func(a *autho.Account) error { fn(a); return nil })
		wantErr(t, "UpdateAccount", err, nil)
	}
	updateToken := func(t *testing.T, f *loginFixture, fn func(*autho.APIToken)) {
		t.Helper()
		_, err := f.s.UpdateAPIToken(t.Context(), f.tk.ID, func(tk *autho.APIToken) error { fn(tk); return nil })
		wantErr(t, "UpdateAPIToken", err, nil)
	}
	deactivate := func(t *testing.T, f *loginFixture) {
		t.Helper()
		_, err := f.s.UpdateUser(t.Context(), f.u.ID, func(u *autho.User) error { u.Active = false; return nil })
		wantErr(t, "UpdateUser", err, nil)
	}
	rotate := func(t *testing.T, f *loginFixture, oldUntil time.Time) *autho.PartnerToken {
		t.Helper()
		next := newPartnerToken(f.a.ID, at(time.Minute))
		wantErr(t, "RotatePartnerToken", f.s.RotatePartnerToken(t.Context(), next, oldUntil), nil)
		return next
	}
	unknownAPI := func() []byte { return secret.Hash(secret.New(secret.APIToken)) }
	unknownPartner := func() []byte { return secret.Hash(secret.New(secret.PartnerToken)) }

	for _, tc := range []struct {
		name string
		// change puts the fixture in the case's state and returns the pair
		// a login would present.
		change func(t *testing.T, f *loginFixture) (ptHash, apiHash []byte)
		// want checks that the case reached its state, so that agreement
		// is not over a state never set up.
		want func(pc *autho.PartnerCredential, ac *autho.APICredential) error
	}{
		{name: "ok", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) { return f.pt.Hash, f.tk.Hash },
			want: func(pc *autho.PartnerCredential, ac *autho.APICredential) error {
				if ac == nil || ac.Token.AccountID != pc.Account.ID || !ac.UserActive || ac.Token.Revoked() ||
					!pc.TokenExpiresAt.IsZero() || pc.Account.Status != autho.AccountActive {
					return fmt.Errorf("not a good pair")
				}
				return nil
			}},
		{name: "no scopes", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			tk := newAPIToken(f.u, t0)
			tk.Scopes = nil
			wantErr(t, "CreateAPIToken", f.s.CreateAPIToken(t.Context(), tk), nil)
			return f.pt.Hash, tk.Hash
		}, want: func(_ *autho.PartnerCredential, ac *autho.APICredential) error {
			if ac == nil || len(ac.Token.Scopes) != 0 {
				return fmt.Errorf("want a token without scopes")
			}
			return nil
		}},
		{name: "several scopes", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			tk := newAPIToken(f.u, t0)
			tk.Scopes = []string{"z", "a:read", "b:write"}
			wantErr(t, "CreateAPIToken", f.s.CreateAPIToken(t.Context(), tk), nil)
			return f.pt.Hash, tk.Hash
		}, want: func(_ *autho.PartnerCredential, ac *autho.APICredential) error {
			if ac == nil || len(ac.Token.Scopes) != 3 {
				return fmt.Errorf("want three scopes")
			}
			return nil
		}},
		{name: "api token revoked", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			updateToken(t, f, func(tk *autho.APIToken) { tk.RevokedAt = at(time.Minute) })
			return f.pt.Hash, f.tk.Hash
		}, want: func(_ *autho.PartnerCredential, ac *autho.APICredential) error {
			if ac == nil || !ac.Token.Revoked() {
				return fmt.Errorf("want a revoked token")
			}
			return nil
		}},
		{name: "api token expired", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			updateToken(t, f, func(tk *autho.APIToken) { tk.ExpiresAt = at(-time.Hour) })
			return f.pt.Hash, f.tk.Hash
		}, want: func(_ *autho.PartnerCredential, ac *autho.APICredential) error {
			if ac == nil || !ac.Token.Expired(t0) {
				return fmt.Errorf("want an expired token")
			}
			return nil
		}},
		{name: "api token used", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			use := autho.TokenUse{TokenID: f.tk.ID, At: at(time.Minute), IP: "192.0.2.1"}
			wantErr(t, "RecordTokenUse", f.s.RecordTokenUse(t.Context(), []autho.TokenUse{use}), nil)
			return f.pt.Hash, f.tk.Hash
		}},
		{name: "user deactivated", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			deactivate(t, f)
			return f.pt.Hash, f.tk.Hash
		}, want: func(_ *autho.PartnerCredential, ac *autho.APICredential) error {
			if ac == nil || ac.UserActive {
				return fmt.Errorf("want an inactive user")
			}
			return nil
		}},
		{name: "account suspended", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			updateAccount(t, f, func(a *autho.Account) { a.Status = autho.AccountSuspended })
			return f.pt.Hash, f.tk.Hash
		}, want: func(pc *autho.PartnerCredential, _ *autho.APICredential) error {
			if pc.Account.Status != autho.AccountSuspended {
				return fmt.Errorf("want a suspended account")
			}
			return nil
		}},
		{name: "account expired", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			updateAccount(t, f, func(a *autho.Account) { a.ExpiresAt = at(-time.Hour) })
			return f.pt.Hash, f.tk.Hash
		}, want: func(pc *autho.PartnerCredential, _ *autho.APICredential) error {
			if !pc.Account.Expired(t0) {
				return fmt.Errorf("want an expired account")
			}
			return nil
		}},
		{name: "api token of another account", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			b, _ := mustAccount(t, f.s)
			other := mustAPIToken(t, f.s, mustUser(t, f.s, b.ID), t0)
			return f.pt.Hash, other.Hash
		}, want: func(pc *autho.PartnerCredential, ac *autho.APICredential) error {
			if ac == nil || ac.Token.AccountID == pc.Account.ID {
				return fmt.Errorf("want a token of another account")
			}
			return nil
		}},
		{name: "partner token rotated, in grace", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			rotate(t, f, at(time.Hour))
			return f.pt.Hash, f.tk.Hash
		}, want: func(pc *autho.PartnerCredential, _ *autho.APICredential) error {
			if !pc.TokenExpiresAt.After(t0) {
				return fmt.Errorf("want a partner token ending after now")
			}
			return nil
		}},
		{name: "partner token rotated, grace over", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			rotate(t, f, at(-time.Minute))
			return f.pt.Hash, f.tk.Hash
		}, want: func(pc *autho.PartnerCredential, _ *autho.APICredential) error {
			if pc.TokenExpiresAt.IsZero() || pc.TokenExpiresAt.After(t0) {
				return fmt.Errorf("want a partner token that has ended")
			}
			return nil
		}},
		{name: "partner token rotated in", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			return rotate(t, f, at(time.Hour)).Hash, f.tk.Hash
		}, want: func(pc *autho.PartnerCredential, _ *autho.APICredential) error {
			if !pc.TokenExpiresAt.IsZero() {
				return fmt.Errorf("want the current partner token")
			}
			return nil
		}},
		{name: "user deactivated, account suspended, partner token rotated", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			deactivate(t, f)
			updateAccount(t, f, func(a *autho.Account) { a.Status = autho.AccountSuspended })
			rotate(t, f, at(time.Minute))
			return f.pt.Hash, f.tk.Hash
		}, want: func(pc *autho.PartnerCredential, ac *autho.APICredential) error {
			if ac == nil || ac.UserActive || pc.Account.Status != autho.AccountSuspended || pc.TokenExpiresAt.IsZero() {
				return fmt.Errorf("want every change seen")
			}
			return nil
		}},
		{name: "unknown api token", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			return f.pt.Hash, unknownAPI()
		}},
		{name: "api token hash differing only in its last byte", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			// A store may find the token by a prefix of its hash (SQLite
			// does, by the first 60 bits): the rest must be checked too.
			return f.pt.Hash, flipBit(f.tk.Hash, len(f.tk.Hash)-1)
		}},
		{name: "api token hash differing only in its 16th hex digit", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			return f.pt.Hash, flipBit(f.tk.Hash, 7)
		}},
		{name: "empty api token hash", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			return f.pt.Hash, nil
		}},
		{name: "partner token as api token", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			return f.pt.Hash, f.pt.Hash
		}},
		{name: "unknown partner token", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			return unknownPartner(), f.tk.Hash
		}},
		{name: "unknown partner and api tokens", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			return unknownPartner(), unknownAPI()
		}},
		{name: "api token as partner token", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			return f.tk.Hash, f.tk.Hash
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			// A read before the change: whatever a store caches between
			// calls must not hide the change from the next login.
			agreeLogin(t, f.s, f.pt.Hash, f.tk.Hash)
			ptHash, apiHash := tc.change(t, f)
			pc, ac := agreeLogin(t, f.s, ptHash, apiHash)
			if tc.want != nil && pc != nil {
				if err := tc.want(pc, ac); err != nil {
					t.Fatalf("%v: got %+v, %s", err, partnerView(pc), describeAPI(ac))
				}
			}
		})
	}

	t.Run("concurrent", func(t *testing.T) {
		// Calls at once must not share a result: each gets its own pair.
		s := newStore(t)
		const n = 8
		type pair struct{ pt, api []byte }
		pairs := make([]pair, n)
		for i := range pairs {
			a, pt := mustAccount(t, s)
			pairs[i] = pair{pt.Hash, mustAPIToken(t, s, mustUser(t, s, a.ID), t0).Hash}
		}
		want := make([]loginAPI, n)
		for i, p := range pairs {
			c, err := s.APICredential(t.Context(), p.api)
			wantErr(t, "APICredential", err, nil)
			want[i] = apiView(c)
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				for range 50 {
					pc, ac, err := s.(pairReader).LoginCredentials(t.Context(), pairs[i].pt, pairs[i].api)
					if err != nil {
						errs <- err
						return
					}
					var diffs []string
					if ac == nil || pc.Account.ID != want[i].AccountID {
						diffs = append(diffs, "wrong pair")
					} else {
						diff("api", reflect.ValueOf(apiView(ac)), reflect.ValueOf(want[i]), &diffs)
					}
					if len(diffs) > 0 {
						errs <- fmt.Errorf("pair %d: %q", i, diffs)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// flipBit is a copy of h with the low bit of its byte i flipped.
func flipBit(h []byte, i int) []byte {
	c := bytes.Clone(h)
	c[i] ^= 1
	return c
}
