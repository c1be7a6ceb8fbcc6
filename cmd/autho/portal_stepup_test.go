package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/daemon"
)

var (
	nonceOnPage  = regexp.MustCompile(`name="nonce" value="([^"]+)"`)
	hiddenOnPage = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// Issue 18, AC 5 and 7: creating a token right after signing in with a
// code is not asked for the factor again; 16 minutes later (the portal's
// clock moved on) it is, and the right code then creates the token, once;
// within 15 minutes of that it is not asked again. Both codes audited.
func TestPortal_StepUp(t *testing.T) {
	var offset atomic.Int64 // the portal's clock, ahead of the real one
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	ts := startServerAt(t, filepath.Join(t.TempDir(), "autho.db"), nil, func(c *daemon.Config) { c.PortalNow = clock })
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "Step Up Ltd")
	u := portalCLIUser(t, ts, acc["id"].(string), "stepup@second.example", "member", "the step-up pass phrase")
	key := enrollOverHTTP(t, ts, u)
	codeNow := func() string {
		c := rfc6238(key, clock(), 6)
		leaks.addCode(c)
		return c
	}
	// An admin with a factor, signed in with a code at the same time.
	boss := portalCLIUser(t, ts, acc["id"].(string), "boss@second.example", "admin", "the admin's pass phrase")
	bossKey := enrollOverHTTP(t, ts, boss)
	b := &mfaClient{t: t, ts: ts, ip: "192.0.2.221", cookies: map[string]string{}}
	b.do("POST", "/portal/login", url.Values{"email": {boss.email}, "password": {boss.password}})
	if st, _ := b.do("POST", "/portal/login/code", url.Values{"code": {totpCode(bossKey, 1)}}); st != http.StatusSeeOther {
		t.Fatalf("the admin's sign-in with a code: %d", st)
	}

	c := &mfaClient{t: t, ts: ts, ip: "192.0.2.220", cookies: map[string]string{}}
	c.do("POST", "/portal/login", url.Values{"email": {u.email}, "password": {u.password}})
	if st, _ := c.do("POST", "/portal/login/code", url.Values{"code": {totpCode(key, 1)}}); st != http.StatusSeeOther || c.cookies["autho_session"] == "" {
		t.Fatalf("sign-in with a code: %d, session %v", st, c.cookies["autho_session"] != "")
	}
	tokens := func() int {
		t.Helper()
		ts, err := ts.store().APITokens(context.Background(), autho.TokenFilter{UserID: u.id})
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	create := func(name string) (int, string) {
		t.Helper()
		st, page := c.do("GET", "/portal/tokens", nil)
		m := nonceOnPage.FindStringSubmatch(page)
		if st != http.StatusOK || m == nil {
			t.Fatalf("tokens page: %d, nonce found %v", st, m != nil)
		}
		return c.do("POST", "/portal/tokens", url.Values{"nonce": {m[1]}, "name": {name}, "expiry": {"30"}})
	}
	asks := func(page string) bool { return strings.Contains(page, `name="stepup_code"`) }

	// Right after the sign-in's code: not asked.
	if st, page := create("right after sign-in"); st != http.StatusOK || asks(page) || tokens() != 1 {
		t.Fatalf("a token right after sign-in: %d, asked %v, %d tokens; want made without asking", st, asks(page), tokens())
	}

	// 16 minutes on: asked, and nothing made yet.
	offset.Store(int64(16 * time.Minute))
	st, page := create("after 16 minutes")
	if st != http.StatusOK || !asks(page) || tokens() != 1 {
		t.Fatalf("a token 16 minutes after sign-in: %d, asked %v, %d tokens; want asked and none made", st, asks(page), tokens())
	}
	form := url.Values{}
	for _, m := range hiddenOnPage.FindAllStringSubmatch(page, -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if form.Get("name") != "after 16 minutes" || form.Get("nonce") == "" {
		t.Fatalf("the step-up page does not carry the form along: %v", form)
	}
	wrong := url.Values{}
	for k, v := range form {
		wrong[k] = v
	}
	wrong.Set("stepup_code", "000000")
	if st, page := c.do("POST", "/portal/tokens", wrong); st != http.StatusUnauthorized || !asks(page) || tokens() != 1 {
		t.Errorf("a wrong step-up code: %d, asked again %v, %d tokens; want 401, asked, none made", st, asks(page), tokens())
	}
	form.Set("stepup_code", codeNow())
	if st, page := c.do("POST", "/portal/tokens", form); st != http.StatusOK || asks(page) || tokens() != 2 {
		t.Fatalf("the right step-up code: %d, asked %v, %d tokens; want the token made", st, asks(page), tokens())
	}
	// The admin's change of the requirement, 16 minutes on, asks too,
	// and is made with the right code.
	st, page = b.do("POST", "/portal/account/mfa", url.Values{"required": {"on"}})
	if a, _ := ts.store().Account(context.Background(), acc["id"].(string)); st != http.StatusOK || !asks(page) || a.MFARequired {
		t.Errorf("requiring a second factor 16 minutes after sign-in: %d, asked %v; want asked and nothing changed", st, asks(page))
	}
	bc := rfc6238(bossKey, clock(), 6)
	leaks.addCode(bc)
	st, _ = b.do("POST", "/portal/account/mfa", url.Values{"required": {"on"}, "stepup_code": {bc}})
	if a, _ := ts.store().Account(context.Background(), acc["id"].(string)); st != http.StatusSeeOther || !a.MFARequired {
		t.Errorf("requiring a second factor with the right code: %d, required %v; want 303 and required", st, a.MFARequired)
	}

	// The same form again (a reload) makes nothing more.
	if st, _ := c.do("POST", "/portal/tokens", form); st >= 500 || tokens() != 2 {
		t.Errorf("the step-up form sent again: %d, %d tokens; want still 2", st, tokens())
	}

	// 14 minutes after the step-up: not asked.
	offset.Store(int64(30 * time.Minute))
	if st, page := create("within the window"); st != http.StatusOK || asks(page) || tokens() != 3 {
		t.Errorf("a token 14 minutes after the step-up: %d, asked %v, %d tokens; want made without asking", st, asks(page), tokens())
	}

	es, err := ts.store().AuditEvents(context.Background(), autho.AuditFilter{AccountID: acc["id"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	count := map[autho.AuditAction]int{}
	for _, e := range es {
		if e.ActorID == u.id {
			count[e.Action]++
		}
		if e.ActorID == boss.id && (e.Action == autho.AuditStepUp || e.Action == autho.AuditAccountMFARequired) {
			count["admin "+e.Action]++
		}
	}
	if count[autho.AuditStepUp] != 1 || count[autho.AuditStepUpFailed] != 1 || count["admin "+autho.AuditStepUp] != 1 || count["admin "+autho.AuditAccountMFARequired] != 1 {
		t.Errorf("audit %v; want one step-up and one refused by the user, one step-up and one change of the requirement by the admin", count)
	}

	// 40 minutes on (24 after their step-up, within the session's idle
	// timeout), the admin's factor is stale again. Removing their own
	// authenticator app asks for it and changes nothing yet.
	offset.Store(int64(40 * time.Minute))
	if st, page := b.do("POST", "/portal/security/totp/remove", url.Values{}); st != http.StatusOK || !asks(page) {
		t.Errorf("removing the authenticator app 24 minutes after the step-up: %d, asked %v; want asked", st, asks(page))
	}
	if fs := factorsOf(t, ts, boss.id); fs == 0 {
		t.Fatal("the admin's authenticator app was removed without the step-up")
	}
	// Clearing the member's factors (they lost their phone) asks too; the
	// right code clears them.
	clear := "/portal/users/" + u.id + "/mfa"
	if st, page := b.do("POST", clear, url.Values{}); st != http.StatusOK || !asks(page) || factorsOf(t, ts, u.id) == 0 {
		t.Errorf("clearing the member's factors unconfirmed: %d, asked %v; want asked and nothing changed", st, asks(page))
	}
	bc = rfc6238(bossKey, clock(), 6)
	leaks.addCode(bc)
	if st, _ := b.do("POST", clear, url.Values{"stepup_code": {bc}}); st != http.StatusSeeOther || b.loc != "/portal/users?done=mfa-cleared" {
		t.Errorf("clearing the member's factors with the right code: %d to %q; want 303 to /portal/users?done=mfa-cleared", st, b.loc)
	}
	if n := factorsOf(t, ts, u.id); n != 0 {
		t.Errorf("the member still has %d factor rows and codes after the admin cleared them", n)
	}
	if st, _ := b.do("POST", clear, url.Values{}); st != http.StatusSeeOther || b.loc != "/portal/users?done=mfa-none" {
		t.Errorf("clearing them again: %d to %q; want 303 to /portal/users?done=mfa-none", st, b.loc)
	}
	// Within the admin's fresh window, their own removal goes ahead.
	if st, _ := b.do("POST", "/portal/security/totp/remove", url.Values{}); st != http.StatusSeeOther || factorsOf(t, ts, boss.id) != 0 {
		t.Errorf("removing the authenticator app right after a step-up: %d; want removed", st)
	}
	// The member now signs in with the password alone.
	m := &mfaClient{t: t, ts: ts, ip: "192.0.2.222", cookies: map[string]string{}}
	if st, _ := m.do("POST", "/portal/login", url.Values{"email": {u.email}, "password": {u.password}}); st != http.StatusSeeOther || m.cookies["autho_session"] == "" {
		t.Errorf("the member's sign-in after the admin cleared their factors: %d, session %v; want a session at once", st, m.cookies["autho_session"] != "")
	}
	es, err = ts.store().AuditEvents(context.Background(), autho.AuditFilter{AccountID: acc["id"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	resets, removals := 0, 0
	for _, e := range es {
		if e.Action == autho.AuditMFARemove && e.ActorID == boss.id && e.TargetID == boss.id {
			removals++
		}
		if e.Action == autho.AuditMFAReset {
			resets++
			if e.ActorID != boss.id || e.TargetID != u.id {
				t.Errorf("the clearing is audited as by %q of %q; want by the admin %q of %q", e.ActorID, e.TargetID, boss.id, u.id)
			}
		}
	}
	if resets != 1 || removals != 1 {
		t.Errorf("%d mfa.reset events, %d mfa.remove by the admin; want 1 (clearing nothing records nothing) and 1", resets, removals)
	}
}

// factorsOf counts a user's TOTP factor and recovery codes in the store.
func factorsOf(t *testing.T, ts *testServer, userID string) int {
	t.Helper()
	n := 0
	if _, err := ts.store().TOTP(context.Background(), userID); err == nil {
		n++
	}
	codes, err := ts.store().RecoveryCodes(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return n + len(codes)
}
