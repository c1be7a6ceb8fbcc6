package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/webhook/webhooktest"
)

// leakURL is where githubKeys.report says the tokens were found.
const leakURL = "https://github.com/acme/app/blob/main/.env"

// sha256Hex is a token as the secret-scanning answer names it.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// badChecksum is tok with its last character, part of the checksum,
// changed: autho's shape but not autho's.
func badChecksum(tok string) string {
	last := tok[len(tok)-1]
	c := byte('A')
	if last == 'A' {
		c = 'B'
	}
	return tok[:len(tok)-1] + string(c)
}

// TestEvents_LeakReported: a signed report of a live API token, a live
// partner token, an unknown token and a checksum-invalid one answers each
// in order; the API token is revoked at once, the partner token only
// flagged; each leak is an api_token.leaked event, mail to the admins and
// an audit entry.
func TestEvents_LeakReported(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts, ms, gh := startMailServer(t, b)
		rc := webhooktest.NewReceiver(t, "")
		newWebhook(ts, rc, "api_token.leaked")
		acme := ts.newMailAccount("Acme", time.Now().AddDate(1, 0, 0))
		var leaked, kept map[string]any
		ts.mustCLI(&leaked, "token", "create", "--email", acme.member, "--name", "ci-deploy")
		ts.mustCLI(&kept, "token", "create", "--email", acme.admins[0], "--name", "kept")
		api, keep := opStr(leaked, "token"), opStr(kept, "token")
		unknown := secret.New(secret.APIToken)
		invalid := badChecksum(secret.New(secret.APIToken))
		if secret.Check(secret.APIToken, unknown) != nil || secret.Check(secret.APIToken, invalid) == nil {
			t.Fatal("the test's unknown and checksum-invalid tokens are not what they should be")
		}

		res := gh.report(ts, api, acme.partnerToken, unknown, invalid)
		body, err := readAll(res)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 {
			t.Fatalf("report: %d %s", res.StatusCode, body)
		}
		// Revoked at once: before any mail or webhook.
		wantError(t, ts.login(api, acme.partnerToken), 401, "04")
		// Flagged, not revoked: the account still logs in.
		wantSuccess(t, ts.login(keep, acme.partnerToken))

		var answer []map[string]string
		if err := json.Unmarshal(body, &answer); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		want := []map[string]string{
			{"token_hash": sha256Hex(api), "token_type": "autho_api_token", "label": "true_positive"},
			{"token_hash": sha256Hex(acme.partnerToken), "token_type": "autho_api_token", "label": "true_positive"},
			{"token_hash": sha256Hex(unknown), "token_type": "autho_api_token", "label": "false_positive"},
			{"token_hash": sha256Hex(invalid), "token_type": "autho_api_token", "label": "false_positive"},
		}
		if !slices.EqualFunc(answer, want, func(a, b map[string]string) bool {
			return len(a) == len(b) && a["token_hash"] == b["token_hash"] && a["token_type"] == b["token_type"] && a["label"] == b["label"]
		}) {
			t.Errorf("answer %s,\nwant %v", body, want)
		}
		for _, a := range answer {
			if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a["token_hash"]) {
				t.Errorf("token_hash %q is not lowercase hex SHA-256", a["token_hash"])
			}
		}

		// The events: one per leak, with its kind.
		rc.WaitFor(t, 2, mailWait)
		ms.WaitFor(t, 5, mailWait)
		settle()
		kinds := map[string]map[string]any{}
		for _, d := range rc.Unique() {
			var ev struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			}
			if err := json.Unmarshal(d.Body, &ev); err != nil || ev.Type != "api_token.leaked" {
				t.Fatalf("webhook %s: %v", d.Body, err)
			}
			k := opStr(ev.Data, "kind")
			if kinds[k] != nil {
				t.Errorf("two api_token.leaked events of kind %q", k)
			}
			kinds[k] = ev.Data
			for _, s := range []string{api, acme.partnerToken} {
				if strings.Contains(string(d.Body), s) {
					t.Errorf("the %s event holds the token", k)
				}
			}
			if opStr(ev.Data, "account_id") != acme.id || opStr(ev.Data, "url") != leakURL {
				t.Errorf("%s event: account_id %v, url %v; want %s, %s", k, ev.Data["account_id"], ev.Data["url"], acme.id, leakURL)
			}
		}
		if tok, _ := kinds["api_token"]["api_token"].(map[string]any); opStr(tok, "id") != opStr(leaked, "id") || opStr(tok, "hint") != secret.Hint(api) {
			t.Errorf("api_token.leaked of kind api_token: %v, want token %s", kinds["api_token"], opStr(leaked, "id"))
		}
		if acc, _ := kinds["partner_token"]["account"].(map[string]any); opStr(acc, "partner_token_hint") != secret.Hint(acme.partnerToken) {
			t.Errorf("api_token.leaked of kind partner_token: %v, want the account with the token's hint", kinds["partner_token"])
		}

		// The mail: each admin hears of both leaks, the owner of the
		// revocation.
		apiLeak := `Acme: API token "ci-deploy" was found in public and revoked`
		ptnLeak := "Acme: your partner token was found in public"
		wantMails(t, ms.Messages(), map[string][]string{
			acme.admins[0]: {apiLeak, ptnLeak},
			acme.admins[1]: {apiLeak, ptnLeak},
			acme.member:    {`Acme: your API token "ci-deploy" was revoked`},
		})
		for _, m := range ms.Messages() {
			checkMail(t, ts, m, []string{api, keep, acme.partnerToken})
			hint := secret.Hint(api)
			if m.Subject == ptnLeak {
				hint = secret.Hint(acme.partnerToken)
			}
			if m.Subject == apiLeak || m.Subject == ptnLeak {
				for _, s := range []string{"found in a public place", leakURL, hint} {
					if !strings.Contains(m.Text, s) || !strings.Contains(m.HTML, s) {
						t.Errorf("mail %q does not say %q:\n%s\n%s", m.Subject, s, m.Text, m.HTML)
					}
				}
			}
		}

		// The audit: both leaks, and the revocation, by secret scanning.
		es, err := ts.store().AuditEvents(context.Background(), autho.AuditFilter{AccountID: acme.id})
		if err != nil {
			t.Fatal(err)
		}
		got := map[autho.AuditAction]string{}
		for _, e := range es {
			if e.ActorID == "operator:secret-scanning" {
				got[e.Action] = e.TargetID
			}
		}
		wantAudit := map[autho.AuditAction]string{
			autho.AuditTokenRevoke:        opStr(leaked, "id"),
			autho.AuditTokenLeaked:        opStr(leaked, "id"),
			autho.AuditPartnerTokenLeaked: acme.id,
		}
		if len(got) != len(wantAudit) {
			t.Errorf("audit by secret scanning %v, want %v", got, wantAudit)
		}
		for a, target := range wantAudit {
			if got[a] != target {
				t.Errorf("audit %s: target %q, want %q", a, got[a], target)
			}
		}
	})
}

// TestEvents_LeakUnverified: a report with a signature that does not
// match, none, one that is not base64, or one by a key GitHub does not
// publish answers 401 and changes nothing: no revocation, no event, no
// mail, no audit.
func TestEvents_LeakUnverified(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts, ms, gh := startMailServer(t, b)
		rc := webhooktest.NewReceiver(t, "")
		newWebhook(ts, rc, "api_token.leaked")
		acme := ts.newMailAccount("Acme", time.Now().AddDate(1, 0, 0))
		var tok map[string]any
		ts.mustCLI(&tok, "token", "create", "--email", acme.member, "--name", "ci-deploy")
		api := opStr(tok, "token")
		other := newGitHubKeys(t) // same key id, another key, not published

		body, _ := json.Marshal([]map[string]string{
			{"token": api, "type": "autho_api_token", "url": leakURL, "source": "content"},
			{"token": acme.partnerToken, "type": "autho_api_token", "url": leakURL, "source": "content"},
		})
		sign := func(k *ecdsa.PrivateKey, b []byte) string {
			sum := sha256.Sum256(b)
			sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
			if err != nil {
				t.Fatal(err)
			}
			return base64.StdEncoding.EncodeToString(sig)
		}
		state := func() string {
			t.Helper()
			tokens, _, code := ts.cli("token", "list", "--json")
			accounts, _, code2 := ts.cli("account", "list", "--json")
			if code != 0 || code2 != 0 {
				t.Fatalf("token list: %d, account list: %d", code, code2)
			}
			es, err := ts.store().AuditEvents(context.Background(), autho.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return tokens + accounts + "audit entries: " + strconv.Itoa(len(es))
		}
		before := state()

		for _, c := range []struct {
			name, keyID, sig string
		}{
			{"signature of another body", gh.id, sign(gh.key, append([]byte(" "), body...))},
			{"no signature", gh.id, ""},
			{"no key id", "", sign(gh.key, body)},
			{"signature not base64", gh.id, "not*base64"},
			{"signed by another key", other.id, sign(other.key, body)},
		} {
			h := []string{"Github-Public-Key-Identifier", c.keyID}
			if c.sig != "" {
				h = append(h, "Github-Public-Key-Signature", c.sig)
			}
			r := ts.do("POST", "/v1/autho/secret-scanning", "application/json", strings.NewReader(string(body)), h...)
			if r.Status != 401 {
				t.Errorf("%s: %d %s, want 401", c.name, r.Status, r.Body)
			}
			if strings.Contains(string(r.Body), "true_positive") {
				t.Errorf("%s: answered %s", c.name, r.Body)
			}
		}

		settle()
		if after := state(); after != before {
			t.Errorf("refused reports changed the state:\nbefore %s\nafter  %s", before, after)
		}
		wantSuccess(t, ts.login(api, acme.partnerToken))
		if n := len(rc.Deliveries()); n != 0 {
			t.Errorf("%d api_token.leaked webhooks after refused reports", n)
		}
		if msgs := ms.Messages(); len(msgs) != 0 {
			t.Errorf("%d mails after refused reports: first %q", len(msgs), msgs[0].Subject)
		}
	})
}

// TestEvents_LeakReportedAtOnce: GitHub may send one leak in several
// reports at the same moment (a retry crossing the first, two repositories
// holding the token). 10 parallel reports of one live API token and one
// live partner token revoke the token once and flag the partner token
// once: one api_token.leaked event of each kind, one api_token.revoked,
// and each person mailed once per event.
func TestEvents_LeakReportedAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts, ms, gh := startMailServer(t, b)
		rc := webhooktest.NewReceiver(t, "")
		newWebhook(ts, rc, "api_token.leaked", "api_token.revoked")
		acme := ts.newMailAccount("Acme", time.Now().AddDate(1, 0, 0))
		var leaked map[string]any
		ts.mustCLI(&leaked, "token", "create", "--email", acme.member, "--name", "ci-deploy")
		api := opStr(leaked, "token")

		const reports = 10
		statuses := make(chan int, reports)
		var wg sync.WaitGroup
		for range reports {
			wg.Go(func() {
				res, err := gh.post(ts.url, api, acme.partnerToken)
				if err != nil {
					statuses <- 0
					return
				}
				res.Body.Close()
				statuses <- res.StatusCode
			})
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			if s != 200 {
				t.Fatalf("a report answered %d, want 200", s)
			}
		}
		// The revocation, the API token's leak, the partner token's leak.
		rc.WaitFor(t, 3, 20*time.Second)
		// Two admins mailed of each leak, the owner of the revocation.
		ms.WaitFor(t, 5, 20*time.Second)
		settle()
		got := map[string]int{}
		for _, d := range rc.Unique() {
			var ev struct {
				Type string
				Data struct{ Kind string }
			}
			json.Unmarshal(d.Body, &ev)
			got[ev.Type+" "+ev.Data.Kind]++
		}
		want := map[string]int{"api_token.revoked ": 1, "api_token.leaked api_token": 1, "api_token.leaked partner_token": 1}
		if !maps.Equal(got, want) {
			t.Errorf("events of 10 reports at once: %v, want %v", got, want)
		}
		if n := len(ms.Messages()); n != 5 {
			t.Errorf("%d mails, want 5 (each person once per event)", n)
		}
		wantError(t, ts.login(api, acme.partnerToken), 401, "04")
	})
}
