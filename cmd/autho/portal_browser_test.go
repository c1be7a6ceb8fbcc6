package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/testskip"
)

var portalScreenshot = flag.Bool("portal-screenshot", false,
	"write docs/portal-tokens.png, the README's picture of the Token Management page, from TestPortal_Browser")

// portalBrowser starts a headless Chromium for one test, from
// AUTHO_TEST_CHROMIUM, with a fresh profile and nothing that reaches the
// network on its own. Without the variable the test is skipped, except on
// CI, where a missing browser is a broken setup and fails.
func portalBrowser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("AUTHO_TEST_CHROMIUM")
	if path == "" {
		testskip.Skip(t, testskip.Chromium, "AUTHO_TEST_CHROMIUM not set: set it to a Chromium binary (e.g. /usr/bin/chromium) to run the portal's browser tests")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	return ctx
}

// portalDo runs browser steps and fails the test, naming the step, if one
// fails.
func portalDo(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %s: %v", step, err)
	}
}

func portalText(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("browser: read %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// portalUser is an account's person with a password the test knows.
type portalUser struct{ id, email, password string }

// portalAccount is an account made through the CLI, as an operator would,
// with an admin and a member.
type portalAccount struct {
	id, partnerToken string
	admin, member    portalUser
}

func portalSetup(t *testing.T, ts *testServer) portalAccount {
	t.Helper()
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "Acme Robotics")
	pa := portalAccount{id: acc["id"].(string), partnerToken: acc["partner_token"].(string)}
	pa.admin = portalCLIUser(t, ts, pa.id, "dev@acme.example", "admin", "admin pass phrase one")
	pa.member = portalCLIUser(t, ts, pa.id, "ops@acme.example", "member", "member pass phrase two")
	return pa
}

// portalCLIUser runs "autho user create --password-stdin".
func portalCLIUser(t *testing.T, ts *testServer, accountID, email, role, pw string) portalUser {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--db", ts.db, "user", "create", "--account", accountID, "--email", email,
		"--role", role, "--password-stdin", "--json"}, strings.NewReader(pw+"\n"), &out, &errb, ts.getenv)
	if code != 0 {
		t.Fatalf("user create: exit %d: %s", code, errb.String())
	}
	var u map[string]any
	if err := json.Unmarshal(out.Bytes(), &u); err != nil {
		t.Fatal(err)
	}
	leaks.add(pw)
	return portalUser{id: u["id"].(string), email: email, password: pw}
}

// portalSignIn opens the portal and signs in by typing, as a person does.
func portalSignIn(t *testing.T, ctx context.Context, ts *testServer, u portalUser) {
	t.Helper()
	portalDo(t, ctx, "open the portal", chromedp.Navigate(ts.url+"/portal/"), chromedp.WaitVisible(chromedp.CSS("#email")))
	portalDo(t, ctx, "sign in as "+u.email,
		chromedp.SendKeys(chromedp.CSS("#email"), u.email),
		chromedp.SendKeys(chromedp.CSS("#password"), u.password),
		chromedp.Click(chromedp.CSS(`form[action="/portal/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#list-heading")),
	)
}

// portalCreateToken fills in and sends the create form and returns the
// token the next page shows.
func portalCreateToken(t *testing.T, ctx context.Context, name, days string) string {
	t.Helper()
	portalDo(t, ctx, "create token "+name,
		chromedp.SendKeys(chromedp.CSS("#token-name"), name),
		chromedp.Click(chromedp.CSS(`input[name="expiry"][value="`+days+`"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/portal/tokens"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#new-token")),
	)
	token := portalText(t, ctx, "#new-token")
	leaks.add(token)
	return token
}

// portalSessionCookie is the browser's session cookie (HttpOnly, so only
// the DevTools protocol can read it).
func portalSessionCookie(t *testing.T, ctx context.Context, ts *testServer) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{ts.url + "/portal/"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == "autho_session" {
			leaks.add(c.Value)
			return c
		}
	}
	return nil
}

// AC 1: a person signs in, creates a token, reads it off the page, the
// token logs in, the person revokes it, it stops logging in, the person
// signs out, and the old session cookie opens nothing any more.
func TestPortal_Browser(t *testing.T) {
	ctx := portalBrowser(t)
	ts := startServer(t, nil)
	pa := portalSetup(t, ts)

	portalSignIn(t, ctx, ts, pa.admin)
	c := portalSessionCookie(t, ctx, ts)
	if c == nil || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" || !c.Session {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, a browser-session cookie", c)
	}

	token := portalCreateToken(t, ctx, "ci-deploy", "30")
	if err := secret.Check(secret.APIToken, token); err != nil {
		t.Fatalf("the page shows %q: %v", token, err)
	}
	warning := portalText(t, ctx, "#secret-warning")
	if !strings.Contains(warning, "You will not see it again") {
		t.Fatalf("warning %q", warning)
	}
	// The copy button exists only with script, and says what it did.
	portalDo(t, ctx, "copy the token",
		chromedp.Click(chromedp.CSS(`button[data-copy="new-token"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-copy-status="new-token"]').textContent.length > 0`),
	)

	wantSuccess(t, ts.login(token, pa.partnerToken))

	cred, err := ts.store().APICredential(context.Background(), secret.Hash(token))
	if err != nil {
		t.Fatal(err)
	}
	id := cred.Token.ID
	portalDo(t, ctx, "back to the list",
		chromedp.Click(chromedp.CSS(`main a.button[href="/portal/tokens"]`)),
		chromedp.WaitVisible(chromedp.CSS("#list-heading")),
	)
	if got := portalText(t, ctx, "#"+id+" .badge"); got != "Active" {
		t.Fatalf("status %q, want Active", got)
	}
	portalDo(t, ctx, "ask to revoke",
		chromedp.Click(chromedp.CSS(`a[href="/portal/tokens/`+id+`/revoke"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/portal/tokens/`+id+`/revoke"] button`)),
	)
	wantSuccess(t, ts.login(token, pa.partnerToken)) // not yet: only a confirmation was shown
	portalDo(t, ctx, "confirm the revocation",
		chromedp.Click(chromedp.CSS(`form[action="/portal/tokens/`+id+`/revoke"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if got := portalText(t, ctx, "#"+id+" .badge"); got != "Revoked" {
		t.Fatalf("status %q after revoking, want Revoked", got)
	}
	wantError(t, ts.login(token, pa.partnerToken), http.StatusUnauthorized, "04")

	old := portalSessionCookie(t, ctx, ts).Value
	portalDo(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS(`form[action="/portal/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	)
	if got := portalText(t, ctx, ".notice"); got != "You have signed out." {
		t.Fatalf("notice %q", got)
	}
	if portalSessionCookie(t, ctx, ts) != nil {
		t.Fatal("the browser kept its session cookie")
	}

	// The old cookie, put back into the browser, opens nothing…
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: "autho_session", Value: old, URL: ts.url + "/", Path: "/", HTTPOnly: new(true),
	}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/portal/tokens", "/portal/account", "/portal/users", "/portal/audit", "/portal/password"} {
		portalDo(t, ctx, "open "+path+" with the old cookie", chromedp.Navigate(ts.url+path), chromedp.WaitVisible(chromedp.CSS("#email")))
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, ts.url+"/portal/login") {
			t.Fatalf("%s with the old cookie ended at %s", path, loc)
		}
	}
	// …and neither does a copy of it sent by anyone else.
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/portal/", "/portal/tokens", "/portal/account", "/portal/users", "/portal/audit", "/portal/password", "/portal/tokens/" + id + "/revoke"} {
		req, _ := http.NewRequest("GET", ts.url+path, nil)
		req.Header.Set("Cookie", "autho_session="+old)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/portal/login") {
			t.Fatalf("GET %s with the old cookie: %d %s, want a redirect to sign in", path, res.StatusCode, res.Header.Get("Location"))
		}
	}

	if *portalScreenshot {
		portalTakeScreenshot(t, ctx, ts, pa)
	}
}

// Every action works without JavaScript.
func TestPortal_BrowserWithoutJavaScript(t *testing.T) {
	ctx := portalBrowser(t)
	ts := startServer(t, nil)
	pa := portalSetup(t, ts)
	portalDo(t, ctx, "start the tab", chromedp.Navigate("about:blank"))
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	portalSignIn(t, ctx, ts, pa.member)
	token := portalCreateToken(t, ctx, "no-script", "7")
	wantSuccess(t, ts.login(token, pa.partnerToken))
	// What a person sees, not the DOM's hidden property: a stylesheet's
	// display rule once showed the button though it was hidden.
	if v := portalLook(t, ctx); v.Copy != 0 {
		t.Fatal("without script the copy button is shown, though it cannot work")
	}
	portalDo(t, ctx, "revoke without script",
		chromedp.Navigate(ts.url+"/portal/tokens"),
		chromedp.Click(chromedp.CSS(`td.actions a`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/revoke"] button`)),
		chromedp.Click(chromedp.CSS(`form[action$="/revoke"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	wantError(t, ts.login(token, pa.partnerToken), http.StatusUnauthorized, "04")
	portalDo(t, ctx, "change the password without script",
		chromedp.Navigate(ts.url+"/portal/password"),
		chromedp.SendKeys(chromedp.CSS("#current"), pa.member.password),
		chromedp.SendKeys(chromedp.CSS("#new"), "a brand new member phrase"),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "a brand new member phrase"),
		chromedp.Click(chromedp.CSS(`form[action="/portal/password"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	portalDo(t, ctx, "sign out without script",
		chromedp.Click(chromedp.CSS(`form[action="/portal/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	)
}

// portalA11yCheck is run in the page: the accessibility basics an
// automated check can see, and whether the page fits the window without
// scrolling sideways. It returns one line per problem.
const portalA11yCheck = `(() => {
  const problems = [];
  const short = el => el.outerHTML.replace(/\s+/g, " ").slice(0, 140);
  const textOf = el => (el.textContent || "").replace(/\s+/g, " ").trim();
  const byIds = ids => (ids || "").split(/\s+/).filter(Boolean).map(id => document.getElementById(id));
  const nameOf = el => {
    const aria = (el.getAttribute("aria-label") || "").trim();
    if (aria) return aria;
    const refs = byIds(el.getAttribute("aria-labelledby"));
    if (refs.length && refs.every(Boolean)) return refs.map(textOf).join(" ");
    const imgs = Array.from(el.querySelectorAll("img[alt]")).map(i => i.alt).join(" ");
    return (textOf(el) + " " + imgs).trim() || (el.getAttribute("title") || "").trim();
  };
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const labels = el.labels ? Array.from(el.labels).filter(l => textOf(l)) : [];
    if (!labels.length && !(el.getAttribute("aria-label") || "").trim() && !el.getAttribute("aria-labelledby"))
      problems.push("a field without a label: " + short(el));
  }
  for (const el of document.querySelectorAll("button, a[href], [role=button]")) {
    if (!nameOf(el)) problems.push("a button or link without a name: " + short(el));
  }
  for (const el of document.querySelectorAll("img")) {
    if (!el.hasAttribute("alt")) problems.push("an image without alt: " + short(el));
  }
  for (const el of document.querySelectorAll("[aria-describedby], [aria-labelledby]")) {
    for (const attr of ["aria-describedby", "aria-labelledby"]) {
      for (const id of (el.getAttribute(attr) || "").split(/\s+/).filter(Boolean))
        if (!document.getElementById(id)) problems.push(attr + " names a missing #" + id);
    }
  }
  const seen = new Set();
  for (const el of document.querySelectorAll("[id]")) {
    if (seen.has(el.id)) problems.push("a repeated id: " + el.id);
    seen.add(el.id);
  }
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  if (!document.title.trim()) problems.push("no title");
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  if (!document.querySelector("main")) problems.push("no main landmark");
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) {
    const wide = Array.from(document.querySelectorAll("body *")).find(el => el.getBoundingClientRect().right > width + 1);
    problems.push("the page scrolls sideways: " + document.documentElement.scrollWidth + "px in a " + width + "px window" +
      (wide ? ", e.g. " + short(wide) : ""));
  }
  for (const el of document.querySelectorAll("button, a.button, input[type=radio], input[type=text], input[type=email], input[type=password], input[type=date]")) {
    // A field's label is part of what can be tapped.
    const boxes = [el, ...(el.labels ? Array.from(el.labels) : [])].map(x => x.getBoundingClientRect());
    const tall = Math.max(...boxes.map(r => r.height));
    if (boxes[0].width > 0 && tall < 20) problems.push("a control smaller than 20px to tap: " + short(el));
  }
  return problems;
})()`

// portalCheckPage fails the test for each accessibility problem of the
// page the browser shows.
func portalCheckPage(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](portalA11yCheck))
	if err != nil {
		t.Fatalf("%s: accessibility check: %v", what, err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", what, p)
	}
}

// AC 6: on a 375-px-wide phone screen, and on a desktop, every page passes
// the accessibility basics and fits the screen.
func TestPortal_BrowserAccessibility(t *testing.T) {
	ctx := portalBrowser(t)
	ts := startServer(t, nil)
	pa := portalSetup(t, ts)
	ts.newToken(pa.member.email, "--name", "ops-token", "--scope", "orders:read") // someone else's, for the admin's list
	// Scopes to choose, so that the form's checkboxes are checked too.
	ts.mustCLI(nil, "account", "set-scopes", pa.id, "orders:read", "orders:write")
	t.Run("the check finds problems", func(t *testing.T) {
		// A check that passes everything proves nothing: here is a page
		// with one of each problem.
		const bad = `<!doctype html><html><head><title>x</title></head><body><main><h1>x</h1>` +
			`<input type="text" name="q"><button type="submit"></button><a href="/x"></a><img src="data:,">` +
			`<p aria-describedby="nowhere">x</p><div style="width:2000px">wide</div></main></body></html>`
		portalDo(t, ctx, "open a bad page", chromedp.EmulateViewport(375, 812), chromedp.Navigate("data:text/html,"+url.PathEscape(bad)))
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](portalA11yCheck))
		if err != nil {
			t.Fatal(err)
		}
		all := strings.Join(problems, "\n")
		for _, want := range []string{"a field without a label", "a button or link without a name: <button", "a button or link without a name: <a",
			"an image without alt", "names a missing #nowhere", "no lang", "scrolls sideways"} {
			if !strings.Contains(all, want) {
				t.Errorf("the check missed %q; it found:\n%s", want, all)
			}
		}
	})
	for _, width := range []int64{375, 1280} {
		t.Run(map[int64]string{375: "phone", 1280: "desktop"}[width], func(t *testing.T) {
			mobile := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
			if width == 375 {
				mobile = append(mobile, chromedp.EmulateMobile, chromedp.EmulateScale(2))
			}
			portalDo(t, ctx, "resize", chromedp.EmulateViewport(width, 812, mobile...))
			portalDo(t, ctx, "open the sign-in page", chromedp.Navigate(ts.url+"/portal/login"), chromedp.WaitVisible(chromedp.CSS("#email")))
			portalCheckPage(t, ctx, "sign-in page")
			portalDo(t, ctx, "a wrong password",
				chromedp.SendKeys(chromedp.CSS("#email"), pa.admin.email),
				chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
				chromedp.Click(chromedp.CSS(`form[action="/portal/login"] button`)),
				chromedp.WaitVisible(chromedp.CSS("#login-error")),
			)
			portalCheckPage(t, ctx, "sign-in page with an error")
			portalDo(t, ctx, "clear the fields", chromedp.Clear(chromedp.CSS("#email")))
			portalSignIn(t, ctx, ts, pa.admin)
			portalCheckPage(t, ctx, "tokens page")

			portalDo(t, ctx, "a mistake in the form",
				chromedp.SendKeys(chromedp.CSS("#token-name"), "x"),
				chromedp.Click(chromedp.CSS("#expiry-date")),
				chromedp.Click(chromedp.CSS(`form[action="/portal/tokens"] button[type="submit"]`)),
				chromedp.WaitVisible(chromedp.CSS("#expiry-error")),
			)
			portalCheckPage(t, ctx, "tokens page with an error")
			portalDo(t, ctx, "clear the name", chromedp.Clear(chromedp.CSS("#token-name")))
			portalCreateToken(t, ctx, "phone-check-"+map[int64]string{375: "a", 1280: "b"}[width], "7")
			portalCheckPage(t, ctx, "new token page")
			portalDo(t, ctx, "send the form again", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#again-heading")))
			portalCheckPage(t, ctx, "the form sent again")

			portalDo(t, ctx, "open a revoke confirmation",
				chromedp.Navigate(ts.url+"/portal/tokens"),
				chromedp.Click(chromedp.CSS(`td.actions a`)),
				chromedp.WaitVisible(chromedp.CSS(`form[action$="/revoke"]`)),
			)
			portalCheckPage(t, ctx, "revoke confirmation")

			for _, pg := range []struct{ path, ready, what string }{
				{"/portal/account", "#account-heading", "account page"},
				{"/portal/password", "#current", "password page"},
				{"/portal/users", "#user-email", "users page"},
				{"/portal/users/" + pa.member.id + "/password", `form[action$="/password"] button`, "password reset confirmation"},
				{"/portal/audit", "table.audit", "audit log"},
				{"/portal/no-such-page", "main h1", "not-found page"},
			} {
				portalDo(t, ctx, "open "+pg.what, chromedp.Navigate(ts.url+pg.path), chromedp.WaitVisible(chromedp.CSS(pg.ready)))
				portalCheckPage(t, ctx, pg.what)
			}

			email := "new-" + map[int64]string{375: "a", 1280: "b"}[width] + "@acme.example"
			portalDo(t, ctx, "add a user",
				chromedp.Navigate(ts.url+"/portal/users"),
				chromedp.SendKeys(chromedp.CSS("#user-email"), email),
				chromedp.Click(chromedp.CSS(`input[name="role"][value="member"]`)),
				chromedp.Click(chromedp.CSS(`form[action="/portal/users"] button`)),
				chromedp.WaitVisible(chromedp.CSS("#new-password")),
			)
			portalCheckPage(t, ctx, "new user page")
			portalDo(t, ctx, "sign out",
				chromedp.Navigate(ts.url+"/portal/tokens"),
				chromedp.Click(chromedp.CSS(`form[action="/portal/logout"] button`)),
				chromedp.WaitVisible(chromedp.CSS("#email")),
			)
		})
	}
}

// portalTakeScreenshot writes the README's picture of the Token Management
// page: an admin's view with tokens in every state.
func portalTakeScreenshot(t *testing.T, ctx context.Context, ts *testServer, pa portalAccount) {
	t.Helper()
	used := ts.newToken(pa.admin.email, "--name", "billing-sync (prod)", "--expires-in", "90d")
	wantSuccess(t, ts.login(used.APIToken, pa.partnerToken))
	expired := ts.newToken(pa.member.email, "--name", "nightly-export")
	ts.expireToken(expired.TokenID)
	ts.newToken(pa.member.email, "--name", "analytics dashboard", "--expires-in", "60d")
	time.Sleep(2 * time.Second) // last-used times are written in batches
	portalSignIn(t, ctx, ts, pa.admin)
	portalDo(t, ctx, "desktop size", chromedp.EmulateViewport(1200, 900))
	portalDo(t, ctx, "open the tokens", chromedp.Navigate(ts.url+"/portal/tokens"), chromedp.WaitVisible(chromedp.CSS("#list-heading")))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join("..", "..", "docs", "portal-tokens.png")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", out, len(png))
}
