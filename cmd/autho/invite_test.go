package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/daemon"
	"github.com/autho/autho/internal/mail/mailtest"
	"github.com/autho/autho/internal/secret"
)

// Issue 18, criteria 6 and 7 for invitations: with mail configured, a
// user added in the portal, with the CLI's --invite or the admin API's
// "invite": true gets a mail whose link sets a password once.

const invitationGonePage = "This invitation link was used or has expired"

var inviteLinkInMail = regexp.MustCompile(`https?://[^\s"<>]+(/portal/invite/([A-Za-z0-9_-]+))`)

// inviteEnv is a server's environment with mail through ms.
func inviteEnv(ms *mailtest.Server) map[string]string {
	return map[string]string{
		"AUTHO_SMTP_URL":        ms.URL(),
		"AUTHO_SMTP_FROM":       mailFrom,
		"AUTHO_PORTAL_CONTACT":  mailContact,
		"AUTHO_TRUSTED_PROXIES": "127.0.0.1/32,::1/128",
		// Retry waits in milliseconds.
		"AUTHO_DELIVERY_TIME_SCALE": "0.001",
	}
}

// startInviteServer starts a node on b mailing through ms, with a sweep
// every 200 ms and the tweaks given.
func startInviteServer(t *testing.T, b backend, env map[string]string, tweak ...func(*daemon.Config)) *testServer {
	t.Helper()
	tweak = append(tweak, func(c *daemon.Config) { c.NoticeEvery = 200 * time.Millisecond })
	full := map[string]string{}
	for k, v := range env {
		full[k] = v
	}
	var ts *testServer
	if b == backendSQLite {
		ts = startServerAt(t, filepath.Join(t.TempDir(), "autho.db"), full, tweak...)
	} else {
		db, _ := pgTestSchema(t)
		full["AUTHO_MASTER_KEY"] = pgTestMasterKey()
		ts = startServerAt(t, db, full, tweak...)
	}
	logMailFailures(ts)
	return ts
}

// invitation is the link of the one invitation mailed to email: its path
// (/portal/invite/<token>) and token, which the leak check looks for in
// every log line from now on.
func invitation(t *testing.T, ms *mailtest.Server, email string) (path, token string) {
	t.Helper()
	deadline := time.Now().Add(mailWait)
	for {
		msgs := ms.Messages()
		var found []mailtest.Received
		for _, m := range msgs {
			if len(m.To) == 1 && m.To[0] == email {
				found = append(found, m)
			}
		}
		if len(found) > 1 {
			t.Fatalf("%d invitation mails to %s, want one", len(found), email)
		}
		if len(found) == 1 {
			m := found[0]
			got := inviteLinkInMail.FindStringSubmatch(m.Text)
			if got == nil || !strings.Contains(m.HTML, got[0]) {
				t.Fatalf("invitation mail %q: no link in both parts:\n%s", m.Subject, m.Text)
			}
			leaks.add(got[2])
			if !strings.Contains(m.Subject, "invited") || !strings.Contains(m.Text, "works once and until") {
				t.Errorf("invitation mail: subject %q, text:\n%s", m.Subject, m.Text)
			}
			return got[1], got[2]
		}
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("no invitation mail to %s after %v", email, mailWait)
		}
		ms.WaitFor(t, len(msgs)+1, left)
	}
}

// inviteClient is a browser without script: cookies, no redirects
// followed.
func inviteClient(t *testing.T, ts *testServer, ip string) *mfaClient {
	return &mfaClient{t: t, ts: ts, ip: ip, cookies: map[string]string{}}
}

// useInvitation posts a password to the link and reports the status and
// whether a session was set.
func useInvitation(t *testing.T, ts *testServer, path, pw string) (int, string, bool) {
	t.Helper()
	c := inviteClient(t, ts, "198.51.100.7")
	st, page := c.do("POST", path, url.Values{"password": {pw}, "confirm": {pw}})
	return st, page, c.cookies["autho_session"] != ""
}

// checkInvitationWorksOnce sets a password with the link, signs in with
// it, and finds the link dead afterwards, on GET and POST alike.
func checkInvitationWorksOnce(t *testing.T, ts *testServer, path, email string) {
	t.Helper()
	c := inviteClient(t, ts, "198.51.100.8")
	st, page := c.do("GET", path, nil)
	if st != http.StatusOK || !strings.Contains(page, "Choose your password") || !strings.Contains(page, email) {
		t.Fatalf("invitation page: %d, want 200 with the form for %s", st, email)
	}
	pw := "the invited pass phrase " + secret.Random(6)
	leaks.add(pw)
	st, _ = c.do("POST", path, url.Values{"password": {pw}, "confirm": {pw + "x"}})
	if st != http.StatusBadRequest {
		t.Fatalf("two different passwords: %d, want 400", st)
	}
	st, _ = c.do("POST", path, url.Values{"password": {"short"}, "confirm": {"short"}})
	if st != http.StatusBadRequest {
		t.Fatalf("a too short password: %d, want 400", st)
	}
	st, _ = c.do("POST", path, url.Values{"password": {pw}, "confirm": {pw}})
	if st != http.StatusSeeOther || c.cookies["autho_session"] == "" || !strings.HasPrefix(c.loc, "/portal/tokens") {
		t.Fatalf("setting the password: %d to %q, session %v; want 303 to the tokens, signed in", st, c.loc, c.cookies["autho_session"] != "")
	}
	if !signedIn(t, ts, c.cookies["autho_session"]) {
		t.Fatal("the session the invitation made opens nothing")
	}
	if st, _ := portalPost(t, ts, "198.51.100.9", email, pw); st != http.StatusSeeOther {
		t.Fatalf("signing in with the password set: %d, want 303", st)
	}
	for _, method := range []string{"GET", "POST"} {
		var form url.Values
		if method == "POST" {
			form = url.Values{"password": {pw + " again"}, "confirm": {pw + " again"}}
		}
		st, page := inviteClient(t, ts, "198.51.100.10").do(method, path, form)
		if st != http.StatusGone || !strings.Contains(page, invitationGonePage) || strings.Contains(page, `name="password"`) {
			t.Fatalf("%s of a used link: %d, want 410 with %q", method, st, invitationGonePage)
		}
	}
	if st, _ := portalPost(t, ts, "198.51.100.9", email, pw+" again"); st != http.StatusUnauthorized {
		t.Fatalf("the second use's password signs in: %d", st)
	}
}

// auditOf counts the account's audit events by action, with the actor of
// the last of each.
func auditOf(t *testing.T, ts *testServer, accountID string) (map[autho.AuditAction]int, map[autho.AuditAction]string) {
	t.Helper()
	es, err := ts.store().AuditEvents(context.Background(), autho.AuditFilter{AccountID: accountID})
	if err != nil {
		t.Fatal(err)
	}
	n, by := map[autho.AuditAction]int{}, map[autho.AuditAction]string{}
	for _, e := range es {
		n[e.Action]++
		by[e.Action] = e.ActorID
	}
	return n, by
}

func TestInvite_Portal(t *testing.T) {
	ms := mailtest.NewServer(t)
	ts := startInviteServer(t, backendSQLite, inviteEnv(ms))
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "Invited Ltd")
	accID := opStr(acc, "id")
	boss := portalCLIUser(t, ts, accID, "boss@invited.example", "admin", "the boss's pass phrase")
	c := inviteClient(t, ts, "192.0.2.40")
	if st, _ := c.do("POST", "/portal/login", url.Values{"email": {boss.email}, "password": {boss.password}}); st != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %d", st)
	}
	if st, page := c.do("GET", "/portal/users", nil); st != http.StatusOK || !strings.Contains(page, "An invitation is mailed to them") {
		t.Fatalf("users page: %d, want the form saying an invitation is mailed", st)
	}
	const email = "newcomer@invited.example"
	st, page := c.do("POST", "/portal/users", url.Values{"email": {email}, "role": {"member"}})
	if st != http.StatusOK || !strings.Contains(page, "An invitation was mailed to "+email) {
		t.Fatalf("add user: %d, want 200 saying the invitation was mailed:\n%s", st, page)
	}
	for _, shown := range []string{`id="new-password"`, "secret-value", "Copy password", "Copy this password"} {
		if strings.Contains(page, shown) {
			t.Errorf("the add-user answer shows a password (%s)", shown)
		}
	}
	path, token := invitation(t, ms, email)
	// The token is in the path: no page of the portal gives it away as a
	// Referer.
	res, err := client.Get(ts.url + path)
	if err != nil {
		t.Fatal(err)
	}
	readAll(res)
	if rp := res.Header.Get("Referrer-Policy"); res.StatusCode != http.StatusOK || rp != "no-referrer" {
		t.Errorf("invitation page: %d, Referrer-Policy %q; want 200, no-referrer", res.StatusCode, rp)
	}
	checkInvitationWorksOnce(t, ts, path, email)

	n, by := auditOf(t, ts, accID)
	if n[autho.AuditInvitationSent] != 1 || by[autho.AuditInvitationSent] != boss.id {
		t.Errorf("invitation.sent: %d by %s, want 1 by the admin %s", n[autho.AuditInvitationSent], by[autho.AuditInvitationSent], boss.id)
	}
	u, err := ts.store().UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	if n[autho.AuditInvitationUsed] != 1 || by[autho.AuditInvitationUsed] != u.ID {
		t.Errorf("invitation.used: %d by %s, want 1 by the user %s", n[autho.AuditInvitationUsed], by[autho.AuditInvitationUsed], u.ID)
	}
	// The request log names the route, never the path with the token in
	// it (the leak check after all tests looks for the token too).
	log := ts.log.String()
	if strings.Contains(log, token) || !strings.Contains(log, "/portal/invite/") {
		t.Errorf("request log: token logged %v, invitation route logged %v", strings.Contains(log, token), strings.Contains(log, "/portal/invite/"))
	}
	// Nothing of the link is left to make it again.
	invs, _ := ts.store().Invitation(context.Background(), secret.Hash(token))
	if invs == nil || len(invs.SealedToken) != 0 {
		t.Errorf("the invitation's sealed token is still stored after its mail and its use")
	}
}

func TestInvite_CLI(t *testing.T) {
	ms := mailtest.NewServer(t)
	ts := startInviteServer(t, backendSQLite, inviteEnv(ms))
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "Cli Invited Ltd")
	const email = "cli@invited.example"
	// The mail server refuses the first try: the mail is retried like
	// every notification, and arrives once.
	ms.FailNext(1)
	var u map[string]any
	ts.mustCLI(&u, "user", "create", "--account", opStr(acc, "id"), "--email", email, "--invite")
	if u["invited"] != true || u["password"] != nil || u["secret"] != nil || opStr(u, "email") != email {
		t.Fatalf("user create --invite: %v, want the user, invited, no password", u)
	}
	first, _ := invitation(t, ms, email)
	settle()
	path, _ := invitation(t, ms, email) // still one
	if path != first {
		t.Errorf("the invitation's link changed after the mail settled")
	}
	ds, err := ts.store().Deliveries(context.Background(), autho.DeliveryFilter{Mail: true})
	if err != nil || len(ds) != 1 || ds[0].Attempts != 2 || ds[0].State != autho.DeliveryDelivered {
		t.Fatalf("the invitation's delivery: %v (%v), want one delivered at the second attempt", ds, err)
	}
	checkInvitationWorksOnce(t, ts, path, email)
	n, by := auditOf(t, ts, opStr(acc, "id"))
	if n[autho.AuditInvitationSent] != 1 || by[autho.AuditInvitationSent] != "operator:cli" {
		t.Errorf("invitation.sent: %d by %s, want 1 by operator:cli", n[autho.AuditInvitationSent], by[autho.AuditInvitationSent])
	}

	// --invite with --password-stdin is a usage mistake.
	if _, errs, code := ts.cli("user", "create", "--account", opStr(acc, "id"), "--email", "both@invited.example", "--invite", "--password-stdin"); code != 2 {
		t.Errorf("--invite --password-stdin: exit %d (%s), want 2", code, errs)
	}
}

func TestInvite_AdminAPI(t *testing.T) {
	ms := mailtest.NewServer(t)
	ts := startInviteServer(t, backendSQLite, inviteEnv(ms))
	keys := newAdminKeys(ts)
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "Api Invited Ltd")
	const email = "api@invited.example"
	r, m := ts.admin("POST", "/v1/admin/accounts/"+opStr(acc, "id")+"/users", keys.rw, `{"email": "`+email+`", "invite": true}`)
	if r.Status != http.StatusCreated || m["invited"] != true || m["password"] != nil || m["secret"] != nil {
		t.Fatalf("invite: %d %s, want 201 invited without a password", r.Status, r.Body)
	}
	r, m = ts.admin("POST", "/v1/admin/accounts/"+opStr(acc, "id")+"/users", keys.rw, `{"email": "both@invited.example", "invite": true, "password": "a pass phrase given"}`)
	wantProblem(t, r, m, http.StatusBadRequest, "invite")
	path, _ := invitation(t, ms, email)
	checkInvitationWorksOnce(t, ts, path, email)
	n, by := auditOf(t, ts, opStr(acc, "id"))
	if n[autho.AuditInvitationSent] != 1 || by[autho.AuditInvitationSent] != "operator:crm" {
		t.Errorf("invitation.sent: %d by %s, want 1 by operator:crm", n[autho.AuditInvitationSent], by[autho.AuditInvitationSent])
	}
}

// Without mail, inviting is a clear error on every surface, and changes
// nothing; the portal keeps showing a generated password.
func TestInvite_WithoutMail(t *testing.T) {
	ts := startServer(t, nil)
	keys := newAdminKeys(ts)
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "No Mail Ltd")
	accID := opStr(acc, "id")
	_, errs, code := ts.cli("user", "create", "--account", accID, "--email", "cli@nomail.example", "--invite")
	if code != 1 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "AUTHO_SMTP_URL") {
		t.Errorf("user create --invite without mail: exit %d, %q; want 1 and one line naming AUTHO_SMTP_URL", code, errs)
	}
	r, m := ts.admin("POST", "/v1/admin/accounts/"+accID+"/users", keys.rw, `{"email": "api@nomail.example", "invite": true}`)
	wantProblem(t, r, m, http.StatusBadRequest, "invite")
	us, err := ts.store().Users(context.Background(), accID)
	if err != nil || len(us) != 0 {
		t.Errorf("refused invitations left %d users (%v)", len(us), err)
	}
	boss := portalCLIUser(t, ts, accID, "boss@nomail.example", "admin", "the boss's pass phrase")
	c := inviteClient(t, ts, "192.0.2.41")
	c.do("POST", "/portal/login", url.Values{"email": {boss.email}, "password": {boss.password}})
	st, page := c.do("POST", "/portal/users", url.Values{"email": {"portal@nomail.example"}, "role": {"member"}})
	if st != http.StatusOK || !strings.Contains(page, `id="new-password"`) {
		t.Fatalf("portal add user without mail: %d, want the generated password shown", st)
	}
}

// A link older than 72 hours, an unknown one and a malformed one answer
// the same page as a used one.
func TestInvite_Expired(t *testing.T) {
	ms := mailtest.NewServer(t)
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	ts := startInviteServer(t, backendSQLite, inviteEnv(ms), func(c *daemon.Config) { c.PortalNow = clock })
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "Late Ltd")
	const email = "late@invited.example"
	ts.mustCLI(nil, "user", "create", "--account", opStr(acc, "id"), "--email", email, "--invite")
	path, _ := invitation(t, ms, email)
	if st, _ := inviteClient(t, ts, "192.0.2.42").do("GET", path, nil); st != http.StatusOK {
		t.Fatalf("a fresh link: %d, want 200", st)
	}
	offset.Store(int64(autho.InvitationTTL + time.Minute))
	pages := map[string]string{}
	for name, p := range map[string]string{
		"expired":   path,
		"unknown":   "/portal/invite/" + secret.Random(43),
		"malformed": "/portal/invite/not-a-token",
		"too long":  "/portal/invite/" + strings.Repeat("A", 2000),
	} {
		for _, method := range []string{"GET", "POST"} {
			var form url.Values
			if method == "POST" {
				form = url.Values{"password": {"a late pass phrase"}, "confirm": {"a late pass phrase"}}
			}
			st, page := inviteClient(t, ts, "192.0.2.43").do(method, p, form)
			if st != http.StatusGone || !strings.Contains(page, invitationGonePage) {
				t.Errorf("%s link, %s: %d, want 410 %q", name, method, st, invitationGonePage)
			}
			pages[method+" "+name] = page
		}
	}
	for k, p := range pages {
		if p != pages["GET expired"] {
			t.Errorf("%s answers another page than an expired link", k)
		}
	}
	// Moved back: the link still works, since nothing used it.
	offset.Store(0)
	checkInvitationWorksOnce(t, ts, path, email)
}

// Ten posts of one link at once, over two nodes, on both backends:
// exactly one sets the password, and only its password signs in.
func TestInvite_ParallelUse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ms := mailtest.NewServer(t)
		env := inviteEnv(ms)
		a := startInviteServer(t, b, env)
		nodes := []*testServer{a, secondNode(t, b, a, env)}
		var acc map[string]any
		a.mustCLI(&acc, "account", "create", "--name", "Raced Invite Ltd")
		email := "raced-" + string(b) + "@invited.example"
		a.mustCLI(nil, "user", "create", "--account", opStr(acc, "id"), "--email", email, "--invite")
		path, _ := invitation(t, ms, email)

		const posts = 10
		var (
			wg       sync.WaitGroup
			gate     = make(chan struct{})
			statuses = make([]int, posts)
			sessions = make([]bool, posts)
			pws      = make([]string, posts)
		)
		for i := range posts {
			pws[i] = fmt.Sprintf("raced pass phrase number %d", i)
			leaks.add(pws[i])
			wg.Go(func() {
				<-gate
				statuses[i], _, sessions[i] = useInvitation(t, nodes[i%2], path, pws[i])
			})
		}
		close(gate)
		wg.Wait()
		won := -1
		for i, st := range statuses {
			switch {
			case st == http.StatusSeeOther && sessions[i]:
				if won >= 0 {
					t.Errorf("posts %d and %d both set the password", won, i)
				}
				won = i
			case st == http.StatusGone, st == http.StatusServiceUnavailable:
			default:
				t.Errorf("post %d: %d, want 303 for one, 410 (or 503 busy) for the rest", i, st)
			}
		}
		if won < 0 {
			t.Fatalf("no post set the password: %v", statuses)
		}
		if st, _ := portalPost(t, nodes[won%2], "203.0.113.10", email, pws[won]); st != http.StatusSeeOther {
			t.Errorf("signing in with the winning post's password: %d, want 303", st)
		}
		for i, pw := range pws {
			// After five wrong ones the throttle answers 429: a refusal
			// too.
			if st, _ := portalPost(t, nodes[i%2], "203.0.113."+fmt.Sprint(11+i), email, pw); i != won && st != http.StatusUnauthorized && st != http.StatusTooManyRequests {
				t.Errorf("signing in with post %d's password: %d, want 401 (or 429)", i, st)
			}
		}
		n, _ := auditOf(t, a, opStr(acc, "id"))
		if n[autho.AuditInvitationUsed] != 1 {
			t.Errorf("invitation.used audited %d times, want 1", n[autho.AuditInvitationUsed])
		}
	})
}

// Two nodes sweeping an expired invitation audit its expiry once, as
// autho's (the sweep's clock is past the 72 hours).
func TestInvite_ExpiryAuditedOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ms := mailtest.NewServer(t)
		env := inviteEnv(ms)
		later := func() time.Time { return time.Now().Add(autho.InvitationTTL + time.Hour) }
		sweepLater := func(c *daemon.Config) { c.SweepNow = later }
		a := startInviteServer(t, b, env, sweepLater)
		full := map[string]string{}
		for k, v := range env {
			full[k] = v
		}
		if b == backendPostgres {
			full["AUTHO_MASTER_KEY"] = a.env["AUTHO_MASTER_KEY"]
		}
		second := startServerAt(t, a.db, full, sweepLater, func(c *daemon.Config) { c.NoticeEvery = 200 * time.Millisecond })
		_ = second
		var acc map[string]any
		a.mustCLI(&acc, "account", "create", "--name", "Expiring Invite Ltd")
		a.mustCLI(nil, "user", "create", "--account", opStr(acc, "id"), "--email", "expiring-"+string(b)+"@invited.example", "--invite")
		deadline := time.Now().Add(mailWait)
		for {
			n, _ := auditOf(t, a, opStr(acc, "id"))
			if n[autho.AuditInvitationExpired] > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no invitation.expired after %v", mailWait)
			}
			time.Sleep(50 * time.Millisecond)
		}
		settle() // several sweeps of both nodes
		n, by := auditOf(t, a, opStr(acc, "id"))
		if n[autho.AuditInvitationExpired] != 1 || by[autho.AuditInvitationExpired] != "autho" {
			t.Errorf("invitation.expired: %d by %q, want 1 by autho", n[autho.AuditInvitationExpired], by[autho.AuditInvitationExpired])
		}
	})
}

// Where a second factor is required, the person signed in by their
// invitation is sent to add one before anything else.
func TestInvite_MFARequired(t *testing.T) {
	ms := mailtest.NewServer(t)
	env := inviteEnv(ms)
	env["AUTHO_PORTAL_REQUIRE_MFA"] = "true"
	ts := startInviteServer(t, backendSQLite, env)
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "Strict Invite Ltd")
	const email = "strict@invited.example"
	ts.mustCLI(nil, "user", "create", "--account", opStr(acc, "id"), "--email", email, "--invite")
	path, _ := invitation(t, ms, email)
	c := inviteClient(t, ts, "192.0.2.44")
	pw := "the strict pass phrase " + secret.Random(6)
	leaks.add(pw)
	if st, _ := c.do("POST", path, url.Values{"password": {pw}, "confirm": {pw}}); st != http.StatusSeeOther || c.cookies["autho_session"] == "" {
		t.Fatalf("setting the password: %d, want 303 signed in", st)
	}
	if st, _ := c.do("GET", c.loc, nil); st != http.StatusSeeOther || !strings.HasPrefix(c.loc, "/portal/security") {
		t.Fatalf("the first page after the invitation: %d to %q, want 303 to the Security page", st, c.loc)
	}
}
