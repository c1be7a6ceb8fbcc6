package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
)

func TestUsers_Add(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	boss := e.browser("192.0.2.1")
	boss.mustLogin(e.boss)
	p := boss.post("/portal/users", url.Values{"email": {" Carol@Acme.example "}, "role": {"admin"}})
	wantPage(t, p, http.StatusOK, "User added", "Carol@Acme.example", "You will not see it again")
	if p.header.Get("Cache-Control") != "no-store" {
		t.Fatal("the page with the password may be cached")
	}
	m := shownPassword.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no password shown:\n%s", text(p.body))
	}
	u, err := e.store.UserByEmail(context.Background(), "carol@acme.example")
	if err != nil || u.Role != autho.RoleAdmin || u.AccountID != e.account.ID || !u.Active {
		t.Fatalf("stored user %+v, %v", u, err)
	}
	// The one-time password signs the new user in, as an admin.
	carol := e.browser("192.0.2.2")
	if p := carol.login("carol@acme.example", m[1]); p.status != http.StatusSeeOther {
		t.Fatalf("login with the shown password: %d\n%s", p.status, text(p.body))
	}
	wantPage(t, carol.get("/portal/users"), http.StatusOK, "Users of the account")
	list := boss.get("/portal/users")
	if strings.Contains(list.body, m[1]) {
		t.Fatal("the password is shown again")
	}
}

func TestUsers_ResetPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.browser("192.0.2.3")
	bob.mustLogin(e.bob)
	boss := e.browser("192.0.2.1")
	boss.mustLogin(e.boss)
	wantPage(t, boss.get("/portal/users/"+e.bob.ID+"/password"), http.StatusOK, "Reset the password of "+e.bob.Email+"?")
	if e.users() == "" {
		t.Fatal("no users")
	}
	p := boss.post("/portal/users/"+e.bob.ID+"/password", url.Values{})
	m := shownPassword.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		t.Fatalf("reset: %d\n%s", p.status, text(p.body))
	}
	wantSignedOut(t, bob.get("/portal/tokens"))
	wantPage(t, bob.login(e.bob.Email, password), http.StatusUnauthorized)
	if p := bob.login(e.bob.Email, m[1]); p.status != http.StatusSeeOther {
		t.Fatalf("login with the new password: %d", p.status)
	}
}

func TestUsers_DeactivateAndReactivate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.mustToken(e.bob, "bob-ci")
	boss := e.browser("192.0.2.1")
	boss.mustLogin(e.boss)
	list := boss.get("/portal/users")
	wantPage(t, list, http.StatusOK, e.bob.Email, "Deactivate<span class=\"visually-hidden\"> "+e.bob.Email)
	if strings.Contains(list.body, "/portal/users/"+e.boss.ID+"/deactivate") {
		t.Fatal("an admin is offered to deactivate themselves")
	}
	p := boss.post("/portal/users/"+e.bob.ID+"/deactivate", url.Values{})
	if p.location() != "/portal/users?done=deactivated" {
		t.Fatalf("deactivate: %d %q", p.status, p.location())
	}
	wantPage(t, boss.get(p.location()), http.StatusOK, "The user was deactivated", "Deactivated", "Reactivate")
	cred, err := e.store.APICredential(context.Background(), tk.Hash)
	if err != nil || cred.UserActive {
		t.Fatalf("the token's user still active: %+v, %v", cred, err)
	}
	p = boss.post("/portal/users/"+e.bob.ID+"/activate", url.Values{})
	wantPage(t, boss.get(p.location()), http.StatusOK, "The user was reactivated.")
	e.browser("192.0.2.9").mustLogin(e.bob)
}

// While the account is suspended or expired its admins can see its users
// but not change them: every change is refused with a message saying why,
// changes nothing, and is not offered.
func TestUsers_ClosedAccount(t *testing.T) {
	t.Parallel()
	states := []struct {
		name  string
		close func(e *env)
		why   string
	}{
		{"suspended", func(e *env) { e.admin.Suspend(context.Background(), e.account.ID) }, "no changes to its users until it is reactivated"},
		{"expired", func(e *env) { e.clock.Add(366 * 24 * time.Hour) }, "no changes to its users until it is renewed"},
	}
	changes := []struct {
		name string
		path func(e *env) string
		form url.Values
	}{
		{"add user", func(*env) string { return "/portal/users" }, url.Values{"email": {"carol@acme.example"}, "role": {"member"}}},
		{"add admin", func(*env) string { return "/portal/users" }, url.Values{"email": {"dave@acme.example"}, "role": {"admin"}}},
		{"reset password", func(e *env) string { return "/portal/users/" + e.ann.ID + "/password" }, url.Values{}},
		{"reactivate", func(e *env) string { return "/portal/users/" + e.bob.ID + "/activate" }, url.Values{}},
		{"deactivate", func(e *env) string { return "/portal/users/" + e.ann.ID + "/deactivate" }, url.Values{}},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if _, err := e.admin.DeactivateUser(context.Background(), e.bob.ID); err != nil {
				t.Fatal(err)
			}
			st.close(e)
			boss := e.browser("192.0.2.1")
			boss.mustLogin(e.boss)
			for _, ch := range changes {
				t.Run(ch.name, func(t *testing.T) {
					users, events := e.users(), len(e.events())
					p := boss.post(ch.path(e), ch.form)
					wantPage(t, p, http.StatusForbidden, st.why)
					if strings.Contains(p.body, `id="new-password"`) {
						t.Fatal("a password was shown")
					}
					if e.users() != users {
						t.Fatalf("the users changed:\n%s\nwas:\n%s", e.users(), users)
					}
					if n := len(e.events()); n != events {
						t.Fatalf("%d audit events added", n-events)
					}
				})
			}
			t.Run("the reset page", func(t *testing.T) {
				wantPage(t, boss.get("/portal/users/"+e.ann.ID+"/password"), http.StatusForbidden, st.why)
			})
			t.Run("nothing is offered", func(t *testing.T) {
				p := boss.get("/portal/users")
				wantPage(t, p, http.StatusOK, e.ann.Email, e.bob.Email, "Users cannot be added or changed while the account is "+st.name+".")
				for _, form := range []string{`action="/portal/users"`, "/" + e.ann.ID + "/deactivate", "/" + e.bob.ID + "/activate", "/" + e.ann.ID + "/password"} {
					if strings.Contains(p.body, form) {
						t.Errorf("the users page offers %s", form)
					}
				}
			})
			t.Run("signing someone out stays possible", func(t *testing.T) {
				if p := boss.post("/portal/users/"+e.ann.ID+"/sessions", url.Values{}); p.status != http.StatusSeeOther {
					t.Fatalf("sign out everywhere: %d\n%s", p.status, text(p.body))
				}
			})
		})
	}
}
