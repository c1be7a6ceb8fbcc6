package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/autho/autho"
)

// portalSeen is run in the page: what a person sees of it, read from the
// layout (computed style, boxes), never from the DOM's hidden property. An
// element is seen when it takes up more than a pixel on the screen and
// nothing hides it.
const portalSeen = `(() => {
  const seen = el => {
    if (!el) return false;
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === "none" || s.visibility === "hidden" || s.opacity === "0") return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  };
  const all = css => Array.from(document.querySelectorAll(css));
  const text = el => (el ? el.innerText : "").replace(/\s+/g, " ").trim();
  // A table cell's label is seen either as the column header (wide
  // screens) or as the cell's ::before text (the cards of narrow ones).
  const labelled = (cell, label) => {
    const head = all("thead th").find(th => text(th) === label);
    return (seen(head) && head.getBoundingClientRect().width > 1) ||
      getComputedStyle(cell, "::before").content.includes(label);
  };
  const q = css => document.querySelector(css);
  return {
    url: location.pathname,
    main: text(q("main")),
    banners: all(".banner").filter(seen).map(text),
    who: text(q(".who-email")),
    whoTitle: q(".who-email") ? q(".who-email").title : "",
    fields: all("main input:not([type=hidden]), main textarea").filter(seen).map(el => el.name || el.id),
    copy: all("button[data-copy]").filter(seen).length,
    expiries: all('input[name="expiry"]').filter(seen).map(el => el.value),
    expiryChecked: (all('input[name="expiry"]').find(el => el.checked) || {}).value || "",
    expiryHint: text(q("#expiry-hint")),
    maxDate: q("#expiry-on") ? q("#expiry-on").max : "",
    secret: text(q("#new-token")),
    auditWhoLabelled: all("table.audit tbody th.name").length > 0 &&
      all("table.audit tbody th.name").every(th => seen(th) && labelled(th, "Who")),
    // Each token row's notices: seen, inside the screen's width (no
    // sideways scrolling to find them), and in a legible size.
    notices: all("td.notices").map(td => ({
      row: text(td.closest("tr").querySelector("th.name")),
      labelled: labelled(td, "Notice"),
      badges: Array.from(td.querySelectorAll(".notice")).filter(seen).map(el => {
        const r = el.getBoundingClientRect();
        return {text: text(el), inView: r.left >= 0 && r.right <= document.documentElement.clientWidth,
          px: parseFloat(getComputedStyle(el).fontSize)};
      }),
    })),
    countdown: seen(q("#account-expiry")) ? text(q("#account-expiry")) : "",
  };
})()`

// portalView is portalSeen's answer.
type portalView struct {
	URL              string   `json:"url"`
	Main             string   `json:"main"`
	Banners          []string `json:"banners"`
	Who              string   `json:"who"`
	WhoTitle         string   `json:"whoTitle"`
	Fields           []string `json:"fields"`
	Copy             int      `json:"copy"`
	Expiries         []string `json:"expiries"`
	ExpiryChecked    string   `json:"expiryChecked"`
	ExpiryHint       string   `json:"expiryHint"`
	MaxDate          string   `json:"maxDate"`
	Secret           string   `json:"secret"`
	AuditWhoLabelled bool     `json:"auditWhoLabelled"`
	Notices          []struct {
		Row      string `json:"row"`
		Labelled bool   `json:"labelled"`
		Badges   []struct {
			Text   string  `json:"text"`
			InView bool    `json:"inView"`
			Px     float64 `json:"px"`
		} `json:"badges"`
	} `json:"notices"`
	Countdown string `json:"countdown"`
}

func portalLook(t *testing.T, ctx context.Context) portalView {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[portalView](portalSeen))
	if err != nil {
		t.Fatalf("browser: look at the page: %v", err)
	}
	return v
}

// Item 7 of issue 14: what a person sees of the portal, on a desktop and
// on a phone, with and without JavaScript.
func TestPortal_BrowserWhatIsVisible(t *testing.T) {
	const contact = "partners@platform.example"
	ts := startServer(t, map[string]string{"AUTHO_PORTAL_CONTACT": contact, "AUTHO_TIMEZONE": "UTC"})
	pa := portalSetup(t, ts)
	// The account expires in ten days: fewer than the 30, 60 and 90 days
	// the form offers, and far fewer than the 365 days the operator allows.
	accountEnd := time.Now().Add(10*24*time.Hour + time.Hour).UTC().Truncate(time.Minute)
	ts.mustCLI(nil, "account", "renew", pa.id, "--expires", accountEnd.Format(time.RFC3339))
	// A suspended account whose person has no tokens.
	var sus map[string]any
	ts.mustCLI(&sus, "account", "create", "--name", "Shut Ltd")
	closed := portalCLIUser(t, ts, sus["id"].(string), "who@shut.example", "member", "shut pass phrase three")
	ts.mustCLI(nil, "account", "suspend", sus["id"].(string))

	for _, js := range []bool{true, false} {
		for _, width := range []int64{1280, 375} {
			t.Run(fmt.Sprintf("%dpx, script %v", width, js), func(t *testing.T) {
				ctx := portalBrowser(t)
				mobile := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
				if width == 375 {
					mobile = append(mobile, chromedp.EmulateMobile, chromedp.EmulateScale(2))
				}
				portalDo(t, ctx, "start the tab", chromedp.Navigate("about:blank"), chromedp.EmulateViewport(width, 812, mobile...))
				if !js {
					if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
						t.Fatal(err)
					}
				}
				portalSignIn(t, ctx, ts, pa.admin)

				// The banner names the contact once; the form offers
				// nothing that outlives the account, and says so.
				v := portalLook(t, ctx)
				if len(v.Banners) != 1 || strings.Count(v.Banners[0], contact) != 1 {
					t.Errorf("banners %q: want one, naming %s once", v.Banners, contact)
				}
				if strings.Join(v.Expiries, ",") != "7,date" || v.ExpiryChecked != "7" {
					t.Errorf("expiry choices %v (checked %q), want 7 days (checked) or a date", v.Expiries, v.ExpiryChecked)
				}
				wantHint := "At most until the account expires, on " + accountEnd.Format("2 Jan 2006, 15:04 MST") + "."
				if !strings.Contains(strings.ReplaceAll(v.ExpiryHint, "\u00a0", " "), wantHint) || strings.Contains(v.ExpiryHint, "365") {
					t.Errorf("expiry hint %q, want %q", v.ExpiryHint, wantHint)
				}
				if last := accountEnd.AddDate(0, 0, -1).Format(time.DateOnly); v.MaxDate != last {
					t.Errorf("the date picker goes up to %s, want %s", v.MaxDate, last)
				}

				// The new token: the Copy button only where it works, the
				// curl line explained, and a reload makes nothing.
				name := fmt.Sprintf("seen-%d-%v", width, js)
				token := portalCreateToken(t, ctx, name, "7")
				v = portalLook(t, ctx)
				if want := map[bool]int{true: 1, false: 0}[js]; v.Copy != want {
					t.Errorf("%d Copy buttons seen, want %d", v.Copy, want)
				}
				for _, want := range []string{"AUTHO_API_TOKEN is the token above", "AUTHO_PARTNER_TOKEN is your account's partner token"} {
					if !strings.Contains(v.Main, want) {
						t.Errorf("the new token's page lacks %q:\n%s", want, v.Main)
					}
				}
				count := func() int {
					ts, err := ts.store().APITokens(context.Background(), autho.TokenFilter{UserID: pa.admin.id})
					if err != nil {
						t.Fatal(err)
					}
					n := 0
					for _, tk := range ts {
						if tk.Name == name {
							n++
						}
					}
					return n
				}
				if n := count(); n != 1 {
					t.Fatalf("%d tokens named %s after creating one", n, name)
				}
				portalDo(t, ctx, "reload the new token's page", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h1")))
				v = portalLook(t, ctx)
				if n := count(); n != 1 {
					t.Errorf("%d tokens named %s after a reload, want 1", n, name)
				}
				if strings.Contains(v.Main, token) || v.Secret != "" {
					t.Errorf("the reload shows the secret again:\n%s", v.Main)
				}

				// The list shows the new token's notice, "expires in 7
				// days", where it can be read at this width. The days are
				// counted at the moment of looking: either side of a
				// midnight passed meanwhile is right.
				var expires time.Time
				mine, err := ts.store().APITokens(context.Background(), autho.TokenFilter{UserID: pa.admin.id})
				if err != nil {
					t.Fatal(err)
				}
				for _, tk := range mine {
					if tk.Name == name {
						expires = tk.ExpiresAt
					}
				}
				before := time.Now()
				portalDo(t, ctx, "open the token list", chromedp.Navigate(ts.url+"/portal/tokens"), chromedp.WaitVisible(chromedp.CSS("table.tokens")))
				v = portalLook(t, ctx)
				after := time.Now()
				wantDays := func(format string, end time.Time) []string {
					return []string{
						fmt.Sprintf(format, autho.CalendarDays(before, end, time.UTC)),
						fmt.Sprintf(format, autho.CalendarDays(after, end, time.UTC)),
					}
				}
				found := false
				for _, n := range v.Notices {
					if n.Row != name {
						continue
					}
					found = true
					if !n.Labelled {
						t.Errorf("the notice of %s is not labelled Notice", name)
					}
					if len(n.Badges) != 1 || !slices.Contains(wantDays("expires in %d days", expires), n.Badges[0].Text) {
						t.Errorf("%s shows the notices %+v, want one saying %q", name, n.Badges, wantDays("expires in %d days", expires)[0])
						continue
					}
					if b := n.Badges[0]; !b.InView || b.Px < 12 {
						t.Errorf("the notice %q is off the screen's width (%v) or too small (%.1f px)", b.Text, !b.InView, b.Px)
					}
				}
				if !found {
					t.Errorf("no row for %s in %+v", name, v.Notices)
				}

				// The account page counts down to the expiry.
				portalDo(t, ctx, "open the account page", chromedp.Navigate(ts.url+"/portal/account"), chromedp.WaitVisible(chromedp.CSS("#account-heading")))
				before = time.Now()
				v = portalLook(t, ctx)
				after = time.Now()
				want := wantDays("expires in %d days (on "+accountEnd.Format("2 Jan 2006, 15:04 MST")+")", accountEnd)
				if got := strings.ReplaceAll(v.Countdown, "\u00a0", " "); !slices.Contains(want, got) {
					t.Errorf("the account page says %q, want %q", got, want[0])
				}

				// Change password: three password fields and nothing else.
				portalDo(t, ctx, "open Change password", chromedp.Navigate(ts.url+"/portal/password"), chromedp.WaitVisible(chromedp.CSS("#current")))
				if v := portalLook(t, ctx); strings.Join(v.Fields, ",") != "current,new,confirm" {
					t.Errorf("Change password shows the fields %v, want current,new,confirm", v.Fields)
				}

				// The reset pages name the admin as signed in.
				portalDo(t, ctx, "open a password reset", chromedp.Navigate(ts.url+"/portal/users/"+pa.member.id+"/password"),
					chromedp.WaitVisible(chromedp.CSS(`form[action$="/password"] button`)))
				if v := portalLook(t, ctx); v.Who != pa.admin.email || v.WhoTitle != "Signed in as "+pa.admin.email {
					t.Errorf("the reset page shows %q (%q) as signed in, want %s", v.Who, v.WhoTitle, pa.admin.email)
				}

				// Every audit entry says who, at every width.
				portalDo(t, ctx, "open the audit log", chromedp.Navigate(ts.url+"/portal/audit"), chromedp.WaitVisible(chromedp.CSS("table.audit")))
				if v := portalLook(t, ctx); !v.AuditWhoLabelled {
					t.Errorf("the audit entries do not label who did it")
				}

				// A suspended account is not told to create a token.
				portalDo(t, ctx, "sign out",
					chromedp.Click(chromedp.CSS(`form[action="/portal/logout"] button`)),
					chromedp.WaitVisible(chromedp.CSS("#email")))
				portalSignIn(t, ctx, ts, closed)
				v = portalLook(t, ctx)
				if strings.Contains(v.Main, "Create one above") {
					t.Errorf("a suspended account is told to create a token:\n%s", v.Main)
				}
				if strings.Count(strings.Join(v.Banners, "\n"), contact) != 1 {
					t.Errorf("banners %q: want %s named once", v.Banners, contact)
				}
			})
		}
	}
}
