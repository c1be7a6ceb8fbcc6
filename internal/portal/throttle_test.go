package portal_test

import (
	"fmt"
	"github.com/autho/autho"
	"net/http"
	"strings"
	"testing"
	"time"
)

// failFive makes five wrong sign-ins for email from b.
func failFive(t *testing.T, b *browser, email string) {
	t.Helper()
	for i := 1; i <= 5; i++ {
		p := b.login(email, "wrong password "+strings.Repeat("!", i))
		wantPage(t, p, http.StatusUnauthorized, "The email address or the password is not correct.")
	}
}

// The sixth wrong password for one email inside the window is refused
// with a clear message, while others sign in undisturbed.
func TestThrottle_Email(t *testing.T) {
	t.Parallel()
	t.Run("sixth try refused", func(t *testing.T) {
		e := newEnv(t)
		attacker := e.browser("203.0.113.66")
		failFive(t, attacker, e.ann.Email)
		for _, pw := range []string{"sixth wrong password", password} {
			p := attacker.login(e.ann.Email, pw)
			wantPage(t, p, http.StatusTooManyRequests, "Too many failed sign-ins for this email address. Wait 30 seconds, then try again.")
			if p.header.Get("Retry-After") != "30" {
				t.Fatalf("Retry-After %q", p.header.Get("Retry-After"))
			}
			if p.header.Get("Set-Cookie") != "" {
				t.Fatal("a refused sign-in set a cookie")
			}
		}
		if n := len(e.eventsOf(autho.AuditLoginFailed)); n != 5 {
			t.Fatalf("%d audit events, want the 5 checked failures (refused tries are not checked)", n)
		}
		// Meanwhile, another user from another address signs in, and so
		// does the victim from their own machine.
		e.browser("192.0.2.20").mustLogin(e.bob)
		e.browser("192.0.2.21").mustLogin(e.ann)
	})
	t.Run("the delay grows, then ends", func(t *testing.T) {
		e := newEnv(t)
		attacker := e.browser("203.0.113.66")
		failFive(t, attacker, e.ann.Email)
		for _, step := range []struct {
			wait   time.Duration
			status int
			msg    string
		}{
			{29 * time.Second, http.StatusTooManyRequests, "Wait 1 second"},
			{time.Second, http.StatusUnauthorized, "not correct"}, // the 6th failure: 60 s
			{59 * time.Second, http.StatusTooManyRequests, "Wait 1 second"},
			{time.Second, http.StatusUnauthorized, "not correct"}, // the 7th: 2 min
			{0, http.StatusTooManyRequests, "Wait 2 minutes"},
			{2 * time.Minute, http.StatusUnauthorized, "not correct"}, // the 8th: 4 min
			{0, http.StatusTooManyRequests, "Wait 4 minutes"},
		} {
			e.clock.Add(step.wait)
			wantPage(t, attacker.login(e.ann.Email, "still wrong"), step.status, step.msg)
		}
		// Failures older than the window no longer count: the longest
		// anyone waits is bounded.
		e.clock.Add(15 * time.Minute)
		attacker.mustLogin(e.ann)
	})
	t.Run("spread over many addresses", func(t *testing.T) {
		e := newEnv(t)
		for i := 0; i < 5; i++ {
			wantPage(t, e.browser("203.0.113."+string(rune('1'+i))).login(e.ann.Email, "spread guess"), http.StatusUnauthorized)
		}
		// A sixth address guessing wrong is told to wait, like the rest.
		wantPage(t, e.browser("203.0.113.77").login(e.ann.Email, "guess"), http.StatusTooManyRequests,
			"Too many failed sign-ins for this email address.")
		// An address that already failed for this email is refused
		// unchecked, even with the right password.
		wantPage(t, e.browser("203.0.113.1").login(e.ann.Email, password), http.StatusTooManyRequests)
		// The person themselves, from an address that has not failed,
		// still gets in: the limit cannot lock them out.
		e.browser("192.0.2.30").mustLogin(e.ann)
	})
}

func TestThrottle_UnknownEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("203.0.113.1")
	for i := 0; i < 5; i++ {
		wantPage(t, b.login("nobody@acme.example", "guess "+strings.Repeat("x", i)), http.StatusUnauthorized,
			"The email address or the password is not correct.")
	}
	wantPage(t, b.login("nobody@acme.example", "guess"), http.StatusTooManyRequests, "Too many failed sign-ins for this email address.")
	wantPage(t, b.login("NOBODY@acme.example", "guess"), http.StatusTooManyRequests, "for this email address")
}

func TestThrottle_IP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sprayer := e.browser("203.0.113.7")
	for i := 0; i < 20; i++ {
		email := "user" + strings.Repeat("x", i) + "@acme.example"
		wantPage(t, sprayer.login(email, "Summer2026!!"), http.StatusUnauthorized)
	}
	wantPage(t, sprayer.login(e.ann.Email, password), http.StatusTooManyRequests, "Too many failed sign-ins from your network.")
	e.browser("192.0.2.50").mustLogin(e.ann)
}

// An IPv6 client is its /64: a subscriber is given a whole one, and moving
// through it must not buy new tries, for an address or for an email.
func TestThrottle_IPv6Prefix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < 20; i++ {
		sprayer := e.browser(fmt.Sprintf("2001:db8:7:7::%x", i+1))
		wantPage(t, sprayer.login(fmt.Sprintf("user%d@acme.example", i), "Summer2026!!"), http.StatusUnauthorized)
	}
	wantPage(t, e.browser("2001:db8:7:7:ffff::1").login(e.bob.Email, password), http.StatusTooManyRequests,
		"Too many failed sign-ins from your network.")
	e.browser("2001:db8:7:8::1").mustLogin(e.bob)

	for i := 0; i < 5; i++ {
		wantPage(t, e.browser(fmt.Sprintf("2001:db8:9:9::%x", i+1)).login(e.ann.Email, "a wrong guess"), http.StatusUnauthorized)
	}
	wantPage(t, e.browser("2001:db8:9:9::abcd").login(e.ann.Email, password), http.StatusTooManyRequests,
		"Too many failed sign-ins for this email address.")
}

func TestThrottle_SharedAcrossNodes(t *testing.T) {
	t.Parallel()
	// Two portals on one database are two nodes: failures counted on one
	// throttle the other.
	e := newEnv(t)
	b := e.browser("203.0.113.8")
	for i := 0; i < 5; i++ {
		wantPage(t, b.login(e.ann.Email, "wrong"), http.StatusUnauthorized)
	}
	other := e.node()
	wantPage(t, other.browser("203.0.113.8").login(e.ann.Email, password), http.StatusTooManyRequests)
	// And a session started on one node is valid on the other.
	ann := e.browser("192.0.2.1")
	ann.mustLogin(e.bob)
	moved := other.browser("192.0.2.1")
	moved.hdr.Set("Cookie", "autho_session="+ann.cookie())
	wantPage(t, moved.get("/portal/tokens"), http.StatusOK, e.bob.Email)
}
