package main

import (
	"context"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/autho/autho/internal/secret"
)

// The operator allows an account two scopes at the CLI; a member of it
// ticks one in the portal's form, in a real browser without script, and
// the token made carries it: in the list, in the store, and in the scope
// claim of the JWT it logs in for.
func TestPortal_BrowserScopes(t *testing.T) {
	ctx := portalBrowser(t)
	ts := startServer(t, nil)
	pa := portalSetup(t, ts)
	ts.mustCLI(nil, "account", "set-scopes", pa.id, "orders:read", "orders:write")

	portalDo(t, ctx, "start the tab", chromedp.Navigate("about:blank"))
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	portalSignIn(t, ctx, ts, pa.member)
	portalDo(t, ctx, "create a token with one scope ticked",
		chromedp.SendKeys(chromedp.CSS("#token-name"), "order sync"),
		chromedp.Click(chromedp.CSS(`input[name="expiry"][value="7"]`)),
		chromedp.Click(chromedp.CSS(`input[name="scope"][value="orders:write"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/portal/tokens"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-token")),
	)
	token := portalText(t, ctx, "#new-token")
	leaks.add(token)
	if err := secret.Check(secret.APIToken, token); err != nil {
		t.Fatalf("the page shows %q: %v", token, err)
	}
	cred, err := ts.store().APICredential(context.Background(), secret.Hash(token))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cred.Token.Scopes, []string{"orders:write"}) {
		t.Fatalf("stored scopes %q, want [orders:write]", cred.Token.Scopes)
	}

	portalDo(t, ctx, "back to the list",
		chromedp.Navigate(ts.url+"/portal/tokens"),
		chromedp.WaitVisible(chromedp.CSS("#"+cred.Token.ID)),
	)
	if got := portalText(t, ctx, "#"+cred.Token.ID+" .scope"); got != "orders:write" {
		t.Fatalf("the list shows the token's scopes as %q, want orders:write", got)
	}

	jwt := wantSuccess(t, ts.login(token, pa.partnerToken))
	if got := jwtClaims(t, jwt)["scope"]; got != "orders:write" {
		t.Fatalf("the JWT's scope claim = %#v, want \"orders:write\"", got)
	}
}
