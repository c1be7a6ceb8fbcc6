package portal_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestPassword_Change(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	here, elsewhere := e.browser("192.0.2.1"), e.browser("192.0.2.2")
	here.mustLogin(e.ann)
	elsewhere.mustLogin(e.ann)
	const next = "ünïcode pass phrase 🔑"
	p := here.post("/portal/password", url.Values{"current": {password}, "new": {next}, "confirm": {next}})
	if p.status != http.StatusSeeOther || p.location() != "/portal/account?done=password" {
		t.Fatalf("change: %d %q\n%s", p.status, p.location(), text(p.body))
	}
	wantPage(t, here.get(p.location()), http.StatusOK, "Your password was changed.")
	wantSignedOut(t, elsewhere.get("/portal/tokens"))
	wantPage(t, e.browser("192.0.2.3").login(e.ann.Email, password), http.StatusUnauthorized)
	if p := e.browser("192.0.2.3").login(e.ann.Email, next); p.status != http.StatusSeeOther {
		t.Fatalf("login with the new password: %d", p.status)
	}
}

// A wrong current password counts as a failed sign-in, so a session left
// open cannot be used to guess the password faster than the login form.
func TestPassword_WrongCurrentIsThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1")
	b.mustLogin(e.ann)
	for i := 0; i < 5; i++ {
		wantPage(t, b.post("/portal/password", url.Values{"current": {"guess guess guess"}, "new": {"new pass phrase!"}, "confirm": {"new pass phrase!"}}),
			http.StatusBadRequest, "The current password is not correct.")
	}
	wantPage(t, b.post("/portal/password", url.Values{"current": {password}, "new": {"new pass phrase!"}, "confirm": {"new pass phrase!"}}),
		http.StatusTooManyRequests, "Too many failed sign-ins")
}
