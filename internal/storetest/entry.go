package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// fixture is what every write of testEntries starts from: an account with
// a user, a token and a session, all stored.
type fixture struct {
	a   *autho.Account
	u   *autho.User
	tok *autho.APIToken
	ses *autho.Session
}

// entryWrite is one write method of store.go that takes entries: write
// makes its change with them, and done reports whether the change is
// visible to a later read.
type entryWrite struct {
	name  string
	write func(t *testing.T, s autho.Store, f *fixture, entries ...autho.Entry) error
	done  func(t *testing.T, s autho.Store, f *fixture) bool
}

// pending is the change an entryWrite makes, built before it is stored so
// that done can look for it.
var pending struct {
	account *autho.Account
	pt      *autho.PartnerToken
	user    *autho.User
	token   *autho.APIToken
	key     *autho.SigningKey
	session *autho.Session
	opKey   *autho.OperatorKey
}

func entryWrites() []entryWrite {
	found := func(err error) bool { return err == nil }
	return []entryWrite{
		{"CreateAccount",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				pending.account, pending.pt = newAccount()
				return s.CreateAccount(t.Context(), pending.account, pending.pt, es...)
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				_, err := s.Account(t.Context(), pending.account.ID)
				return found(err)
			}},
		{"UpdateAccount",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				_, err := s.UpdateAccount(t.Context(), f.a.ID, func(a *autho.Account) error { a.Status = autho.AccountSuspended; return nil }, es...)
				return err
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				a, err := s.Account(t.Context(), f.a.ID)
				return err == nil && a.Status == autho.AccountSuspended
			}},
		{"RotatePartnerToken",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				pending.pt = newPartnerToken(f.a.ID, at(time.Hour))
				return s.RotatePartnerToken(t.Context(), pending.pt, at(time.Hour), es...)
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				_, err := s.PartnerCredential(t.Context(), pending.pt.Hash)
				return found(err)
			}},
		{"CreateUser",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				pending.user = newUser(f.a.ID)
				return s.CreateUser(t.Context(), pending.user, es...)
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				_, err := s.User(t.Context(), pending.user.ID)
				return found(err)
			}},
		{"UpdateUser",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				_, err := s.UpdateUser(t.Context(), f.u.ID, func(u *autho.User) error { u.Active = false; return nil }, es...)
				return err
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				u, err := s.User(t.Context(), f.u.ID)
				return err == nil && !u.Active
			}},
		{"CreateAPIToken",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				pending.token = newAPIToken(f.u, at(time.Minute))
				return s.CreateAPIToken(t.Context(), pending.token, es...)
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				_, err := s.APIToken(t.Context(), pending.token.ID)
				return found(err)
			}},
		{"CreateAPITokenCapped",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				pending.token = newAPIToken(f.u, at(time.Minute))
				return s.CreateAPITokenCapped(t.Context(), pending.token, 5, es...)
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				_, err := s.APIToken(t.Context(), pending.token.ID)
				return found(err)
			}},
		{"UpdateAPIToken",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				_, err := s.UpdateAPIToken(t.Context(), f.tok.ID, func(tk *autho.APIToken) error { tk.RevokedAt = at(time.Hour); return nil }, es...)
				return err
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				tk, err := s.APIToken(t.Context(), f.tok.ID)
				return err == nil && tk.Revoked()
			}},
		{"AddSigningKey",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				pending.key = newKey("ES256", at(time.Minute))
				return s.AddSigningKey(t.Context(), pending.key, at(48*time.Hour), es...)
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				ks, err := s.SigningKeys(t.Context())
				return err == nil && slices.ContainsFunc(ks, func(k *autho.SigningKey) bool { return k.ID == pending.key.ID })
			}},
		{"DeleteSigningKeys",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				pending.key = newKey("ES256", t0)
				mustKey(t, s, pending.key, at(48*time.Hour))
				return s.DeleteSigningKeys(t.Context(), []string{pending.key.ID}, es...)
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				ks, err := s.SigningKeys(t.Context())
				return err == nil && !slices.ContainsFunc(ks, func(k *autho.SigningKey) bool { return k.ID == pending.key.ID })
			}},
		{"CreateOperatorKey",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				pending.opKey = newOperatorKey(at(time.Minute))
				return s.CreateOperatorKey(t.Context(), pending.opKey, es...)
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				_, err := s.OperatorKey(t.Context(), pending.opKey.ID)
				return found(err)
			}},
		{"UpdateOperatorKey",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				pending.opKey = mustOperatorKey(t, s, t0)
				_, err := s.UpdateOperatorKey(t.Context(), pending.opKey.ID, func(k *autho.OperatorKey) error { k.RevokedAt = at(time.Hour); return nil }, es...)
				return err
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				k, err := s.OperatorKey(t.Context(), pending.opKey.ID)
				return err == nil && k.Revoked()
			}},
		{"CreateSession",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				pending.session = newSession(f.u, at(time.Minute))
				return s.CreateSession(t.Context(), pending.session, es...)
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				_, err := s.Session(t.Context(), pending.session.Hash)
				return found(err)
			}},
		{"DeleteSession",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				return s.DeleteSession(t.Context(), f.ses.Hash, es...)
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				_, err := s.Session(t.Context(), f.ses.Hash)
				return errors.Is(err, autho.ErrNotFound)
			}},
		{"DeleteUserSessions",
			func(t *testing.T, s autho.Store, f *fixture, es ...autho.Entry) error {
				_, err := s.DeleteUserSessions(t.Context(), f.u.ID, nil, es...)
				return err
			},
			func(t *testing.T, s autho.Store, f *fixture) bool {
				_, err := s.Session(t.Context(), f.ses.Hash)
				return errors.Is(err, autho.ErrNotFound)
			}},
	}
}

func mustFixture(t *testing.T, s autho.Store) *fixture {
	t.Helper()
	a, u := mustAll(t, s)
	return &fixture{a: a, u: u, tok: mustAPIToken(t, s, u, t0), ses: mustSession(t, s, u, t0)}
}

func allEvents(t *testing.T, s autho.Store) []*autho.AuditEvent {
	t.Helper()
	es, err := s.AuditEvents(t.Context(), autho.AuditFilter{})
	wantErr(t, "AuditEvents", err, nil)
	return es
}

// testEntries pins the promise of store.go's write methods: a change and
// its entries are stored together or not at all.
func testEntries(t *testing.T, newStore newStoreFunc) {
	for _, w := range entryWrites() {
		t.Run(w.name, func(t *testing.T) {
			t.Run("stored with the change", func(t *testing.T) {
				s := newStore(t)
				f := mustFixture(t, s)
				one, two := newAuditEvent(f.a, f.u, at(time.Minute)), newAuditEvent(f.a, f.u, at(2*time.Minute))
				wantErr(t, w.name, w.write(t, s, f, one, two), nil)
				if !w.done(t, s, f) {
					t.Fatalf("%s: the change is not stored", w.name)
				}
				check(t, "AuditEvents", allEvents(t, s), []*autho.AuditEvent{two, one})
			})
			t.Run("an entry refused undoes the change", func(t *testing.T) {
				s := newStore(t)
				f := mustFixture(t, s)
				old := newAuditEvent(f.a, f.u, t0)
				wantErr(t, "AddAuditEvent", s.AddAuditEvent(t.Context(), old), nil)
				ok, dup := newAuditEvent(f.a, f.u, at(time.Minute)), newAuditEvent(f.a, f.u, at(time.Minute))
				dup.ID = old.ID
				wantErr(t, w.name, w.write(t, s, f, ok, dup), autho.ErrConflict)
				if w.done(t, s, f) {
					t.Fatalf("%s: the change stayed although its entry was refused", w.name)
				}
				check(t, "AuditEvents", allEvents(t, s), []*autho.AuditEvent{old})
			})
		})
	}
	t.Run("an entry dropped by fn is skipped", func(t *testing.T) {
		s := newStore(t)
		f := mustFixture(t, s)
		kept, dropped := newAuditEvent(f.a, f.u, at(time.Minute)), newAuditEvent(f.a, f.u, at(2*time.Minute))
		es := []autho.Entry{kept, dropped}
		_, err := s.UpdateAccount(t.Context(), f.a.ID, func(a *autho.Account) error {
			a.Name = "Renamed"
			es[1] = nil
			return nil
		}, es...)
		wantErr(t, "UpdateAccount", err, nil)
		check(t, "AuditEvents", allEvents(t, s), []*autho.AuditEvent{kept})
	})
	t.Run("an entry of no account", func(t *testing.T) {
		s := newStore(t)
		f := mustFixture(t, s)
		mine := newAuditEvent(f.a, f.u, t0)
		wantErr(t, "AddAuditEvent", s.AddAuditEvent(t.Context(), mine), nil)
		global := autho.OperatorCLI.Audit(secret.NewID("aud"), autho.AuditSigningKeyRotate, at(time.Minute))
		k := newKey("EdDSA", at(time.Minute))
		global.TargetID, global.TargetName = k.ID, k.Algorithm
		wantErr(t, "AddSigningKey", s.AddSigningKey(t.Context(), k, at(time.Hour), global), nil)
		check(t, "AuditEvents of every account", allEvents(t, s), []*autho.AuditEvent{global, mine})
		got, err := s.AuditEvents(t.Context(), autho.AuditFilter{AccountID: f.a.ID})
		wantErr(t, "AuditEvents", err, nil)
		check(t, "AuditEvents of the account", got, []*autho.AuditEvent{mine})
	})
	t.Run("ErrUnchanged writes nothing", func(t *testing.T) {
		s := newStore(t)
		f := mustFixture(t, s)
		e := newAuditEvent(f.a, f.u, at(time.Minute))
		a, err := s.UpdateAccount(t.Context(), f.a.ID, func(a *autho.Account) error {
			a.Name = "not this"
			return autho.ErrUnchanged
		}, e)
		wantErr(t, "UpdateAccount", err, nil)
		check(t, "UpdateAccount", a, f.a)
		u, err := s.UpdateUser(t.Context(), f.u.ID, func(u *autho.User) error {
			u.Active = false
			return autho.ErrUnchanged
		}, e)
		wantErr(t, "UpdateUser", err, nil)
		check(t, "UpdateUser", u, f.u)
		tk, err := s.UpdateAPIToken(t.Context(), f.tok.ID, func(tk *autho.APIToken) error {
			tk.RevokedAt = at(time.Hour)
			return autho.ErrUnchanged
		}, e)
		wantErr(t, "UpdateAPIToken", err, nil)
		check(t, "UpdateAPIToken", tk, f.tok)
		again, err := s.APIToken(t.Context(), f.tok.ID)
		wantErr(t, "APIToken", err, nil)
		check(t, "APIToken after ErrUnchanged", again, f.tok)
		if es := allEvents(t, s); len(es) != 0 {
			t.Fatalf("ErrUnchanged stored %d entries", len(es))
		}
	})
}
