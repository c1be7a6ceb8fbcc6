package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

func testCreateAccount(t *testing.T, newStore newStoreFunc) {
	t.Run("ok", func(t *testing.T) {
		s := newStore(t)
		a, pt := mustAccount(t, s)
		got, err := s.Account(t.Context(), a.ID)
		wantErr(t, "Account", err, nil)
		check(t, "Account", got, a)
		if got.PartnerTokenHint != pt.Hint {
			t.Errorf("PartnerTokenHint = %q, want the partner token's hint %q", got.PartnerTokenHint, pt.Hint)
		}
	})
	t.Run("suspended", func(t *testing.T) {
		s := newStore(t)
		a, pt := newAccount()
		a.Status, a.SuspendedAt = autho.AccountSuspended, at(-time.Minute)
		wantErr(t, "CreateAccount", s.CreateAccount(t.Context(), a, pt), nil)
		a.PartnerTokenHint = pt.Hint
		got, err := s.Account(t.Context(), a.ID)
		wantErr(t, "Account", err, nil)
		check(t, "Account", got, a)
		all, err := s.Accounts(t.Context())
		wantErr(t, "Accounts", err, nil)
		if len(all) != 1 {
			t.Fatalf("Accounts = %d accounts, want 1", len(all))
		}
		check(t, "Accounts", all[0], a)
		cred, err := s.PartnerCredential(t.Context(), pt.Hash)
		wantErr(t, "PartnerCredential", err, nil)
		check(t, "PartnerCredential account", &cred.Account, a)
	})
	t.Run("allowed scopes", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			scopes []string
		}{
			{"nil", nil},
			{"empty", []string{}},
			{"one", []string{"read"}},
			{"not sorted", []string{"z", "a:b", "m"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				a, pt := newAccount()
				a.AllowedScopes = tc.scopes
				wantErr(t, "CreateAccount", s.CreateAccount(t.Context(), a, pt), nil)
				got, err := s.Account(t.Context(), a.ID)
				wantErr(t, "Account", err, nil)
				if !slices.Equal(got.AllowedScopes, tc.scopes) {
					t.Fatalf("AllowedScopes = %q (len %d), want %q", got.AllowedScopes, len(got.AllowedScopes), tc.scopes)
				}
				all, err := s.Accounts(t.Context())
				wantErr(t, "Accounts", err, nil)
				if len(all) != 1 || !slices.Equal(all[0].AllowedScopes, tc.scopes) {
					t.Fatalf("Accounts = %+v, want the one account with AllowedScopes %q", all, tc.scopes)
				}
				cred, err := s.PartnerCredential(t.Context(), pt.Hash)
				wantErr(t, "PartnerCredential", err, nil)
				if !slices.Equal(cred.Account.AllowedScopes, tc.scopes) {
					t.Fatalf("PartnerCredential's AllowedScopes = %q, want %q", cred.Account.AllowedScopes, tc.scopes)
				}
			})
		}
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		mustAccount(t, s)
		_, err := s.Account(t.Context(), secret.NewID("acc"))
		wantErr(t, "Account", err, autho.ErrNotFound)
	})
	t.Run("duplicate id", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		b, pt := newAccount()
		b.ID = a.ID
		pt.AccountID = a.ID
		b.Name = "Someone else"
		wantErr(t, "CreateAccount", s.CreateAccount(t.Context(), b, pt), autho.ErrConflict)
		got, err := s.Account(t.Context(), a.ID)
		wantErr(t, "Account", err, nil)
		check(t, "Account", got, a)
		// The partner token of the refused account must not have been kept.
		_, err = s.PartnerCredential(t.Context(), pt.Hash)
		wantErr(t, "PartnerCredential", err, autho.ErrNotFound)
	})
	t.Run("duplicate partner token hash", func(t *testing.T) {
		s := newStore(t)
		_, pt := mustAccount(t, s)
		b, pt2 := newAccount()
		pt2.Hash = pt.Hash
		err := s.CreateAccount(t.Context(), b, pt2)
		wantErr(t, "CreateAccount", err, autho.ErrConflict)
		noLeak(t, err, pt.Hash)
		// Account and token go in together or not at all.
		_, err = s.Account(t.Context(), b.ID)
		wantErr(t, "Account of refused create", err, autho.ErrNotFound)
	})
}

func testAccounts(t *testing.T, newStore newStoreFunc) {
	t.Run("empty", func(t *testing.T) {
		got, err := newStore(t).Accounts(t.Context())
		wantErr(t, "Accounts", err, nil)
		if len(got) != 0 {
			t.Fatalf("Accounts of an empty store = %d accounts", len(got))
		}
	})
	t.Run("ok", func(t *testing.T) {
		s := newStore(t)
		want := map[string]*autho.Account{}
		for range 3 {
			a, _ := mustAccount(t, s)
			want[a.ID] = a
		}
		got, err := s.Accounts(t.Context())
		wantErr(t, "Accounts", err, nil)
		if len(got) != len(want) {
			t.Fatalf("Accounts = %d accounts, want %d", len(got), len(want))
		}
		for _, a := range got {
			if want[a.ID] == nil {
				t.Fatalf("Accounts returned unknown or repeated id %q", a.ID)
			}
			check(t, "Accounts["+a.ID+"]", a, want[a.ID])
			delete(want, a.ID)
		}
	})
}

func testUpdateAccount(t *testing.T, newStore newStoreFunc) {
	t.Run("ok", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		want := *a
		want.Name = "Renamed"
		want.Status = autho.AccountSuspended
		want.SuspendedAt = at(30 * time.Minute)
		want.ExpiresAt = at(48 * time.Hour)
		want.AllowedScopes = []string{"invoices:read"}
		want.MFARequired = true
		want.UpdatedAt = at(time.Hour)
		got, err := s.UpdateAccount(t.Context(), a.ID, func(cur *autho.Account) error {
			check(t, "account given to fn", cur, a)
			cur.Name, cur.Status, cur.ExpiresAt, cur.UpdatedAt = want.Name, want.Status, want.ExpiresAt, want.UpdatedAt
			cur.AllowedScopes, cur.SuspendedAt, cur.MFARequired = want.AllowedScopes, want.SuspendedAt, want.MFARequired
			return nil
		})
		wantErr(t, "UpdateAccount", err, nil)
		check(t, "UpdateAccount result", got, &want)
		read, err := s.Account(t.Context(), a.ID)
		wantErr(t, "Account", err, nil)
		check(t, "Account after update", read, &want)
	})
	t.Run("writes only its fields", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		next, _ := newAccount()
		next.Name, next.Status, next.ExpiresAt = "Renamed", autho.AccountSuspended, at(48*time.Hour)
		next.AllowedScopes, next.SuspendedAt, next.MFARequired = []string{"x:y"}, at(30*time.Minute), true
		next.CreatedAt, next.UpdatedAt, next.PartnerTokenHint = at(-time.Hour), at(time.Hour), "not a hint"
		checkUpdateWrites(t, a.ID, a, next, s.UpdateAccount, s.Account, func(dst, src *autho.Account) {
			dst.Name, dst.Status, dst.ExpiresAt, dst.UpdatedAt = src.Name, src.Status, src.ExpiresAt, src.UpdatedAt
			dst.AllowedScopes, dst.SuspendedAt, dst.MFARequired = src.AllowedScopes, src.SuspendedAt, src.MFARequired
		})
	})
	t.Run("reactivation keeps the suspension time", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		_, err := s.UpdateAccount(t.Context(), a.ID, func(a *autho.Account) error {
			a.SetStatus(autho.AccountSuspended, at(time.Minute))
			return nil
		})
		wantErr(t, "UpdateAccount suspend", err, nil)
		got, err := s.UpdateAccount(t.Context(), a.ID, func(a *autho.Account) error {
			a.SetStatus(autho.AccountActive, at(2*time.Minute))
			return nil
		})
		wantErr(t, "UpdateAccount reactivate", err, nil)
		read, err := s.Account(t.Context(), a.ID)
		wantErr(t, "Account", err, nil)
		for _, x := range []*autho.Account{got, read} {
			if x.Status != autho.AccountActive || !x.SuspendedAt.Equal(at(time.Minute)) {
				t.Fatalf("after reactivation: status %q, suspended at %v, want active, %v", x.Status, x.SuspendedAt, at(time.Minute))
			}
		}
	})
	t.Run("mfa requirement on and off", func(t *testing.T) {
		s := newStore(t)
		a, pt := mustAccount(t, s)
		for _, on := range []bool{true, false} {
			got, err := s.UpdateAccount(t.Context(), a.ID, func(a *autho.Account) error { a.MFARequired = on; return nil })
			wantErr(t, "UpdateAccount", err, nil)
			read, err := s.Account(t.Context(), a.ID)
			wantErr(t, "Account", err, nil)
			cred, err := s.PartnerCredential(t.Context(), pt.Hash)
			wantErr(t, "PartnerCredential", err, nil)
			if got.MFARequired != on || read.MFARequired != on || cred.Account.MFARequired != on {
				t.Fatalf("MFARequired = %v, read %v, credential's %v; want %v", got.MFARequired, read.MFARequired, cred.Account.MFARequired, on)
			}
		}
	})
	t.Run("clears allowed scopes", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		got, err := s.UpdateAccount(t.Context(), a.ID, func(a *autho.Account) error { a.AllowedScopes = nil; return nil })
		wantErr(t, "UpdateAccount", err, nil)
		read, err := s.Account(t.Context(), a.ID)
		wantErr(t, "Account", err, nil)
		if len(got.AllowedScopes) != 0 || len(read.AllowedScopes) != 0 {
			t.Fatalf("AllowedScopes = %q, then read %q, after clearing", got.AllowedScopes, read.AllowedScopes)
		}
	})
	t.Run("fn error", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		_, err := s.UpdateAccount(t.Context(), a.ID, func(a *autho.Account) error {
			a.Name = "Not kept"
			a.Status = autho.AccountSuspended
			return errAbort
		})
		wantErr(t, "UpdateAccount", err, errAbort)
		got, err := s.Account(t.Context(), a.ID)
		wantErr(t, "Account", err, nil)
		check(t, "Account after aborted update", got, a)
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		mustAccount(t, s)
		called := false
		_, err := s.UpdateAccount(t.Context(), secret.NewID("acc"), func(*autho.Account) error {
			called = true
			return nil
		})
		wantErr(t, "UpdateAccount", err, autho.ErrNotFound)
		if called {
			t.Error("fn called for a missing account")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		// Each update adds a second to what it read; a lost update (two
		// read the same value) leaves the total short.
		s := newStore(t)
		a, _ := mustAccount(t, s)
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				_, err := s.UpdateAccount(t.Context(), a.ID, func(a *autho.Account) error {
					a.ExpiresAt = a.ExpiresAt.Add(time.Second)
					return nil
				})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			wantErr(t, "concurrent UpdateAccount", err, nil)
		}
		got, err := s.Account(t.Context(), a.ID)
		wantErr(t, "Account", err, nil)
		if want := a.ExpiresAt.Add(n * time.Second); !got.ExpiresAt.Equal(want) {
			t.Fatalf("ExpiresAt = %v after %d concurrent +1s updates, want %v (lost %v)",
				got.ExpiresAt, n, want, want.Sub(got.ExpiresAt))
		}
	})
}

func testRotatePartnerToken(t *testing.T, newStore newStoreFunc) {
	t.Run("ok", func(t *testing.T) {
		s := newStore(t)
		a, old := mustAccount(t, s)
		next := newPartnerToken(a.ID, at(time.Hour))
		grace := at(time.Hour + 10*time.Minute)
		wantErr(t, "RotatePartnerToken", s.RotatePartnerToken(t.Context(), next, grace), nil)

		want := *a
		want.PartnerTokenHint = next.Hint
		got, err := s.Account(t.Context(), a.ID)
		wantErr(t, "Account", err, nil)
		check(t, "Account after rotation", got, &want)

		for _, tc := range []struct {
			name string
			pt   *autho.PartnerToken
			end  time.Time
		}{
			{"old token ends at oldUntil", old, grace},
			{"new token is current", next, time.Time{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, err := s.PartnerCredential(t.Context(), tc.pt.Hash)
				wantErr(t, "PartnerCredential", err, nil)
				check(t, "PartnerCredential", c, &autho.PartnerCredential{TokenID: tc.pt.ID, TokenExpiresAt: tc.end, Account: want})
			})
		}
	})
	t.Run("earlier end kept", func(t *testing.T) {
		s := newStore(t)
		a, p1 := mustAccount(t, s)
		p2 := newPartnerToken(a.ID, at(1*time.Minute))
		p3 := newPartnerToken(a.ID, at(2*time.Minute))
		p4 := newPartnerToken(a.ID, at(3*time.Minute))
		rotate := func(pt *autho.PartnerToken, until time.Time) {
			t.Helper()
			wantErr(t, "RotatePartnerToken", s.RotatePartnerToken(t.Context(), pt, until), nil)
		}
		rotate(p2, at(time.Hour))   // p1 ends at 1h
		rotate(p3, at(2*time.Hour)) // p1 keeps 1h; p2 ends at 2h
		rotate(p4, at(90*time.Minute))
		// A shorter grace cuts every longer one; p1's earlier end stands.
		for _, tc := range []struct {
			name string
			pt   *autho.PartnerToken
			end  time.Time
		}{
			{"first", p1, at(time.Hour)},
			{"second", p2, at(90 * time.Minute)},
			{"third", p3, at(90 * time.Minute)},
			{"current", p4, time.Time{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, err := s.PartnerCredential(t.Context(), tc.pt.Hash)
				wantErr(t, "PartnerCredential", err, nil)
				if c.TokenID != tc.pt.ID {
					t.Errorf("TokenID = %q, want %q", c.TokenID, tc.pt.ID)
				}
				check(t, "TokenExpiresAt", c.TokenExpiresAt, tc.end)
				if c.Account.PartnerTokenHint != p4.Hint {
					t.Errorf("PartnerTokenHint = %q, want the newest token's %q", c.Account.PartnerTokenHint, p4.Hint)
				}
			})
		}
	})
	t.Run("other accounts untouched", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		b, bpt := mustAccount(t, s)
		wantErr(t, "RotatePartnerToken", s.RotatePartnerToken(t.Context(), newPartnerToken(a.ID, at(time.Hour)), at(time.Hour)), nil)
		c, err := s.PartnerCredential(t.Context(), bpt.Hash)
		wantErr(t, "PartnerCredential", err, nil)
		check(t, "other account's credential", c, &autho.PartnerCredential{TokenID: bpt.ID, Account: *b})
	})
	t.Run("duplicate hash", func(t *testing.T) {
		s := newStore(t)
		a, old := mustAccount(t, s)
		_, other := mustAccount(t, s)
		next := newPartnerToken(a.ID, at(time.Hour))
		next.Hash = other.Hash
		err := s.RotatePartnerToken(t.Context(), next, at(time.Hour))
		wantErr(t, "RotatePartnerToken", err, autho.ErrConflict)
		noLeak(t, err, other.Hash)
		// A refused rotation must not have ended the current token.
		c, err := s.PartnerCredential(t.Context(), old.Hash)
		wantErr(t, "PartnerCredential", err, nil)
		check(t, "credential after refused rotation", c, &autho.PartnerCredential{TokenID: old.ID, Account: *a})
	})
	t.Run("unknown account", func(t *testing.T) {
		s := newStore(t)
		mustAccount(t, s)
		err := s.RotatePartnerToken(t.Context(), newPartnerToken(secret.NewID("acc"), at(time.Hour)), at(time.Hour))
		wantErr(t, "RotatePartnerToken", err, autho.ErrNotFound)
	})
}

func testPartnerCredential(t *testing.T, newStore newStoreFunc) {
	t.Run("ok", func(t *testing.T) {
		s := newStore(t)
		a, pt := mustAccount(t, s)
		mustAccount(t, s)
		c, err := s.PartnerCredential(t.Context(), pt.Hash)
		wantErr(t, "PartnerCredential", err, nil)
		check(t, "PartnerCredential", c, &autho.PartnerCredential{TokenID: pt.ID, Account: *a})
	})
	t.Run("account state", func(t *testing.T) {
		// The login refuses suspended and expired accounts from this one
		// read, so it must carry the account's current state.
		s := newStore(t)
		a, pt := mustAccount(t, s)
		want, err := s.UpdateAccount(t.Context(), a.ID, func(a *autho.Account) error {
			a.Status = autho.AccountSuspended
			a.ExpiresAt = at(-time.Hour)
			a.UpdatedAt = at(time.Minute)
			return nil
		})
		wantErr(t, "UpdateAccount", err, nil)
		c, err := s.PartnerCredential(t.Context(), pt.Hash)
		wantErr(t, "PartnerCredential", err, nil)
		check(t, "PartnerCredential", c, &autho.PartnerCredential{TokenID: pt.ID, Account: *want})
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		mustAccount(t, s)
		for _, tc := range []struct {
			name string
			hash []byte
		}{
			{"unknown hash", secret.Hash(secret.New(secret.PartnerToken))},
			{"empty hash", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.PartnerCredential(t.Context(), tc.hash)
				wantErr(t, "PartnerCredential", err, autho.ErrNotFound)
				noLeak(t, err, tc.hash)
			})
		}
	})
	t.Run("api token hash is not a partner token", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		_, err := s.PartnerCredential(t.Context(), tk.Hash)
		wantErr(t, "PartnerCredential", err, autho.ErrNotFound)
	})
}
