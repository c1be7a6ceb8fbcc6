package storetest

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// revocations reads s's facts and sorts them, so that they compare.
func revocations(t *testing.T, s autho.Store, since, now time.Time) []autho.Revocation {
	t.Helper()
	rs, err := s.Revocations(t.Context(), since, now)
	wantErr(t, "Revocations", err, nil)
	sortRevocations(rs)
	return rs
}

func sortRevocations(rs []autho.Revocation) {
	slices.SortFunc(rs, func(a, b autho.Revocation) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID), a.At.Compare(b.At))
	})
}

func version(t *testing.T, s autho.Store) int64 {
	t.Helper()
	v, err := s.RevocationVersion(t.Context())
	wantErr(t, "RevocationVersion", err, nil)
	return v
}

// listed fails unless rs holds want.
func listed(t *testing.T, what string, rs []autho.Revocation, want autho.Revocation) {
	t.Helper()
	for _, r := range rs {
		if r.Kind == want.Kind && r.ID == want.ID && r.At.Equal(want.At) {
			return
		}
	}
	t.Errorf("%s: Revocations lacks %+v; got %+v", what, want, rs)
}

func testRevocations(t *testing.T, newStore newStoreFunc) {
	t.Run("bounds", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		since, now := at(10*time.Minute), at(time.Hour)
		// The fixture's account ends in a year, after now: not listed.
		a, u := mustAll(t, s)
		var want []autho.Revocation

		token := func(revoked, expires time.Time, in bool) {
			t.Helper()
			tk := newAPIToken(u, t0)
			tk.RevokedAt, tk.ExpiresAt = revoked, expires
			wantErr(t, "CreateAPIToken", s.CreateAPIToken(ctx, tk), nil)
			if in {
				want = append(want, autho.Revocation{Kind: autho.RevokedToken, ID: tk.ID, At: revoked})
			}
		}
		token(since, at(24*time.Hour), true)                         // revoked at since: inclusive
		token(since.Add(-time.Microsecond), at(24*time.Hour), false) // revoked before since
		token(at(20*time.Minute), since, false)                      // its JWTs ended by since
		token(at(20*time.Minute), since.Add(time.Microsecond), true) // ends just after since
		token(time.Time{}, at(24*time.Hour), false)                  // not revoked
		// Revoked through an update too, not only at creation.
		tk := mustAPIToken(t, s, u, t0)
		_, err := s.UpdateAPIToken(ctx, tk.ID, func(tk *autho.APIToken) error { tk.RevokedAt = at(30 * time.Minute); return nil })
		wantErr(t, "UpdateAPIToken", err, nil)
		want = append(want, autho.Revocation{Kind: autho.RevokedToken, ID: tk.ID, At: at(30 * time.Minute)})

		user := func(active bool, deactivated time.Time, in bool) *autho.User {
			t.Helper()
			v := newUser(a.ID)
			v.Active, v.DeactivatedAt = active, deactivated
			wantErr(t, "CreateUser", s.CreateUser(ctx, v), nil)
			if in {
				want = append(want, autho.Revocation{Kind: autho.RevokedUser, ID: v.ID, At: deactivated})
			}
			return v
		}
		user(false, since, true)                         // deactivated at since
		user(false, since.Add(-time.Microsecond), false) // before since
		user(true, since.Add(-time.Minute), false)       // reactivated, but deactivated before since
		user(true, time.Time{}, false)                   // never deactivated
		// Deactivated, then reactivated: still listed, at the deactivation.
		v := user(true, time.Time{}, false)
		for i, active := range []bool{false, true} {
			_, err := s.UpdateUser(ctx, v.ID, func(v *autho.User) error {
				v.SetActive(active, at(time.Duration(20+i)*time.Minute))
				return nil
			})
			wantErr(t, "UpdateUser", err, nil)
		}
		want = append(want, autho.Revocation{Kind: autho.RevokedUser, ID: v.ID, At: at(20 * time.Minute)})

		account := func(status autho.AccountStatus, suspended, expires time.Time, wantSuspended, wantEnded bool) *autho.Account {
			t.Helper()
			b, pt := newAccount()
			b.Status, b.SuspendedAt, b.ExpiresAt = status, suspended, expires
			wantErr(t, "CreateAccount", s.CreateAccount(ctx, b, pt), nil)
			if wantSuspended {
				want = append(want, autho.Revocation{Kind: autho.RevokedAccount, ID: b.ID, At: suspended})
			}
			if wantEnded {
				want = append(want, autho.Revocation{Kind: autho.RevokedAccount, ID: b.ID, At: expires})
			}
			return b
		}
		year := at(365 * 24 * time.Hour)
		account(autho.AccountSuspended, since, year, true, false)                         // suspended at since
		account(autho.AccountSuspended, since.Add(-time.Microsecond), year, false, false) // before since
		account(autho.AccountSuspended, at(20*time.Minute), now, true, true)              // suspended and ended: twice
		account(autho.AccountActive, time.Time{}, since, false, true)                     // ended at since: inclusive
		account(autho.AccountActive, time.Time{}, since.Add(-time.Microsecond), false, false)
		account(autho.AccountActive, time.Time{}, now.Add(time.Microsecond), false, false) // ends after now
		// Suspended, then reactivated: still listed, at the suspension.
		b := account(autho.AccountActive, time.Time{}, year, false, false)
		for i, st := range []autho.AccountStatus{autho.AccountSuspended, autho.AccountActive} {
			_, err := s.UpdateAccount(ctx, b.ID, func(b *autho.Account) error {
				b.SetStatus(st, at(time.Duration(40+i)*time.Minute))
				return nil
			})
			wantErr(t, "UpdateAccount", err, nil)
		}
		want = append(want, autho.Revocation{Kind: autho.RevokedAccount, ID: b.ID, At: at(40 * time.Minute)})

		sortRevocations(want)
		check(t, "Revocations", revocations(t, s, since, now), want)
		// The since and now given in another zone mean the same instants.
		check(t, "Revocations in another zone", revocations(t, s, since.In(time.UTC), now.In(time.UTC)), want)
	})
	t.Run("none", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		mustAPIToken(t, s, u, t0)
		if rs := revocations(t, s, t0, at(time.Hour)); len(rs) != 0 {
			t.Fatalf("Revocations = %+v, want none", rs)
		}
	})
}

func testRevocationVersion(t *testing.T, newStore newStoreFunc) {
	t.Run("grows with every change the feed lists", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		prev := version(t, s)
		since, now := t0, at(2*time.Hour)
		a, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		leaked := mustAPIToken(t, s, u, t0)
		if v := version(t, s); v <= prev {
			t.Fatalf("version %d after an account was created, was %d", v, prev)
		}
		prev = version(t, s)
		for _, step := range []struct {
			name   string
			change func() error
			fact   *autho.Revocation // what a read after the new version lists
		}{
			{"token revoked", func() error {
				_, err := s.UpdateAPIToken(ctx, tk.ID, func(tk *autho.APIToken) error { tk.RevokedAt = at(time.Minute); return nil })
				return err
			}, &autho.Revocation{Kind: autho.RevokedToken, ID: tk.ID, At: at(time.Minute)}},
			{"user deactivated", func() error {
				_, err := s.UpdateUser(ctx, u.ID, func(u *autho.User) error { u.SetActive(false, at(2*time.Minute)); return nil })
				return err
			}, &autho.Revocation{Kind: autho.RevokedUser, ID: u.ID, At: at(2 * time.Minute)}},
			{"user deactivated again", func() error {
				_, err := s.UpdateUser(ctx, u.ID, func(u *autho.User) error {
					u.SetActive(true, at(3*time.Minute))
					u.SetActive(false, at(4*time.Minute))
					return nil
				})
				return err
			}, &autho.Revocation{Kind: autho.RevokedUser, ID: u.ID, At: at(4 * time.Minute)}},
			{"account suspended", func() error {
				_, err := s.UpdateAccount(ctx, a.ID, func(a *autho.Account) error {
					a.SetStatus(autho.AccountSuspended, at(5*time.Minute))
					return nil
				})
				return err
			}, &autho.Revocation{Kind: autho.RevokedAccount, ID: a.ID, At: at(5 * time.Minute)}},
			{"account expiry moved", func() error {
				_, err := s.UpdateAccount(ctx, a.ID, func(a *autho.Account) error { a.ExpiresAt = at(time.Hour); return nil })
				return err
			}, &autho.Revocation{Kind: autho.RevokedAccount, ID: a.ID, At: at(time.Hour)}},
			{"account expiry moved later", func() error {
				_, err := s.UpdateAccount(ctx, a.ID, func(a *autho.Account) error { a.ExpiresAt = at(90 * time.Minute); return nil })
				return err
			}, &autho.Revocation{Kind: autho.RevokedAccount, ID: a.ID, At: at(90 * time.Minute)}},
			{"leaked token revoked with its audit events and event", func() error {
				aud := newAuditEvent(a, u, at(6*time.Minute))
				aud.Action, aud.TargetID = autho.AuditTokenRevoke, leaked.ID
				ev := newEvent(a.ID, autho.EventAPITokenLeaked, at(6*time.Minute), recipient())
				_, err := s.UpdateAPIToken(ctx, leaked.ID, func(tk *autho.APIToken) error {
					if tk.State(at(6*time.Minute)) != autho.TokenActive {
						return autho.ErrUnchanged
					}
					tk.RevokedAt = at(6 * time.Minute)
					return nil
				}, aud, ev)
				return err
			}, &autho.Revocation{Kind: autho.RevokedToken, ID: leaked.ID, At: at(6 * time.Minute)}},
			{"token created revoked", func() error {
				x := newAPIToken(u, t0)
				x.RevokedAt = at(7 * time.Minute)
				x.ID = "tok_created_revoked"
				return s.CreateAPIToken(ctx, x)
			}, &autho.Revocation{Kind: autho.RevokedToken, ID: "tok_created_revoked", At: at(7 * time.Minute)}},
			{"user created deactivated", func() error {
				x := newUser(a.ID)
				x.ID, x.Active, x.DeactivatedAt = "usr_created_deactivated", false, at(8*time.Minute)
				return s.CreateUser(ctx, x)
			}, &autho.Revocation{Kind: autho.RevokedUser, ID: "usr_created_deactivated", At: at(8 * time.Minute)}},
			{"account created", func() error {
				x, pt := newAccount()
				x.ID, x.ExpiresAt = "acc_created_ended", at(9*time.Minute)
				return s.CreateAccount(ctx, x, pt)
			}, &autho.Revocation{Kind: autho.RevokedAccount, ID: "acc_created_ended", At: at(9 * time.Minute)}},
			{"token revocation undone", func() error {
				_, err := s.UpdateAPIToken(ctx, tk.ID, func(tk *autho.APIToken) error { tk.RevokedAt = time.Time{}; return nil })
				return err
			}, nil},
		} {
			wantErr(t, step.name, step.change(), nil)
			v := version(t, s)
			if v <= prev {
				t.Fatalf("%s: version %d, was %d", step.name, v, prev)
			}
			prev = v
			if step.fact != nil {
				listed(t, step.name, revocations(t, s, since, now), *step.fact)
			}
		}
	})
	t.Run("never goes down", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		a, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		prev := version(t, s)
		for _, step := range []struct {
			name   string
			change func() error
		}{
			{"token created", func() error { return s.CreateAPIToken(ctx, newAPIToken(u, t0)) }},
			{"token renamed", func() error {
				_, err := s.UpdateAPIToken(ctx, tk.ID, func(tk *autho.APIToken) error { tk.Name = "renamed"; return nil })
				return err
			}},
			{"token used", func() error {
				return s.RecordTokenUse(ctx, []autho.TokenUse{{TokenID: tk.ID, At: at(time.Minute), IP: "192.0.2.1"}})
			}},
			{"user created", func() error { return s.CreateUser(ctx, newUser(a.ID)) }},
			{"user's role changed", func() error {
				_, err := s.UpdateUser(ctx, u.ID, func(u *autho.User) error { u.Role = autho.RoleAdmin; return nil })
				return err
			}},
			{"account renamed", func() error {
				_, err := s.UpdateAccount(ctx, a.ID, func(a *autho.Account) error { a.Name = "renamed"; return nil })
				return err
			}},
			{"refused change", func() error {
				_, err := s.UpdateAPIToken(ctx, tk.ID, func(tk *autho.APIToken) error {
					tk.RevokedAt = at(time.Minute)
					return errAbort
				})
				if errors.Is(err, errAbort) {
					return nil
				}
				return err
			}},
		} {
			wantErr(t, step.name, step.change(), nil)
			v := version(t, s)
			if v < prev {
				t.Fatalf("%s: version %d, was %d", step.name, v, prev)
			}
			prev = v
		}
	})
	t.Run("parallel revocations each count", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		const n = 16
		tks := make([]*autho.APIToken, n)
		for i := range tks {
			tks[i] = mustAPIToken(t, s, u, t0)
		}
		revokeAtOnce(t, []autho.Store{s}, tks)
	})
}

// revokeAtOnce revokes each of tks at the same moment, one goroutine each,
// round-robin over stores, and fails unless the version, read through each
// store, grew by at least one per revocation (none lost between parallel
// writers) and every revocation is listed.
func revokeAtOnce(t *testing.T, stores []autho.Store, tks []*autho.APIToken) {
	t.Helper()
	before := version(t, stores[0])
	var wg sync.WaitGroup
	begin := make(chan struct{})
	errs := make([]error, len(tks))
	for i, tk := range tks {
		wg.Go(func() {
			<-begin
			_, errs[i] = stores[i%len(stores)].UpdateAPIToken(t.Context(), tk.ID, func(tk *autho.APIToken) error {
				tk.RevokedAt = at(time.Minute)
				return nil
			})
		})
	}
	close(begin)
	wg.Wait()
	for i, err := range errs {
		wantErr(t, "UpdateAPIToken "+tks[i].ID, err, nil)
	}
	for i, s := range stores {
		if got := version(t, s) - before; got < int64(len(tks)) {
			t.Errorf("store %d: version grew by %d over %d parallel revocations", i, got, len(tks))
		}
		rs := revocations(t, s, t0, at(time.Hour))
		for _, tk := range tks {
			listed(t, "after parallel revocations", rs, autho.Revocation{Kind: autho.RevokedToken, ID: tk.ID, At: at(time.Minute)})
		}
	}
}

// TestRevocationsAcrossStores: stores are several nodes or processes on one
// database (the CLI beside "autho serve"). Revocations made at once through
// all of them each move the version every one of them reads.
func TestRevocationsAcrossStores(t *testing.T, stores ...autho.Store) {
	t.Helper()
	_, u := mustAll(t, stores[0])
	tks := make([]*autho.APIToken, 12)
	for i := range tks {
		tks[i] = mustAPIToken(t, stores[0], u, t0)
	}
	revokeAtOnce(t, stores, tks)
	// A deactivation through one store is seen by every other's next read.
	for i, s := range stores {
		before := version(t, stores[0])
		v := newUser(u.AccountID)
		v.ID = secret.NewID("usr")
		wantErr(t, "CreateUser", s.CreateUser(t.Context(), v), nil)
		_, err := s.UpdateUser(t.Context(), v.ID, func(v *autho.User) error { v.SetActive(false, at(time.Minute)); return nil })
		wantErr(t, "UpdateUser", err, nil)
		for j, r := range stores {
			if got := version(t, r); got <= before {
				t.Errorf("deactivation through store %d: store %d reads version %d, was %d", i, j, got, before)
			}
		}
	}
}
