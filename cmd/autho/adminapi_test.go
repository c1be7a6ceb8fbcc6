package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	libopenapi "github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// adminKeys are operator keys made through the CLI for a test.
type adminKeys struct{ rw, ro, revoked string }

func newAdminKeys(ts *testServer) adminKeys {
	ts.t.Helper()
	var k adminKeys
	var rw, ro, rev map[string]any
	ts.mustCLI(&rw, "operator-key", "create", "--name", "crm")
	ts.mustCLI(&ro, "operator-key", "create", "--name", "support", "--read-only")
	ts.mustCLI(&rev, "operator-key", "create", "--name", "old")
	ts.mustCLI(nil, "operator-key", "revoke", opStr(rev, "id"))
	k.rw, k.ro, k.revoked = opStr(rw, "key"), opStr(ro, "key"), opStr(rev, "key")
	return k
}

// admin calls the admin API with key (none when "") and a JSON body (none
// when ""), decodes a JSON or problem answer into a map, and checks the
// answer against the API's own OpenAPI document.
func (ts *testServer) admin(method, path, key, body string, header ...string) (*response, map[string]any) {
	ts.t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return ts.adminCT(method, path, key, ct, body, header...)
}

// adminCT is admin with the body's Content-Type given.
func (ts *testServer) adminCT(method, path, key, ct, body string, header ...string) (*response, map[string]any) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.url+path, strings.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		ts.t.Fatal(err)
	}
	checkOpenAPI(ts, req, res, b)
	r := &response{Status: res.StatusCode, Header: res.Header, Body: b}
	var m map[string]any
	json.Unmarshal(b, &m)
	return r, m
}

var openAPI struct {
	once    sync.Once
	v       validator.Validator
	ops     map[string]bool // "METHOD /path/{param}" documented
	checked atomic.Int64    // answers validated, told at the end of the run
}

// checkOpenAPI fails the test when an answer of a documented operation
// does not match the document the server serves (with a maintained
// validator, not ours); answers of undocumented paths and methods (404,
// 405) are the document's to leave out.
func checkOpenAPI(ts *testServer, req *http.Request, res *http.Response, body []byte) {
	ts.t.Helper()
	openAPI.once.Do(func() {
		r := ts.do("GET", "/v1/admin/openapi.json", "", nil)
		doc, err := libopenapi.NewDocument(r.Body)
		if err != nil {
			ts.t.Fatalf("the OpenAPI document does not parse: %v", err)
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			ts.t.Fatalf("validator: %v", errs)
		}
		if ok, verrs := v.ValidateDocument(); !ok {
			for _, e := range verrs {
				ts.t.Errorf("the OpenAPI document is invalid: %s: %s", e.Message, e.Reason)
			}
			ts.t.FailNow()
		}
		var paths struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		json.Unmarshal(r.Body, &paths)
		openAPI.ops = map[string]bool{}
		for p, ops := range paths.Paths {
			for m := range ops {
				openAPI.ops[strings.ToUpper(m)+" "+p] = true
			}
		}
		openAPI.v = v
	})
	if openAPI.v == nil || !openAPI.ops[req.Method+" "+req.Pattern] && !documented(req) {
		return
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	res.Request = req
	openAPI.checked.Add(1)
	if ok, errs := openAPI.v.ValidateHttpResponse(req, res); !ok {
		for _, e := range errs {
			ts.t.Errorf("%s %s answered %d, which the OpenAPI document does not allow: %s: %s", req.Method, req.URL.Path, res.StatusCode, e.Message, e.Reason)
		}
	}
}

// documented reports whether req's method and path match an operation of
// the document, path parameters matching any one segment.
func documented(req *http.Request) bool {
	segs := strings.Split(req.URL.Path, "/")
	for op := range openAPI.ops {
		m, p, _ := strings.Cut(op, " ")
		if m != req.Method {
			continue
		}
		ps := strings.Split(p, "/")
		if len(ps) != len(segs) {
			continue
		}
		match := true
		for i := range ps {
			if !strings.HasPrefix(ps[i], "{") && ps[i] != segs[i] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// wantProblem checks an RFC 9457 answer: its media type, status, and the
// members every problem has, with detail one line.
func wantProblem(t *testing.T, r *response, m map[string]any, status int, field string) {
	t.Helper()
	if r.Status != status || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d, %s: %s; want %d problem+json", r.Status, r.Header.Get("Content-Type"), r.Body, status)
	}
	if m["type"] != "about:blank" || m["title"] != http.StatusText(status) || m["status"] != float64(status) {
		t.Fatalf("problem %v", m)
	}
	if d, _ := m["detail"].(string); d == "" || strings.ContainsAny(d, "\r\n") {
		t.Fatalf("detail %q: want one line", m["detail"])
	}
	if got, _ := m["field"].(string); got != field {
		t.Fatalf("field %q, want %q", got, field)
	}
	if strings.Contains(string(r.Body), "autho_adm_") || strings.Contains(string(r.Body), "autho_ptn_") {
		t.Fatalf("a secret in a problem: %s", r.Body)
	}
}

// accountsDump is what the admin API could have changed, from the CLI.
func accountsDump(ts *testServer) string {
	ts.t.Helper()
	out, errs, code := ts.cli("account", "list", "--json")
	if code != 0 {
		ts.t.Fatalf("account list: %s", errs)
	}
	keys, _, _ := ts.cli("operator-key", "list", "--json")
	// A key's last use moves on every accepted request: not a change.
	var ks struct{ Keys []map[string]any }
	json.Unmarshal([]byte(keys), &ks)
	for _, k := range ks.Keys {
		delete(k, "last_used_at")
		delete(k, "last_used_ip")
	}
	b, _ := json.Marshal(ks)
	return out + string(b)
}

// TestAdminAPI_Accounts: the accounts routes, each success and each
// refusal, with nothing changed by a refusal; on both backends.
func TestAdminAPI_Accounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		k := newAdminKeys(ts)

		r, m := ts.admin("POST", "/v1/admin/accounts", k.rw, `{"name":"Acme Ltd","expires_at":"2030-01-02T03:04:05Z"}`)
		if r.Status != http.StatusCreated || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("create: %d %v: %s", r.Status, r.Header, r.Body)
		}
		id, ptn := opStr(m, "id"), opStr(m, "partner_token")
		if !strings.HasPrefix(id, "acc_") || secret.Check(secret.PartnerToken, ptn) != nil || opStr(m, "secret") != ptn ||
			opStr(m, "expires_at") != "2030-01-02T03:04:05Z" || opStr(m, "status") != "active" || opStr(m, "name") != "Acme Ltd" {
			t.Fatalf("create answered %v", m)
		}
		leaks.add(ptn)

		r, m = ts.admin("GET", "/v1/admin/accounts/"+id, k.ro, "")
		if r.Status != http.StatusOK || opStr(m, "id") != id || m["partner_token"] != nil || m["secret"] != nil {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}

		before := accountsDump(ts)
		for _, tc := range []struct {
			name, method, path, key, body, ct string
			status                            int
			field                             string
		}{
			{"no key", "POST", "/v1/admin/accounts", "", `{"name":"X"}`, "", 401, ""},
			{"unknown key", "POST", "/v1/admin/accounts", secret.New(secret.OperatorKey), `{"name":"X"}`, "", 401, ""},
			{"malformed key", "GET", "/v1/admin/accounts", "autho_adm_nope", "", "", 401, ""},
			{"revoked key", "GET", "/v1/admin/accounts", k.revoked, "", "", 401, ""},
			{"read-only key writes", "POST", "/v1/admin/accounts", k.ro, `{"name":"X"}`, "", 403, ""},
			{"not JSON", "POST", "/v1/admin/accounts", k.rw, `name=X`, "application/x-www-form-urlencoded", 415, ""},
			{"empty name", "POST", "/v1/admin/accounts", k.rw, `{"name":"  "}`, "", 400, "name"},
			{"a typo of a field", "POST", "/v1/admin/accounts", k.rw, `{"name":"X","expires":"2030-01-01"}`, "", 400, "expires"},
			{"a wrong type", "POST", "/v1/admin/accounts", k.rw, `{"name":7}`, "", 400, "name"},
			{"past expiry", "POST", "/v1/admin/accounts", k.rw, `{"name":"X","expires_at":"2001-01-01T00:00:00Z"}`, "", 400, "expires_at"},
			{"expiry not a time", "POST", "/v1/admin/accounts", k.rw, `{"name":"X","expires_at":"next year"}`, "", 400, "expires_at"},
			{"two objects", "POST", "/v1/admin/accounts", k.rw, `{"name":"X"}{"name":"Y"}`, "", 400, ""},
			{"unknown account", "GET", "/v1/admin/accounts/acc_nope", k.ro, "", "", 404, "account"},
			{"unknown path", "GET", "/v1/admin/nothing", k.ro, "", "", 404, ""},
			{"bad status filter", "GET", "/v1/admin/accounts?status=gone", k.ro, "", "", 400, "status"},
			{"bad expiring_before", "GET", "/v1/admin/accounts?expiring_before=tomorrow", k.ro, "", "", 400, "expiring_before"},
			{"limit too big", "GET", "/v1/admin/accounts?limit=501", k.ro, "", "", 400, "limit"},
			{"forged cursor", "GET", "/v1/admin/accounts?cursor=bm90LWEtY3Vyc29y", k.ro, "", "", 400, "cursor"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ct := tc.ct
				if ct == "" && tc.body != "" {
					ct = "application/json"
				}
				r, m := ts.adminCT(tc.method, tc.path, tc.key, ct, tc.body)
				wantProblem(t, r, m, tc.status, tc.field)
				if tc.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without WWW-Authenticate: Bearer")
				}
				if after := accountsDump(ts); after != before {
					t.Fatalf("a refused request changed something:\n%s\nwas\n%s", after, before)
				}
			})
		}
		r, m = ts.admin("DELETE", "/v1/admin/accounts", k.rw, "")
		wantProblem(t, r, m, 405, "")
		if r.Header.Get("Allow") != "GET, HEAD, POST" {
			t.Errorf("Allow %q", r.Header.Get("Allow"))
		}

		// The account was made by the key, and the audit log says so.
		es, err := ts.store().AuditEvents(t.Context(), autho.AuditFilter{AccountID: id})
		if err != nil || len(es) != 1 || es[0].Action != autho.AuditAccountCreate || es[0].ActorID != "operator:crm" || es[0].IP == "" {
			t.Fatalf("audit of the created account: %+v, %v; want one account.create by operator:crm with its IP", es, err)
		}
		// The key's use is recorded.
		var ks struct{ Keys []map[string]any }
		out, _, _ := ts.cli("operator-key", "list", "--json")
		json.Unmarshal([]byte(out), &ks)
		for _, key := range ks.Keys {
			if key["name"] == "crm" && key["last_used_at"] == nil {
				t.Errorf("the crm key's use is not recorded: %v", key)
			}
		}
	})
}

// TestAdminAPI_Pagination: a walk of 1,000 accounts in pages of 37, while
// another client makes accounts, sees every account that was there before
// exactly once, newest first; filters narrow the list; on both backends.
func TestAdminAPI_Pagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		k := newAdminKeys(ts)
		out := filepath.Join(t.TempDir(), "pairs.txt")
		ts.mustCLI(nil, "dev", "seed", "--accounts", "1000", "--tokens", "1000", "--out", out)
		as, err := ts.store().Accounts(t.Context())
		if err != nil || len(as) != 1000 {
			t.Fatalf("%d accounts seeded, %v", len(as), err)
		}
		stop := make(chan struct{})
		var made sync.WaitGroup
		made.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, m := ts.admin("POST", "/v1/admin/accounts", k.rw, `{"name":"Meanwhile"}`)
				leaks.add(opStr(m, "partner_token"))
				// Enough to land between pages however slow the walk
				// (-race), and a bounded loop.
				if i == 100 {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
		seen := map[string]int{}
		var order []string
		cursor := ""
		for page := 0; ; page++ {
			if page > 1000/37+5 {
				t.Fatal("more pages than 1,000 accounts make")
			}
			path := "/v1/admin/accounts?limit=37"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			r, m := ts.admin("GET", path, k.ro, "")
			if r.Status != 200 {
				t.Fatalf("page %d: %d %s", page, r.Status, r.Body)
			}
			for _, it := range m["items"].([]any) {
				a := it.(map[string]any)
				if opStr(a, "name") == "Meanwhile" {
					continue
				}
				seen[opStr(a, "id")]++
				order = append(order, opStr(a, "created_at")+" "+opStr(a, "id"))
			}
			next, _ := m["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		close(stop)
		made.Wait()
		for _, a := range as {
			if seen[a.ID] != 1 {
				t.Errorf("account %s listed %d times", a.ID, seen[a.ID])
			}
		}
		if !slices.IsSortedFunc(order, func(x, y string) int { return strings.Compare(y, x) }) {
			t.Error("the walk is not newest first")
		}

		r, m := ts.admin("GET", "/v1/admin/accounts?expiring_before=2000-01-01T00:00:00Z", k.ro, "")
		if items, _ := m["items"].([]any); r.Status != 200 || len(items) != 0 {
			t.Errorf("expiring_before 2000: %d, %d items", r.Status, len(items))
		}
		ts.mustCLI(nil, "account", "suspend", as[0].ID)
		_, m = ts.admin("GET", "/v1/admin/accounts?status=suspended", k.ro, "")
		if items, _ := m["items"].([]any); len(items) != 1 || opStr(items[0].(map[string]any), "id") != as[0].ID {
			t.Errorf("status=suspended: %v", m["items"])
		}
		r, m = ts.admin("GET", "/v1/admin/accounts?expiring_before=2999-01-01T00:00:00Z&status=suspended", k.ro, "")
		if items, _ := m["items"].([]any); r.Status != 200 || len(items) != 1 {
			t.Errorf("both filters: %d, %v", r.Status, m["items"])
		}
	})
}

// TestAdminAPI_RefusedKeysLimited: bad keys sent in parallel from one
// address are refused 401 no more often than the limit allows, the rest
// 429 with Retry-After, and a good key then waits too (the limit is per
// address); on both backends.
func TestAdminAPI_RefusedKeysLimited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, map[string]string{"AUTHO_LOGIN_FAILURES_PER_MINUTE": "5"})
		k := newAdminKeys(ts)
		var mu sync.Mutex
		counts := map[int]int{}
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				r, m := ts.admin("GET", "/v1/admin/accounts", secret.New(secret.OperatorKey), "")
				if r.Status == 429 && r.Header.Get("Retry-After") == "" {
					t.Errorf("429 without Retry-After")
				}
				if r.Status == 429 || r.Status == 401 {
					wantProblem(t, r, m, r.Status, "")
				}
				mu.Lock()
				counts[r.Status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if counts[401] != 5 || counts[429] != 35 {
			t.Fatalf("answers %v, want exactly 5 401 and 35 429", counts)
		}
		r, m := ts.admin("GET", "/v1/admin/accounts", k.rw, "")
		wantProblem(t, r, m, 429, "")
	})
}

// TestAdminAPI_AccountChanges: PATCH changes every part asked, all or none,
// each audited as the key; the partner token rotates with a grace; on both
// backends.
func TestAdminAPI_AccountChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		k := newAdminKeys(ts)
		p := ts.newPartner()

		r, m := ts.admin("PATCH", "/v1/admin/accounts/"+p.AccountID, k.rw,
			`{"name":"Renamed","status":"suspended","expires_at":"2031-01-01T00:00:00Z","allowed_scopes":["orders:read"]}`)
		if r.Status != 200 || opStr(m, "name") != "Renamed" || opStr(m, "status") != "suspended" || opStr(m, "expires_at") != "2031-01-01T00:00:00Z" {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		wantError(t, ts.login(p.APIToken, p.PartnerToken), 403, "07")
		es, err := ts.store().AuditEvents(t.Context(), autho.AuditFilter{AccountID: p.AccountID})
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[autho.AuditAction]bool{}
		for _, e := range es {
			if e.ActorID == "operator:crm" {
				byKey[e.Action] = true
			}
		}
		for _, a := range []autho.AuditAction{autho.AuditAccountRename, autho.AuditAccountSuspend, autho.AuditAccountRenew, autho.AuditAccountScopes} {
			if !byKey[a] {
				t.Errorf("no %s by operator:crm in %v", a, byKey)
			}
		}

		before := accountsDump(ts)
		for _, tc := range []struct {
			name, method, path, key, body string
			status                        int
			field                         string
		}{
			{"a status that is none", "PATCH", "/v1/admin/accounts/" + p.AccountID, k.rw, `{"name":"X","status":"closed"}`, 400, "status"},
			{"an expiry past", "PATCH", "/v1/admin/accounts/" + p.AccountID, k.rw, `{"status":"active","expires_at":"2001-01-01T00:00:00Z"}`, 400, "expires_at"},
			{"an expiry not a time", "PATCH", "/v1/admin/accounts/" + p.AccountID, k.rw, `{"expires_at":"2031-13-01"}`, 400, "expires_at"},
			{"a read-only key", "PATCH", "/v1/admin/accounts/" + p.AccountID, k.ro, `{"status":"active"}`, 403, ""},
			{"an unknown account", "PATCH", "/v1/admin/accounts/acc_nope", k.rw, `{"status":"active"}`, 404, "account"},
			{"a bad grace", "POST", "/v1/admin/accounts/" + p.AccountID + "/partner-token/rotate", k.rw, `{"grace":"soon"}`, 400, "grace"},
			{"rotate an unknown account", "POST", "/v1/admin/accounts/acc_nope/partner-token/rotate", k.rw, `{}`, 404, "account"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r, m := ts.admin(tc.method, tc.path, tc.key, tc.body)
				wantProblem(t, r, m, tc.status, tc.field)
				if after := accountsDump(ts); after != before {
					t.Fatalf("a refused request changed something:\n%s\nwas\n%s", after, before)
				}
			})
		}

		r, m = ts.admin("POST", "/v1/admin/accounts/"+p.AccountID+"/partner-token/rotate", k.rw, `{"grace":"1h"}`)
		next := opStr(m, "partner_token")
		if r.Status != 200 || secret.Check(secret.PartnerToken, next) != nil || next == p.PartnerToken || m["previous_valid_until"] == nil {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}
		leaks.add(next)
		ts.admin("PATCH", "/v1/admin/accounts/"+p.AccountID, k.rw, `{"status":"active"}`)
		wantSuccess(t, ts.login(p.APIToken, p.PartnerToken)) // within its grace
		wantSuccess(t, ts.login(p.APIToken, next))
		r, m = ts.admin("POST", "/v1/admin/accounts/"+p.AccountID+"/partner-token/rotate", k.rw, "")
		if r.Status != 200 || m["previous_valid_until"] != nil {
			t.Fatalf("rotate without grace: %d %s", r.Status, r.Body)
		}
		leaks.add(opStr(m, "partner_token"))
		wantError(t, ts.login(p.APIToken, next), 401, "02")
	})
}

// TestAdminAPI_KeysAndAudit: the signing keys are listed and rotated (this
// node signs with the new key at once, audited as the operator key), and
// the audit logs, the account's and everyone's, page newest first; on both
// backends.
func TestAdminAPI_KeysAndAudit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		k := newAdminKeys(ts)
		p := ts.newPartner()

		r, m := ts.admin("GET", "/v1/admin/keys", k.ro, "")
		items, _ := m["items"].([]any)
		if r.Status != 200 || len(items) != 1 || opStr(items[0].(map[string]any), "state") != "signing" {
			t.Fatalf("keys: %d %s", r.Status, r.Body)
		}
		old := opStr(items[0].(map[string]any), "id")
		r, m = ts.admin("POST", "/v1/admin/keys/rotate", k.ro, "")
		wantProblem(t, r, m, 403, "")
		r, m = ts.admin("POST", "/v1/admin/keys/rotate", k.rw, "")
		fresh := opStr(m, "id")
		if r.Status != 200 || fresh == "" || fresh == old || opStr(m, "state") != "signing" {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}
		if kid := kidOf(t, wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))); kid != fresh {
			t.Fatalf("a login after the rotation is signed by %s, want the new key %s", kid, fresh)
		}

		for _, body := range []string{`{"name":"One"}`, `{"name":"Two"}`, `{"status":"suspended"}`} {
			r, _ := ts.admin("PATCH", "/v1/admin/accounts/"+p.AccountID, k.rw, body)
			if r.Status != 200 {
				t.Fatalf("patch %s: %d %s", body, r.Status, r.Body)
			}
		}
		var actions []string
		cursor := ""
		for range 20 {
			path := "/v1/admin/accounts/" + p.AccountID + "/audit?limit=2"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			r, m := ts.admin("GET", path, k.ro, "")
			if r.Status != 200 {
				t.Fatalf("audit: %d %s", r.Status, r.Body)
			}
			for _, it := range m["items"].([]any) {
				e := it.(map[string]any)
				if opStr(e, "account_id") != p.AccountID {
					t.Fatalf("another account's event: %v", e)
				}
				if opStr(e, "actor") == "operator:crm" {
					actions = append(actions, opStr(e, "action"))
				}
			}
			if cursor, _ = m["next_cursor"].(string); cursor == "" {
				break
			}
		}
		if got := strings.Join(actions, " "); got != "account.suspend account.rename account.rename" {
			t.Fatalf("the key's events, newest first: %q", got)
		}
		_, m = ts.admin("GET", "/v1/admin/audit?limit=500", k.ro, "")
		found := false
		for _, it := range m["items"].([]any) {
			e := it.(map[string]any)
			found = found || opStr(e, "action") == "signing_key.rotate" && opStr(e, "actor") == "operator:crm" && opStr(e, "target_id") == fresh
		}
		if !found {
			t.Errorf("the rotation by operator:crm is not in the whole audit log")
		}
		r, m = ts.admin("GET", "/v1/admin/accounts/acc_nope/audit", k.ro, "")
		wantProblem(t, r, m, 404, "account")
		r, m = ts.admin("GET", "/v1/admin/audit?limit=0", k.ro, "")
		wantProblem(t, r, m, 400, "limit")
	})
}

// countAccounts is how many accounts are named name.
func countAccounts(ts *testServer, name string) int {
	ts.t.Helper()
	as, err := ts.store().Accounts(ts.t.Context())
	if err != nil {
		ts.t.Fatal(err)
	}
	n := 0
	for _, a := range as {
		if a.Name == name {
			n++
		}
	}
	return n
}

// TestAdminAPI_Idempotency: a POST repeated with its Idempotency-Key changes
// nothing and answers what the first did, without the secret, on another
// node too; the key with another request is 422; attempts sent at once
// make one account; on both backends.
func TestAdminAPI_Idempotency(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		k := newAdminKeys(ts)
		// A second node on the same database.
		ts2 := startServerAt(t, ts.db, ts.env)

		r1, m1 := ts.admin("POST", "/v1/admin/accounts", k.rw, `{"name":"Once"}`, "Idempotency-Key", "onboard-1")
		if r1.Status != 201 || opStr(m1, "partner_token") == "" || r1.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("first: %d %s", r1.Status, r1.Body)
		}
		leaks.add(opStr(m1, "partner_token"))
		for _, node := range []*testServer{ts, ts2} {
			r, m := node.admin("POST", "/v1/admin/accounts", k.rw, `{"name":"Once"}`, "Idempotency-Key", "onboard-1")
			if r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "true" || opStr(m, "id") != opStr(m1, "id") ||
				m["partner_token"] != nil || m["secret"] != nil || m["secret_shown"] != false {
				t.Fatalf("replay: %d %v %s", r.Status, r.Header, r.Body)
			}
		}
		if n := countAccounts(ts, "Once"); n != 1 {
			t.Fatalf("%d accounts made, want 1", n)
		}

		before := accountsDump(ts)
		r, m := ts.admin("POST", "/v1/admin/accounts", k.rw, `{"name":"Other"}`, "Idempotency-Key", "onboard-1")
		wantProblem(t, r, m, 422, "Idempotency-Key")
		r, m = ts.admin("POST", "/v1/admin/accounts", k.rw, `{"name":"Other"}`, "Idempotency-Key", strings.Repeat("k", 256))
		wantProblem(t, r, m, 400, "Idempotency-Key")
		if accountsDump(ts) != before {
			t.Fatal("a refused key changed something")
		}

		// A refusal is an answer too: its repeat gets it again.
		r, _ = ts.admin("POST", "/v1/admin/accounts", k.rw, `{"name":" "}`, "Idempotency-Key", "empty-name")
		rr, rm := ts.admin("POST", "/v1/admin/accounts", k.rw, `{"name":" "}`, "Idempotency-Key", "empty-name")
		if r.Status != 400 || rr.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("a refusal's replay: %d then %d %v", r.Status, rr.Status, rr.Header)
		}
		wantProblem(t, rr, rm, 400, "name")

		// Another operator key's same Idempotency-Key is another request.
		var other map[string]any
		ts.mustCLI(&other, "operator-key", "create", "--name", "billing")
		r, m = ts.admin("POST", "/v1/admin/accounts", opStr(other, "key"), `{"name":"Once"}`, "Idempotency-Key", "onboard-1")
		if r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("another key's request: %d %s", r.Status, r.Body)
		}
		leaks.add(opStr(m, "partner_token"))

		// Sent at once, to both nodes: one account, every answer the first's
		// or "still being answered".
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for i := range 20 {
			node := []*testServer{ts, ts2}[i%2]
			wg.Go(func() {
				r, m := node.admin("POST", "/v1/admin/accounts", k.rw, `{"name":"Parallel"}`, "Idempotency-Key", "race-1")
				if pt := opStr(m, "partner_token"); pt != "" {
					leaks.add(pt)
				}
				mu.Lock()
				statuses[r.Status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if n := countAccounts(ts, "Parallel"); n != 1 || statuses[201]+statuses[409] != 20 || statuses[201] < 1 {
			t.Fatalf("%d accounts made from 20 attempts at once (answers %v), want 1", n, statuses)
		}
	})
}

// TestAdminAPI_Metrics: admin requests are counted by route pattern and
// status, and neither the series nor the request log hold a key.
func TestAdminAPI_Metrics(t *testing.T) {
	ts := startServer(t, nil)
	k := newAdminKeys(ts)
	ts.admin("GET", "/v1/admin/accounts/acc_x", k.ro, "")
	ts.admin("GET", "/v1/admin/accounts", "", "")
	r := ts.do("GET", "/metrics", "", nil)
	body := string(r.Body)
	for _, want := range []string{
		`autho_admin_requests_total{route="/v1/admin/accounts/{id}",status="404"} 1`,
		`autho_admin_requests_total{route="/v1/admin/accounts",status="401"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "autho_adm_") || strings.Contains(ts.log.String(), k.ro) {
		t.Error("an operator key in the metrics or the log")
	}
	if !strings.Contains(ts.log.String(), `"route":"/v1/admin/accounts/{id}"`) {
		t.Error("the request log does not name the admin route's pattern")
	}
}

// TestAdminAPI_RevokedAtOnceEverywhere: a key revoked through the CLI is
// refused by the very next request, on every node; on both backends.
func TestAdminAPI_RevokedAtOnceEverywhere(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		ts2 := startServerAt(t, ts.db, ts.env)
		var made map[string]any
		ts.mustCLI(&made, "operator-key", "create", "--name", "crm")
		key := opStr(made, "key")
		for _, node := range []*testServer{ts, ts2} {
			if r, _ := node.admin("GET", "/v1/admin/accounts", key, ""); r.Status != 200 {
				t.Fatalf("before the revocation: %d", r.Status)
			}
		}
		ts.mustCLI(nil, "operator-key", "revoke", opStr(made, "id"))
		for _, node := range []*testServer{ts2, ts} {
			r, m := node.admin("GET", "/v1/admin/accounts", key, "")
			wantProblem(t, r, m, 401, "")
		}
	})
}

// TestAdminAPI_ReadOnlyEverywhere: a read-only key is 403 on every route of
// the document that is not a GET, and changes nothing; on both backends.
func TestAdminAPI_ReadOnlyEverywhere(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		k := newAdminKeys(ts)
		p := ts.newPartner()
		ts.admin("GET", "/v1/admin/accounts", k.ro, "") // loads the document
		ids := strings.NewReplacer("/accounts/{id}", "/accounts/"+p.AccountID, "/users/{id}", "/users/"+p.UserID, "/tokens/{id}", "/tokens/"+p.TokenID)
		before := accountsDump(ts)
		n := 0
		for op := range openAPI.ops {
			method, path, _ := strings.Cut(op, " ")
			if method == "GET" || method == "PARAMETERS" {
				continue
			}
			n++
			r, m := ts.admin(method, ids.Replace(path), k.ro, `{}`)
			wantProblem(t, r, m, 403, "")
		}
		if n < 9 {
			t.Fatalf("only %d routes that change something are documented", n)
		}
		if accountsDump(ts) != before {
			t.Fatal("a read-only key changed something")
		}
	})
}
