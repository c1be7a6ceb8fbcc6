package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/portal"
	"github.com/autho/autho/internal/secret"
)

var shownToken = regexp.MustCompile(`<code id="new-token"[^>]*>(autho_api_[0-9A-Za-z]{36})</code>`)

// createToken creates a token through the form and returns the page and
// the token it shows.
func (b *browser) createToken(form url.Values) (*page, string) {
	b.e.t.Helper()
	p := b.post("/portal/tokens", form)
	m := shownToken.FindStringSubmatch(p.body)
	if m == nil {
		return p, ""
	}
	return p, m[1]
}

func TestTokens_Create(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ann := e.browser("192.0.2.1")
	ann.mustLogin(e.ann)
	tests := []struct {
		name   string
		form   url.Values
		expiry time.Time
	}{
		{"7 days", url.Values{"name": {"seven"}, "expiry": {"7"}}, start.Add(7 * 24 * time.Hour)},
		{"90 days", url.Values{"name": {"ninety"}, "expiry": {"90"}}, start.Add(90 * 24 * time.Hour)},
		{"a date", url.Values{"name": {"dated"}, "expiry": {"date"}, "date": {"2026-12-31"}}, time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"the last date offered", url.Values{"name": {"edge"}, "expiry": {"date"}, "date": {"2027-03-01"}}, time.Date(2027, 3, 1, 23, 59, 59, 0, time.UTC)},
		{"the day after", url.Values{"name": {"edge"}, "expiry": {"date"}, "date": {"2027-03-02"}}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.expiry.IsZero() {
				// The end of that day is past the cap by 15 h: refused.
				p, plain := ann.createToken(tt.form)
				wantPage(t, p, http.StatusBadRequest, "Expiry must be at most 365 days from now.")
				if plain != "" {
					t.Fatal("a token was shown with an error")
				}
				return
			}
			p, plain := ann.createToken(tt.form)
			wantPage(t, p, http.StatusOK, "You will not see it again", `data-copy="new-token"`)
			if p.header.Get("Cache-Control") != "no-store" {
				t.Fatal("the page with the secret may be cached")
			}
			if err := secret.Check(secret.APIToken, plain); err != nil {
				t.Fatalf("shown token %q: %v", plain, err)
			}
			cred, err := e.store.APICredential(context.Background(), secret.Hash(plain))
			if err != nil {
				t.Fatal(err)
			}
			if cred.Token.UserID != e.ann.ID || cred.Token.Name != tt.form.Get("name") || !cred.Token.ExpiresAt.Equal(tt.expiry) {
				t.Fatalf("stored token %+v", cred.Token)
			}
			list := ann.get("/portal/tokens")
			wantPage(t, list, http.StatusOK, tt.form.Get("name"), cred.Token.Hint)
			if strings.Contains(list.body, plain) {
				t.Fatal("the token is shown again in the list")
			}
		})
	}
}

func TestTokens_ListMarksStates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	live := e.mustToken(e.ann, "live-one")
	revoked := e.mustToken(e.ann, "revoked-one")
	expired := e.mustToken(e.ann, "expired-one")
	ctx := context.Background()
	if _, err := e.admin.Revoke(ctx, autho.OperatorCLI, revoked.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateAPIToken(ctx, expired.ID, func(tk *autho.APIToken) error { tk.ExpiresAt = start.Add(time.Hour); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := e.store.RecordTokenUse(ctx, []autho.TokenUse{{TokenID: live.ID, At: start.Add(time.Minute), IP: "198.51.100.23"}}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Hour)
	ann := e.browser("192.0.2.1")
	ann.mustLogin(e.ann)
	p := ann.get("/portal/tokens")
	for _, tc := range []struct{ id, class, badge string }{
		{live.ID, "row-active", ">Active<"},
		{revoked.ID, "row-revoked", ">Revoked<"},
		{expired.ID, "row-expired", ">Expired<"},
	} {
		i := strings.Index(p.body, `<tr class="`+tc.class+`" id="`+tc.id+`"`)
		if i < 0 {
			t.Fatalf("no %s row for %s", tc.class, tc.id)
		}
		row := p.body[i : i+strings.Index(p.body[i:], "</tr>")]
		if !strings.Contains(row, tc.badge) {
			t.Errorf("row %s lacks %s", tc.id, tc.badge)
		}
		if hasRevoke := strings.Contains(row, "/revoke"); hasRevoke != (tc.class == "row-active") {
			t.Errorf("row %s: revoke link %v", tc.id, hasRevoke)
		}
	}
	wantPage(t, p, http.StatusOK, "from&nbsp;198.51.100.23", "never")
}

func TestTokens_Revoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.mustToken(e.ann, "to-revoke")
	ann := e.browser("192.0.2.1")
	ann.mustLogin(e.ann)
	// The list links to a confirmation page; nothing is revoked by a GET.
	wantPage(t, ann.get("/portal/tokens"), http.StatusOK, `href="/portal/tokens/`+tk.ID+`/revoke"`)
	wantPage(t, ann.get("/portal/tokens/"+tk.ID+"/revoke"), http.StatusOK, "Revoke this token?", "cannot be undone", "Cancel")
	if got, _ := e.store.APIToken(context.Background(), tk.ID); got.Revoked() {
		t.Fatal("revoked by showing the confirmation")
	}
	p := ann.post("/portal/tokens/"+tk.ID+"/revoke", url.Values{})
	if p.status != http.StatusSeeOther || p.location() != "/portal/tokens?done=revoked" {
		t.Fatalf("revoke: %d %q", p.status, p.location())
	}
	got, _ := e.store.APIToken(context.Background(), tk.ID)
	if !got.RevokedAt.Equal(start) {
		t.Fatalf("RevokedAt %v", got.RevokedAt)
	}
	t.Run("again", func(t *testing.T) {
		e.clock.Add(time.Minute)
		wantPage(t, ann.get("/portal/tokens/"+tk.ID+"/revoke"), http.StatusOK, "This token is revoked")
		ann.post("/portal/tokens/"+tk.ID+"/revoke", url.Values{})
		again, _ := e.store.APIToken(context.Background(), tk.ID)
		if !again.RevokedAt.Equal(start) {
			t.Fatal("a second revocation moved the time")
		}
		n := 0
		for _, ev := range e.events() {
			if ev.Action == autho.AuditTokenRevoke {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d revocations in the audit log, want 1", n)
		}
	})
}

func TestTokens_Cap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *portal.Config) { c.MaxActiveTokens = 2 })
	ann := e.browser("192.0.2.1")
	ann.mustLogin(e.ann)
	first := e.mustToken(e.ann, "one")
	e.mustToken(e.ann, "two")
	e.mustToken(e.bob, "bob's") // another user's tokens do not count
	wantPage(t, ann.get("/portal/tokens"), http.StatusOK, "You have 2 active tokens, the most one person may hold.")
	before := e.tokens()
	p, plain := ann.createToken(url.Values{"name": {"three"}, "expiry": {"7"}})
	wantPage(t, p, http.StatusForbidden, "You have 2 active tokens, the most one person may hold.")
	if plain != "" || e.tokens() != before {
		t.Fatal("a token beyond the cap was made")
	}
	// Revoked and expired tokens do not count.
	if _, err := e.admin.Revoke(context.Background(), autho.OperatorCLI, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, plain := ann.createToken(url.Values{"name": {"three"}, "expiry": {"7"}}); plain == "" {
		t.Fatal("no token after revoking one")
	}
}

func TestTokens_AccountState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		arrange func(e *env)
		banner  string
		create  bool
	}{
		{"active", func(*env) {}, "", true},
		{"expiring soon", func(e *env) { e.clock.Add(340 * 24 * time.Hour) }, "This account expires on 2 March 2027 (in 25 days).", true},
		{"suspended", func(e *env) { e.admin.Suspend(context.Background(), autho.OperatorCLI, e.account.ID) }, "This account is suspended.", false},
		{"expired", func(e *env) { e.clock.Add(366 * 24 * time.Hour) }, "This account expired on 2 March 2027.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tk := e.mustToken(e.ann, "before")
			tt.arrange(e)
			ann := e.browser("192.0.2.1")
			ann.mustLogin(e.ann) // people can sign in whatever the account's state
			for _, path := range []string{"/portal/tokens", "/portal/account"} {
				p := ann.get(path)
				wantPage(t, p, http.StatusOK)
				if tt.banner != "" {
					wantPage(t, p, http.StatusOK, tt.banner, "partners@platform.example", `href="mailto:partners@platform.example"`)
				} else if strings.Contains(p.body, `class="banner`) {
					t.Fatalf("%s shows a banner for an active account", path)
				}
			}
			before := e.tokens()
			p, plain := ann.createToken(url.Values{"name": {"new"}, "expiry": {"7"}})
			if tt.create {
				if plain == "" {
					t.Fatalf("no token made:\n%s", text(p.body))
				}
				return
			}
			wantPage(t, p, http.StatusForbidden)
			if plain != "" || e.tokens() != before {
				t.Fatal("a token was made")
			}
			if strings.Contains(ann.get("/portal/tokens").body, `action="/portal/tokens"`) {
				t.Fatal("the create form is offered")
			}
			// Revoking stays possible.
			if p := ann.post("/portal/tokens/"+tk.ID+"/revoke", url.Values{}); p.status != http.StatusSeeOther {
				t.Fatalf("revoke: %d", p.status)
			}
		})
	}
}

func TestTokens_OptionsFollowTheCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.admin.MaxTokenTTL = 45 * 24 * time.Hour
	ann := e.browser("192.0.2.1")
	ann.mustLogin(e.ann)
	p := ann.get("/portal/tokens")
	wantPage(t, p, http.StatusOK, `value="7"`, `value="30" checked`, "At most 45 days from now", `max="2026-04-15"`)
	for _, hidden := range []string{`value="60"`, `value="90"`} {
		if strings.Contains(p.body, hidden) {
			t.Errorf("option %s beyond the cap is offered", hidden)
		}
	}
}

var formNonce = regexp.MustCompile(`name="nonce" value="([^"]+)"`)

// createForm opens the Token Management page and returns the create form
// as the page hands it out (its hidden fields), for the test to fill in.
func (b *browser) createForm() url.Values {
	b.e.t.Helper()
	p := b.get("/portal/tokens")
	wantPage(b.e.t.(*testing.T), p, http.StatusOK)
	form := url.Values{}
	if m := formNonce.FindStringSubmatch(p.body); m != nil {
		form.Set("nonce", m[1])
	}
	return form
}

// Reloading the new token's page sends the form again: that must neither
// make a second token nor show the first one's secret again.
func TestTokens_FormSentTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ann := e.browser("192.0.2.1")
	ann.mustLogin(e.ann)
	form := ann.createForm()
	form.Set("name", "ci")
	form.Set("expiry", "7")
	p, plain := ann.createToken(form)
	wantPage(t, p, http.StatusOK, "You will not see it again")
	if plain == "" {
		t.Fatal("no token shown")
	}
	before, events := e.tokens(), len(e.events())
	again, shown := ann.createToken(form)
	if e.tokens() != before {
		t.Fatalf("sending the form again made a second token:\n%s", e.tokens())
	}
	wantPage(t, again, http.StatusConflict, "was made when this form was first sent", secret.Hint(plain))
	if shown != "" || strings.Contains(again.body, plain) {
		t.Fatal("the secret is shown a second time")
	}
	if n := len(e.events()); n != events {
		t.Fatalf("%d audit events after sending twice, want %d", n, events)
	}
	// Another person sending the same form (a copied page) makes their own.
	bob := e.browser("192.0.2.2")
	bob.mustLogin(e.bob)
	if _, plain := bob.createToken(form); plain == "" {
		t.Fatal("bob's copy of the form made no token")
	}
	// A fresh form makes a new token.
	fresh := ann.createForm()
	fresh.Set("name", "ci-2")
	fresh.Set("expiry", "7")
	if _, plain := ann.createToken(fresh); plain == "" {
		t.Fatal("a fresh form made no token")
	}
}

// An account that expires before the portal's maximum caps the choices:
// nothing outlives the account, and the form says why.
func TestTokens_OptionsFollowTheAccountExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clock.Add(355 * 24 * time.Hour) // the account expires in 10 days, 2 March 2027 09:00 UTC
	ann := e.browser("192.0.2.1")
	ann.mustLogin(e.ann)
	p := ann.get("/portal/tokens")
	wantPage(t, p, http.StatusOK, `value="7" checked`, `max="2027-03-01"`,
		`At most until the account expires, on <time datetime="2027-03-02T09:00:00Z">2`+"\u00a0Mar\u00a02027, 09:00\u00a0UTC</time>.")
	for _, hidden := range []string{`value="30"`, `value="60"`, `value="90"`, "365 days"} {
		if strings.Contains(p.body, hidden) {
			t.Errorf("%s, past the account's expiry, is offered", hidden)
		}
	}
	before := e.tokens()
	for _, form := range []url.Values{
		{"name": {"long"}, "expiry": {"30"}},
		{"name": {"long"}, "expiry": {"date"}, "date": {"2027-03-02"}},
	} {
		p, plain := ann.createToken(form)
		wantPage(t, p, http.StatusBadRequest, "Expiry must not be after the account expires (2027-03-02 09:00 UTC).")
		if plain != "" || e.tokens() != before {
			t.Fatalf("%v made a token that outlives the account", form)
		}
	}
	if _, plain := ann.createToken(url.Values{"name": {"ok"}, "expiry": {"date"}, "date": {"2027-03-01"}}); plain == "" {
		t.Fatal("the last day offered is refused")
	}
}

// The new token's page says where each value of its curl line comes from.
func TestTokens_NewTokenExplainsCurl(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ann := e.browser("192.0.2.1")
	ann.mustLogin(e.ann)
	p, _ := ann.createToken(url.Values{"name": {"ci"}, "expiry": {"7"}})
	wantPage(t, p, http.StatusOK, "<code>AUTHO_API_TOKEN</code> is the token above",
		"<code>AUTHO_PARTNER_TOKEN</code> is your account's partner token", e.account.PartnerTokenHint,
		"If you do not have it, ask an admin of your account", `href="/portal/account"`)
	// An admin is the one a member asks: they are told whom to ask.
	boss := e.browser("192.0.2.2")
	boss.mustLogin(e.boss)
	p, _ = boss.createToken(url.Values{"name": {"ci"}, "expiry": {"7"}})
	wantPage(t, p, http.StatusOK, `If you do not have it, talk to <a href="mailto:partners@platform.example">partners@platform.example</a>.`)
}

var (
	bannerDiv = regexp.MustCompile(`(?s)<div class="banner[^>]*>.*?</div>`)
	anyTag    = regexp.MustCompile(`<[^>]*>`)
)

// Every banner names whom to talk to, once across all of them; a closed
// account is not invited to create what it cannot.
func TestTokens_BannersSayWhomOnce(t *testing.T) {
	t.Parallel()
	suspend := func(e *env) {
		if _, err := e.admin.Suspend(context.Background(), autho.OperatorCLI, e.account.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		arrange func(e *env)
		banner  string
		closed  bool
	}{
		{"expiring soon", func(e *env) { e.clock.Add(340 * 24 * time.Hour) }, "This account expires on 2 March 2027 (in 25 days).", false},
		{"suspended", suspend, "This account is suspended.", true},
		{"expired", func(e *env) { e.clock.Add(366 * 24 * time.Hour) }, "This account expired on 2 March 2027.", true},
		{"suspended and expired", func(e *env) { suspend(e); e.clock.Add(366 * 24 * time.Hour) }, "This account is suspended, and it expired on 2 March 2027.", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tt.arrange(e)
			bob := e.browser("192.0.2.2") // no tokens
			bob.mustLogin(e.bob)
			for _, path := range []string{"/portal/tokens", "/portal/account"} {
				p := bob.get(path)
				wantPage(t, p, http.StatusOK, tt.banner, `href="mailto:partners@platform.example"`)
				var shown strings.Builder
				for _, b := range bannerDiv.FindAllString(p.body, -1) {
					shown.WriteString(anyTag.ReplaceAllString(b, "") + "\n")
				}
				if n := strings.Count(shown.String(), "partners@platform.example"); n != 1 {
					t.Errorf("%s: the banners name the contact %d times, want once:\n%s", path, n, shown.String())
				}
			}
			p := bob.get("/portal/tokens")
			if got := strings.Contains(p.body, "Create one above"); got == tt.closed {
				t.Errorf("the empty list says \"Create one above\": %v, want %v", got, !tt.closed)
			}
		})
	}
}
