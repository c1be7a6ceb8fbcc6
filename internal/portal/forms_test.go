package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Every form refuses bad input with a message on the page, and changes
// nothing.
func TestForms_BadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	boss := e.browser("192.0.2.1")
	boss.mustLogin(e.boss)
	tk := e.mustToken(e.boss, "existing")
	long := strings.Repeat("x", 10*1024)
	past := start.Add(-24 * time.Hour).Format(time.DateOnly)
	beyond := start.Add(400 * 24 * time.Hour).Format(time.DateOnly)
	tests := []struct {
		name   string
		path   string
		form   url.Values
		status int
		msg    string
	}{
		{"token: empty name", "/portal/tokens", url.Values{"name": {""}, "expiry": {"30"}}, 400, "Name must not be empty."},
		{"token: blank name", "/portal/tokens", url.Values{"name": {"   "}, "expiry": {"30"}}, 400, "Name must not be empty."},
		{"token: 10 KB name", "/portal/tokens", url.Values{"name": {long}, "expiry": {"30"}}, 400, "Name must be at most 200 characters (got 10240)."},
		{"token: control character", "/portal/tokens", url.Values{"name": {"ci\nprod"}, "expiry": {"30"}}, 400, "Name must not contain control characters."},
		{"token: text-direction override", "/portal/tokens", url.Values{"name": {"ci\u202eexe.txt"}, "expiry": {"30"}}, 400, "Name must not contain invisible or text-direction characters (U+202E)."},
		{"token: invalid UTF-8", "/portal/tokens", url.Values{"name": {"ci\xff"}, "expiry": {"30"}}, 400, "Name must be valid UTF-8 text."},
		{"token: no expiry", "/portal/tokens", url.Values{"name": {"ci"}}, 400, "Choose when the token should expire."},
		{"token: unknown expiry", "/portal/tokens", url.Values{"name": {"ci"}, "expiry": {"365"}}, 400, "Choose when the token should expire."},
		{"token: date missing", "/portal/tokens", url.Values{"name": {"ci"}, "expiry": {"date"}}, 400, "Pick the date the token should expire on."},
		{"token: date unreadable", "/portal/tokens", url.Values{"name": {"ci"}, "expiry": {"date"}, "date": {"31/12/2026"}}, 400, "Enter the date as YYYY-MM-DD"},
		{"token: date in the past", "/portal/tokens", url.Values{"name": {"ci"}, "expiry": {"date"}, "date": {past}}, 400, "Expiry must be in the future."},
		{"token: date beyond the cap", "/portal/tokens", url.Values{"name": {"ci"}, "expiry": {"date"}, "date": {beyond}}, 400, "Expiry must be at most 365 days from now."},
		{"revoke: unknown token", "/portal/tokens/tok_doesnotexist000000/revoke", url.Values{}, 404, "Token not found"},
		{"revoke: not a token id", "/portal/tokens/%3Cscript%3E/revoke", url.Values{}, 404, "Token not found"},
		{"user: empty email", "/portal/users", url.Values{"email": {""}, "role": {"member"}}, 400, "Email must not be empty."},
		{"user: not an email", "/portal/users", url.Values{"email": {"ann at acme"}, "role": {"member"}}, 400, "Invalid email address"},
		{"user: 10 KB email", "/portal/users", url.Values{"email": {long + "@acme.example"}, "role": {"member"}}, 400, "Email must be at most 254 characters."},
		{"user: script email", "/portal/users", url.Values{"email": {"<script>alert(1)</script>@acme.example"}, "role": {"member"}}, 400, "Invalid email address"},
		{"user: invisible space in email", "/portal/users", url.Values{"email": {"bo\u200bss@acme.example"}, "role": {"member"}}, 400, "Email must not contain invisible or text-direction characters (U+200B)."},
		{"user: taken email", "/portal/users", url.Values{"email": {strings.ToUpper(e.ann.Email)}, "role": {"member"}}, 409, "That email address is already a user of your account."},
		{"user: bad role", "/portal/users", url.Values{"email": {"new@acme.example"}, "role": {"owner"}}, 400, "Choose a role: member or admin."},
		{"user: no role", "/portal/users", url.Values{"email": {"new@acme.example"}}, 400, "Choose a role: member or admin."},
		{"user: unknown user", "/portal/users/usr_doesnotexist00000/deactivate", url.Values{}, 404, "User not found"},
		{"user: deactivate yourself", "/portal/users/" + e.boss.ID + "/deactivate", url.Values{}, 400, "You cannot do that to yourself."},
		{"user: reset your own password", "/portal/users/" + e.boss.ID + "/password", url.Values{}, 400, "You cannot do that to yourself."},
		{"password: empty current", "/portal/password", url.Values{"new": {"new password 123"}, "confirm": {"new password 123"}}, 400, "Enter your current password."},
		{"password: wrong current", "/portal/password", url.Values{"current": {"not it at all"}, "new": {"new password 123"}, "confirm": {"new password 123"}}, 400, "The current password is not correct."},
		{"password: too short", "/portal/password", url.Values{"current": {password}, "new": {"short"}, "confirm": {"short"}}, 400, "New password must be at least 12 characters."},
		{"password: too long", "/portal/password", url.Values{"current": {password}, "new": {strings.Repeat("a", 257)}, "confirm": {strings.Repeat("a", 257)}}, 400, "New password must be at most 256 characters."},
		{"password: mismatch", "/portal/password", url.Values{"current": {password}, "new": {"new password 123"}, "confirm": {"new password 124"}}, 400, "The two new passwords are not the same."},
		{"password: unchanged", "/portal/password", url.Values{"current": {password}, "new": {password}, "confirm": {password}}, 400, "The new password must differ from the current one."},
		{"any form: too large", "/portal/tokens", url.Values{"name": {strings.Repeat("x", 70<<10)}, "expiry": {"30"}}, 413, "Too much text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens, users, events := e.tokens(), e.users(), len(e.events())
			p := boss.post(tt.path, tt.form)
			wantPage(t, p, tt.status, htmlEscape(tt.msg))
			if e.tokens() != tokens || e.users() != users {
				t.Fatal("a refused form changed something")
			}
			if n := len(e.events()); n != events {
				t.Fatalf("a refused form added %d audit events", n-events)
			}
			if strings.Contains(p.body, long) {
				t.Fatal("a 10 KB value was echoed back")
			}
		})
	}
	if tk2, _ := e.store.APIToken(context.Background(), tk.ID); tk2.Revoked() {
		t.Fatal("the existing token was revoked")
	}
	t.Run("the form keeps what was typed", func(t *testing.T) {
		p := boss.post("/portal/tokens", url.Values{"name": {"keep me"}, "expiry": {"date"}, "date": {past}})
		wantPage(t, p, 400, `value="keep me"`, `value="`+past+`"`, `aria-invalid`)
	})
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

// Names are shown as text, whatever they hold.
func TestForms_Escaping(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	boss := e.browser("192.0.2.1")
	boss.mustLogin(e.boss)
	const name = `<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"`
	p := boss.post("/portal/tokens", url.Values{"name": {name}, "expiry": {"7"}})
	wantPage(t, p, http.StatusOK, htmlEscape(`<script>alert("x")</script>`))
	for _, page := range []*page{p, boss.get("/portal/tokens"), boss.get("/portal/audit")} {
		if strings.Contains(page.body, "<script>alert") || strings.Contains(page.body, "<img src=x") {
			t.Fatalf("the name was not escaped:\n%s", text(page.body))
		}
		if !strings.Contains(page.body, "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;quotes&#34;") {
			t.Fatalf("the name is not shown:\n%s", text(page.body))
		}
	}
}
