package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// loginRecordOf is the record LoginCredentials must answer for a pair, from
// what PartnerCredential and APICredential (nil: unknown) find of it.
func loginRecordOf(pc *autho.PartnerCredential, ac *autho.APICredential) *autho.LoginRecord {
	r := &autho.LoginRecord{PartnerTokenEnds: pc.TokenExpiresAt, Account: loginAccountOf(&pc.Account)}
	if ac != nil {
		r.Token = loginTokenOf(ac)
	}
	return r
}

func loginAccountOf(a *autho.Account) autho.LoginAccount {
	return autho.LoginAccount{ID: a.ID, Status: a.Status, ExpiresAt: a.ExpiresAt}
}

func loginTokenOf(c *autho.APICredential) *autho.LoginToken {
	t := &c.Token
	return &autho.LoginToken{ID: t.ID, UserID: t.UserID, AccountID: t.AccountID, Scopes: t.Scopes,
		ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, UserActive: c.UserActive}
}

// describeLogin shows a record for a failure (it holds no hash).
func describeLogin(r *autho.LoginRecord) string {
	switch {
	case r == nil:
		return "no record"
	case r.Token == nil:
		return fmt.Sprintf("%+v, no API token", *r)
	}
	return fmt.Sprintf("%+v, API token %+v", *r, *r.Token)
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
// and APICredential answer, on every field of the record, and returns its
// answer.
func agreeLogin(t *testing.T, s autho.Store, ptHash, apiHash []byte) *autho.LoginRecord {
	t.Helper()
	rec, err := s.LoginCredentials(t.Context(), ptHash, apiHash)
	noLeak(t, err, ptHash)
	noLeak(t, err, apiHash)
	wantP, errP := s.PartnerCredential(t.Context(), ptHash)
	if errP != nil {
		wantErr(t, "PartnerCredential", errP, autho.ErrNotFound)
		wantErr(t, "LoginCredentials of an unknown partner token", err, autho.ErrNotFound)
		if rec != nil {
			t.Fatalf("LoginCredentials of an unknown partner token = %s, want nil", describeLogin(rec))
		}
		return nil
	}
	wantErr(t, "LoginCredentials", err, nil)
	wantA, errA := s.APICredential(t.Context(), apiHash)
	if errA != nil {
		wantErr(t, "APICredential", errA, autho.ErrNotFound)
		if rec.Token != nil {
			t.Fatalf("LoginCredentials of an unknown API token = %s, want no API token", describeLogin(rec))
		}
		wantA = nil
	} else if rec.Token == nil {
		t.Fatalf("LoginCredentials: no API token, APICredential found %s", wantA.Token.ID)
	}
	check(t, "LoginCredentials", rec, loginRecordOf(wantP, wantA))
	return rec
}

// testLoginCredentials: the one-statement read agrees with the two lookups
// it replaces, in every state a login tells apart.
func testLoginCredentials(t *testing.T, newStore newStoreFunc) {
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
		want func(r *autho.LoginRecord) error
	}{
		{name: "ok", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) { return f.pt.Hash, f.tk.Hash },
			want: func(r *autho.LoginRecord) error {
				if r.Token == nil || r.Token.AccountID != r.Account.ID || !r.Token.UserActive || !r.Token.RevokedAt.IsZero() ||
					!r.PartnerTokenEnds.IsZero() || r.Account.Status != autho.AccountActive {
					return fmt.Errorf("not a good pair")
				}
				return nil
			}},
		{name: "no scopes", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			tk := newAPIToken(f.u, t0)
			tk.Scopes = nil
			wantErr(t, "CreateAPIToken", f.s.CreateAPIToken(t.Context(), tk), nil)
			return f.pt.Hash, tk.Hash
		}, want: func(r *autho.LoginRecord) error {
			if r.Token == nil || len(r.Token.Scopes) != 0 {
				return fmt.Errorf("want a token without scopes")
			}
			return nil
		}},
		{name: "several scopes", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			tk := newAPIToken(f.u, t0)
			tk.Scopes = []string{"z", "a:read", "b:write"}
			wantErr(t, "CreateAPIToken", f.s.CreateAPIToken(t.Context(), tk), nil)
			return f.pt.Hash, tk.Hash
		}, want: func(r *autho.LoginRecord) error {
			if r.Token == nil || len(r.Token.Scopes) != 3 {
				return fmt.Errorf("want three scopes")
			}
			return nil
		}},
		{name: "api token revoked", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			updateToken(t, f, func(tk *autho.APIToken) { tk.RevokedAt = at(time.Minute) })
			return f.pt.Hash, f.tk.Hash
		}, want: func(r *autho.LoginRecord) error {
			if r.Token == nil || r.Token.RevokedAt.IsZero() {
				return fmt.Errorf("want a revoked token")
			}
			return nil
		}},
		{name: "api token expired", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			updateToken(t, f, func(tk *autho.APIToken) { tk.ExpiresAt = at(-time.Hour) })
			return f.pt.Hash, f.tk.Hash
		}, want: func(r *autho.LoginRecord) error {
			if r.Token == nil || r.Token.State(t0) != autho.TokenExpired {
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
		}, want: func(r *autho.LoginRecord) error {
			if r.Token == nil || r.Token.UserActive {
				return fmt.Errorf("want an inactive user")
			}
			return nil
		}},
		{name: "account suspended", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			updateAccount(t, f, func(a *autho.Account) { a.Status = autho.AccountSuspended })
			return f.pt.Hash, f.tk.Hash
		}, want: func(r *autho.LoginRecord) error {
			if r.Account.Status != autho.AccountSuspended {
				return fmt.Errorf("want a suspended account")
			}
			return nil
		}},
		{name: "account expired", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			updateAccount(t, f, func(a *autho.Account) { a.ExpiresAt = at(-time.Hour) })
			return f.pt.Hash, f.tk.Hash
		}, want: func(r *autho.LoginRecord) error {
			if !r.Account.Expired(t0) {
				return fmt.Errorf("want an expired account")
			}
			return nil
		}},
		{name: "api token of another account", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			b, _ := mustAccount(t, f.s)
			other := mustAPIToken(t, f.s, mustUser(t, f.s, b.ID), t0)
			return f.pt.Hash, other.Hash
		}, want: func(r *autho.LoginRecord) error {
			if r.Token == nil || r.Token.AccountID == r.Account.ID {
				return fmt.Errorf("want a token of another account")
			}
			return nil
		}},
		{name: "partner token rotated, in grace", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			rotate(t, f, at(time.Hour))
			return f.pt.Hash, f.tk.Hash
		}, want: func(r *autho.LoginRecord) error {
			if !r.PartnerTokenEnds.After(t0) {
				return fmt.Errorf("want a partner token ending after now")
			}
			return nil
		}},
		{name: "partner token rotated, grace over", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			rotate(t, f, at(-time.Minute))
			return f.pt.Hash, f.tk.Hash
		}, want: func(r *autho.LoginRecord) error {
			if r.PartnerTokenEnds.IsZero() || r.PartnerTokenEnds.After(t0) {
				return fmt.Errorf("want a partner token that has ended")
			}
			return nil
		}},
		{name: "partner token rotated in", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			return rotate(t, f, at(time.Hour)).Hash, f.tk.Hash
		}, want: func(r *autho.LoginRecord) error {
			if !r.PartnerTokenEnds.IsZero() {
				return fmt.Errorf("want the current partner token")
			}
			return nil
		}},
		{name: "user deactivated, account suspended, partner token rotated", change: func(t *testing.T, f *loginFixture) ([]byte, []byte) {
			deactivate(t, f)
			updateAccount(t, f, func(a *autho.Account) { a.Status = autho.AccountSuspended })
			rotate(t, f, at(time.Minute))
			return f.pt.Hash, f.tk.Hash
		}, want: func(r *autho.LoginRecord) error {
			if r.Token == nil || r.Token.UserActive || r.Account.Status != autho.AccountSuspended || r.PartnerTokenEnds.IsZero() {
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
			rec := agreeLogin(t, f.s, ptHash, apiHash)
			if tc.want != nil && rec != nil {
				if err := tc.want(rec); err != nil {
					t.Fatalf("%v: got %s", err, describeLogin(rec))
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
		want := make([]*autho.LoginToken, n)
		for i, p := range pairs {
			c, err := s.APICredential(t.Context(), p.api)
			wantErr(t, "APICredential", err, nil)
			want[i] = loginTokenOf(c)
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				for range 50 {
					rec, err := s.LoginCredentials(t.Context(), pairs[i].pt, pairs[i].api)
					if err != nil {
						errs <- err
						return
					}
					var diffs []string
					if rec.Token == nil || rec.Account.ID != want[i].AccountID {
						diffs = append(diffs, "wrong pair")
					} else {
						diff("api", reflect.ValueOf(rec.Token), reflect.ValueOf(want[i]), &diffs)
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
