package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

var tokenKeys = []string{"id", "name", "status", "hint", "account_id", "user_id", "scopes", "created_at", "expires_at",
	"last_used_at", "last_used_ip", "revoked_at"}

// wantAbout checks a time is d from now, give or take a minute.
func wantAbout(t *testing.T, m map[string]any, key string, d time.Duration) {
	t.Helper()
	if got := time.Until(opTime(t, m, key)); got < d-time.Minute || got > d+time.Minute {
		t.Fatalf("%s is %s from now, want %s", key, got, d)
	}
}

// itemIDs is the ids of a page's items.
func itemIDs(m map[string]any) []string {
	var ids []string
	items, _ := m["items"].([]any)
	for _, it := range items {
		ids = append(ids, opStr(it.(map[string]any), "id"))
	}
	return ids
}

// TestAdminAPI_Tokens: making, reading, listing and revoking API tokens,
// each success and each refusal, with nothing changed by a refusal; a made
// token logs in, a revoked one is refused at once; on both backends.
func TestAdminAPI_Tokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		// The operator is not bound by the portal's longest expiry.
		ts := startServerOn(t, b, map[string]string{"AUTHO_MAX_TOKEN_TTL": "24h"})
		k := newAdminKeys(ts)
		p := ts.newPartner()
		leaks.add(p.APIToken)
		mint := "/v1/admin/users/" + p.UserID + "/tokens"

		r, m := ts.admin("POST", mint, k.rw, `{"name":"billing","expires_in":"400d","scopes":["orders:read","orders:read","invoices"]}`)
		wantJSON(t, r, http.StatusCreated)
		wantKeys(t, m, append(tokenKeys, "token", "secret")...)
		id, plain := opStr(m, "id"), opStr(m, "token")
		leaks.add(plain)
		if secret.Check(secret.APIToken, plain) != nil || opStr(m, "secret") != plain || opStr(m, "name") != "billing" ||
			opStr(m, "status") != "active" || opStr(m, "account_id") != p.AccountID || opStr(m, "user_id") != p.UserID ||
			m["last_used_at"] != nil || m["revoked_at"] != nil || opStr(m, "hint") == "" {
			t.Fatalf("create answered %v", m)
		}
		if sc, _ := m["scopes"].([]any); len(sc) != 2 || sc[0] != "orders:read" || sc[1] != "invoices" {
			t.Fatalf("scopes %v, want the two given, repeats dropped", m["scopes"])
		}
		wantAbout(t, m, "expires_at", 400*24*time.Hour)
		wantSuccess(t, ts.login(plain, p.PartnerToken))

		r, m = ts.admin("POST", mint, k.rw, `{"name":"default term"}`)
		wantJSON(t, r, http.StatusCreated)
		leaks.add(opStr(m, "token"))
		wantAbout(t, m, "expires_at", 90*24*time.Hour)
		if sc, _ := m["scopes"].([]any); sc == nil || len(sc) != 0 {
			t.Fatalf("scopes %v, want []", m["scopes"])
		}
		r, m = ts.admin("POST", mint, k.rw, `{"name":"dated","expires_at":"2030-01-02T03:04:05Z"}`)
		wantJSON(t, r, http.StatusCreated)
		leaks.add(opStr(m, "token"))
		dated := opStr(m, "id")
		if opStr(m, "expires_at") != "2030-01-02T03:04:05Z" {
			t.Fatalf("expires_at %v", m["expires_at"])
		}

		r, m = ts.admin("GET", "/v1/admin/tokens/"+id, k.ro, "")
		wantJSON(t, r, http.StatusOK)
		wantKeys(t, m, tokenKeys...)
		if opStr(m, "id") != id || opStr(m, "status") != "active" {
			t.Fatalf("get answered %v", m)
		}

		// Revoked: refused at the very next login; a second revoke is
		// harmless and recorded once.
		r, m = ts.admin("POST", "/v1/admin/tokens/"+id+"/revoke", k.rw, "")
		wantJSON(t, r, http.StatusOK)
		wantKeys(t, m, tokenKeys...)
		revokedAt := opStr(m, "revoked_at")
		if opStr(m, "status") != "revoked" || revokedAt == "" {
			t.Fatalf("revoke answered %v", m)
		}
		wantError(t, ts.login(plain, p.PartnerToken), 401, "04")
		r, m = ts.admin("POST", "/v1/admin/tokens/"+id+"/revoke", k.rw, "")
		if r.Status != 200 || opStr(m, "revoked_at") != revokedAt {
			t.Fatalf("revoke again: %d %s, want the first revocation's time", r.Status, r.Body)
		}

		// A deactivated user's token is refused, and works again after.
		ts.admin("PATCH", "/v1/admin/users/"+p.UserID, k.rw, `{"active":false}`)
		wantError(t, ts.login(p.APIToken, p.PartnerToken), 403, "07")
		ts.admin("PATCH", "/v1/admin/users/"+p.UserID, k.rw, `{"active":true}`)
		wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))

		es, err := ts.store().AuditEvents(t.Context(), autho.AuditFilter{AccountID: p.AccountID})
		if err != nil {
			t.Fatal(err)
		}
		n := map[autho.AuditAction]int{}
		for _, e := range es {
			if e.ActorID == "operator:crm" && (e.Action == autho.AuditTokenCreate || e.Action == autho.AuditTokenRevoke) {
				n[e.Action]++
				if e.Action == autho.AuditTokenRevoke && e.TargetID != id {
					t.Errorf("revoke event on %s, want %s", e.TargetID, id)
				}
			}
		}
		if n[autho.AuditTokenCreate] != 3 || n[autho.AuditTokenRevoke] != 1 {
			t.Errorf("audit by operator:crm: %v, want 3 token.create and 1 token.revoke", n)
		}

		// Filters: by account, by user, by state.
		q := ts.newPartner()
		leaks.add(q.APIToken)
		ts.expireToken(dated)
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"?user=" + q.UserID, []string{q.TokenID}},
			{"?account=" + q.AccountID + "&status=active", []string{q.TokenID}},
			{"?account=" + p.AccountID + "&status=revoked", []string{id}},
			{"?status=expired", []string{dated}},
			{"?user=" + p.UserID + "&status=expired", []string{dated}},
			{"?account=" + q.AccountID + "&status=revoked", nil},
		} {
			r, m := ts.admin("GET", "/v1/admin/tokens"+tc.query, k.ro, "")
			wantJSON(t, r, http.StatusOK)
			if got := itemIDs(m); len(got) != len(tc.want) || (len(got) == 1 && got[0] != tc.want[0]) {
				t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
			}
			if items, ok := m["items"].([]any); !ok || items == nil {
				t.Errorf("%s: items %v, want a list", tc.query, m["items"])
			}
		}
		r, m = ts.admin("GET", "/v1/admin/tokens?account="+p.AccountID, k.ro, "")
		if got := itemIDs(m); r.Status != 200 || len(got) != 4 {
			t.Errorf("the account's tokens: %v, want 4", got)
		}
		wantKeys(t, m["items"].([]any)[0].(map[string]any), tokenKeys...)

		before := peopleDump(ts, p.AccountID, q.AccountID)
		for _, tc := range []struct {
			name, method, path, key, body string
			status                        int
			field                         string
		}{
			{"no key", "POST", mint, "", `{"name":"x"}`, 401, ""},
			{"revoked key", "GET", "/v1/admin/tokens", k.revoked, "", 401, ""},
			{"read-only key makes", "POST", mint, k.ro, `{"name":"x"}`, 403, ""},
			{"read-only key revokes", "POST", "/v1/admin/tokens/" + q.TokenID + "/revoke", k.ro, "", 403, ""},
			{"an unknown user", "POST", "/v1/admin/users/usr_nope/tokens", k.rw, `{"name":"x"}`, 404, "user"},
			{"no name", "POST", mint, k.rw, `{"name":" "}`, 400, "name"},
			{"both expiries", "POST", mint, k.rw, `{"name":"x","expires_in":"1d","expires_at":"2030-01-01T00:00:00Z"}`, 400, "expires_in"},
			{"a duration that is none", "POST", mint, k.rw, `{"name":"x","expires_in":"soon"}`, 400, "expires_in"},
			{"a duration not positive", "POST", mint, k.rw, `{"name":"x","expires_in":"-1d"}`, 400, "expires_in"},
			{"an expiry past", "POST", mint, k.rw, `{"name":"x","expires_at":"2001-01-01T00:00:00Z"}`, 400, "expires_at"},
			{"an expiry not a time", "POST", mint, k.rw, `{"name":"x","expires_at":"next year"}`, 400, "expires_at"},
			{"a bad scope", "POST", mint, k.rw, `{"name":"x","scopes":["a b"]}`, 400, "scopes"},
			{"a typo of a field", "POST", mint, k.rw, `{"name":"x","scope":["a"]}`, 400, "scope"},
			{"an unknown token", "GET", "/v1/admin/tokens/tok_nope", k.ro, "", 404, "token"},
			{"revoke an unknown token", "POST", "/v1/admin/tokens/tok_nope/revoke", k.rw, "", 404, "token"},
			{"a state that is none", "GET", "/v1/admin/tokens?status=gone", k.ro, "", 400, "status"},
			{"an unknown account", "GET", "/v1/admin/tokens?account=acc_nope", k.ro, "", 404, "account"},
			{"an unknown user's tokens", "GET", "/v1/admin/tokens?user=usr_nope", k.ro, "", 404, "user"},
			{"a forged cursor", "GET", "/v1/admin/tokens?cursor=bm90LWEtY3Vyc29y", k.ro, "", 400, "cursor"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r, m := ts.admin(tc.method, tc.path, tc.key, tc.body)
				wantProblem(t, r, m, tc.status, tc.field)
				if after := peopleDump(ts, p.AccountID, q.AccountID); after != before {
					t.Fatalf("a refused request changed something:\n%s\nwas\n%s", after, before)
				}
			})
		}
	})
}

// TestAdminAPI_TokenPagination: pages of tokens, newest first, neither skip
// nor repeat a token while tokens are made between pages; on both backends.
func TestAdminAPI_TokenPagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		k := newAdminKeys(ts)
		p := ts.newPartner()
		leaks.add(p.APIToken)
		mint := func() string {
			t.Helper()
			r, m := ts.admin("POST", "/v1/admin/users/"+p.UserID+"/tokens", k.rw, `{"name":"t"}`)
			if r.Status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			leaks.add(opStr(m, "token"))
			return opStr(m, "id")
		}
		made := []string{p.TokenID}
		for range 6 {
			made = append(made, mint())
		}
		seen := map[string]int{}
		var order []string
		cursor := ""
		for page := 0; page < 10; page++ {
			path := "/v1/admin/tokens?account=" + p.AccountID + "&limit=2"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			r, m := ts.admin("GET", path, k.ro, "")
			wantJSON(t, r, http.StatusOK)
			ids := itemIDs(m)
			for _, id := range ids {
				seen[id]++
				order = append(order, id)
			}
			mint() // newer than every cursor
			next, _ := m["next_cursor"].(string)
			if next == "" {
				break
			}
			if len(ids) != 2 {
				t.Fatalf("page %d has %d items and a next cursor", page, len(ids))
			}
			cursor = next
		}
		for i, id := range made {
			if seen[id] != 1 {
				t.Errorf("token %d (%s) listed %d times", i, id, seen[id])
			}
		}
		if len(order) != len(made) || order[0] != made[len(made)-1] || order[len(order)-1] != made[0] {
			t.Errorf("listed %v, want the %d made, newest first", order, len(made))
		}
	})
}
