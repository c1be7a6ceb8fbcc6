package storetest

import (
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

func newSession(u *autho.User, created time.Time) *autho.Session {
	return &autho.Session{
		Hash:      secret.Hash(secret.Random(43)),
		UserID:    u.ID,
		CreatedAt: created,
		SeenAt:    created,
		IP:        "2001:db8::1",
		// Not zero, so that a store which drops it fails every comparison.
		PasswordEpoch: 7,
	}
}

func mustSession(t *testing.T, s autho.Store, u *autho.User, created time.Time) *autho.Session {
	t.Helper()
	ps := newSession(u, created)
	if err := s.CreateSession(t.Context(), ps); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return ps
}

func testSessions(t *testing.T, newStore newStoreFunc) {
	t.Run("create and read", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		ps := newSession(u, t0)
		ps.SeenAt = at(time.Minute)
		wantErr(t, "CreateSession", s.CreateSession(t.Context(), ps), nil)
		got, err := s.Session(t.Context(), ps.Hash)
		wantErr(t, "Session", err, nil)
		check(t, "Session", got, ps)
		if !got.FactorAt.IsZero() {
			t.Errorf("FactorAt of a session made without one = %v, want zero", got.FactorAt)
		}
	})
	t.Run("create with a factor used", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		ps := newSession(u, t0)
		ps.FactorAt = t0
		wantErr(t, "CreateSession", s.CreateSession(t.Context(), ps), nil)
		got, err := s.Session(t.Context(), ps.Hash)
		wantErr(t, "Session", err, nil)
		check(t, "Session", got, ps)
	})
	t.Run("mark factor moves forward only", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		ps := mustSession(t, s, u, t0)
		other := mustSession(t, s, u, t0)
		for _, step := range []struct {
			name     string
			at, want time.Time
		}{
			{"first", at(5 * time.Minute), at(5 * time.Minute)},
			{"earlier is ignored", at(2 * time.Minute), at(5 * time.Minute)},
			{"later", at(20 * time.Minute), at(20 * time.Minute)},
		} {
			wantErr(t, "MarkSessionFactor "+step.name, s.MarkSessionFactor(t.Context(), ps.Hash, step.at), nil)
			got, err := s.Session(t.Context(), ps.Hash)
			wantErr(t, "Session", err, nil)
			if !got.FactorAt.Equal(step.want) || !got.SeenAt.Equal(t0) {
				t.Fatalf("%s: FactorAt %v SeenAt %v, want %v and %v", step.name, got.FactorAt, got.SeenAt, step.want, t0)
			}
		}
		got, err := s.Session(t.Context(), other.Hash)
		wantErr(t, "Session", err, nil)
		if !got.FactorAt.IsZero() {
			t.Errorf("the user's other session's FactorAt = %v, want zero", got.FactorAt)
		}
		wantErr(t, "MarkSessionFactor unknown", s.MarkSessionFactor(t.Context(), secret.Hash("gone"), at(time.Hour)), nil)
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		mustSession(t, s, u, t0)
		h := secret.Hash("unknown")
		_, err := s.Session(t.Context(), h)
		wantErr(t, "Session", err, autho.ErrNotFound)
		noLeak(t, err, h)
	})
	t.Run("duplicate hash", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		ps := mustSession(t, s, u, t0)
		dup := newSession(u, at(time.Hour))
		dup.Hash = ps.Hash
		err := s.CreateSession(t.Context(), dup)
		wantErr(t, "CreateSession", err, autho.ErrConflict)
		noLeak(t, err, ps.Hash)
		got, err := s.Session(t.Context(), ps.Hash)
		wantErr(t, "Session", err, nil)
		check(t, "Session", got, ps)
	})
	t.Run("unknown user", func(t *testing.T) {
		s := newStore(t)
		mustAll(t, s)
		ps := newSession(&autho.User{ID: secret.NewID("usr")}, t0)
		wantErr(t, "CreateSession", s.CreateSession(t.Context(), ps), autho.ErrNotFound)
		_, err := s.Session(t.Context(), ps.Hash)
		wantErr(t, "Session", err, autho.ErrNotFound)
	})
	t.Run("touch moves forward only", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		ps := mustSession(t, s, u, t0)
		for _, step := range []struct {
			name     string
			at, want time.Time
		}{
			{"later", at(5 * time.Minute), at(5 * time.Minute)},
			{"earlier is ignored", at(2 * time.Minute), at(5 * time.Minute)},
			{"later again", at(9 * time.Minute), at(9 * time.Minute)},
		} {
			wantErr(t, "TouchSession "+step.name, s.TouchSession(t.Context(), ps.Hash, step.at), nil)
			got, err := s.Session(t.Context(), ps.Hash)
			wantErr(t, "Session", err, nil)
			if !got.SeenAt.Equal(step.want) || !got.CreatedAt.Equal(t0) {
				t.Fatalf("%s: SeenAt %v CreatedAt %v, want %v and %v", step.name, got.SeenAt, got.CreatedAt, step.want, t0)
			}
		}
		wantErr(t, "TouchSession unknown", s.TouchSession(t.Context(), secret.Hash("gone"), at(time.Hour)), nil)
	})
	t.Run("delete", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		ps := mustSession(t, s, u, t0)
		other := mustSession(t, s, u, t0)
		wantErr(t, "DeleteSession", s.DeleteSession(t.Context(), ps.Hash), nil)
		_, err := s.Session(t.Context(), ps.Hash)
		wantErr(t, "Session after delete", err, autho.ErrNotFound)
		wantErr(t, "DeleteSession again", s.DeleteSession(t.Context(), ps.Hash), nil)
		_, err = s.Session(t.Context(), other.Hash)
		wantErr(t, "other session", err, nil)
	})
	t.Run("delete a user's sessions", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		v := mustUser(t, s, a.ID)
		u1, u2, u3 := mustSession(t, s, u, t0), mustSession(t, s, u, t0), mustSession(t, s, u, t0)
		v1 := mustSession(t, s, v, t0)

		n, err := s.DeleteUserSessions(t.Context(), u.ID, u2.Hash)
		wantErr(t, "DeleteUserSessions keeping one", err, nil)
		if n != 2 {
			t.Fatalf("DeleteUserSessions ended %d sessions, want 2", n)
		}
		for _, tc := range []struct {
			ps   *autho.Session
			want error
		}{{u1, autho.ErrNotFound}, {u2, nil}, {u3, autho.ErrNotFound}, {v1, nil}} {
			_, err := s.Session(t.Context(), tc.ps.Hash)
			wantErr(t, "Session", err, tc.want)
		}
		n, err = s.DeleteUserSessions(t.Context(), u.ID, nil)
		wantErr(t, "DeleteUserSessions all", err, nil)
		if n != 1 {
			t.Fatalf("DeleteUserSessions ended %d sessions, want 1", n)
		}
		if n, err := s.DeleteUserSessions(t.Context(), secret.NewID("usr"), nil); err != nil || n != 0 {
			t.Fatalf("DeleteUserSessions of an unknown user = %d, %v; want 0, nil", n, err)
		}
		_, err = s.Session(t.Context(), v1.Hash)
		wantErr(t, "another user's session", err, nil)
	})
	t.Run("delete by age", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		fresh := mustSession(t, s, u, at(time.Hour))
		idle := mustSession(t, s, u, at(time.Hour))
		old := mustSession(t, s, u, t0)
		wantErr(t, "TouchSession", s.TouchSession(t.Context(), fresh.Hash, at(2*time.Hour)), nil)
		wantErr(t, "TouchSession", s.TouchSession(t.Context(), old.Hash, at(2*time.Hour)), nil)
		// idle was last seen at +1h, old was created at 0.
		n, err := s.DeleteSessionsBefore(t.Context(), at(90*time.Minute), at(30*time.Minute))
		wantErr(t, "DeleteSessionsBefore", err, nil)
		if n != 2 {
			t.Fatalf("DeleteSessionsBefore ended %d sessions, want 2", n)
		}
		for _, tc := range []struct {
			name string
			ps   *autho.Session
			want error
		}{{"fresh", fresh, nil}, {"idle", idle, autho.ErrNotFound}, {"old", old, autho.ErrNotFound}} {
			_, err := s.Session(t.Context(), tc.ps.Hash)
			wantErr(t, "Session "+tc.name, err, tc.want)
		}
	})
}
