package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/mail/mailtest"
)

const (
	mailFrom    = "autho@platform.example"
	mailContact = "partners@platform.example"
	// mailWait bounds the wait for a mail: the sweep runs every 200 ms but
	// the outbox worker polls every second.
	mailWait = 20 * time.Second
)

// startMailServer is startEventsServer mailing through a real SMTP server,
// with the GitHub keys its leak reports are signed with.
func startMailServer(t *testing.T, b backend) (*testServer, *mailtest.Server, *githubKeys) {
	t.Helper()
	ms := mailtest.NewServer(t)
	gh := newGitHubKeys(t)
	env := eventsEnv(gh.url)
	env["AUTHO_SMTP_URL"] = ms.URL()
	env["AUTHO_SMTP_FROM"] = mailFrom
	env["AUTHO_PORTAL_CONTACT"] = mailContact
	ts := startEventsServer(t, b, env)
	logMailFailures(ts)
	return ts, ms, gh
}

// logMailFailures says, when the test fails, why each mail that did not
// go out did not: a wait that times out tells no more than a count.
func logMailFailures(ts *testServer) {
	st := ts.store()
	t := ts.t
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ds, err := st.Deliveries(context.Background(), autho.DeliveryFilter{Mail: true})
		if err != nil {
			t.Logf("mail deliveries: %v", err)
			return
		}
		logged := 0
		for _, d := range ds {
			if d.State == autho.DeliveryDelivered || logged == 10 {
				continue
			}
			logged++
			as, _ := st.DeliveryAttempts(context.Background(), d.ID)
			last := ""
			if len(as) > 0 {
				last = as[len(as)-1].Error
			}
			t.Logf("mail delivery %s of event %s to %s: %s after %d attempts: %s", d.ID, d.EventID, d.Email, d.State, d.Attempts, last)
		}
	})
}

// settle lets several sweeps and outbox polls pass, so that a mail sent
// twice would have arrived.
func settle() { time.Sleep(1500 * time.Millisecond) }

// mailAccount is an account with two admins and a member, made through the
// CLI, that expires at expires.
type mailAccount struct {
	id, partnerToken string
	admins           []string
	member           string
}

func (ts *testServer) newMailAccount(name string, expires time.Time) mailAccount {
	ts.t.Helper()
	// Made with the default expiry and moved to expires once its people
	// exist: the sweep, every 200 ms, would otherwise find it near its end
	// with nobody to mail, and a notice is made once.
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", name)
	dom := strings.ToLower(name) + ".example"
	a := mailAccount{id: opStr(acc, "id"), partnerToken: opStr(acc, "partner_token"),
		admins: []string{"admin1@" + dom, "admin2@" + dom}, member: "member@" + dom}
	for _, e := range a.admins {
		ts.mustCLI(nil, "user", "create", "--account", a.id, "--email", e, "--role", "admin")
	}
	ts.mustCLI(nil, "user", "create", "--account", a.id, "--email", a.member, "--role", "member")
	ts.mustCLI(nil, "account", "renew", a.id, "--expires", expires.UTC().Format(time.RFC3339))
	return a
}

// mailsTo sorts the messages by their one recipient, failing the test on a
// message with several.
func mailsTo(t *testing.T, msgs []mailtest.Received) map[string][]mailtest.Received {
	t.Helper()
	out := map[string][]mailtest.Received{}
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Fatalf("mail %q has recipients %v, want one", m.Subject, m.To)
		}
		out[m.To[0]] = append(out[m.To[0]], m)
	}
	return out
}

// subjects lists a person's mail by subject, sorted.
func subjects(ms []mailtest.Received) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Subject)
	}
	slices.Sort(out)
	return out
}

// wantMails asserts that exactly these recipients got exactly these
// subjects.
func wantMails(t *testing.T, msgs []mailtest.Received, want map[string][]string) {
	t.Helper()
	got := mailsTo(t, msgs)
	for to, subj := range want {
		slices.Sort(subj)
		if !slices.Equal(subjects(got[to]), subj) {
			t.Errorf("mail to %s: %q, want %q", to, subjects(got[to]), subj)
		}
	}
	for to, ms := range got {
		if _, ok := want[to]; !ok {
			t.Errorf("mail to %s: %q, want none", to, subjects(ms))
		}
	}
}

// checkMail asserts what every notification holds: From, a text and an
// HTML part, each with the portal link and the contact, and none of the
// secrets.
func checkMail(t *testing.T, ts *testServer, m mailtest.Received, secrets []string) {
	t.Helper()
	if m.From != mailFrom || !strings.Contains(m.Header.Get("From"), mailFrom) {
		t.Errorf("mail %q: MAIL FROM %q, From: %q, want %s", m.Subject, m.From, m.Header.Get("From"), mailFrom)
	}
	portal := ts.url + "/portal/"
	for part, body := range map[string]string{"text": m.Text, "HTML": m.HTML} {
		switch {
		case strings.TrimSpace(body) == "":
			t.Errorf("mail %q has no %s part", m.Subject, part)
		case !strings.Contains(body, portal):
			t.Errorf("mail %q: the %s part has no portal link %s:\n%s", m.Subject, part, portal, body)
		case !strings.Contains(body, mailContact):
			t.Errorf("mail %q: the %s part does not name the contact %s:\n%s", m.Subject, part, mailContact, body)
		}
	}
	if !strings.Contains(m.HTML, `href="`+portal+`"`) {
		t.Errorf("mail %q: the HTML part does not link to the portal", m.Subject)
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("a secret of the test is empty")
		}
		if strings.Contains(string(m.Raw), s) || strings.Contains(m.Text, s) || strings.Contains(m.HTML, s) || strings.Contains(m.Subject, s) {
			t.Errorf("mail %q to %v holds a secret (%d bytes)", m.Subject, m.To, len(s))
		}
	}
}

// TestEvents_MailExpiring: an account 6 days from its end mails its two
// admins, not its member, once; moved to 20 hours from its end it mails
// them once more; a token 20 hours from its end mails its owner once; an
// account renewed before any threshold mails nobody. Every mail has both
// parts, the portal and the contact, and no secret.
func TestEvents_MailExpiring(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts, ms, _ := startMailServer(t, b)
		now := time.Now()
		// Made first: the sweeps that find Acme have seen it 40 days from
		// its end, which is no threshold yet.
		renewed := ts.newMailAccount("Renewed", now.Add(40*24*time.Hour))
		acme := ts.newMailAccount("Acme", now.Add(6*24*time.Hour))
		var soon, long map[string]any
		ts.mustCLI(&soon, "token", "create", "--email", acme.member, "--name", "ci-deploy", "--expires-in", "20h")
		ts.mustCLI(&long, "token", "create", "--email", acme.admins[0], "--name", "long")
		secrets := []string{acme.partnerToken, renewed.partnerToken, opStr(soon, "token"), opStr(long, "token")}

		week := "Acme: your API access expires in 6 days"
		token := `Acme: your API token "ci-deploy" expires in 1 day`
		ms.WaitFor(t, 3, mailWait)
		settle()
		wantMails(t, ms.Messages(), map[string][]string{
			acme.admins[0]: {week}, acme.admins[1]: {week}, acme.member: {token},
		})
		if t.Failed() {
			t.FailNow()
		}
		// Renewed before any threshold: it is told nothing, now or later.
		ts.mustCLI(nil, "account", "renew", renewed.id, "--expires", now.AddDate(1, 0, 0).UTC().Format(time.RFC3339))

		// A day from the end: the 1-day threshold is a new notice.
		_, err := ts.store().UpdateAccount(context.Background(), acme.id, func(a *autho.Account) error {
			a.ExpiresAt = time.Now().Add(20 * time.Hour).UTC()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		day := "Acme: your API access expires in 1 day"
		ms.WaitFor(t, 5, mailWait)
		settle()
		msgs := ms.Messages()
		wantMails(t, msgs, map[string][]string{
			acme.admins[0]: {week, day}, acme.admins[1]: {week, day}, acme.member: {token},
		})
		for _, m := range msgs {
			checkMail(t, ts, m, secrets)
			if strings.HasPrefix(m.Subject, "Acme: your API access") && !strings.Contains(m.Text, "renew") {
				t.Errorf("mail %q does not say to renew:\n%s", m.Subject, m.Text)
			}
		}
	})
}

// TestEvents_MailRetried: a mail the SMTP server refuses for now (451) is
// sent again, and arrives once.
func TestEvents_MailRetried(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts, ms, _ := startMailServer(t, b)
		ms.FailNext(1)
		var acc map[string]any
		ts.mustCLI(&acc, "account", "create", "--name", "Soon")
		ts.mustCLI(nil, "user", "create", "--account", opStr(acc, "id"), "--email", "admin@soon.example", "--role", "admin")
		ts.mustCLI(nil, "account", "renew", opStr(acc, "id"), "--expires", time.Now().Add(20*time.Hour).UTC().Format(time.RFC3339))

		ms.WaitFor(t, 1, mailWait)
		settle()
		msgs := ms.Messages()
		wantMails(t, msgs, map[string][]string{"admin@soon.example": {"Soon: your API access expires in 1 day"}})
		checkMail(t, ts, msgs[0], []string{opStr(acc, "partner_token")})
		ds, err := ts.store().Deliveries(context.Background(), autho.DeliveryFilter{Mail: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].State != autho.DeliveryDelivered || ds[0].Attempts != 2 {
			var got []string
			for _, d := range ds {
				got = append(got, fmt.Sprintf("%s %s after %d attempts", d.Email, d.State, d.Attempts))
			}
			t.Fatalf("mail deliveries %q, want one delivered after 2 attempts", got)
		}
	})
}
