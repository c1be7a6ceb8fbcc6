package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/autho/autho/internal/migrations"
)

// The tests in this file run several real `autho serve` processes (the
// built binary) on one PostgreSQL schema, as a deployment behind a load
// balancer would, and check that nothing a login depends on lives in one
// node's memory.

// procNode is one `autho serve` process.
type procNode struct {
	t      *testing.T
	db     string
	env    map[string]string
	cmd    *exec.Cmd
	log    *procLog
	exited chan struct{}
	url    string
}

// procLog keeps a process's log, and hands over the listen address from
// the "autho serving" line, since each node binds 127.0.0.1:0.
type procLog struct {
	syncBuffer
	mu      sync.Mutex
	partial []byte
	addr    chan string
	sent    bool
}

func (l *procLog) Write(p []byte) (int, error) {
	l.syncBuffer.Write(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := l.partial[:i]
		l.partial = l.partial[i+1:]
		var v struct{ Msg, Addr string }
		if !l.sent && json.Unmarshal(line, &v) == nil && v.Msg == "autho serving" && v.Addr != "" {
			l.sent = true
			l.addr <- v.Addr
		}
	}
	return len(p), nil
}

// launchNode starts `autho serve` on db with env over test defaults
// (loopback port 0, no login rate limit, since every test client shares one
// IP), without waiting for it: callers start several at the same moment,
// then call ready on each. The process is stopped when the test ends.
func launchNode(t *testing.T, db string, env map[string]string) *procNode {
	t.Helper()
	full := map[string]string{
		"AUTHO_DATABASE":                  db,
		"AUTHO_ADDR":                      "127.0.0.1:0",
		"AUTHO_LOGIN_FAILURES_PER_MINUTE": "0",
		"AUTHO_LOG_LEVEL":                 "info",
	}
	for k, v := range env {
		full[k] = v
	}
	n := &procNode{t: t, db: db, env: full, log: &procLog{addr: make(chan string, 1)}, exited: make(chan struct{})}
	leaks.watchLog(&n.log.syncBuffer)
	n.cmd = exec.Command(authoBinary(t), "serve")
	n.cmd.Env = os.Environ()
	for k, v := range full {
		n.cmd.Env = append(n.cmd.Env, k+"="+v) // the last of duplicate keys wins
	}
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start autho serve: %v", err)
	}
	go func() { n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(n.stop)
	return n
}

// ready waits, bounded, for the node to listen and to answer /readyz.
func (n *procNode) ready() {
	n.t.Helper()
	deadline := time.After(30 * time.Second)
	select {
	case addr := <-n.log.addr:
		n.url = "http://" + addr
	case <-n.exited:
		n.t.Fatalf("autho serve exited at start (%v):\n%s", n.cmd.ProcessState, n.log.String())
	case <-deadline:
		n.t.Fatalf("autho serve did not listen within 30s:\n%s", n.log.String())
	}
	for i := 0; ; i++ {
		res, err := client.Get(n.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		if i == 100 {
			n.t.Fatalf("%s/readyz not ready: %v %v", n.url, res, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// running reports whether the process is still the one started: a node
// that recovers from an outage must do so without a restart.
func (n *procNode) running() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, which drains, and kills the process if it has not
// exited within 10 s.
func (n *procNode) stop() {
	if !n.running() {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		n.t.Errorf("autho serve did not stop within 10s of SIGTERM; killing it")
		n.cmd.Process.Kill()
		<-n.exited
	}
}

// client is the node seen through the test harness: logins and requests go
// to this node, CLI commands to the shared database, failures to t.
func (n *procNode) client(t *testing.T) *testServer {
	return &testServer{t: t, db: n.db, env: n.env, url: n.url}
}

// startNodes launches count nodes on one database at the same moment and
// waits until each is ready.
func startNodes(t *testing.T, db string, env map[string]string, count int) []*procNode {
	t.Helper()
	nodes := make([]*procNode, count)
	for i := range nodes {
		nodes[i] = launchNode(t, db, env)
	}
	for _, n := range nodes {
		n.ready()
	}
	return nodes
}

// TestMultiNode_StartTogether starts two nodes at the same moment on an
// empty schema: both come up, and each migration is applied and recorded
// once (the advisory lock serialises them).
func TestMultiNode_StartTogether(t *testing.T) {
	db, schema := pgTestSchema(t)
	began := time.Now()
	startNodes(t, db, map[string]string{"AUTHO_MASTER_KEY": pgTestMasterKey()}, 2)
	t.Logf("two nodes up on an empty schema in %v", time.Since(began).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[int]int{}
	for rows.Next() {
		var v, n int
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		recorded[v] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	all := migrations.All(migrations.Postgres)
	for _, m := range all {
		if recorded[m.Version] != 1 {
			t.Errorf("migration %d (%s) recorded %d times in %s, want once", m.Version, m.Name, recorded[m.Version], schema)
		}
	}
	if len(recorded) != len(all) {
		t.Errorf("schema_migrations holds versions %v, want the %d of internal/migrations", recorded, len(all))
	}
	// Both nodes may have found no signing key and made one; the store
	// keeps exactly one of them signing.
	var keys, signing int
	if err := c.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE retired_at IS NULL) FROM signing_keys`).
		Scan(&keys, &signing); err != nil {
		t.Fatal(err)
	}
	if signing != 1 {
		t.Errorf("%d signing keys after a concurrent start (of %d keys), want 1", signing, keys)
	}
	t.Logf("%d migrations recorded once each; %d signing key(s) made at start", len(all), keys)
}

// TestMultiNode runs two nodes on one schema, with one master key and one
// issuer, as behind a load balancer.
func TestMultiNode(t *testing.T) {
	db, _ := pgTestSchema(t)
	nodes := startNodes(t, db, map[string]string{
		"AUTHO_MASTER_KEY": pgTestMasterKey(),
		// Behind a load balancer every node is the same issuer.
		"AUTHO_ISSUER": "https://auth.example.test",
	}, 2)
	A, B := nodes[0], nodes[1]

	t.Run("a token made through A logs in through B", func(t *testing.T) {
		a, b := A.client(t), B.client(t)
		p := a.newPartner()
		wantSuccess(t, a.login(p.APIToken, p.PartnerToken))
		wantSuccess(t, b.login(p.APIToken, p.PartnerToken))
		// And one made while both run, logged in through B first.
		tok := a.newToken(p.Email)
		wantSuccess(t, b.login(tok.APIToken, p.PartnerToken))
		wantSuccess(t, a.login(tok.APIToken, p.PartnerToken))
	})

	t.Run("a change is refused on the very next login", func(t *testing.T) {
		// Changes are made with the CLI against the shared database; cli
		// is any node's view of it.
		tests := []struct {
			name   string
			change func(cli *testServer, p partner)
			status int
			code   string
			undo   func(cli *testServer, p partner)
		}{
			{"revoke", func(cli *testServer, p partner) { cli.mustCLI(nil, "token", "revoke", p.TokenID) }, 401, "04", nil},
			{"deactivate user", func(cli *testServer, p partner) { cli.mustCLI(nil, "user", "deactivate", "--email", p.Email) }, 403, "07",
				func(cli *testServer, p partner) { cli.mustCLI(nil, "user", "activate", "--email", p.Email) }},
			{"suspend account", func(cli *testServer, p partner) { cli.mustCLI(nil, "account", "suspend", p.AccountID) }, 403, "07",
				func(cli *testServer, p partner) { cli.mustCLI(nil, "account", "reactivate", p.AccountID) }},
			{"rotate partner token", func(cli *testServer, p partner) {
				cli.mustCLI(nil, "account", "rotate-partner-token", p.AccountID)
			}, 401, "02", nil},
			{"account expiry", func(cli *testServer, p partner) {
				at := time.Now().Add(1500 * time.Millisecond).UTC()
				cli.mustCLI(nil, "account", "renew", p.AccountID, "--expires", at.Format(time.RFC3339Nano))
				for i := 0; i < 30 && time.Now().Before(at); i++ { // 3 s at most
					time.Sleep(100 * time.Millisecond)
				}
			}, 403, "03", func(cli *testServer, p partner) {
				cli.mustCLI(nil, "account", "renew", p.AccountID, "--expires", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a, b := A.client(t), B.client(t)
				p := a.newPartner()
				// Both nodes have served this partner, so anything
				// either might have kept is warm.
				wantSuccess(t, a.login(p.APIToken, p.PartnerToken))
				wantSuccess(t, b.login(p.APIToken, p.PartnerToken))
				tt.change(a, p)
				wantError(t, a.login(p.APIToken, p.PartnerToken), tt.status, tt.code)
				wantError(t, b.login(p.APIToken, p.PartnerToken), tt.status, tt.code)
				if tt.undo != nil {
					tt.undo(a, p)
					wantSuccess(t, a.login(p.APIToken, p.PartnerToken))
					wantSuccess(t, b.login(p.APIToken, p.PartnerToken))
				}
			})
		}
	})

	t.Run("both serve identical JWKS and discovery", func(t *testing.T) {
		// Two nodes started together may each have made a key; each
		// picks up the other's within a refresh.
		mnSameJWKS(t, A.client(t), B.client(t))
		for _, path := range []string{"/.well-known/openid-configuration"} {
			a, b := A.client(t).do("GET", path, "", nil), B.client(t).do("GET", path, "", nil)
			if a.Status != 200 || !bytes.Equal(a.Body, b.Body) {
				t.Errorf("%s differs: A %d %s, B %d %s", path, a.Status, a.Body, b.Status, b.Body)
			}
		}
	})

	t.Run("after keys rotate both nodes sign with the new key within 5s", func(t *testing.T) {
		a, b := A.client(t), B.client(t)
		p := a.newPartner()
		old := map[string]string{
			"A": wantSuccess(t, a.login(p.APIToken, p.PartnerToken)),
			"B": wantSuccess(t, b.login(p.APIToken, p.PartnerToken)),
		}
		oldKid := jwtHeader(t, old["A"])["kid"]
		if k := jwtHeader(t, old["B"])["kid"]; k != oldKid {
			t.Fatalf("before the rotation A signs with %v, B with %v", oldKid, k)
		}

		began := time.Now()
		var rot struct{ ID string }
		a.mustCLI(&rot, "keys", "rotate")
		if rot.ID == "" || rot.ID == oldKid {
			t.Fatalf("keys rotate made key %q (old %v)", rot.ID, oldKid)
		}
		fresh := map[string]string{}
		took := map[string]time.Duration{}
		for time.Since(began) < 5*time.Second && len(fresh) < 2 {
			for name, n := range map[string]*testServer{"A": a, "B": b} {
				if fresh[name] != "" {
					continue
				}
				jwt := wantSuccess(t, n.login(p.APIToken, p.PartnerToken))
				if jwtHeader(t, jwt)["kid"] == rot.ID {
					fresh[name], took[name] = jwt, time.Since(began)
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(fresh) < 2 {
			t.Fatalf("5s after keys rotate, only %v sign with the new key %s", took, rot.ID)
		}
		t.Logf("new kid in JWTs after: A %v, B %v", took["A"].Round(time.Millisecond), took["B"].Round(time.Millisecond))

		// Tokens signed before and after, by either node, verify on both.
		for _, set := range []struct {
			name   string
			tokens map[string]string
		}{{"older", old}, {"newer", fresh}} {
			for signer, jwt := range set.tokens {
				for verifier, n := range map[string]*testServer{"A": a, "B": b} {
					r := n.do("GET", "/v1/autho/me/", "", nil, "Authorization", "Bearer "+jwt)
					if r.Status != 200 || r.data()["token_id"] != p.TokenID {
						t.Errorf("%s token signed by %s, on %s's /v1/autho/me/: %d %s", set.name, signer, verifier, r.Status, r.Body)
					}
				}
			}
		}
		jwks := mnSameJWKS(t, a, b)
		for _, kid := range []string{oldKid.(string), rot.ID} {
			if !strings.Contains(jwks, `"`+kid+`"`) {
				t.Errorf("JWKS lacks %s: %s", kid, jwks)
			}
		}
	})
}

// TestMultiNode_PortalSession signs into the portal on one node and uses
// the session on the other: sessions live in the database, so a load
// balancer needs no stickiness, and signing out on one node ends the
// session on all.
func TestMultiNode_PortalSession(t *testing.T) {
	db, _ := pgTestSchema(t)
	nodes := startNodes(t, db, map[string]string{
		"AUTHO_MASTER_KEY": pgTestMasterKey(),
		"AUTHO_ISSUER":     "https://auth.example.test",
	}, 2)
	a, b := nodes[0].client(t), nodes[1].client(t)

	var acc struct {
		ID           string `json:"id"`
		PartnerToken string `json:"partner_token"`
	}
	a.mustCLI(&acc, "account", "create", "--name", "Portal Partner")
	var usr struct{ Email, Password string }
	a.mustCLI(&usr, "user", "create", "--account", acc.ID, "--email", "portal-mn@example.com", "--role", "admin")
	leaks.add(usr.Password)

	// The session cookie, as a browser would keep it; redirects are
	// looked at, not followed.
	var cookies []*http.Cookie
	noFollow := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	portal := func(n *testServer, method, path string, form url.Values) (int, string, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, n.url+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := readAll(res)
		if err != nil {
			t.Fatal(err)
		}
		if set := res.Cookies(); len(set) > 0 {
			cookies = set
		}
		return res.StatusCode, res.Header.Get("Location"), string(b)
	}

	status, loc, _ := portal(a, "POST", "/portal/login", url.Values{"email": {usr.Email}, "password": {usr.Password}})
	if status != http.StatusSeeOther || len(cookies) == 0 {
		t.Fatalf("sign-in on A: %d to %q, cookies %d", status, loc, len(cookies))
	}
	for _, c := range cookies {
		leaks.add(c.Value)
	}

	status, _, page := portal(b, "GET", "/portal/tokens", nil)
	if status != 200 || !strings.Contains(page, usr.Email) {
		t.Fatalf("B's token page with A's session: %d, signed in as %s: %v", status, usr.Email, strings.Contains(page, usr.Email))
	}

	// A token made in the portal on B logs in through A.
	status, _, page = portal(b, "POST", "/portal/tokens", url.Values{"name": {"made on B"}, "expiry": {"30"}})
	tok := regexp.MustCompile(`autho_api_[0-9A-Za-z]{36}`).FindString(page)
	if status != 200 || tok == "" {
		t.Fatalf("create a token in the portal on B: %d, token shown: %v", status, tok != "")
	}
	leaks.add(tok)
	wantSuccess(t, a.login(tok, acc.PartnerToken))

	// Signing out on B ends the session on A too.
	if status, _, _ = portal(b, "POST", "/portal/logout", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("sign-out on B: %d", status)
	}
	status, loc, _ = portal(a, "GET", "/portal/tokens", nil)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/portal/login") {
		t.Fatalf("A's token page after signing out on B: %d to %q, want a redirect to sign in", status, loc)
	}
}

// mnSameJWKS waits, bounded by 5 s (the rotation bound; nodes refresh every
// 2 s), until both nodes publish the same JWKS, and returns it.
func mnSameJWKS(t *testing.T, a, b *testServer) string {
	t.Helper()
	var ja, jb *response
	for began := time.Now(); time.Since(began) < 5*time.Second; time.Sleep(100 * time.Millisecond) {
		ja, jb = a.do("GET", "/.well-known/jwks.json", "", nil), b.do("GET", "/.well-known/jwks.json", "", nil)
		if ja.Status == 200 && bytes.Equal(ja.Body, jb.Body) {
			return string(ja.Body)
		}
	}
	t.Fatalf("the nodes publish different JWKS:\nA %d %s\nB %d %s", ja.Status, ja.Body, jb.Status, jb.Body)
	return ""
}
