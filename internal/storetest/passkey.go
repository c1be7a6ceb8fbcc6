package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

func newPasskey(u *autho.User, created time.Time) *autho.Passkey {
	return &autho.Passkey{
		ID:                secret.NewID("pk"),
		UserID:            u.ID,
		Name:              "laptop " + secret.Random(4),
		CredentialID:      []byte("cred \x00\xff " + secret.Random(16)),
		PublicKey:         []byte("\xa5\x01\x02 cose " + secret.Random(16)),
		SignCount:         4000000000, // above int32: the column must hold a uint32
		AAGUID:            []byte("0123456789abcdef"),
		Transports:        []string{"internal", "hybrid"},
		Flags:             0x1d,
		AttestationType:   "none",
		AttestationFormat: "none",
		Attachment:        "platform",
		CreatedAt:         created,
	}
}

func newCeremony(u *autho.User, kind autho.CeremonyKind, created time.Time) *autho.Ceremony {
	c := &autho.Ceremony{
		Hash: secret.Hash(secret.Random(43)), Kind: kind, Name: "key " + secret.Random(3),
		Data:      []byte(`{"challenge":"` + secret.Random(43) + `"}`),
		CreatedAt: created, ExpiresAt: created.Add(5 * time.Minute),
	}
	if u != nil {
		c.UserID, c.Bound = u.ID, secret.Hash(secret.Random(43))
	}
	return c
}

func testPasskeys(t *testing.T, newStore newStoreFunc) {
	t.Run("create, list, find", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		first, second := newPasskey(u, t0), newPasskey(u, at(time.Minute))
		second.AAGUID, second.Transports, second.Attachment = nil, nil, ""
		codes := newCodes(u, 10, t0)
		wantErr(t, "CreatePasskey", s.CreatePasskey(t.Context(), first, codes, mfaAudit(a, u, autho.AuditMFAAdd)), nil)
		wantErr(t, "CreatePasskey", s.CreatePasskey(t.Context(), second, nil), nil)
		got, err := s.Passkeys(t.Context(), u.ID)
		wantErr(t, "Passkeys", err, nil)
		check(t, "Passkeys", got, []*autho.Passkey{first, second})
		byID, err := s.PasskeyByCredentialID(t.Context(), second.CredentialID)
		wantErr(t, "PasskeyByCredentialID", err, nil)
		check(t, "PasskeyByCredentialID", byID, second)
		_, err = s.PasskeyByCredentialID(t.Context(), []byte("nobody's"))
		wantErr(t, "PasskeyByCredentialID unknown", err, autho.ErrNotFound)
		if rc, _ := s.RecoveryCodes(t.Context(), u.ID); len(rc) != 10 {
			t.Errorf("%d recovery codes stored with the first passkey, want 10", len(rc))
		}
		if es := allEvents(t, s); len(es) != 1 || es[0].Action != autho.AuditMFAAdd {
			t.Errorf("audit events %v, want the one mfa.add", es)
		}
		// Another user's passkeys are not this one's.
		other := mustUser(t, s, a.ID)
		if got, err := s.Passkeys(t.Context(), other.ID); len(got) != 0 || err != nil {
			t.Errorf("another user's passkeys = %v, %v", got, err)
		}
	})
	t.Run("a credential id is stored once, for one user", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		p := newPasskey(u, t0)
		wantErr(t, "CreatePasskey", s.CreatePasskey(t.Context(), p, nil), nil)
		again := newPasskey(mustUser(t, s, a.ID), t0)
		again.CredentialID = p.CredentialID
		err := s.CreatePasskey(t.Context(), again, newCodes(u, 2, t0), mfaAudit(a, u, autho.AuditMFAAdd))
		wantErr(t, "CreatePasskey of a stored credential id", err, autho.ErrConflict)
		if es := allEvents(t, s); len(es) != 0 {
			t.Errorf("%d audit events from a refused passkey", len(es))
		}
		err = s.CreatePasskey(t.Context(), newPasskey(&autho.User{ID: "usr_nobody"}, t0), nil)
		wantErr(t, "CreatePasskey of nobody", err, autho.ErrNotFound)
	})
	t.Run("a use writes the counter, the flags and the time", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		p := newPasskey(u, t0)
		wantErr(t, "CreatePasskey", s.CreatePasskey(t.Context(), p, nil), nil)
		ok, err := s.UsePasskey(t.Context(), p.ID, 4000000001, 0x05, at(time.Hour))
		if !ok || err != nil {
			t.Fatalf("UsePasskey = %v, %v", ok, err)
		}
		p.SignCount, p.Flags, p.LastUsedAt = 4000000001, 0x05, at(time.Hour)
		got, err := s.PasskeyByCredentialID(t.Context(), p.CredentialID)
		wantErr(t, "PasskeyByCredentialID", err, nil)
		check(t, "after a use", got, p)
		if ok, err := s.UsePasskey(t.Context(), "pk_gone", 1, 0, t0); ok || err != nil {
			t.Errorf("UsePasskey of none = %v, %v", ok, err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		one, two := newPasskey(u, t0), newPasskey(u, t0)
		wantErr(t, "CreatePasskey", s.CreatePasskey(t.Context(), one, newCodes(u, 3, t0)), nil)
		wantErr(t, "CreatePasskey", s.CreatePasskey(t.Context(), two, nil), nil)
		other := mustUser(t, s, a.ID)
		if ok, err := s.DeletePasskey(t.Context(), other.ID, one.ID, true, mfaAudit(a, other, autho.AuditMFARemove)); ok || err != nil {
			t.Errorf("DeletePasskey of another user's = %v, %v", ok, err)
		}
		if ok, err := s.DeletePasskey(t.Context(), u.ID, one.ID, false, mfaAudit(a, u, autho.AuditMFARemove)); !ok || err != nil {
			t.Errorf("DeletePasskey = %v, %v", ok, err)
		}
		if rc, _ := s.RecoveryCodes(t.Context(), u.ID); len(rc) != 3 {
			t.Errorf("%d recovery codes after removing one of two passkeys, want 3", len(rc))
		}
		if ok, err := s.DeletePasskey(t.Context(), u.ID, two.ID, true, mfaAudit(a, u, autho.AuditMFARemove)); !ok || err != nil {
			t.Errorf("DeletePasskey of the last = %v, %v", ok, err)
		}
		if rc, _ := s.RecoveryCodes(t.Context(), u.ID); len(rc) != 0 {
			t.Errorf("%d recovery codes after the last factor went, want 0", len(rc))
		}
		if ok, err := s.DeletePasskey(t.Context(), u.ID, two.ID, true, mfaAudit(a, u, autho.AuditMFARemove)); ok || err != nil {
			t.Errorf("DeletePasskey again = %v, %v", ok, err)
		}
		if es := allEvents(t, s); len(es) != 2 {
			t.Errorf("%d audit events, want 2: only removals that removed something", len(es))
		}
		if _, err := s.PasskeyByCredentialID(t.Context(), one.CredentialID); err == nil {
			t.Error("a removed passkey is still found by its credential id")
		}
	})
	t.Run("reset clears passkeys and ceremonies", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		wantErr(t, "CreatePasskey", s.CreatePasskey(t.Context(), newPasskey(u, t0), newCodes(u, 2, t0)), nil)
		c := newCeremony(u, autho.CeremonyStepUp, t0)
		wantErr(t, "CreateCeremony", s.CreateCeremony(t.Context(), c), nil)
		n, err := s.DeleteMFA(t.Context(), u.ID, mfaAudit(a, u, autho.AuditMFAReset))
		if n != 3 || err != nil {
			t.Errorf("DeleteMFA = %d, %v; want 3 (a passkey, two codes)", n, err)
		}
		if ps, _ := s.Passkeys(t.Context(), u.ID); len(ps) != 0 {
			t.Errorf("%d passkeys after a reset", len(ps))
		}
		if _, err := s.TakeCeremony(t.Context(), c.Hash); err == nil {
			t.Error("a ceremony of the user outlived the reset")
		}
	})
	t.Run("ceremonies", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		for _, c := range []*autho.Ceremony{newCeremony(u, autho.CeremonyRegister, t0), newCeremony(nil, autho.CeremonySignIn, t0)} {
			wantErr(t, "CreateCeremony", s.CreateCeremony(t.Context(), c), nil)
			wantErr(t, "CreateCeremony again", s.CreateCeremony(t.Context(), c), autho.ErrConflict)
			got, err := s.TakeCeremony(t.Context(), c.Hash)
			wantErr(t, "TakeCeremony", err, nil)
			check(t, "TakeCeremony", got, c)
			_, err = s.TakeCeremony(t.Context(), c.Hash)
			wantErr(t, "TakeCeremony again", err, autho.ErrNotFound)
			noLeak(t, err, c.Hash)
		}
		old, young := newCeremony(u, autho.CeremonySecondFactor, t0), newCeremony(nil, autho.CeremonySignIn, at(10*time.Minute))
		wantErr(t, "CreateCeremony", s.CreateCeremony(t.Context(), old), nil)
		wantErr(t, "CreateCeremony", s.CreateCeremony(t.Context(), young), nil)
		n, err := s.DeleteCeremoniesBefore(t.Context(), at(6*time.Minute))
		if n != 1 || err != nil {
			t.Errorf("DeleteCeremoniesBefore = %d, %v; want 1", n, err)
		}
		if _, err := s.TakeCeremony(t.Context(), young.Hash); err != nil {
			t.Errorf("the young one: %v", err)
		}
	})
	t.Run("parallel", func(t *testing.T) {
		s := newStore(t)
		TestCeremonyAcrossStores(t, s, s)
	})
}

// TestCeremonyAcrossStores takes one ceremony from 20 goroutines at once,
// round robin over stores (two nodes, or two handles on one file): exactly
// one gets it, the others ErrNotFound.
func TestCeremonyAcrossStores(t *testing.T, stores ...autho.Store) {
	t.Helper()
	_, u := mustAll(t, stores[0])
	for _, kind := range []autho.CeremonyKind{autho.CeremonyRegister, autho.CeremonySignIn, autho.CeremonySecondFactor, autho.CeremonyStepUp} {
		owner := u
		if kind == autho.CeremonySignIn {
			owner = nil
		}
		c := newCeremony(owner, kind, t0)
		wantErr(t, "CreateCeremony", stores[0].CreateCeremony(t.Context(), c), nil)
		onceAcross(t, "a "+string(kind)+" ceremony", 20, stores, func(s autho.Store, _ int) (bool, error) {
			got, err := s.TakeCeremony(t.Context(), c.Hash)
			if errors.Is(err, autho.ErrNotFound) {
				return false, nil
			}
			if err == nil {
				check(t, "the ceremony taken", got, c)
			}
			return err == nil, err
		})
	}
}
