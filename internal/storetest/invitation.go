package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

func newInvitation(u *autho.User, created time.Time) *autho.Invitation {
	return &autho.Invitation{
		ID: secret.NewID("inv"), UserID: u.ID, AccountID: u.AccountID,
		Hash: secret.Hash(secret.Random(43)), SealedToken: []byte("sealed \x00\xff " + secret.Random(8)),
		InvitedBy: "operator:cli", CreatedAt: created, ExpiresAt: created.Add(autho.InvitationTTL),
	}
}

// mustInvited stores a new user of a with its invitation, created at t0,
// as one change.
func mustInvited(t *testing.T, s autho.Store, a *autho.Account) (*autho.User, *autho.Invitation) {
	t.Helper()
	u := newUser(a.ID)
	inv := newInvitation(u, t0)
	wantErr(t, "CreateUser with an invitation", s.CreateUser(t.Context(), u, inv), nil)
	return u, inv
}

func testInvitations(t *testing.T, newStore newStoreFunc) {
	t.Run("stored with the user, read by hash and by id", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAll(t, s)
		_, inv := mustInvited(t, s, a)
		got, err := s.Invitation(t.Context(), inv.Hash)
		wantErr(t, "Invitation", err, nil)
		check(t, "Invitation", got, inv)
		got, err = s.InvitationByID(t.Context(), inv.ID)
		wantErr(t, "InvitationByID", err, nil)
		check(t, "InvitationByID", got, inv)
		_, err = s.Invitation(t.Context(), secret.Hash("unknown"))
		wantErr(t, "Invitation of an unknown hash", err, autho.ErrNotFound)
		_, err = s.InvitationByID(t.Context(), "inv_nobody")
		wantErr(t, "InvitationByID of an unknown id", err, autho.ErrNotFound)
	})
	t.Run("a refused invitation undoes its user", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAll(t, s)
		_, inv := mustInvited(t, s, a)
		u := newUser(a.ID)
		again := newInvitation(u, t0)
		again.Hash = inv.Hash
		wantErr(t, "CreateUser with a duplicate hash", s.CreateUser(t.Context(), u, again), autho.ErrConflict)
		_, err := s.User(t.Context(), u.ID)
		wantErr(t, "User after the refused create", err, autho.ErrNotFound)
	})
	t.Run("used once, with the password, and never when expired", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAll(t, s)
		u, inv := mustInvited(t, s, a)
		before, _ := s.User(t.Context(), u.ID)
		_, err := s.UseInvitation(t.Context(), inv.Hash, inv.ExpiresAt, "new hash", mfaAudit(a, u, autho.AuditInvitationUsed))
		wantErr(t, "UseInvitation at its expiry", err, autho.ErrNotFound)
		got, err := s.UseInvitation(t.Context(), inv.Hash, at(time.Hour), "new hash", mfaAudit(a, u, autho.AuditInvitationUsed))
		wantErr(t, "UseInvitation", err, nil)
		inv.UsedAt, inv.SealedToken = at(time.Hour), nil
		check(t, "UseInvitation", got, inv)
		after, _ := s.User(t.Context(), u.ID)
		if after.PasswordHash != "new hash" || after.PasswordEpoch != before.PasswordEpoch+1 || !after.UpdatedAt.Equal(at(time.Hour)) {
			t.Errorf("user after UseInvitation: hash %q, epoch %d (was %d), updated %v", after.PasswordHash, after.PasswordEpoch, before.PasswordEpoch, after.UpdatedAt)
		}
		_, err = s.UseInvitation(t.Context(), inv.Hash, at(2*time.Hour), "other hash", mfaAudit(a, u, autho.AuditInvitationUsed))
		wantErr(t, "UseInvitation again", err, autho.ErrNotFound)
		_, err = s.UseInvitation(t.Context(), secret.Hash("unknown"), at(time.Hour), "other hash")
		wantErr(t, "UseInvitation of an unknown hash", err, autho.ErrNotFound)
		if after, _ := s.User(t.Context(), u.ID); after.PasswordHash != "new hash" {
			t.Error("a refused UseInvitation changed the password")
		}
		if es := allEvents(t, s); len(es) != 1 {
			t.Errorf("%d audit events, want the one use's", len(es))
		}
	})
	t.Run("the sealed token forgotten", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAll(t, s)
		_, inv := mustInvited(t, s, a)
		wantErr(t, "ForgetInvitationToken", s.ForgetInvitationToken(t.Context(), inv.ID), nil)
		wantErr(t, "ForgetInvitationToken of an unknown id", s.ForgetInvitationToken(t.Context(), "inv_nobody"), nil)
		got, _ := s.InvitationByID(t.Context(), inv.ID)
		inv.SealedToken = nil
		check(t, "after ForgetInvitationToken", got, inv)
	})
	t.Run("expired ones noticed once", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAll(t, s)
		_, old := mustInvited(t, s, a)
		u2, used := mustInvited(t, s, a)
		_, live := mustInvited(t, s, a)
		if _, err := s.UseInvitation(t.Context(), used.Hash, at(time.Hour), "h"); err != nil {
			t.Fatal(err)
		}
		now := at(autho.InvitationTTL)
		list, err := s.ExpiredInvitations(t.Context(), now, 0)
		wantErr(t, "ExpiredInvitations", err, nil)
		// live expires at the same time as old (both made at t0): both
		// are expired at now; used is not listed.
		if len(list) != 2 {
			t.Fatalf("ExpiredInvitations: %d, want 2 (the unused ones)", len(list))
		}
		if l, _ := s.ExpiredInvitations(t.Context(), now.Add(-time.Microsecond), 0); len(l) != 0 {
			t.Errorf("ExpiredInvitations before the expiry: %d, want 0", len(l))
		}
		ok, err := s.NoticeInvitationExpired(t.Context(), old.ID, now, mfaAudit(a, u2, autho.AuditInvitationExpired))
		wantErr(t, "NoticeInvitationExpired", err, nil)
		if !ok {
			t.Error("NoticeInvitationExpired: false, want true")
		}
		ok, _ = s.NoticeInvitationExpired(t.Context(), old.ID, now.Add(time.Minute), mfaAudit(a, u2, autho.AuditInvitationExpired))
		if ok {
			t.Error("NoticeInvitationExpired again: true, want false")
		}
		if ok, _ := s.NoticeInvitationExpired(t.Context(), used.ID, now, mfaAudit(a, u2, autho.AuditInvitationExpired)); ok {
			t.Error("NoticeInvitationExpired of a used one: true, want false")
		}
		if ok, _ := s.NoticeInvitationExpired(t.Context(), live.ID, now.Add(-time.Second), mfaAudit(a, u2, autho.AuditInvitationExpired)); ok {
			t.Error("NoticeInvitationExpired before its expiry: true, want false")
		}
		if es := allEvents(t, s); len(es) != 1 {
			t.Errorf("%d audit events, want the one notice's", len(es))
		}
		got, _ := s.InvitationByID(t.Context(), old.ID)
		old.ExpiredNoticedAt, old.SealedToken = now, nil
		check(t, "noticed", got, old)
		if l, _ := s.ExpiredInvitations(t.Context(), now, 0); len(l) != 1 || l[0].ID == old.ID {
			t.Errorf("ExpiredInvitations after the notice: %d, want the other one", len(l))
		}
	})
}

// TestInvitationAcrossStores uses one invitation and notices one expiry
// from 20 goroutines at once, round robin over stores: each happens once,
// with one entry.
func TestInvitationAcrossStores(t *testing.T, stores ...autho.Store) {
	t.Helper()
	a, _ := mustAll(t, stores[0])
	u, inv := mustInvited(t, stores[0], a)
	_, old := mustInvited(t, stores[0], a)
	const calls = 20
	uses := []struct {
		what string
		use  func(s autho.Store, i int) (bool, error)
	}{
		{"one invitation", func(s autho.Store, i int) (bool, error) {
			_, err := s.UseInvitation(t.Context(), inv.Hash, at(time.Hour), "hash "+string(rune('a'+i)), mfaAudit(a, u, autho.AuditInvitationUsed))
			if err == nil {
				return true, nil
			}
			if errors.Is(err, autho.ErrNotFound) {
				return false, nil
			}
			return false, err
		}},
		{"one expiry", func(s autho.Store, _ int) (bool, error) {
			return s.NoticeInvitationExpired(t.Context(), old.ID, at(autho.InvitationTTL), mfaAudit(a, u, autho.AuditInvitationExpired))
		}},
	}
	before := len(allEvents(t, stores[0]))
	for _, use := range uses {
		onceAcross(t, use.what, calls, stores, use.use)
	}
	if n := len(allEvents(t, stores[0])) - before; n != 2 {
		t.Errorf("%d audit events from the races, want 2", n)
	}
}
