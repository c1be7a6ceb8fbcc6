package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

func testCreateUser(t *testing.T, newStore newStoreFunc) {
	for _, tc := range []struct {
		name string
		edit func(*autho.User)
	}{
		{"ok", func(*autho.User) {}},
		{"admin", func(u *autho.User) { u.Role = autho.RoleAdmin }},
		{"inactive without password", func(u *autho.User) { u.Active, u.PasswordHash = false, "" }},
		{"deactivated", func(u *autho.User) { u.Active, u.DeactivatedAt = false, at(-time.Minute) }},
		{"reactivated", func(u *autho.User) { u.DeactivatedAt = at(-time.Minute) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			a, _ := mustAccount(t, s)
			u := newUser(a.ID)
			tc.edit(u)
			wantErr(t, "CreateUser", s.CreateUser(t.Context(), u), nil)
			got, err := s.User(t.Context(), u.ID)
			wantErr(t, "User", err, nil)
			check(t, "User", got, u)
			got, err = s.UserByEmail(t.Context(), u.Email)
			wantErr(t, "UserByEmail", err, nil)
			check(t, "UserByEmail", got, u)
			all, err := s.Users(t.Context(), a.ID)
			wantErr(t, "Users", err, nil)
			if len(all) != 1 {
				t.Fatalf("Users = %d users, want 1", len(all))
			}
			check(t, "Users", all[0], u)
		})
	}
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		mustUser(t, s, a.ID)
		_, err := s.User(t.Context(), secret.NewID("usr"))
		wantErr(t, "User", err, autho.ErrNotFound)
	})
	t.Run("duplicate id", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		u := mustUser(t, s, a.ID)
		v := newUser(a.ID)
		v.ID = u.ID
		wantErr(t, "CreateUser", s.CreateUser(t.Context(), v), autho.ErrConflict)
		got, err := s.User(t.Context(), u.ID)
		wantErr(t, "User", err, nil)
		check(t, "User", got, u)
	})
	t.Run("duplicate email", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		b, _ := mustAccount(t, s)
		u := mustUser(t, s, a.ID)
		// Emails are unique across accounts and regardless of letter case.
		for _, email := range []string{u.Email, strings.ToUpper(u.Email), strings.ToLower(u.Email), " " + u.Email + " "} {
			v := newUser(b.ID)
			v.Email = email
			wantErr(t, "CreateUser "+email, s.CreateUser(t.Context(), v), autho.ErrConflict)
		}
	})
	t.Run("unknown account", func(t *testing.T) {
		s := newStore(t)
		mustAccount(t, s)
		u := newUser(secret.NewID("acc"))
		wantErr(t, "CreateUser", s.CreateUser(t.Context(), u), autho.ErrNotFound)
		_, err := s.User(t.Context(), u.ID)
		wantErr(t, "User", err, autho.ErrNotFound)
	})
}

func testUserByEmail(t *testing.T, newStore newStoreFunc) {
	s := newStore(t)
	a, _ := mustAccount(t, s)
	u := newUser(a.ID)
	u.Email = "Alice.Smith@Example.com"
	wantErr(t, "CreateUser", s.CreateUser(t.Context(), u), nil)
	mustUser(t, s, a.ID)
	for _, tc := range []struct {
		name  string
		email string
		want  error
	}{
		{"ok", "Alice.Smith@Example.com", nil},
		{"lower case", "alice.smith@example.com", nil},
		{"upper case", "ALICE.SMITH@EXAMPLE.COM", nil},
		{"spaces", "  alice.smith@example.com\t", nil},
		{"not found", "bob@example.com", autho.ErrNotFound},
		{"prefix is not a match", "alice.smith@example.co", autho.ErrNotFound},
		{"empty", "", autho.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.UserByEmail(t.Context(), tc.email)
			wantErr(t, "UserByEmail", err, tc.want)
			if tc.want == nil {
				check(t, "UserByEmail", got, u) // Email as first given
			}
		})
	}
}

func testUsers(t *testing.T, newStore newStoreFunc) {
	t.Run("ok", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		b, _ := mustAccount(t, s)
		want := map[string]*autho.User{}
		for range 3 {
			u := mustUser(t, s, a.ID)
			want[u.ID] = u
		}
		mustUser(t, s, b.ID)
		got, err := s.Users(t.Context(), a.ID)
		wantErr(t, "Users", err, nil)
		if len(got) != len(want) {
			t.Fatalf("Users = %d users, want %d", len(got), len(want))
		}
		for _, u := range got {
			if want[u.ID] == nil {
				t.Fatalf("Users returned another account's or a repeated user %q", u.ID)
			}
			check(t, "Users["+u.ID+"]", u, want[u.ID])
			delete(want, u.ID)
		}
	})
	t.Run("none", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		b, _ := mustAccount(t, s)
		mustUser(t, s, b.ID)
		got, err := s.Users(t.Context(), a.ID)
		wantErr(t, "Users", err, nil)
		if len(got) != 0 {
			t.Fatalf("Users of an account without users = %v", ids(got, func(u *autho.User) string { return u.ID }))
		}
	})
}

func testUpdateUser(t *testing.T, newStore newStoreFunc) {
	t.Run("ok", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		u := mustUser(t, s, a.ID)
		want := *u
		want.Email = "New.Address@Example.org"
		want.PasswordHash = "$argon2id$v=19$m=65536,t=1,p=4$new$hash"
		want.PasswordEpoch = u.PasswordEpoch + 1
		want.Role = autho.RoleAdmin
		want.Active = false
		want.DeactivatedAt = at(30 * time.Minute)
		want.UpdatedAt = at(time.Hour)
		got, err := s.UpdateUser(t.Context(), u.ID, func(cur *autho.User) error {
			check(t, "user given to fn", cur, u)
			cur.Email, cur.PasswordHash, cur.PasswordEpoch = want.Email, want.PasswordHash, want.PasswordEpoch
			cur.Role, cur.Active, cur.UpdatedAt = want.Role, want.Active, want.UpdatedAt
			cur.DeactivatedAt = want.DeactivatedAt
			return nil
		})
		wantErr(t, "UpdateUser", err, nil)
		check(t, "UpdateUser result", got, &want)
		read, err := s.User(t.Context(), u.ID)
		wantErr(t, "User", err, nil)
		check(t, "User after update", read, &want)

		// The email key follows the email.
		byEmail, err := s.UserByEmail(t.Context(), "new.address@example.ORG")
		wantErr(t, "UserByEmail new address", err, nil)
		check(t, "UserByEmail new address", byEmail, &want)
		_, err = s.UserByEmail(t.Context(), u.Email)
		wantErr(t, "UserByEmail old address", err, autho.ErrNotFound)
	})
	t.Run("writes only its fields", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		b, _ := mustAccount(t, s)
		u := mustUser(t, s, a.ID)
		// Of an account that exists, so that a store writing it would not
		// fail on the foreign key instead.
		next := newUser(b.ID)
		next.PasswordEpoch, next.Role, next.Active = u.PasswordEpoch+1, autho.RoleAdmin, false
		next.CreatedAt, next.UpdatedAt, next.DeactivatedAt = at(-time.Hour), at(time.Hour), at(30*time.Minute)
		checkUpdateWrites(t, u.ID, u, next, s.UpdateUser, s.User, func(dst, src *autho.User) {
			dst.Email, dst.PasswordHash, dst.PasswordEpoch = src.Email, src.PasswordHash, src.PasswordEpoch
			dst.Role, dst.Active, dst.UpdatedAt = src.Role, src.Active, src.UpdatedAt
			dst.DeactivatedAt = src.DeactivatedAt
		})
	})
	t.Run("reactivate", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		u := newUser(a.ID)
		u.Active, u.DeactivatedAt = false, at(-time.Minute)
		wantErr(t, "CreateUser", s.CreateUser(t.Context(), u), nil)
		got, err := s.UpdateUser(t.Context(), u.ID, func(u *autho.User) error { u.SetActive(true, at(time.Minute)); return nil })
		wantErr(t, "UpdateUser", err, nil)
		read, err := s.User(t.Context(), u.ID)
		wantErr(t, "User", err, nil)
		if !got.Active || !read.Active {
			t.Fatalf("Active = %v (returned), %v (read), want true", got.Active, read.Active)
		}
		// JWTs from before the deactivation stay refused: its time stays.
		if !got.DeactivatedAt.Equal(u.DeactivatedAt) || !read.DeactivatedAt.Equal(u.DeactivatedAt) {
			t.Fatalf("DeactivatedAt = %v (returned), %v (read), want %v", got.DeactivatedAt, read.DeactivatedAt, u.DeactivatedAt)
		}
	})
	t.Run("email conflict", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		u := mustUser(t, s, a.ID)
		v := mustUser(t, s, a.ID)
		_, err := s.UpdateUser(t.Context(), v.ID, func(v *autho.User) error {
			v.Email = strings.ToUpper(u.Email)
			return nil
		})
		wantErr(t, "UpdateUser", err, autho.ErrConflict)
		got, err := s.User(t.Context(), v.ID)
		wantErr(t, "User", err, nil)
		check(t, "User after refused update", got, v)
	})
	t.Run("fn error", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		u := mustUser(t, s, a.ID)
		_, err := s.UpdateUser(t.Context(), u.ID, func(u *autho.User) error {
			u.Active = false
			u.Email = "changed@example.com"
			return errAbort
		})
		wantErr(t, "UpdateUser", err, errAbort)
		got, err := s.User(t.Context(), u.ID)
		wantErr(t, "User", err, nil)
		check(t, "User after aborted update", got, u)
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAccount(t, s)
		mustUser(t, s, a.ID)
		called := false
		_, err := s.UpdateUser(t.Context(), secret.NewID("usr"), func(*autho.User) error { called = true; return nil })
		wantErr(t, "UpdateUser", err, autho.ErrNotFound)
		if called {
			t.Error("fn called for a missing user")
		}
	})
}
