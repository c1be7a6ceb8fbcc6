package admin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/password"
	"github.com/autho/autho/internal/secret"
)

const knownPW = "the old pass phrase"

// mustSession stores a portal session for u and returns its hash.
func (f *fixture) mustSession(t *testing.T, u *autho.User) []byte {
	t.Helper()
	h := secret.Hash(secret.Random(43))
	if err := f.store.CreateSession(t.Context(), &autho.Session{Hash: h, UserID: u.ID, CreatedAt: f.now, SeenAt: f.now}); err != nil {
		t.Fatal(err)
	}
	return h
}

func (f *fixture) sessionAlive(t *testing.T, h []byte) bool {
	t.Helper()
	_, err := f.store.Session(context.Background(), h)
	return err == nil
}

func TestService_ChangePassword(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u, _, err := f.svc.CreateUser(t.Context(), autho.OperatorCLI, a.ID, "ann@example.com", "", knownPW)
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, f.store)
	tests := []struct {
		name, current, next, msg, field string
	}{
		{"no current", "", "a brand new phrase", "enter your current password", "current_password"},
		{"wrong current", "not the old one", "a brand new phrase", "the current password is not correct", "current_password"},
		{"short new", knownPW, "short", "new password must be at least 12 characters", "new_password"},
		{"long new", knownPW, strings.Repeat("x", 257), "new password must be at most 256 characters", "new_password"},
		{"same", knownPW, knownPW, "must differ from the current one", "new_password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.ChangePassword(t.Context(), autho.OperatorCLI, u.ID, tt.current, tt.next)
			wantInputError(t, err, tt.msg, nil)
			if strings.Contains(err.Error(), tt.next) || (tt.current != "" && strings.Contains(err.Error(), tt.current)) {
				t.Fatal("the error shows a password")
			}
			if after := snapshot(t, f.store); after != before {
				t.Fatal("store changed")
			}
		})
	}
	t.Run("unknown user", func(t *testing.T) {
		_, err := f.svc.ChangePassword(t.Context(), autho.OperatorCLI, "usr_nope", knownPW, "a brand new phrase")
		wantInputError(t, err, "user usr_nope not found", autho.ErrNotFound)
	})
	t.Run("ok", func(t *testing.T) {
		asking, other := f.mustSession(t, u), f.mustSession(t, u)
		f.now = start.Add(time.Hour)
		got, err := f.svc.ChangePassword(t.Context(), autho.OperatorCLI, u.ID, knownPW, "a brand new phrase")
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := password.Verify("a brand new phrase", got.PasswordHash); !ok || !got.UpdatedAt.Equal(f.now) {
			t.Fatalf("user after change = %+v", got)
		}
		if got.PasswordEpoch != u.PasswordEpoch+1 {
			t.Fatalf("password epoch %d after a change, want %d", got.PasswordEpoch, u.PasswordEpoch+1)
		}
		// The portal starts the asker a new session at the new epoch.
		if f.sessionAlive(t, asking) || f.sessionAlive(t, other) {
			t.Fatal("a session from before the change survived it")
		}
	})
}

func TestService_ResetPassword(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	s1, s2 := f.mustSession(t, u), f.mustSession(t, u)
	got, pw, err := f.svc.ResetPassword(t.Context(), autho.OperatorCLI, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := password.Verify(pw, got.PasswordHash); !ok {
		t.Fatal("the returned password does not verify")
	}
	if f.sessionAlive(t, s1) || f.sessionAlive(t, s2) {
		t.Fatal("sessions survived a reset")
	}
	if got.PasswordEpoch != u.PasswordEpoch+1 {
		t.Fatalf("password epoch %d after a reset, want %d", got.PasswordEpoch, u.PasswordEpoch+1)
	}
	_, pw, err = f.svc.ResetPassword(t.Context(), autho.OperatorCLI, "usr_nope")
	wantInputError(t, err, "user usr_nope not found", autho.ErrNotFound)
	if pw != "" {
		t.Fatal("a password returned with an error")
	}
}

func TestService_Rehash(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u, _, err := f.svc.CreateUser(t.Context(), autho.OperatorCLI, a.ID, "ann@example.com", "", knownPW)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Rehash(t.Context(), u.ID, knownPW); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.User(t.Context(), u.ID)
	if got.PasswordHash == u.PasswordHash || !got.UpdatedAt.Equal(u.UpdatedAt) || got.PasswordEpoch != u.PasswordEpoch {
		t.Fatal("want a new hash, and an unchanged update time and password epoch")
	}
	if ok, _, _ := password.Verify(knownPW, got.PasswordHash); !ok {
		t.Fatal("the new hash does not verify")
	}
}

func TestService_EndSessions(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	v := f.mustUser(t, a.ID, "bob@example.com")
	f.mustSession(t, u)
	f.mustSession(t, u)
	bobs := f.mustSession(t, v)
	n, err := f.svc.EndSessions(t.Context(), autho.OperatorCLI, u.Email)
	if err != nil || n != 2 {
		t.Fatalf("EndSessions = %d, %v; want 2", n, err)
	}
	if !f.sessionAlive(t, bobs) {
		t.Fatal("another user's session ended")
	}
	_, err = f.svc.EndSessions(t.Context(), autho.OperatorCLI, "nobody@example.com")
	wantInputError(t, err, "not found", autho.ErrNotFound)

	t.Run("deactivation ends them too", func(t *testing.T) {
		s := f.mustSession(t, v)
		if _, err := f.svc.DeactivateUser(t.Context(), autho.OperatorCLI, v.ID); err != nil {
			t.Fatal(err)
		}
		if f.sessionAlive(t, s) || f.sessionAlive(t, bobs) {
			t.Fatal("a deactivated user's session survived")
		}
	})
}
