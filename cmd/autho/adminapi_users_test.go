package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/password"
)

// peopleDump is what the users and tokens routes could have changed, from
// the CLI: the accounts and operator keys, the users of each account named,
// and every token.
func peopleDump(ts *testServer, accountIDs ...string) string {
	ts.t.Helper()
	var b strings.Builder
	b.WriteString(accountsDump(ts))
	for _, id := range accountIDs {
		out, errs, code := ts.cli("user", "list", "--account", id, "--json")
		if code != 0 {
			ts.t.Fatalf("user list: %s", errs)
		}
		b.WriteString(out)
	}
	out, errs, code := ts.cli("token", "list", "--json")
	if code != 0 {
		ts.t.Fatalf("token list: %s", errs)
	}
	// A token's last use is recorded a little after a login: not a
	// change the admin API made.
	var tks struct{ Tokens []map[string]any }
	json.Unmarshal([]byte(out), &tks)
	for _, tk := range tks.Tokens {
		delete(tk, "last_used_at")
		delete(tk, "last_used_ip")
	}
	j, _ := json.Marshal(tks)
	b.Write(j)
	return b.String()
}

// wantKeys checks an answer has exactly the members named.
func wantKeys(t *testing.T, m map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Fatalf("answer has %v, want exactly %v: %v", got, keys, m)
	}
}

// wantJSON checks a success's status and headers; secret answers must not
// be cached (every admin answer is no-store, so it is checked always).
func wantJSON(t *testing.T, r *response, status int) {
	t.Helper()
	if r.Status != status || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, %s, Cache-Control %q: %s; want %d application/json, no-store", r.Status,
			r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"), r.Body, status)
	}
}

var userKeys = []string{"id", "account_id", "email", "role", "active", "created_at", "updated_at"}

// operatorActions counts the audit events of an account made by the crm
// key, by action.
func operatorActions(t *testing.T, ts *testServer, accountID string) map[autho.AuditAction]int {
	t.Helper()
	es, err := ts.store().AuditEvents(t.Context(), autho.AuditFilter{AccountID: accountID})
	if err != nil {
		t.Fatal(err)
	}
	n := map[autho.AuditAction]int{}
	for _, e := range es {
		if e.ActorID == "operator:crm" {
			n[e.Action]++
		}
	}
	return n
}

// TestAdminAPI_Users: adding, listing and changing users and resetting a
// password, each success and each refusal, with nothing changed by a
// refusal and every change audited as the key; on both backends.
func TestAdminAPI_Users(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		k := newAdminKeys(ts)
		var acc map[string]any
		ts.mustCLI(&acc, "account", "create", "--name", "People Ltd")
		accID := opStr(acc, "id")
		users := "/v1/admin/accounts/" + accID + "/users"

		r, m := ts.admin("POST", users, k.rw, `{"email":"Ann@People.example"}`)
		wantJSON(t, r, http.StatusCreated)
		wantKeys(t, m, append(userKeys, "password", "secret")...)
		ann, pw := opStr(m, "id"), opStr(m, "password")
		leaks.add(pw)
		if !strings.HasPrefix(ann, "usr_") || opStr(m, "account_id") != accID || opStr(m, "email") != "Ann@People.example" ||
			opStr(m, "role") != "member" || m["active"] != true || opStr(m, "secret") != pw || password.Validate(pw) != nil {
			t.Fatalf("create answered %v", m)
		}
		opTime(t, m, "created_at")
		portalSignInHTTP(t, ts, portalUser{email: "ann@people.example", password: pw})

		const bossPW = "the boss's own pass phrase"
		leaks.add(bossPW)
		r, m = ts.admin("POST", users, k.rw, `{"email":"boss@people.example","role":"admin","password":"`+bossPW+`"}`)
		wantJSON(t, r, http.StatusCreated)
		wantKeys(t, m, userKeys...) // a password given is not a secret to show
		boss := opStr(m, "id")
		if opStr(m, "role") != "admin" {
			t.Fatalf("create with a role answered %v", m)
		}
		portalSignInHTTP(t, ts, portalUser{email: "boss@people.example", password: bossPW})

		// Pages, newest first, read with a read-only key.
		r, m = ts.admin("GET", users+"?limit=1", k.ro, "")
		wantJSON(t, r, http.StatusOK)
		items, _ := m["items"].([]any)
		next, _ := m["next_cursor"].(string)
		if len(items) != 1 || opStr(items[0].(map[string]any), "id") != boss || next == "" {
			t.Fatalf("first page: %s", r.Body)
		}
		wantKeys(t, items[0].(map[string]any), userKeys...)
		r, m = ts.admin("GET", users+"?limit=1&cursor="+next, k.ro, "")
		items, _ = m["items"].([]any)
		if r.Status != 200 || len(items) != 1 || opStr(items[0].(map[string]any), "id") != ann || m["next_cursor"] != nil {
			t.Fatalf("last page: %s", r.Body)
		}

		// Roles and activity; the same role again changes nothing.
		p := ts.newToken("ann@people.example")
		leaks.add(p.APIToken)
		ptn := opStr(acc, "partner_token")
		wantSuccess(t, ts.login(p.APIToken, ptn))
		r, m = ts.admin("PATCH", "/v1/admin/users/"+ann, k.rw, `{"role":"admin"}`)
		wantJSON(t, r, http.StatusOK)
		wantKeys(t, m, userKeys...)
		if opStr(m, "role") != "admin" || m["active"] != true {
			t.Fatalf("patch role: %v", m)
		}
		r, m = ts.admin("PATCH", "/v1/admin/users/"+ann, k.rw, `{"role":"admin"}`)
		if r.Status != 200 || opStr(m, "role") != "admin" {
			t.Fatalf("patch to the same role: %d %s", r.Status, r.Body)
		}
		r, m = ts.admin("PATCH", "/v1/admin/users/"+ann, k.rw, `{"active":false,"role":"member"}`)
		if r.Status != 200 || opStr(m, "role") != "member" || m["active"] != false {
			t.Fatalf("patch both: %d %s", r.Status, r.Body)
		}
		wantError(t, ts.login(p.APIToken, ptn), 403, "07")
		if status, _ := portalPost(t, ts, "192.0.2.1", "ann@people.example", pw); status == http.StatusSeeOther {
			t.Fatal("a deactivated user signed in to the portal")
		}
		r, m = ts.admin("PATCH", "/v1/admin/users/"+ann, k.rw, `{"active":true}`)
		if r.Status != 200 || m["active"] != true {
			t.Fatalf("reactivate: %d %s", r.Status, r.Body)
		}
		wantSuccess(t, ts.login(p.APIToken, ptn))
		r, m = ts.admin("PATCH", "/v1/admin/users/"+ann, k.rw, `{}`)
		if r.Status != 200 || opStr(m, "id") != ann {
			t.Fatalf("patch nothing: %d %s", r.Status, r.Body)
		}

		// A reset: a new password, shown once; the old one and its
		// sessions end.
		sess := portalSignInHTTP(t, ts, portalUser{email: "ann@people.example", password: pw})
		if status := portalGet(t, sess, ts, "/portal/tokens"); status != http.StatusOK {
			t.Fatalf("the session before the reset: %d", status)
		}
		r, m = ts.admin("POST", "/v1/admin/users/"+ann+"/password-reset", k.rw, "")
		wantJSON(t, r, http.StatusOK)
		wantKeys(t, m, append(userKeys, "password", "secret")...)
		npw := opStr(m, "password")
		leaks.add(npw)
		if opStr(m, "id") != ann || opStr(m, "email") != "Ann@People.example" || opStr(m, "secret") != npw || npw == pw || password.Validate(npw) != nil {
			t.Fatalf("reset answered %v", m)
		}
		if status := portalGet(t, sess, ts, "/portal/tokens"); status != http.StatusSeeOther {
			t.Fatalf("a portal session outlived the reset: %d", status)
		}
		if status, _ := portalPost(t, ts, "192.0.2.2", "ann@people.example", pw); status != http.StatusUnauthorized {
			t.Fatalf("the old password after the reset: %d, want 401", status)
		}
		portalSignInHTTP(t, ts, portalUser{email: "ann@people.example", password: npw})

		got := operatorActions(t, ts, accID)
		for a, n := range map[autho.AuditAction]int{
			autho.AuditUserCreate: 2, autho.AuditUserRole: 2, autho.AuditUserDeactivate: 1,
			autho.AuditUserActivate: 1, autho.AuditUserPassword: 1,
		} {
			if got[a] != n {
				t.Errorf("%d %s by operator:crm, want %d (all: %v)", got[a], a, n, got)
			}
		}

		var other map[string]any
		ts.mustCLI(&other, "account", "create", "--name", "Elsewhere")
		before := peopleDump(ts, accID, opStr(other, "id"))
		for _, tc := range []struct {
			name, method, path, key, body string
			status                        int
			field                         string
		}{
			{"no key", "POST", users, "", `{"email":"x@people.example"}`, 401, ""},
			{"revoked key", "GET", users, k.revoked, "", 401, ""},
			{"read-only key adds", "POST", users, k.ro, `{"email":"x@people.example"}`, 403, ""},
			{"read-only key patches", "PATCH", "/v1/admin/users/" + ann, k.ro, `{"active":false}`, 403, ""},
			{"read-only key resets", "POST", "/v1/admin/users/" + ann + "/password-reset", k.ro, "", 403, ""},
			{"an unknown account", "POST", "/v1/admin/accounts/acc_nope/users", k.rw, `{"email":"x@people.example"}`, 404, "account"},
			{"an unknown account's users", "GET", "/v1/admin/accounts/acc_nope/users", k.ro, "", 404, "account"},
			{"an email in use", "POST", users, k.rw, `{"email":"ANN@people.example"}`, 409, "email"},
			{"an email in use elsewhere", "POST", "/v1/admin/accounts/" + opStr(other, "id") + "/users", k.rw, `{"email":"boss@people.example"}`, 409, "email"},
			{"a role that is none", "POST", users, k.rw, `{"email":"x@people.example","role":"owner"}`, 400, "role"},
			{"a bad email", "POST", users, k.rw, `{"email":"x.people.example"}`, 400, "email"},
			{"a short password", "POST", users, k.rw, `{"email":"x@people.example","password":"short"}`, 400, "password"},
			{"a typo of a field", "POST", users, k.rw, `{"email":"x@people.example","rol":"admin"}`, 400, "rol"},
			{"a bad limit", "GET", users + "?limit=0", k.ro, "", 400, "limit"},
			{"patch a role that is none", "PATCH", "/v1/admin/users/" + ann, k.rw, `{"role":"owner"}`, 400, "role"},
			{"patch both, the role bad", "PATCH", "/v1/admin/users/" + ann, k.rw, `{"active":false,"role":"owner"}`, 400, "role"},
			{"patch active as a string", "PATCH", "/v1/admin/users/" + ann, k.rw, `{"active":"no"}`, 400, "active"},
			{"patch an unknown user", "PATCH", "/v1/admin/users/usr_nope", k.rw, `{"active":false,"role":"admin"}`, 404, "user"},
			{"reset an unknown user", "POST", "/v1/admin/users/usr_nope/password-reset", k.rw, "", 404, "user"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r, m := ts.admin(tc.method, tc.path, tc.key, tc.body)
				wantProblem(t, r, m, tc.status, tc.field)
				if after := peopleDump(ts, accID, opStr(other, "id")); after != before {
					t.Fatalf("a refused request changed something:\n%s\nwas\n%s", after, before)
				}
			})
		}
	})
}

// portalGet fetches a portal page in the session and returns its status.
func portalGet(t *testing.T, s *portalSession, ts *testServer, path string) int {
	t.Helper()
	res, err := s.c.Get(ts.url + path)
	if err != nil {
		t.Fatal(err)
	}
	readAll(res)
	return res.StatusCode
}
