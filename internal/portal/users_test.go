package portal_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/portal"
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
	confirm := boss.get("/portal/users/" + e.bob.ID + "/password")
	wantPage(t, confirm, http.StatusOK, "Reset the password of "+e.bob.Email+"?")
	wantSignedInAs(t, confirm, e.boss.Email)
	if e.users() == "" {
		t.Fatal("no users")
	}
	p := boss.post("/portal/users/"+e.bob.ID+"/password", url.Values{})
	m := shownPassword.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		t.Fatalf("reset: %d\n%s", p.status, text(p.body))
	}
	wantSignedInAs(t, p, e.boss.Email)
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
		{"suspended", func(e *env) { e.admin.Suspend(context.Background(), autho.OperatorCLI, e.account.ID) }, "no changes to its users until it is reactivated"},
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
			if _, err := e.admin.DeactivateUser(context.Background(), autho.OperatorCLI, e.bob.ID); err != nil {
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

// logBuffer collects a portal's log lines, written by the server's
// goroutines and read by the test.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// Emails are unique across accounts, so an admin adding someone who is a
// user of another account must be refused, but must not learn that the
// address is a customer elsewhere, let alone which: the answer says only
// that it cannot be added and whom to talk to, and the operator is told in
// the log. An address already in the admin's own account is theirs to
// know, and is said plainly.
func TestUsers_AddTakenEmail(t *testing.T) {
	t.Parallel()
	var log logBuffer
	e := newEnv(t, func(c *portal.Config) { c.Logger = slog.New(slog.NewJSONHandler(&log, nil)) })
	ctx := context.Background()
	other, _, err := e.admin.CreateAccount(ctx, autho.OperatorCLI, "Globex Corp", start.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	zed := e.mustUserIn(other.ID, "zed@globex.example", autho.RoleAdmin)
	boss := e.browser("192.0.2.1")
	boss.mustLogin(e.boss)

	otherUsers := func() string {
		us, err := e.store.Users(ctx, other.ID)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, u := range us {
			b.WriteString(u.ID + " " + u.Email + " " + u.PasswordHash + " " + u.UpdatedAt.String() + "\n")
		}
		return b.String()
	}
	tests := []struct {
		name    string
		email   string
		msg     string
		audited bool
	}{
		{"in your account", strings.ToUpper(e.ann.Email), "That email address is already a user of your account.", false},
		{"in another account", "Zed@Globex.example", "This email address cannot be added. If the person should be a user of your account, talk to partners@platform.example.", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, others, events := e.users(), otherUsers(), e.events()
			p := boss.post("/portal/users", url.Values{"email": {tt.email}, "role": {"admin"}})
			wantPage(t, p, http.StatusConflict, htmlEscape(tt.msg))
			if e.users() != users || otherUsers() != others {
				t.Fatal("the users changed")
			}
			for _, secret := range []string{other.Name, other.ID, zed.ID, "another account", "already in use"} {
				if strings.Contains(p.body, secret) {
					t.Errorf("the page tells %q", secret)
				}
			}
			after := e.events()
			if !tt.audited {
				if len(after) != len(events) {
					t.Fatalf("%d audit events added", len(after)-len(events))
				}
				return
			}
			if len(after) != len(events)+1 {
				t.Fatalf("%d audit events added, want 1", len(after)-len(events))
			}
			// The clock stands still, so the new event is found by its
			// action, not its place.
			var ev *autho.AuditEvent
			for _, x := range after {
				if x.Action == autho.AuditUserCreateRefused {
					ev = x
				}
			}
			if ev == nil || ev.ActorID != e.boss.ID || ev.TargetID != "" || ev.TargetName != tt.email {
				t.Fatalf("audit event %+v", ev)
			}
			line := ""
			for _, l := range strings.Split(log.String(), "\n") {
				if strings.Contains(l, zed.ID) {
					line = l
				}
			}
			for _, want := range []string{`"level":"WARN"`, `"account":"` + e.account.ID + `"`, `"actor":"` + e.boss.ID + `"`, `"existing_account":"` + other.ID + `"`} {
				if !strings.Contains(line, want) {
					t.Fatalf("the operator is not told (%s) in the log:\n%s", want, log.String())
				}
			}
		})
	}
	if p := boss.get("/portal/audit"); !strings.Contains(p.body, "could not add user") {
		t.Fatalf("the audit log does not show the refused add:\n%s", text(p.body))
	}
}

// wantSignedInAs fails unless the page's header names email as the one
// signed in.
func wantSignedInAs(t *testing.T, p *page, email string) {
	t.Helper()
	m := regexp.MustCompile(`<span class="who-email" title="Signed in as ([^"]*)">([^<]*)</span>`).FindStringSubmatch(p.body)
	if m == nil || m[1] != email || m[2] != email {
		t.Fatalf("the header shows %q as signed in, want %s", m, email)
	}
}
