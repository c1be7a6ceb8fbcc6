package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho/internal/webhook/webhooktest"
)

// wantCLIError checks a refused command: a non-zero exit and one
// "autho: " line on stderr holding msg; on stdout nothing, or with --json
// only {"error": that line}.
func wantCLIError(t *testing.T, stdout, stderr string, code int, msg string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "autho: ") || !strings.Contains(stderr, msg) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want a non-zero exit and one line holding %q", code, stdout, stderr, msg)
	}
	if stdout != "" {
		var m map[string]string
		if err := json.Unmarshal([]byte(stdout), &m); err != nil || len(m) != 1 || m["error"] != strings.TrimPrefix(lines[0], "autho: ") {
			t.Fatalf("stdout %q, want nothing or only {\"error\": %q}", stdout, strings.TrimPrefix(lines[0], "autho: "))
		}
	}
	if strings.Contains(stderr, "whsec_") {
		t.Fatalf("a secret in an error: %q", stderr)
	}
}

// cliDeliveries is the endpoint's deliveries, with their attempts, from
// `webhook deliveries --json`.
func cliDeliveries(ts *testServer, endpoint string) []map[string]any {
	ts.t.Helper()
	var ds struct{ Deliveries []map[string]any }
	ts.mustCLI(&ds, "webhook", "deliveries", endpoint)
	return ds.Deliveries
}

// cliWaitDelivery polls `webhook deliveries` until the endpoint's only
// delivery is in state; a bounded loop, failing after a minute.
func cliWaitDelivery(ts *testServer, endpoint, state string) map[string]any {
	ts.t.Helper()
	for range 600 {
		ds := cliDeliveries(ts, endpoint)
		if len(ds) > 1 {
			ts.t.Fatalf("endpoint %s has %d deliveries, want 1", endpoint, len(ds))
		}
		if len(ds) == 1 && opStr(ds[0], "state") == state {
			return ds[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	ts.t.Fatalf("the delivery to %s never became %s", endpoint, state)
	return nil
}

// TestWebhook_CLI: `autho webhook create`, `list`, `deliveries`, `retry`,
// `disable` and `delete` against a running server and real receivers, and
// each mistake one line with a non-zero exit; on both backends.
func TestWebhook_CLI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startEventsServer(t, b, webhookEnv())

		// One endpoint that fails its whole schedule, made first so that
		// the schedule runs out while the rest of the test runs.
		failing := webhooktest.NewReceiver(t, "")
		failing.FailFirst(8, http.StatusServiceUnavailable)
		failingID := newWebhook(ts, failing, "account.created")

		rc := webhooktest.NewReceiver(t, "")
		var w map[string]any
		ts.mustCLI(&w, "webhook", "create", "--url", rc.URL()+"/hook", "--event", "account.created", "--event", "account.suspended")
		id, sec := opStr(w, "id"), opStr(w, "secret")
		if !strings.HasPrefix(id, "whk_") || !strings.HasPrefix(sec, "whsec_") || opStr(w, "url") != rc.URL()+"/hook" || opStr(w, "status") != "enabled" {
			t.Fatalf("webhook create: %v", w)
		}
		if ev, _ := w["events"].([]any); len(ev) != 2 || ev[0] != "account.created" || ev[1] != "account.suspended" {
			t.Errorf("events %v", w["events"])
		}
		rc.SetSecret(t, sec)

		// Without --json: the line, and the secret once, after a warning.
		out, errs, code := ts.cli("webhook", "create", "--url", "https://192.0.2.1/human", "--event", "signing_key.rotated")
		if code != 0 || errs != "" || strings.Count(out, "whsec_") != 1 || !strings.Contains(out, "shown once") || !strings.Contains(out, "  signing_key.rotated  ") {
			t.Fatalf("webhook create: exit %d, %q, %q", code, out, errs)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "whsec_") {
				leaks.add(line)
			}
		}

		// The list: every endpoint, newest first, no secret.
		out, _, code = ts.cli("webhook", "list", "--json")
		var ws struct{ Webhooks []map[string]any }
		if err := json.Unmarshal([]byte(out), &ws); code != 0 || err != nil || len(ws.Webhooks) != 3 ||
			opStr(ws.Webhooks[1], "id") != id || opStr(ws.Webhooks[2], "id") != failingID || strings.Contains(out, "whsec_") {
			t.Fatalf("webhook list: %d %s", code, out)
		}
		out, _, _ = ts.cli("webhook", "list")
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], id+"  "+rc.URL()+"/hook  enabled") {
			t.Fatalf("webhook list: %q", out)
		}

		// An event reaches the receiver; its delivery and attempt are listed.
		ts.mustCLI(nil, "account", "create", "--name", "Hooked")
		got := rc.WaitFor(t, 1, 30*time.Second)
		d := cliWaitDelivery(ts, id, "delivered")
		as, _ := d["attempt_list"].([]any)
		if opStr(d, "event_id") != got[0].ID || len(as) != 1 || as[0].(map[string]any)["status"] != float64(200) {
			t.Fatalf("deliveries: %v", d)
		}
		dlv := opStr(d, "id")
		out, _, code = ts.cli("webhook", "deliveries", id)
		if code != 0 || !strings.Contains(out, dlv+"  event "+got[0].ID+"  to "+id+"  delivered  1 attempt(s)") || !strings.Contains(out, "attempt 1") || !strings.Contains(out, "status 200") {
			t.Fatalf("webhook deliveries: %q", out)
		}
		out, errs, code = ts.cli("webhook", "retry", dlv)
		wantCLIError(t, out, errs, code, "has not failed")

		// The failed one, sent again, is delivered.
		fd := cliWaitDelivery(ts, failingID, "failed")
		if fas, _ := fd["attempt_list"].([]any); len(fas) != 8 || fas[0].(map[string]any)["status"] != float64(503) {
			t.Fatalf("failed: %v", fd)
		}
		var retried map[string]any
		ts.mustCLI(&retried, "webhook", "retry", opStr(fd, "id"))
		if opStr(retried, "state") != "pending" || opStr(retried, "id") != opStr(fd, "id") {
			t.Fatalf("webhook retry: %v", retried)
		}
		failing.WaitFor(t, 1, 30*time.Second)
		fd = cliWaitDelivery(ts, failingID, "delivered")
		if fas, _ := fd["attempt_list"].([]any); len(fas) != 9 {
			t.Fatalf("retried: %v", fd)
		}

		// Disable, twice; then events pass it by.
		var dis map[string]any
		ts.mustCLI(&dis, "webhook", "disable", id)
		if opStr(dis, "status") != "disabled" || dis["disabled_at"] == nil {
			t.Fatalf("webhook disable: %v", dis)
		}
		var again map[string]any
		ts.mustCLI(&again, "webhook", "disable", id)
		if opStr(again, "status") != "disabled" || opStr(again, "disabled_at") != opStr(dis, "disabled_at") {
			t.Fatalf("disable again: %v, was %v", again, dis)
		}

		// Each mistake: one line, a non-zero exit, nothing changed.
		before := webhooksDump(ts)
		for _, tc := range []struct {
			name string
			args []string
			msg  string
		}{
			{"no url", []string{"webhook", "create"}, "--url"},
			{"not http", []string{"webhook", "create", "--url", "ftp://192.0.2.1/"}, "https:// or http://"},
			{"unknown event type", []string{"webhook", "create", "--url", "https://192.0.2.1/", "--event", "account.deleted"}, "account.deleted"},
			{"disable unknown", []string{"webhook", "disable", "whk_nope"}, "not found"},
			{"delete unknown", []string{"webhook", "delete", "whk_nope"}, "not found"},
			{"deliveries of unknown", []string{"webhook", "deliveries", "whk_nope"}, "not found"},
			{"retry unknown", []string{"webhook", "retry", "dlv_nope"}, "not found"},
			{"retry a delivered one", []string{"webhook", "retry", dlv}, "has not failed"},
			{"no id", []string{"webhook", "disable"}, "ID"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, args := range [][]string{tc.args, append(tc.args, "--json")} {
					out, errs, code := ts.cli(args...)
					wantCLIError(t, out, errs, code, tc.msg)
				}
				if after := webhooksDump(ts); after != before {
					t.Fatalf("a refused command changed something:\n%s\nwas\n%s", after, before)
				}
			})
		}

		// Delete: gone, with its deliveries.
		var del map[string]any
		ts.mustCLI(&del, "webhook", "delete", id)
		if opStr(del, "id") != id || del["deleted"] != true {
			t.Fatalf("webhook delete: %v", del)
		}
		out, _, _ = ts.cli("webhook", "list", "--json")
		if strings.Contains(out, id) {
			t.Fatalf("a deleted endpoint is listed: %s", out)
		}
		out, errs, code = ts.cli("webhook", "deliveries", id)
		wantCLIError(t, out, errs, code, "not found")
		out, errs, code = ts.cli("webhook", "delete", id)
		wantCLIError(t, out, errs, code, "not found")
	})
}

// TestWebhook_SSRFRefused (AC7): without AUTHO_WEBHOOK_ALLOW_PRIVATE, an
// endpoint on loopback, link-local (the cloud metadata address), a private
// network or a name that resolves to loopback is refused by the CLI and by
// the admin API, saying which setting would allow it, and nothing is made;
// with the setting, the CLI takes the same URL. On both backends.
func TestWebhook_SSRFRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		if _, set := ts.env["AUTHO_WEBHOOK_ALLOW_PRIVATE"]; set {
			t.Fatal("the server runs with AUTHO_WEBHOOK_ALLOW_PRIVATE")
		}
		k := newAdminKeys(ts)
		off := maps.Clone(ts.env)
		off["AUTHO_WEBHOOK_ALLOW_PRIVATE"] = "false"
		empty := webhooksDump(ts)
		for _, url := range []string{
			"http://127.0.0.1:9/",
			"http://169.254.169.254/latest/meta-data",
			"http://10.0.0.1/",
			"http://localhost:9/",
			"http://[::1]:9/",
		} {
			t.Run(url, func(t *testing.T) {
				out, errs, code := ts.cli("webhook", "create", "--url", url, "--json")
				wantCLIError(t, out, errs, code, "AUTHO_WEBHOOK_ALLOW_PRIVATE")
				r := runOp(t, ts.db, off, "", "webhook", "create", "--url", url)
				wantCLIError(t, r.stdout, r.stderr, r.code, "AUTHO_WEBHOOK_ALLOW_PRIVATE")

				res, m := ts.admin("POST", "/v1/admin/webhooks", k.rw, `{"url":"`+url+`"}`)
				wantProblem(t, res, m, 400, "url")
				if !strings.Contains(opStr(m, "detail"), "AUTHO_WEBHOOK_ALLOW_PRIVATE") {
					t.Errorf("detail %q does not name AUTHO_WEBHOOK_ALLOW_PRIVATE", opStr(m, "detail"))
				}
				if after := webhooksDump(ts); after != empty {
					t.Fatalf("a refused endpoint was made: %s", after)
				}
			})
		}
		_, m := ts.admin("GET", "/v1/admin/webhooks", k.ro, "")
		if items, _ := m["items"].([]any); len(items) != 0 {
			t.Fatalf("endpoints listed: %v", m["items"])
		}

		// The refusal is the setting's: with it, the same URL is taken.
		on := maps.Clone(ts.env)
		on["AUTHO_WEBHOOK_ALLOW_PRIVATE"] = "true"
		made := mustOpJSON(t, ts.db, on, "", "webhook", "create", "--url", "http://127.0.0.1:9/")
		leaks.add(opStr(made, "secret"))
		if !strings.HasPrefix(opStr(made, "id"), "whk_") {
			t.Fatalf("with AUTHO_WEBHOOK_ALLOW_PRIVATE: %v", made)
		}
	})
}
