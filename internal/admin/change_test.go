package admin_test

import (
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

func ptr[T any](v T) *T { return &v }

// TestService_ChangeAccount: the parts of one change are made and audited
// together, part by part; a part that changes nothing records nothing; a
// refused part refuses the whole change, which then changes nothing.
func TestService_ChangeAccount(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	events := func() []autho.AuditAction {
		es, err := f.store.AuditEvents(t.Context(), autho.AuditFilter{AccountID: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		var out []autho.AuditAction
		for _, e := range es {
			out = append(out, e.Action)
		}
		return out
	}
	base := len(events()) // the account's creation

	later := f.now.Add(2 * 365 * 24 * time.Hour)
	got, err := f.svc.ChangeAccount(t.Context(), autho.OperatorCLI, a.ID, admin.AccountChange{
		Name: ptr("Acme Ltd"), ExpiresAt: &later, Status: ptr(autho.AccountSuspended), AllowedScopes: ptr([]string{"orders"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Acme Ltd" || !got.ExpiresAt.Equal(later) || got.Status != autho.AccountSuspended || len(got.AllowedScopes) != 1 {
		t.Fatalf("changed to %+v", got)
	}
	if es := events(); len(es)-base != 4 {
		t.Fatalf("events %v, want one per part", es)
	}

	// The status it has already, and a new name: only the rename counts.
	f.now = f.now.Add(time.Minute)
	if _, err := f.svc.ChangeAccount(t.Context(), autho.OperatorCLI, a.ID, admin.AccountChange{
		Name: ptr("Acme Limited"), Status: ptr(autho.AccountSuspended),
	}); err != nil {
		t.Fatal(err)
	}
	if es := events(); len(es)-base != 5 || es[0] != autho.AuditAccountRename {
		t.Fatalf("events %v, want a rename only", es)
	}

	before := snapshot(t, f.store)
	n := len(events())
	for _, tc := range []struct {
		name string
		by   autho.Actor
		c    admin.AccountChange
		msg  string
		kind error
	}{
		{"a status that is none", autho.OperatorCLI, admin.AccountChange{Name: ptr("X"), Status: ptr(autho.AccountStatus("closed"))}, "status must be", nil},
		{"an expiry past", autho.OperatorCLI, admin.AccountChange{Name: ptr("X"), ExpiresAt: ptr(f.now.Add(-time.Hour))}, "future", nil},
		{"an empty name", autho.OperatorCLI, admin.AccountChange{Name: ptr(" "), Status: ptr(autho.AccountActive)}, "name", nil},
		{"scopes by a partner", autho.Actor{UserID: "usr_x"}, admin.AccountChange{AllowedScopes: ptr([]string{"a"})}, "only the platform", admin.ErrForbidden},
		{"a bad scope", autho.OperatorCLI, admin.AccountChange{Name: ptr("X"), AllowedScopes: ptr([]string{"a b"})}, "invalid scope", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.ChangeAccount(t.Context(), tc.by, a.ID, tc.c)
			wantInputError(t, err, tc.msg, tc.kind)
			if after := snapshot(t, f.store); after != before || len(events()) != n {
				t.Fatalf("a refused change changed something")
			}
		})
	}
	// Nothing asked, or nothing that differs: the account as it is.
	if _, err := f.svc.ChangeAccount(t.Context(), autho.OperatorCLI, a.ID, admin.AccountChange{Status: ptr(autho.AccountSuspended)}); err != nil || len(events()) != n {
		t.Fatalf("a change to nothing: %v, %d events, want %d", err, len(events()), n)
	}
}

// TestService_ChangeUser: a role and an activity change are one
// transaction, audited part by part; a bad part refuses both.
func TestService_ChangeUser(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	count := func() int {
		es, err := f.store.AuditEvents(t.Context(), autho.AuditFilter{AccountID: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	n := count()
	got, err := f.svc.ChangeUser(t.Context(), autho.OperatorCLI, u.ID, admin.UserChange{Role: ptr(autho.RoleAdmin), Active: ptr(false)})
	if err != nil || got.Role != autho.RoleAdmin || got.Active {
		t.Fatalf("ChangeUser = %+v, %v", got, err)
	}
	if count() != n+2 {
		t.Fatalf("%d events, want one per part", count()-n)
	}
	before := snapshot(t, f.store)
	_, err = f.svc.ChangeUser(t.Context(), autho.OperatorCLI, u.ID, admin.UserChange{Role: ptr(autho.Role("owner")), Active: ptr(true)})
	wantInputError(t, err, "role must be", nil)
	if snapshot(t, f.store) != before || count() != n+2 {
		t.Fatal("a refused change changed something")
	}
	// The same values again: nothing recorded.
	if _, err := f.svc.ChangeUser(t.Context(), autho.OperatorCLI, u.ID, admin.UserChange{Role: ptr(autho.RoleAdmin), Active: ptr(false)}); err != nil || count() != n+2 {
		t.Fatalf("an unchanging change: %v, %d events", err, count()-n)
	}
}
