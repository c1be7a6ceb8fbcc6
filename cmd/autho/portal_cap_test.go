package main

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
)

// portalSession is a signed-in person's browser: a cookie jar shared by
// every node, since sessions live in the database.
type portalSession struct {
	t *testing.T
	c *http.Client
}

// portalSignInHTTP signs u in on ts with the login form and returns the
// browser holding the session.
func portalSignInHTTP(t *testing.T, ts *testServer, u portalUser) *portalSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &portalSession{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if status, body := s.post(ts, "/portal/login", url.Values{"email": {u.email}, "password": {u.password}}); status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d\n%s", u.email, status, body)
	}
	return s
}

// post sends a form to a node as the portal's own page would: the
// cross-origin protection lets a same-origin form through.
func (s *portalSession) post(ts *testServer, path string, form url.Values) (int, string) {
	req, err := http.NewRequest("POST", ts.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Error(err)
		return 0, ""
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", ts.url)
	res, err := s.c.Do(req)
	if err != nil {
		// Called from many goroutines: Error, not Fatal.
		s.t.Error(err)
		return 0, ""
	}
	b, _ := readAll(res)
	return res.StatusCode, string(b)
}

// secondNode starts another daemon on ts's database, as a second node
// behind a load balancer (on PostgreSQL with the same master key; a SQLite
// file has its key beside it).
func secondNode(t *testing.T, b backend, ts *testServer, env map[string]string) *testServer {
	t.Helper()
	full := map[string]string{}
	for k, v := range env {
		full[k] = v
	}
	if b == backendPostgres {
		full["AUTHO_MASTER_KEY"] = ts.env["AUTHO_MASTER_KEY"]
	}
	return startServerAt(t, ts.db, full)
}

var shownAPIToken = regexp.MustCompile(`<code id="new-token"[^>]*>(autho_api_[0-9A-Za-z]+)</code>`)

// The per-person cap holds exactly when one person's create forms arrive
// all at once, on one node or spread over two sharing the database: of 30
// forms against a cap of 5, five make a token and the rest are refused with
// the cap's message.
func TestPortal_TokenCapUnderParallelCreates(t *testing.T) {
	const (
		maxActive = 5
		forms     = 30
	)
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, nodes := range []int{1, 2} {
			t.Run(fmt.Sprintf("%d nodes", nodes), func(t *testing.T) {
				env := map[string]string{"AUTHO_MAX_ACTIVE_TOKENS": fmt.Sprint(maxActive)}
				servers := []*testServer{startServerOn(t, b, env)}
				if nodes == 2 {
					servers = append(servers, secondNode(t, b, servers[0], env))
				}
				var acc map[string]any
				servers[0].mustCLI(&acc, "account", "create", "--name", "Capped Ltd")
				u := portalCLIUser(t, servers[0], acc["id"].(string), "ops@capped.example", "member", "the capped pass phrase")
				browser := portalSignInHTTP(t, servers[0], u)

				var (
					wg      sync.WaitGroup
					mu      sync.Mutex
					made    int
					refused int
					begin   = make(chan struct{})
				)
				for i := range forms {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-begin
						status, body := browser.post(servers[i%nodes], "/portal/tokens", url.Values{"name": {fmt.Sprintf("parallel %d", i)}, "expiry": {"7"}})
						mu.Lock()
						defer mu.Unlock()
						switch m := shownAPIToken.FindStringSubmatch(body); {
						case status == http.StatusOK && m != nil:
							leaks.add(m[1])
							made++
						case status == http.StatusForbidden && strings.Contains(body, "the most one person may hold"):
							refused++
						default:
							t.Errorf("form %d: %d, neither a new token nor the cap's refusal:\n%.2000s", i, status, body)
						}
					}()
				}
				close(begin)
				wg.Wait()
				if made != maxActive || refused != forms-maxActive {
					t.Errorf("%d forms at once: %d tokens shown, %d refused; want %d and %d", forms, made, refused, maxActive, forms-maxActive)
				}
				ts, err := servers[0].store().APITokens(t.Context(), autho.TokenFilter{UserID: u.id})
				if err != nil {
					t.Fatal(err)
				}
				if len(ts) != maxActive {
					t.Errorf("the store holds %d tokens of the user, want %d", len(ts), maxActive)
				}
			})
		}
	})
}
