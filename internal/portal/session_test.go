package portal_test

import (
	"context"
	"github.com/autho/autho"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestSession_RenewedAtLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	t.Run("a second login gets a new id and ends the first", func(t *testing.T) {
		b := e.browser("192.0.2.1")
		b.mustLogin(e.ann)
		first := b.cookie()
		b.mustLogin(e.ann)
		second := b.cookie()
		if first == "" || second == "" || first == second {
			t.Fatalf("session ids %q then %q: want two different ids", first, second)
		}
		old := e.browser("192.0.2.1")
		old.hdr.Set("Cookie", "autho_session="+first)
		wantSignedOut(t, old.get("/portal/tokens"))
		wantPage(t, b.get("/portal/tokens"), http.StatusOK, "API tokens")
	})
	t.Run("a planted id is never adopted", func(t *testing.T) {
		const planted = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		b := e.browser("192.0.2.1")
		b.hdr.Set("Cookie", "autho_session="+planted)
		p := b.login(e.ann.Email, password)
		c, err := http.ParseSetCookie(p.header.Get("Set-Cookie"))
		if err != nil || c.Value == planted || c.Value == "" {
			t.Fatalf("Set-Cookie %q after login with a planted id", p.header.Get("Set-Cookie"))
		}
	})
}

func TestSession_Logout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1")
	b.mustLogin(e.ann)
	id := b.cookie()
	p := b.post("/portal/logout", url.Values{})
	if p.status != http.StatusSeeOther || p.location() != "/portal/login?done=bye" {
		t.Fatalf("logout: %d %q", p.status, p.location())
	}
	if b.cookie() != "" {
		t.Fatal("cookie kept after logout")
	}
	wantPage(t, b.get("/portal/login?done=bye"), http.StatusOK, "You have signed out.")
	// The old cookie, replayed, opens nothing: the session is gone from
	// the database, not only from the browser.
	thief := e.browser("198.51.100.7")
	thief.hdr.Set("Cookie", "autho_session="+id)
	for _, path := range []string{"/portal/tokens", "/portal/account", "/portal/password", "/portal/users", "/portal/audit", "/portal/"} {
		wantSignedOut(t, thief.get(path))
	}
	wantSignedOut(t, thief.post("/portal/tokens", url.Values{"name": {"x"}, "expiry": {"7"}}))
}

func TestSession_Timeouts(t *testing.T) {
	t.Parallel()
	t.Run("idle", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser("192.0.2.1")
		b.mustLogin(e.ann)
		e.clock.Add(29 * time.Minute)
		wantPage(t, b.get("/portal/tokens"), http.StatusOK)
		e.clock.Add(29 * time.Minute) // 29 min after the last request
		wantPage(t, b.get("/portal/tokens"), http.StatusOK)
		e.clock.Add(30 * time.Minute)
		p := b.get("/portal/tokens")
		wantSignedOut(t, p)
		if p.location() != "/portal/login?done=ended&next=%2Fportal%2Ftokens" {
			t.Fatalf("Location %q", p.location())
		}
		wantPage(t, b.get(p.location()), http.StatusOK, "Your session has ended")
	})
	t.Run("absolute", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser("192.0.2.1")
		b.mustLogin(e.ann)
		for elapsed := 20 * time.Minute; elapsed < 12*time.Hour; elapsed += 20 * time.Minute {
			e.clock.Add(20 * time.Minute)
			wantPage(t, b.get("/portal/account"), http.StatusOK)
		}
		e.clock.Add(20 * time.Minute)
		wantSignedOut(t, b.get("/portal/account"))
	})
	t.Run("swept", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser("192.0.2.1")
		b.mustLogin(e.ann)
		e.clock.Add(31 * time.Minute)
		n, err := e.store.DeleteSessionsBefore(context.Background(), e.clock.Now().Add(-30*time.Minute), e.clock.Now().Add(-12*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("DeleteSessionsBefore = %d, %v", n, err)
		}
	})
}

func TestSession_DeactivatedUser(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"by an admin in the portal", "by the operator"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t)
			ann := e.browser("192.0.2.1")
			ann.mustLogin(e.ann)
			wantPage(t, ann.get("/portal/tokens"), http.StatusOK)
			if how == "by the operator" {
				if _, err := e.admin.DeactivateUser(context.Background(), autho.OperatorCLI, e.ann.Email); err != nil {
					t.Fatal(err)
				}
			} else {
				boss := e.browser("192.0.2.2")
				boss.mustLogin(e.boss)
				p := boss.post("/portal/users/"+e.ann.ID+"/deactivate", url.Values{})
				if p.location() != "/portal/users?done=deactivated" {
					t.Fatalf("deactivate: %d %q\n%s", p.status, p.location(), text(p.body))
				}
			}
			wantSignedOut(t, ann.get("/portal/tokens"))
			wantSignedOut(t, ann.post("/portal/tokens", url.Values{"name": {"late"}, "expiry": {"7"}}))
			p := ann.login(e.ann.Email, password)
			wantPage(t, p, http.StatusForbidden, "deactivated")
			// Reactivated, the old session does not come back.
			if _, err := e.admin.ActivateUser(context.Background(), autho.OperatorCLI, e.ann.ID); err != nil {
				t.Fatal(err)
			}
			wantSignedOut(t, ann.get("/portal/tokens"))
			ann.mustLogin(e.ann)
		})
	}
}

func TestSession_AdminEndsSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ann1, ann2 := e.browser("192.0.2.1"), e.browser("192.0.2.2")
	ann1.mustLogin(e.ann)
	ann2.mustLogin(e.ann)
	bob := e.browser("192.0.2.3")
	bob.mustLogin(e.bob)
	boss := e.browser("192.0.2.4")
	boss.mustLogin(e.boss)
	p := boss.post("/portal/users/"+e.ann.ID+"/sessions", url.Values{})
	if p.location() != "/portal/users?done=sessions" {
		t.Fatalf("end sessions: %d %q\n%s", p.status, p.location(), text(p.body))
	}
	wantPage(t, boss.get(p.location()), http.StatusOK, "signed out everywhere")
	wantSignedOut(t, ann1.get("/portal/tokens"))
	wantSignedOut(t, ann2.get("/portal/tokens"))
	wantPage(t, bob.get("/portal/tokens"), http.StatusOK)
	wantPage(t, boss.get("/portal/tokens"), http.StatusOK)
}
