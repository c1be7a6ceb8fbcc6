package admin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/password"
)

func TestService_CreateUser(t *testing.T) {
	t.Run("generated password", func(t *testing.T) {
		f := newFixture(t)
		a, _ := f.mustAccount(t, "Acme")
		u, pw, err := f.svc.CreateUser(t.Context(), autho.OperatorCLI, a.ID, " Ann.Lee@Example.COM ", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u.ID, "usr_") || u.AccountID != a.ID || u.Email != "Ann.Lee@Example.COM" ||
			u.Role != autho.RoleMember || !u.Active || !u.CreatedAt.Equal(start) {
			t.Fatalf("user = %+v", u)
		}
		if err := password.Validate(pw); err != nil {
			t.Fatalf("generated password: %v", err)
		}
		stored, err := f.store.UserByEmail(t.Context(), "ann.lee@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, err := password.Verify(pw, stored.PasswordHash); !ok || err != nil {
			t.Fatalf("generated password does not verify against the stored hash: %v", err)
		}
	})
	t.Run("given password and role", func(t *testing.T) {
		f := newFixture(t)
		a, _ := f.mustAccount(t, "Acme")
		const pw = "my own pass phrase"
		u, gen, err := f.svc.CreateUser(t.Context(), autho.OperatorCLI, a.ID, "boss@example.com", autho.RoleAdmin, pw)
		if err != nil {
			t.Fatal(err)
		}
		if gen != "" || u.Role != autho.RoleAdmin {
			t.Fatalf("user = %+v, generated %q", u, gen)
		}
		if ok, _, _ := password.Verify(pw, u.PasswordHash); !ok {
			t.Fatal("given password does not verify")
		}
	})
	t.Run("suspended account", func(t *testing.T) {
		f := newFixture(t)
		a, _ := f.mustAccount(t, "Acme")
		if _, err := f.svc.Suspend(t.Context(), autho.OperatorCLI, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.CreateUser(t.Context(), autho.OperatorCLI, a.ID, "x@example.com", "", ""); err != nil {
			t.Fatalf("the operator may add users to a suspended account: %v", err)
		}
	})

	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	f.mustUser(t, a.ID, "taken@example.com")
	before := snapshot(t, f.store)
	const shortPW = "tooshort"
	tests := []struct {
		name, account, email string
		role                 autho.Role
		pw, msg              string
		kind                 error
	}{
		{"duplicate email, other case", a.ID, "TAKEN@example.com", "", "", "email already in use: TAKEN@example.com", autho.ErrConflict},
		{"unknown account", "acc_nope", "new@example.com", "", "", "account acc_nope not found", autho.ErrNotFound},
		{"no account", "", "new@example.com", "", "", "account id must not be empty", nil},
		{"bad role", a.ID, "new@example.com", "owner", "", `role must be "admin" or "member", not "owner"`, nil},
		{"short password", a.ID, "new@example.com", "", shortPW, "password must be at least 12 characters", nil},
		{"empty email", a.ID, "  ", "", "", "email must not be empty", nil},
		{"no at", a.ID, "ann.example.com", "", "", "invalid email address", nil},
		{"no domain", a.ID, "ann@", "", "", "invalid email address", nil},
		{"display name", a.ID, "Ann <ann@example.com>", "", "", "invalid email address", nil},
		{"two addresses", a.ID, "a@example.com, b@example.com", "", "", "invalid email address", nil},
		{"space inside", a.ID, "ann lee@example.com", "", "", "invalid email address", nil},
		{"too long", a.ID, strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", "", "", "at most 254", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, gen, err := f.svc.CreateUser(t.Context(), autho.OperatorCLI, tt.account, tt.email, tt.role, tt.pw)
			wantInputError(t, err, tt.msg, tt.kind)
			if gen != "" {
				t.Fatal("password returned with an error")
			}
			if tt.pw != "" && strings.Contains(err.Error(), tt.pw) {
				t.Fatal("error contains the password")
			}
			if after := snapshot(t, f.store); after != before {
				t.Fatalf("store changed:\n%s\nwas:\n%s", after, before)
			}
		})
	}
}

func TestService_User(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	for _, ref := range []string{u.ID, "ann@example.com", "ANN@EXAMPLE.COM"} {
		got, err := f.svc.User(t.Context(), ref)
		if err != nil || got.ID != u.ID {
			t.Fatalf("User(%q) = %+v, %v", ref, got, err)
		}
	}
	_, err := f.svc.User(t.Context(), "bob@example.com")
	wantInputError(t, err, "user bob@example.com not found", autho.ErrNotFound)
	_, err = f.svc.User(t.Context(), "usr_nope")
	wantInputError(t, err, "user usr_nope not found", autho.ErrNotFound)

	us, err := f.svc.Users(t.Context(), a.ID)
	if err != nil || len(us) != 1 {
		t.Fatalf("Users = %d, %v", len(us), err)
	}
	_, err = f.svc.Users(t.Context(), "acc_nope")
	wantInputError(t, err, "account acc_nope not found", autho.ErrNotFound)
}

func TestService_DeactivateActivateUser(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	tk, plain := f.mustToken(t, u.ID)

	f.now = start.Add(time.Minute)
	got, err := f.svc.DeactivateUser(t.Context(), autho.OperatorCLI, "Ann@Example.com")
	if err != nil || got.Active || !got.UpdatedAt.Equal(f.now) || !got.DeactivatedAt.Equal(f.now) {
		t.Fatalf("DeactivateUser = %+v, %v", got, err)
	}
	cred, err := f.store.APICredential(t.Context(), hashOf(plain))
	if err != nil || cred.UserActive || cred.Token.ID != tk.ID || cred.Token.Revoked() {
		t.Fatalf("after deactivation the token should stay, unrevoked, with an inactive user: %+v, %v", cred, err)
	}

	f.now = start.Add(2 * time.Minute)
	again, err := f.svc.DeactivateUser(t.Context(), autho.OperatorCLI, u.ID)
	if err != nil || again.Active || !again.UpdatedAt.Equal(got.UpdatedAt) || !again.DeactivatedAt.Equal(got.DeactivatedAt) {
		t.Fatalf("DeactivateUser twice = %+v, %v; want unchanged", again, err)
	}

	// JWTs from before the deactivation stay refused: its time is kept.
	back, err := f.svc.ActivateUser(t.Context(), autho.OperatorCLI, u.Email)
	if err != nil || !back.Active || !back.DeactivatedAt.Equal(got.DeactivatedAt) {
		t.Fatalf("ActivateUser = %+v, %v", back, err)
	}

	before := snapshot(t, f.store)
	_, err = f.svc.DeactivateUser(t.Context(), autho.OperatorCLI, "nobody@example.com")
	wantInputError(t, err, "user nobody@example.com not found", autho.ErrNotFound)
	_, err = f.svc.ActivateUser(t.Context(), autho.OperatorCLI, "")
	wantInputError(t, err, "must not be empty", nil)
	if after := snapshot(t, f.store); after != before {
		t.Fatal("store changed")
	}
}

func TestService_SetRole(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	roleEvents := func() int {
		t.Helper()
		es, err := f.store.AuditEvents(t.Context(), autho.AuditFilter{AccountID: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.Action == autho.AuditUserRole {
				if e.TargetID != u.ID || e.TargetName != u.Email || e.ActorID != autho.OperatorCLI.ID() {
					t.Fatalf("role event %+v, want the user as target and the CLI as actor", e)
				}
				n++
			}
		}
		return n
	}
	for _, tt := range []struct {
		name   string
		ref    string
		role   autho.Role
		events int // role events in the log after it
	}{
		{"member to admin", u.ID, autho.RoleAdmin, 1},
		{"the same role again records nothing", u.ID, autho.RoleAdmin, 1},
		{"by email, back to member", "ANN@example.com", autho.RoleMember, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.now = f.now.Add(time.Minute)
			prev, err := f.svc.User(t.Context(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.svc.SetRole(t.Context(), autho.OperatorCLI, tt.ref, tt.role)
			if err != nil || got.ID != u.ID || got.Role != tt.role {
				t.Fatalf("SetRole = %+v, %v", got, err)
			}
			if changed := prev.Role != tt.role; changed != got.UpdatedAt.Equal(f.now) {
				t.Fatalf("updated at %v (now %v), changed %v", got.UpdatedAt, f.now, changed)
			}
			if n := roleEvents(); n != tt.events {
				t.Fatalf("%d role events, want %d", n, tt.events)
			}
		})
	}

	before := snapshot(t, f.store)
	for _, tt := range []struct {
		name, ref string
		role      autho.Role
		msg       string
		kind      error
	}{
		{"a role that is none", u.ID, "owner", `role must be "admin" or "member", not "owner"`, nil},
		{"no role", u.ID, "", `role must be "admin" or "member"`, nil},
		{"an unknown user", "usr_nope", autho.RoleAdmin, "user usr_nope not found", autho.ErrNotFound},
		{"no user", " ", autho.RoleAdmin, "must not be empty", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.SetRole(t.Context(), autho.OperatorCLI, tt.ref, tt.role)
			wantInputError(t, err, tt.msg, tt.kind)
			if after := snapshot(t, f.store); after != before {
				t.Fatalf("store changed:\n%s\nwas:\n%s", after, before)
			}
		})
	}
}
