package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/webhook/webhooktest"
)

// webhookEnv is eventsEnv with retry waits so short that a delivery's
// whole schedule of eight attempts runs out in seconds, yet an endpoint's
// five days of failing (before it is disabled) stay tens of seconds long.
func webhookEnv() map[string]string {
	env := eventsEnv("off")
	env["AUTHO_DELIVERY_TIME_SCALE"] = "0.00005"
	return env
}

// webhooksDump is what the webhook routes could have changed: the
// endpoints and each one's deliveries, from the CLI.
func webhooksDump(ts *testServer) string {
	ts.t.Helper()
	out, errs, code := ts.cli("webhook", "list", "--json")
	if code != 0 {
		ts.t.Fatalf("webhook list: %s", errs)
	}
	var ws struct{ Webhooks []map[string]any }
	json.Unmarshal([]byte(out), &ws)
	for _, w := range ws.Webhooks {
		d, errs, code := ts.cli("webhook", "deliveries", opStr(w, "id"), "--json")
		if code != 0 {
			ts.t.Fatalf("webhook deliveries: %s", errs)
		}
		out += d
	}
	return out
}

// waitDelivery polls the admin API until the delivery is in state, and
// returns it with its attempts; a bounded loop, failing after a minute.
func waitDelivery(ts *testServer, key, id, state string) map[string]any {
	ts.t.Helper()
	for range 600 {
		r, m := ts.admin("GET", "/v1/admin/deliveries/"+id, key, "")
		if r.Status != 200 {
			ts.t.Fatalf("get delivery %s: %d %s", id, r.Status, r.Body)
		}
		if opStr(m, "state") == state {
			return m
		}
		time.Sleep(100 * time.Millisecond)
	}
	ts.t.Fatalf("delivery %s never became %s", id, state)
	return nil
}

// onlyDelivery is the one delivery the endpoint has, through the API.
func onlyDelivery(ts *testServer, key, endpoint string) map[string]any {
	ts.t.Helper()
	for range 100 {
		r, m := ts.admin("GET", "/v1/admin/webhooks/"+endpoint+"/deliveries", key, "")
		if r.Status != 200 {
			ts.t.Fatalf("deliveries of %s: %d %s", endpoint, r.Status, r.Body)
		}
		items, _ := m["items"].([]any)
		if len(items) > 1 {
			ts.t.Fatalf("endpoint %s has %d deliveries, want 1: %s", endpoint, len(items), r.Body)
		}
		if len(items) == 1 {
			return items[0].(map[string]any)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.t.Fatalf("endpoint %s has no delivery", endpoint)
	return nil
}

// settled waits until the endpoint has n deliveries, none pending.
func settled(ts *testServer, key, endpoint string, n int) {
	ts.t.Helper()
	for range 600 {
		_, m := ts.admin("GET", "/v1/admin/webhooks/"+endpoint+"/deliveries", key, "")
		items, _ := m["items"].([]any)
		done := len(items) == n
		for _, it := range items {
			done = done && opStr(it.(map[string]any), "state") != "pending"
		}
		if done {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.t.Fatalf("endpoint %s never had %d settled deliveries", endpoint, n)
}

// TestAdminAPI_Webhooks: every webhook and delivery route of the admin
// API, each success and each refusal the SPEC lists, with nothing changed
// by a refusal and every change in the audit log under the key's name; on
// both backends.
func TestAdminAPI_Webhooks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startEventsServer(t, b, webhookEnv())
		k := newAdminKeys(ts)

		// An endpoint that fails every attempt of the schedule, made first
		// so that its schedule runs out while the rest of the test runs.
		failing := webhooktest.NewReceiver(t, "")
		failing.FailFirst(8, http.StatusInternalServerError)
		r, m := ts.admin("POST", "/v1/admin/webhooks", k.rw, `{"url":"`+failing.URL()+`/fail","events":["user.created"]}`)
		if r.Status != http.StatusCreated {
			t.Fatalf("create the failing endpoint: %d %s", r.Status, r.Body)
		}
		failingID := opStr(m, "id")
		failing.SetSecret(t, opStr(m, "secret"))
		leaks.add(opStr(m, "secret"))

		// Create: 201 with the secret, this once.
		rc := webhooktest.NewReceiver(t, "")
		r, m = ts.admin("POST", "/v1/admin/webhooks", k.rw, `{"url":"`+rc.URL()+`/hook","events":["account.created","account.created"]}`)
		if r.Status != http.StatusCreated || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("create: %d %v: %s", r.Status, r.Header, r.Body)
		}
		id, sec := opStr(m, "id"), opStr(m, "secret")
		leaks.add(sec)
		if !strings.HasPrefix(id, "whk_") || !strings.HasPrefix(sec, "whsec_") || opStr(m, "url") != rc.URL()+"/hook" ||
			opStr(m, "status") != "enabled" || m["disabled_at"] != nil || m["secret_shown"] != nil {
			t.Fatalf("create answered %v", m)
		}
		if ev, _ := m["events"].([]any); !slices.Equal(ev, []any{"account.created"}) {
			t.Errorf("events %v, want [account.created] once", m["events"])
		}
		rc.SetSecret(t, sec)

		r, m = ts.admin("GET", "/v1/admin/webhooks/"+id, k.ro, "")
		if r.Status != 200 || opStr(m, "id") != id || m["secret"] != nil || strings.Contains(string(r.Body), sec) {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}

		// An Idempotency-Key replay makes nothing and shows no secret.
		quiet := `{"url":"https://192.0.2.1/quiet","events":["signing_key.rotated"]}`
		r1, m1 := ts.admin("POST", "/v1/admin/webhooks", k.rw, quiet, "Idempotency-Key", "hook-1")
		if r1.Status != http.StatusCreated || !strings.HasPrefix(opStr(m1, "secret"), "whsec_") {
			t.Fatalf("create with a key: %d %s", r1.Status, r1.Body)
		}
		leaks.add(opStr(m1, "secret"))
		r, m = ts.admin("POST", "/v1/admin/webhooks", k.rw, quiet, "Idempotency-Key", "hook-1")
		if r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "true" || opStr(m, "id") != opStr(m1, "id") ||
			m["secret"] != nil || m["secret_shown"] != false || strings.Contains(string(r.Body), "whsec_") {
			t.Fatalf("replay: %d %v %s", r.Status, r.Header, r.Body)
		}

		// Every type when none is given.
		every := webhooktest.NewReceiver(t, "")
		r, m = ts.admin("POST", "/v1/admin/webhooks", k.rw, `{"url":"`+every.URL()+`/all"}`)
		if ev, ok := m["events"].([]any); r.Status != http.StatusCreated || !ok || len(ev) != 0 {
			t.Fatalf("create for every type: %d %s", r.Status, r.Body)
		}
		everyID := opStr(m, "id")
		every.SetSecret(t, opStr(m, "secret"))
		leaks.add(opStr(m, "secret"))

		// The list, in pages, newest first, without secrets.
		var listed []string
		cursor := ""
		for page := 0; ; page++ {
			if page > 4 {
				t.Fatal("more pages than four endpoints make")
			}
			path := "/v1/admin/webhooks?limit=3"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			r, m = ts.admin("GET", path, k.ro, "")
			if r.Status != 200 || strings.Contains(string(r.Body), "whsec_") {
				t.Fatalf("list page %d: %d %s", page, r.Status, r.Body)
			}
			for _, it := range m["items"].([]any) {
				listed = append(listed, opStr(it.(map[string]any), "id"))
			}
			next, _ := m["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if want := []string{everyID, opStr(m1, "id"), id, failingID}; !slices.Equal(listed, want) {
			t.Errorf("listed %v, want newest first %v", listed, want)
		}

		// An event reaches the endpoint; its delivery and attempt are
		// listed.
		var acc map[string]any
		ts.mustCLI(&acc, "account", "create", "--name", "Hooked")
		got := rc.WaitFor(t, 1, 30*time.Second)
		if got[0].Type != "account.created" {
			t.Fatalf("the receiver got %s", got[0].Type)
		}
		d := onlyDelivery(ts, k.ro, id)
		dlv := opStr(d, "id")
		if !strings.HasPrefix(dlv, "dlv_") || opStr(d, "event_id") != got[0].ID || opStr(d, "endpoint_id") != id || d["attempt_list"] != nil {
			t.Fatalf("delivery listed as %v", d)
		}
		d = waitDelivery(ts, k.ro, dlv, "delivered")
		as, _ := d["attempt_list"].([]any)
		if len(as) != 1 || d["attempts"] != float64(1) || d["done_at"] == nil || d["next_attempt_at"] != nil {
			t.Fatalf("delivered: %v", d)
		}
		if a := as[0].(map[string]any); a["n"] != float64(1) || a["status"] != float64(200) || opStr(a, "error") != "" {
			t.Fatalf("attempt %v", a)
		}

		// A failed delivery is sent again at once, and delivered.
		ts.mustCLI(nil, "user", "create", "--account", opStr(acc, "id"), "--email", "ops@hooked.example")
		fd := onlyDelivery(ts, k.ro, failingID)
		fd = waitDelivery(ts, k.ro, opStr(fd, "id"), "failed")
		if fas, _ := fd["attempt_list"].([]any); len(fas) != 8 || fd["attempts"] != float64(8) {
			t.Fatalf("failed after %d attempts: %v", len(fas), fd)
		} else if a := fas[7].(map[string]any); a["status"] != float64(500) || opStr(a, "error") == "" {
			t.Fatalf("the last attempt %v", a)
		}
		r, m = ts.admin("POST", "/v1/admin/deliveries/"+opStr(fd, "id")+"/retry", k.rw, "")
		if r.Status != 200 || opStr(m, "state") != "pending" || opStr(m, "id") != opStr(fd, "id") {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
		failing.WaitFor(t, 1, 30*time.Second)
		fd = waitDelivery(ts, k.ro, opStr(fd, "id"), "delivered")
		if fas, _ := fd["attempt_list"].([]any); len(fas) != 9 || fas[8].(map[string]any)["status"] != float64(200) {
			t.Fatalf("retried: %v", fd)
		}

		// The endpoint for every type has both events, recorded, before it
		// is disabled: the dump below must not move on its own.
		every.WaitFor(t, 2, 30*time.Second)
		settled(ts, k.ro, everyID, 2)

		// Disable, twice.
		r, m = ts.admin("POST", "/v1/admin/webhooks/"+everyID+"/disable", k.rw, "")
		if r.Status != 200 || opStr(m, "status") != "disabled" || m["disabled_at"] == nil {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		disabledAt := opStr(m, "disabled_at")
		r, m = ts.admin("POST", "/v1/admin/webhooks/"+everyID+"/disable", k.rw, "{}")
		if r.Status != 200 || opStr(m, "status") != "disabled" || opStr(m, "disabled_at") != disabledAt {
			t.Fatalf("disable again: %d %s", r.Status, r.Body)
		}

		// Each refusal changes nothing.
		before := webhooksDump(ts)
		for _, tc := range []struct {
			name, method, path, key, body, ct string
			header                            []string
			status                            int
			field                             string
		}{
			{"no key", "POST", "/v1/admin/webhooks", "", quiet, "", nil, 401, ""},
			{"unknown key", "GET", "/v1/admin/webhooks", secret.New(secret.OperatorKey), "", "", nil, 401, ""},
			{"revoked key", "GET", "/v1/admin/webhooks/" + id, k.revoked, "", "", nil, 401, ""},
			{"read-only key creates", "POST", "/v1/admin/webhooks", k.ro, quiet, "", nil, 403, ""},
			{"read-only key disables", "POST", "/v1/admin/webhooks/" + id + "/disable", k.ro, "", "", nil, 403, ""},
			{"read-only key deletes", "DELETE", "/v1/admin/webhooks/" + id, k.ro, "", "", nil, 403, ""},
			{"read-only key retries", "POST", "/v1/admin/deliveries/" + dlv + "/retry", k.ro, "", "", nil, 403, ""},
			{"not JSON", "POST", "/v1/admin/webhooks", k.rw, "url=https://192.0.2.1/", "application/x-www-form-urlencoded", nil, 415, ""},
			{"no url", "POST", "/v1/admin/webhooks", k.rw, `{}`, "", nil, 400, "url"},
			{"not http", "POST", "/v1/admin/webhooks", k.rw, `{"url":"ftp://192.0.2.1/"}`, "", nil, 400, "url"},
			{"not a URL", "POST", "/v1/admin/webhooks", k.rw, `{"url":"hooks example"}`, "", nil, 400, "url"},
			{"a password in the URL", "POST", "/v1/admin/webhooks", k.rw, `{"url":"https://u:p@192.0.2.1/"}`, "", nil, 400, "url"},
			{"url not a string", "POST", "/v1/admin/webhooks", k.rw, `{"url":7}`, "", nil, 400, "url"},
			{"unknown event type", "POST", "/v1/admin/webhooks", k.rw, `{"url":"https://192.0.2.1/","events":["account.deleted"]}`, "", nil, 400, "events"},
			{"events not a list", "POST", "/v1/admin/webhooks", k.rw, `{"url":"https://192.0.2.1/","events":"account.created"}`, "", nil, 400, "events"},
			{"unknown field", "POST", "/v1/admin/webhooks", k.rw, `{"url":"https://192.0.2.1/","event":["account.created"]}`, "", nil, 400, "event"},
			{"a body on disable", "POST", "/v1/admin/webhooks/" + id + "/disable", k.rw, `{"really":true}`, "", nil, 400, "really"},
			{"a body on retry", "POST", "/v1/admin/deliveries/" + dlv + "/retry", k.rw, `{"now":true}`, "", nil, 400, "now"},
			{"key reused with another body", "POST", "/v1/admin/webhooks", k.rw, `{"url":"https://192.0.2.1/other"}`, "", []string{"Idempotency-Key", "hook-1"}, 422, "Idempotency-Key"},
			{"unknown webhook", "GET", "/v1/admin/webhooks/whk_nope", k.ro, "", "", nil, 404, "webhook"},
			{"not a webhook id", "GET", "/v1/admin/webhooks/" + dlv, k.ro, "", "", nil, 404, "webhook"},
			{"disable unknown", "POST", "/v1/admin/webhooks/whk_nope/disable", k.rw, "", "", nil, 404, "webhook"},
			{"delete unknown", "DELETE", "/v1/admin/webhooks/whk_nope", k.rw, "", "", nil, 404, "webhook"},
			{"deliveries of unknown", "GET", "/v1/admin/webhooks/whk_nope/deliveries", k.ro, "", "", nil, 404, "webhook"},
			{"unknown delivery", "GET", "/v1/admin/deliveries/dlv_nope", k.ro, "", "", nil, 404, "delivery"},
			{"retry unknown", "POST", "/v1/admin/deliveries/dlv_nope/retry", k.rw, "", "", nil, 404, "delivery"},
			{"retry a delivered one", "POST", "/v1/admin/deliveries/" + dlv + "/retry", k.rw, "", "", nil, 409, "delivery"},
			{"list limit too big", "GET", "/v1/admin/webhooks?limit=501", k.ro, "", "", nil, 400, "limit"},
			{"forged cursor", "GET", "/v1/admin/webhooks/" + id + "/deliveries?cursor=bm90LWEtY3Vyc29y", k.ro, "", "", nil, 400, "cursor"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ct := tc.ct
				if ct == "" && tc.body != "" {
					ct = "application/json"
				}
				r, m := ts.adminCT(tc.method, tc.path, tc.key, ct, tc.body, tc.header...)
				wantProblem(t, r, m, tc.status, tc.field)
				if tc.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without WWW-Authenticate: Bearer")
				}
				if strings.Contains(string(r.Body), "whsec_") {
					t.Errorf("a secret in a problem: %s", r.Body)
				}
				if after := webhooksDump(ts); after != before {
					t.Fatalf("a refused request changed something:\n%s\nwas\n%s", after, before)
				}
			})
		}

		// Delete: 204, then it is gone, deliveries and all.
		r, _ = ts.admin("DELETE", "/v1/admin/webhooks/"+id, k.rw, "")
		if r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		r, m = ts.admin("GET", "/v1/admin/webhooks/"+id, k.ro, "")
		wantProblem(t, r, m, 404, "webhook")
		r, m = ts.admin("DELETE", "/v1/admin/webhooks/"+id, k.rw, "")
		wantProblem(t, r, m, 404, "webhook")
		r, m = ts.admin("GET", "/v1/admin/webhooks/"+id+"/deliveries", k.ro, "")
		wantProblem(t, r, m, 404, "webhook")
		r, m = ts.admin("GET", "/v1/admin/deliveries/"+dlv, k.ro, "")
		wantProblem(t, r, m, 404, "delivery")

		// Every change is in the audit log, by the key's name.
		_, m = ts.admin("GET", "/v1/admin/audit?limit=500", k.ro, "")
		want := map[string]string{
			"webhook.create " + id: "", "webhook.create " + everyID: "", "webhook.create " + opStr(m1, "id"): "",
			"webhook.disable " + everyID: "", "webhook.delete " + id: "", "delivery.retry " + opStr(fd, "id"): "",
		}
		counts := map[string]int{}
		for _, it := range m["items"].([]any) {
			e := it.(map[string]any)
			key := opStr(e, "action") + " " + opStr(e, "target_id")
			if _, ok := want[key]; ok {
				counts[key]++
				if opStr(e, "actor") != "operator:crm" {
					t.Errorf("%s by %s, want operator:crm", key, opStr(e, "actor"))
				}
			}
		}
		for key := range want {
			// Disabling twice is one change; the replay made nothing.
			if counts[key] != 1 {
				t.Errorf("%s: %d audit entries, want 1", key, counts[key])
			}
		}
	})
}
