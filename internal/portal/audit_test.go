package portal_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
)

var shownPassword = regexp.MustCompile(`<code id="new-password"[^>]*>([0-9A-Za-z]{20})</code>`)

// Every action of the portal lands in the account's audit log with who did
// it, when and from where, and the admin's audit page shows it.
func TestAudit_Log(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	boss := e.browser("192.0.2.10")
	ann := e.browser("192.0.2.20")
	step := func() { e.clock.Add(time.Minute) }

	type want struct {
		actor  string
		action autho.AuditAction
		target string
		ip     string
	}
	var wants []want
	expect := func(actor string, a autho.AuditAction, target, ip string) {
		wants = append(wants, want{actor, a, target, ip})
	}

	wantPage(t, ann.login(e.ann.Email, "not my password"), http.StatusUnauthorized)
	expect(e.ann.Email, autho.AuditLoginFailed, "", "192.0.2.20")
	step()
	ann.mustLogin(e.ann)
	expect(e.ann.Email, autho.AuditLogin, "", "192.0.2.20")
	step()
	_, plain := ann.createToken(url.Values{"name": {"ann's <ci>"}, "expiry": {"30"}})
	cred, err := e.store.APICredential(context.Background(), hashOf(plain))
	if err != nil {
		t.Fatal(err)
	}
	expect(e.ann.Email, autho.AuditTokenCreate, "ann's <ci>", "192.0.2.20")
	step()
	ann.post("/portal/tokens/"+cred.Token.ID+"/revoke", url.Values{})
	expect(e.ann.Email, autho.AuditTokenRevoke, "ann's <ci>", "192.0.2.20")
	step()
	ann.post("/portal/password", url.Values{"current": {password}, "new": {"a new pass phrase"}, "confirm": {"a new pass phrase"}})
	expect(e.ann.Email, autho.AuditPasswordChange, "", "192.0.2.20")
	step()
	ann.post("/portal/logout", url.Values{})
	expect(e.ann.Email, autho.AuditLogout, "", "192.0.2.20")
	step()

	boss.mustLogin(e.boss)
	expect(e.boss.Email, autho.AuditLogin, "", "192.0.2.10")
	step()
	p := boss.post("/portal/users", url.Values{"email": {"carol@acme.example"}, "role": {"member"}})
	wantPage(t, p, http.StatusOK, "You will not see it again")
	expect(e.boss.Email, autho.AuditUserCreate, "carol@acme.example", "192.0.2.10")
	step()
	boss.post("/portal/users/"+e.bob.ID+"/deactivate", url.Values{})
	expect(e.boss.Email, autho.AuditUserDeactivate, e.bob.Email, "192.0.2.10")
	step()
	boss.post("/portal/users/"+e.bob.ID+"/activate", url.Values{})
	expect(e.boss.Email, autho.AuditUserActivate, e.bob.Email, "192.0.2.10")
	step()
	boss.post("/portal/users/"+e.bob.ID+"/sessions", url.Values{})
	expect(e.boss.Email, autho.AuditUserSessions, e.bob.Email, "192.0.2.10")
	step()
	boss.post("/portal/users/"+e.bob.ID+"/password", url.Values{})
	expect(e.boss.Email, autho.AuditUserPassword, e.bob.Email, "192.0.2.10")
	step()
	if _, err := e.admin.DeactivateUser(context.Background(), autho.OperatorCLI, e.bob.ID); err != nil {
		t.Fatal(err)
	}
	expect(operatorCLI, autho.AuditUserDeactivate, e.bob.Email, "")
	step()
	// Bob's password was reset, so the old one fails...
	wantPage(t, e.browser("192.0.2.30").login(e.bob.Email, password), http.StatusUnauthorized)
	expect(e.bob.Email, autho.AuditLoginFailed, "", "192.0.2.30")

	// The operator made the account and its three users before any of
	// this; those four events come first, at the start.
	var events, setup []*autho.AuditEvent
	for _, ev := range e.events() {
		if _, op := ev.ByOperator(); op && ev.At.Equal(start) {
			setup = append(setup, ev)
			continue
		}
		events = append(events, ev)
	}
	if len(setup) != 4 {
		t.Errorf("%d events of the operator's setup, want 4 (account.create, 3 × user.create)", len(setup))
	}
	if len(events) != len(wants) {
		for _, ev := range events {
			t.Logf("%v %s %s %s %s", ev.At, ev.ActorEmail, ev.Action, ev.TargetName, ev.IP)
		}
		t.Fatalf("%d audit events, want %d", len(events), len(wants))
	}
	for i, w := range wants {
		ev := events[len(events)-1-i] // newest first
		if who(ev) != w.actor || ev.Action != w.action || ev.TargetName != w.target || ev.IP != w.ip || ev.At.IsZero() {
			t.Errorf("event %d = %s %s %q from %s, want %s %s %q from %s", i, who(ev), ev.Action, ev.TargetName, ev.IP, w.actor, w.action, w.target, w.ip)
		}
	}

	page := boss.get("/portal/audit")
	wantPage(t, page, http.StatusOK, "Audit log", "Times are in UTC")
	for _, w := range wants {
		// Each row shows who, what (and on what), and from where.
		row := fmt.Sprintf(`<th scope="row" data-label="Who" class="name">%s</th>`, w.actor)
		if !strings.Contains(page.body, row) || (w.ip != "" && !strings.Contains(page.body, "<code>"+w.ip+"</code>")) {
			t.Errorf("the audit page lacks %s from %s", w.actor, w.ip)
		}
		if w.target != "" && !strings.Contains(page.body, "<strong>"+htmlEscape(w.target)+"</strong>") {
			t.Errorf("the audit page lacks target %q", w.target)
		}
	}
	for _, label := range []string{"signed in", "failed to sign in", "created API token", "revoked API token", "changed their password",
		"signed out", "added user", "deactivated user", "reactivated user", "signed out everywhere: user", "reset the password of user"} {
		if !strings.Contains(page.body, label) {
			t.Errorf("the audit page lacks %q", label)
		}
	}
	if !strings.Contains(page.body, "<time datetime=\"2026-03-02T09:01:00Z\">2\u00a0Mar\u00a02026, 09:01\u00a0UTC</time>") {
		t.Error("the audit page does not show when")
	}
}

// operatorCLI is how the audit page names the operator at the CLI.
const operatorCLI = "the platform (cli)"

// who names an event's actor as the audit page does.
func who(ev *autho.AuditEvent) string {
	if name, ok := ev.ByOperator(); ok {
		return "the platform (" + name + ")"
	}
	return ev.ActorEmail
}

func TestAudit_Pages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for i := 0; i < 120; i++ {
		ev := &autho.AuditEvent{ID: fmt.Sprintf("aud_%03d", i), AccountID: e.account.ID, ActorID: e.ann.ID, ActorEmail: e.ann.Email,
			Action: autho.AuditLogin, At: start.Add(time.Duration(i) * time.Second), IP: fmt.Sprintf("192.0.2.%d", i)}
		if err := e.store.AddAuditEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	boss := e.browser("198.51.100.1")
	boss.mustLogin(e.boss) // the 121st event
	seen := map[string]bool{}
	next := "/portal/audit"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		p := boss.get(next)
		wantPage(t, p, http.StatusOK)
		for _, m := range regexp.MustCompile(`<code>([0-9.]+)</code>`).FindAllStringSubmatch(p.body, -1) {
			if seen[m[1]] {
				t.Fatalf("%s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		next = ""
		if m := regexp.MustCompile(`href="(/portal/audit\?before=[^"]+)">Older events`).FindStringSubmatch(p.body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 121 {
		t.Fatalf("%d events over all pages, want 121", len(seen))
	}
	wantPage(t, boss.get("/portal/audit?before=garbage"), http.StatusNotFound)
}
