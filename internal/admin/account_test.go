package admin_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/secret"
)

func TestService_CreateAccount(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		f := newFixture(t)
		until := start.Add(48*time.Hour + 123*time.Nanosecond)
		a, pt, err := f.svc.CreateAccount(t.Context(), autho.OperatorCLI, "  Acme GmbH  ", until)
		if err != nil {
			t.Fatal(err)
		}
		if err := secret.Check(secret.PartnerToken, pt); err != nil {
			t.Fatalf("partner token malformed: %v", err)
		}
		if !strings.HasPrefix(a.ID, "acc_") || a.Name != "Acme GmbH" || a.Status != autho.AccountActive {
			t.Fatalf("account = %+v", a)
		}
		if !a.ExpiresAt.Equal(until.Truncate(time.Microsecond)) || !a.CreatedAt.Equal(start) {
			t.Fatalf("times = %v, %v", a.ExpiresAt, a.CreatedAt)
		}
		if a.PartnerTokenHint != secret.Hint(pt) {
			t.Fatalf("hint = %q, want %q", a.PartnerTokenHint, secret.Hint(pt))
		}
		read, err := f.svc.Account(t.Context(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if read.Name != a.Name || !read.ExpiresAt.Equal(a.ExpiresAt) || read.PartnerTokenHint != a.PartnerTokenHint {
			t.Fatalf("read back %+v, created %+v", read, a)
		}
		cred, err := f.store.PartnerCredential(t.Context(), secret.Hash(pt))
		if err != nil {
			t.Fatalf("partner token not stored by hash: %v", err)
		}
		if cred.Account.ID != a.ID || !cred.TokenExpiresAt.IsZero() {
			t.Fatalf("credential = %+v", cred)
		}
	})

	tests := []struct {
		name    string
		in      string
		expires time.Time
		msg     string
	}{
		{"empty name", "", start.Add(time.Hour), "name must not be empty"},
		{"blank name", " \t ", start.Add(time.Hour), "name must not be empty"},
		{"long name", strings.Repeat("ü", 201), start.Add(time.Hour), "at most 200 characters"},
		{"control character", "Acme\nInc", start.Add(time.Hour), "control characters"},
		{"invalid UTF-8", "Acme\xff", start.Add(time.Hour), "UTF-8"},
		{"past expiry", "Acme", start.Add(-time.Second), "expiry must be in the future"},
		{"expiry now", "Acme", start, "expiry must be in the future"},
		{"no expiry", "Acme", time.Time{}, "expiry is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, pt, err := f.svc.CreateAccount(t.Context(), autho.OperatorCLI, tt.in, tt.expires)
			wantInputError(t, err, tt.msg, nil)
			if pt != "" {
				t.Fatal("a partner token was returned with an error")
			}
			if got := snapshot(t, f.store); got != "" {
				t.Fatalf("store changed:\n%s", got)
			}
		})
	}

	t.Run("200 characters is fine", func(t *testing.T) {
		f := newFixture(t)
		if _, _, err := f.svc.CreateAccount(t.Context(), autho.OperatorCLI, strings.Repeat("ü", 200), start.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestService_Account(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	tests := []struct {
		name, id, msg string
		kind          error
	}{
		{"unknown", "acc_nope", "account acc_nope not found", autho.ErrNotFound},
		{"another kind of id", "usr_123", "account usr_123 not found", autho.ErrNotFound},
		{"empty", "", "account id must not be empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Account(t.Context(), tt.id)
			wantInputError(t, err, tt.msg, tt.kind)
		})
	}
	t.Run("ok", func(t *testing.T) {
		got, err := f.svc.Account(t.Context(), " "+a.ID+" ")
		if err != nil || got.ID != a.ID {
			t.Fatalf("Account = %+v, %v", got, err)
		}
	})
	t.Run("list", func(t *testing.T) {
		f.mustAccount(t, "Beta")
		as, err := f.svc.Accounts(t.Context())
		if err != nil || len(as) != 2 {
			t.Fatalf("Accounts = %d, %v; want 2", len(as), err)
		}
	})
}

func TestService_RenewAccount(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	t.Run("ok", func(t *testing.T) {
		f.now = start.Add(time.Hour)
		until := start.Add(1000 * time.Hour)
		got, err := f.svc.RenewAccount(t.Context(), autho.OperatorCLI, a.ID, until)
		if err != nil {
			t.Fatal(err)
		}
		if !got.ExpiresAt.Equal(until) || !got.UpdatedAt.Equal(f.now) {
			t.Fatalf("renewed = %+v", got)
		}
	})
	before := snapshot(t, f.store)
	tests := []struct {
		name, id string
		until    time.Time
		msg      string
		kind     error
	}{
		{"past", a.ID, start, "expiry must be in the future", nil},
		{"unknown", "acc_nope", start.Add(5000 * time.Hour), "account acc_nope not found", autho.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.RenewAccount(t.Context(), autho.OperatorCLI, tt.id, tt.until)
			wantInputError(t, err, tt.msg, tt.kind)
			if after := snapshot(t, f.store); after != before {
				t.Fatalf("store changed:\n%s\nwas:\n%s", after, before)
			}
		})
	}
}

func TestService_SuspendReactivate(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")

	f.now = start.Add(time.Minute)
	got, err := f.svc.Suspend(t.Context(), autho.OperatorCLI, a.ID)
	if err != nil || got.Status != autho.AccountSuspended || !got.UpdatedAt.Equal(f.now) || !got.SuspendedAt.Equal(f.now) {
		t.Fatalf("Suspend = %+v, %v", got, err)
	}
	t.Run("twice is harmless", func(t *testing.T) {
		f.now = start.Add(2 * time.Minute)
		again, err := f.svc.Suspend(t.Context(), autho.OperatorCLI, a.ID)
		if err != nil || again.Status != autho.AccountSuspended || !again.UpdatedAt.Equal(got.UpdatedAt) ||
			!again.SuspendedAt.Equal(got.SuspendedAt) {
			t.Fatalf("Suspend again = %+v, %v", again, err)
		}
	})
	t.Run("reactivate", func(t *testing.T) {
		// JWTs from before the suspension stay refused: its time is kept.
		back, err := f.svc.Reactivate(t.Context(), autho.OperatorCLI, a.ID)
		if err != nil || back.Status != autho.AccountActive || !back.SuspendedAt.Equal(got.SuspendedAt) {
			t.Fatalf("Reactivate = %+v, %v", back, err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		_, err := f.svc.Suspend(t.Context(), autho.OperatorCLI, "acc_nope")
		wantInputError(t, err, "account acc_nope not found", autho.ErrNotFound)
		_, err = f.svc.Reactivate(t.Context(), autho.OperatorCLI, "acc_nope")
		wantInputError(t, err, "account acc_nope not found", autho.ErrNotFound)
	})
}

func TestService_RotatePartnerToken(t *testing.T) {
	for _, grace := range []time.Duration{0, 36 * time.Hour} {
		t.Run("grace "+grace.String(), func(t *testing.T) {
			f := newFixture(t)
			a, old := f.mustAccount(t, "Acme")
			f.now = start.Add(time.Hour)
			got, next, until, err := f.svc.RotatePartnerToken(t.Context(), autho.OperatorCLI, a.ID, grace)
			if err != nil {
				t.Fatal(err)
			}
			if err := secret.Check(secret.PartnerToken, next); err != nil || next == old {
				t.Fatalf("new partner token malformed or repeated: %v", err)
			}
			if got.ID != a.ID || got.PartnerTokenHint != secret.Hint(next) {
				t.Fatalf("account = %+v", got)
			}
			oldCred, err := f.store.PartnerCredential(t.Context(), secret.Hash(old))
			if err != nil {
				t.Fatal(err)
			}
			if want := f.now.Add(grace); !oldCred.TokenExpiresAt.Equal(want) || !until.Equal(want) {
				t.Fatalf("old token ends %v, returned %v, want %v", oldCred.TokenExpiresAt, until, want)
			}
			newCred, err := f.store.PartnerCredential(t.Context(), secret.Hash(next))
			if err != nil || !newCred.TokenExpiresAt.IsZero() {
				t.Fatalf("new credential = %+v, %v", newCred, err)
			}
			read, _ := f.svc.Account(t.Context(), a.ID)
			if read.PartnerTokenHint != secret.Hint(next) {
				t.Fatalf("stored hint %q, want the new token's", read.PartnerTokenHint)
			}
		})
	}
	t.Run("mistakes", func(t *testing.T) {
		f := newFixture(t)
		a, _ := f.mustAccount(t, "Acme")
		before := snapshot(t, f.store)
		_, pt, _, err := f.svc.RotatePartnerToken(t.Context(), autho.OperatorCLI, a.ID, -time.Second)
		wantInputError(t, err, "grace period must not be negative", nil)
		if pt != "" {
			t.Fatal("secret returned with an error")
		}
		_, _, _, err = f.svc.RotatePartnerToken(t.Context(), autho.OperatorCLI, "acc_nope", 0)
		wantInputError(t, err, "account acc_nope not found", autho.ErrNotFound)
		if after := snapshot(t, f.store); after != before {
			t.Fatalf("store changed:\n%s\nwas:\n%s", after, before)
		}
	})
}

func TestError_Unwrap(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.Account(t.Context(), "acc_missing")
	if !errors.Is(err, autho.ErrNotFound) {
		t.Fatalf("errors.Is(%v, ErrNotFound) = false", err)
	}
}

func TestService_CheckUserManagement(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	for _, tt := range []struct {
		name    string
		arrange func(a *autho.Account)
		msg     string
	}{
		{"active", func(*autho.Account) {}, ""},
		{"suspended", func(a *autho.Account) { a.Status = autho.AccountSuspended }, "is suspended: no changes to its users until it is reactivated"},
		{"expired", func(a *autho.Account) { a.ExpiresAt = start }, "has expired: no changes to its users until it is renewed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			acc := *a
			tt.arrange(&acc)
			err := f.svc.CheckUserManagement(&acc)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("CheckUserManagement = %v, want nil", err)
				}
				return
			}
			wantInputError(t, err, tt.msg, admin.ErrForbidden)
		})
	}
}

func TestService_SetAccountScopes(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	// Each step runs on the account the previous one left; events is how
	// many account.set_scopes events the log then holds.
	steps := []struct {
		name   string
		by     autho.Actor
		scopes []string
		want   []string
		events int
	}{
		{"set, repeats dropped", autho.OperatorCLI, []string{"orders:read", "orders:write", "orders:read"}, []string{"orders:read", "orders:write"}, 1},
		{"the same set again records nothing", autho.OperatorCLI, []string{"orders:read", "orders:write"}, []string{"orders:read", "orders:write"}, 1},
		{"another order is another set", autho.OperatorCLI, []string{"orders:write", "orders:read"}, []string{"orders:write", "orders:read"}, 2},
		{"none clears", autho.OperatorCLI, nil, []string{}, 3},
		{"none again records nothing", autho.OperatorCLI, []string{}, []string{}, 3},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			f.now = start.Add(time.Duration(i+1) * time.Minute)
			before, err := f.svc.Account(t.Context(), a.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.svc.SetAccountScopes(t.Context(), st.by, a.ID, st.scopes)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.AllowedScopes, st.want) && !(len(got.AllowedScopes) == 0 && len(st.want) == 0) {
				t.Fatalf("AllowedScopes = %q, want %q", got.AllowedScopes, st.want)
			}
			read, err := f.svc.Account(t.Context(), a.ID)
			if err != nil || strings.Join(read.AllowedScopes, " ") != strings.Join(st.want, " ") {
				t.Fatalf("read back %q, %v; want %q", read.AllowedScopes, err, st.want)
			}
			es, err := f.svc.AuditLog(t.Context(), autho.AuditFilter{AccountID: a.ID})
			if err != nil {
				t.Fatal(err)
			}
			var set []*autho.AuditEvent
			for _, e := range es {
				if e.Action == autho.AuditAccountScopes {
					set = append(set, e)
				}
			}
			if len(set) != st.events {
				t.Fatalf("%d %s events, want %d", len(set), autho.AuditAccountScopes, st.events)
			}
			changed := st.events > 0 && set[0].At.Equal(f.now)
			if changed {
				if e := set[0]; e.ActorID != st.by.ID() || e.TargetID != a.ID || e.TargetName != "Acme" {
					t.Fatalf("event = %+v", e)
				}
				if !got.UpdatedAt.Equal(f.now) {
					t.Fatalf("UpdatedAt = %v, want %v", got.UpdatedAt, f.now)
				}
			} else if !got.UpdatedAt.Equal(before.UpdatedAt) {
				t.Fatalf("an unchanged set moved UpdatedAt to %v", got.UpdatedAt)
			}
		})
	}

	before := snapshot(t, f.store)
	refused := []struct {
		name, id string
		by       autho.Actor
		scopes   []string
		msg      string
		kind     error
	}{
		{"space in a scope", a.ID, autho.OperatorCLI, []string{"orders read"}, `invalid scope "orders read"`, nil},
		{"empty scope", a.ID, autho.OperatorCLI, []string{"orders:read", ""}, "a scope must not be empty", nil},
		{"too many", a.ID, autho.OperatorCLI, manyScopes(51), "at most 50 scopes", nil},
		{"unknown account", "acc_nope", autho.OperatorCLI, []string{"x"}, "account acc_nope not found", autho.ErrNotFound},
		{"not an account id", "usr_nope", autho.OperatorCLI, []string{"x"}, "account usr_nope not found", autho.ErrNotFound},
		{"a partner's own admin", a.ID, autho.UserActor(u, "192.0.2.1"), []string{"x"}, "only the platform's operator", admin.ErrForbidden},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.SetAccountScopes(t.Context(), tt.by, tt.id, tt.scopes)
			wantInputError(t, err, tt.msg, tt.kind)
			if after := snapshot(t, f.store); after != before {
				t.Fatalf("store changed:\n%s\nwas:\n%s", after, before)
			}
		})
	}
}

func manyScopes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "s" + strconv.Itoa(i)
	}
	return out
}
