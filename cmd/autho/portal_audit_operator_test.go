package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestPortal_BrowserAuditShowsOperators: changes made through the admin API
// and through the CLI are in the account's audit page, as the account's
// admin sees it in a real browser, each naming who made it: the platform,
// with the operator key's name or "cli".
func TestPortal_BrowserAuditShowsOperators(t *testing.T) {
	ctx := portalBrowser(t)
	ts := startServer(t, nil)
	pa := portalSetup(t, ts)
	k := newAdminKeys(ts)
	if r, _ := ts.admin("PATCH", "/v1/admin/accounts/"+pa.id, k.rw, `{"name":"Acme Robotics GmbH","allowed_scopes":["orders:read"]}`); r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	r, m := ts.admin("POST", "/v1/admin/users/"+pa.member.id+"/tokens", k.rw, `{"name":"made by the CRM"}`)
	if r.Status != 201 {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	leaks.add(opStr(m, "token"))
	ts.mustCLI(nil, "account", "renew", pa.id, "--expires", "2031-01-01")

	portalSignIn(t, ctx, ts, pa.admin)
	portalDo(t, ctx, "open the audit log", chromedp.Navigate(ts.url+"/portal/audit"), chromedp.WaitVisible(chromedp.CSS("table.audit")))
	page := portalText(t, ctx, "table.audit")
	for _, want := range []string{
		"the platform (crm)", "renamed the account", "set the scopes the account may give its tokens", "made by the CRM",
		"the platform (cli)", "renewed the account",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the audit page does not show %q:\n%s", want, page)
		}
	}
}
