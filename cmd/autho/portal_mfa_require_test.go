package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/autho/autho"
)

const enrollPage = "/portal/security?done=mfa-required"

// enrollOnly checks that u, signed in without a second factor while one is
// required, reaches only enrollment: every other page, and a form sent to
// one, answers 303 to the Security page; then, with an authenticator app
// added, the same pages open.
func enrollOnly(t *testing.T, ts *testServer, u portalUser, pages ...string) {
	t.Helper()
	c := &mfaClient{t: t, ts: ts, ip: "192.0.2.210", cookies: map[string]string{}}
	if st, _ := c.do("POST", "/portal/login", url.Values{"email": {u.email}, "password": {u.password}}); st != http.StatusSeeOther || c.cookies["autho_session"] == "" {
		t.Fatalf("sign-in: %d, session %v", st, c.cookies["autho_session"] != "")
	}
	for _, p := range pages {
		if st, _ := c.do("GET", p, nil); st != http.StatusSeeOther || c.loc != enrollPage {
			t.Errorf("GET %s before enrolling: %d to %q, want 303 to %s", p, st, c.loc, enrollPage)
		}
	}
	if st, _ := c.do("POST", "/portal/tokens", url.Values{"name": {"before enrolling"}}); st != http.StatusSeeOther || c.loc != enrollPage {
		t.Errorf("POST /portal/tokens before enrolling: %d to %q, want 303 to %s", st, c.loc, enrollPage)
	}
	if toks, err := ts.store().APITokens(context.Background(), autho.TokenFilter{UserID: u.id}); err != nil || len(toks) != 0 {
		t.Errorf("tokens made before enrolling: %d (%v), want none", len(toks), err)
	}
	if st, page := c.do("GET", enrollPage, nil); st != http.StatusOK || !strings.Contains(page, "A second factor is required") {
		t.Errorf("the Security page: %d, says it is required: %v", st, strings.Contains(page, "A second factor is required"))
	}

	// Enroll, with plain form posts.
	enrollWith(t, c)
	for _, p := range pages {
		if st, _ := c.do("GET", p, nil); st != http.StatusOK {
			t.Errorf("GET %s after enrolling: %d to %q, want 200", p, st, c.loc)
		}
	}
	if st, _ := c.do("POST", "/portal/logout", url.Values{}); st != http.StatusSeeOther || c.cookies["autho_session"] != "" {
		t.Errorf("sign out: %d, session cookie kept %v", st, c.cookies["autho_session"] != "")
	}
}

// Issue 18, AC 4 and 7: an account admin requires a second factor (audited,
// as the admin); a member without one then reaches only enrollment, until
// one is added.
func TestPortal_MFARequiredByAccount(t *testing.T) {
	ts := startServer(t, nil)
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "Required Ltd")
	accID := acc["id"].(string)
	boss := portalCLIUser(t, ts, accID, "boss@required.example", "admin", "the boss's pass phrase")
	member := portalCLIUser(t, ts, accID, "dev@required.example", "member", "the member's pass phrase")

	// Before the requirement, the member opens their tokens at once.
	c := &mfaClient{t: t, ts: ts, ip: "192.0.2.211", cookies: map[string]string{}}
	c.do("POST", "/portal/login", url.Values{"email": {member.email}, "password": {member.password}})
	if st, _ := c.do("GET", "/portal/tokens", nil); st != http.StatusOK {
		t.Fatalf("GET /portal/tokens with nothing required: %d", st)
	}

	a := &mfaClient{t: t, ts: ts, ip: "192.0.2.212", cookies: map[string]string{}}
	a.do("POST", "/portal/login", url.Values{"email": {boss.email}, "password": {boss.password}})
	if st, _ := a.do("POST", "/portal/account/mfa", url.Values{"required": {"on"}}); st != http.StatusSeeOther || a.loc != "/portal/account?done=mfa-on" {
		t.Fatalf("require a second factor: %d to %q", st, a.loc)
	}
	// A member may not change it.
	if st, _ := c.do("POST", "/portal/account/mfa", url.Values{"required": {"off"}}); st == http.StatusSeeOther && c.loc == "/portal/account?done=mfa-off" {
		t.Errorf("a member turned the requirement off")
	}
	got, err := ts.store().Account(context.Background(), accID)
	if err != nil || !got.MFARequired {
		t.Fatalf("account's MFARequired after the admin's change: %v (%v)", got != nil && got.MFARequired, err)
	}
	es, err := ts.store().AuditEvents(context.Background(), autho.AuditFilter{AccountID: accID})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Action == autho.AuditAccountMFARequired && e.ActorID == boss.id {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d %s events by the admin, want 1", n, autho.AuditAccountMFARequired)
	}

	enrollOnly(t, ts, member, "/portal/tokens", "/portal/account", "/portal/password")
}

// Issue 18, AC 4: AUTHO_PORTAL_REQUIRE_MFA=true requires a second factor of
// everyone, whatever their account says.
func TestPortal_MFARequiredForEveryone(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_PORTAL_REQUIRE_MFA": "true"})
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "First Ltd")
	ts.mustCLI(&acc, "account", "create", "--name", "Another Ltd")
	u := portalCLIUser(t, ts, acc["id"].(string), "admin@another.example", "admin", "another pass phrase")
	enrollOnly(t, ts, u, "/portal/tokens", "/portal/users", "/portal/audit", "/portal/account")
}
