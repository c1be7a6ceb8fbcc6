package main

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
)

// Parallel abuse of the portal's sign-in, on the real daemon, on both
// backends and across two nodes sharing one database: what holds one
// request at a time must hold when the requests arrive together.

// portalPair starts two nodes on one database, trusting loopback's
// X-Forwarded-For so that each request can say where it comes from, and
// returns them with a new account's id.
func portalPair(t *testing.T, b backend) (nodes []*testServer, accountID string) {
	t.Helper()
	env := map[string]string{"AUTHO_TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}
	a := startServerOn(t, b, env)
	var acc map[string]any
	a.mustCLI(&acc, "account", "create", "--name", "Raced Ltd")
	return []*testServer{a, secondNode(t, b, a, env)}, acc["id"].(string)
}

// portalForm posts a form to a node as a browser behind a trusted proxy
// would, from ip, with the session cookie when one is given, and returns the
// status and the session cookie the answer set ("" for none).
func portalForm(t *testing.T, ts *testServer, path, ip, cookie string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	if cookie != "" {
		req.Header.Set("Cookie", "autho_session="+cookie)
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	readAll(res)
	for _, ck := range res.Cookies() {
		if ck.Name == "autho_session" && ck.MaxAge >= 0 {
			return res.StatusCode, ck.Value
		}
	}
	return res.StatusCode, ""
}

// signedIn reports whether a session cookie still opens a member's page.
func signedIn(t *testing.T, ts *testServer, cookie string) bool {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.url+"/portal/tokens", nil)
	req.Header.Set("Cookie", "autho_session="+cookie)
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(res)
	return res.StatusCode == http.StatusOK
}

// burst sends n requests at once, round robin over nodes, and counts the
// answers by status.
func burst(t *testing.T, nodes []*testServer, n int, send func(i int, node *testServer) int) map[int]int {
	t.Helper()
	var (
		mu     sync.Mutex
		counts = map[int]int{}
		wg     sync.WaitGroup
		gate   = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-gate
			status := send(i, nodes[i%len(nodes)])
			mu.Lock()
			counts[status]++
			mu.Unlock()
		})
	}
	close(gate)
	wg.Wait()
	return counts
}

// checked is how many answers of a burst of sign-ins came from a password
// check: every answer but the throttle's 429 and the busy pool's 503.
func checked(counts map[int]int) int {
	n := 0
	for status, c := range counts {
		if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
			n += c
		}
	}
	return n
}

// Item 1: the throttle reserves an attempt before the password is checked,
// so a burst gets no more checks than the documented allowance: 5 per
// email and address, 20 per address.
func TestPortal_ThrottleBurst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		nodes, acc := portalPair(t, b)
		victim := portalCLIUser(t, nodes[0], acc, "victim@raced.example", "member", "the victim's pass phrase")

		t.Run("one email from one address", func(t *testing.T) {
			counts := burst(t, nodes, 30, func(i int, node *testServer) int {
				status, _ := portalForm(t, node, "/portal/login", "203.0.113.7", "",
					url.Values{"email": {victim.email}, "password": {fmt.Sprintf("guess number %d", i)}})
				return status
			})
			if n := checked(counts); n > 5 || counts[http.StatusUnauthorized] == 0 {
				t.Errorf("30 wrong passwords at once: %d checked (%v), want 1 to 5", n, counts)
			}
			// On a loaded machine the busy pool may have answered so many
			// of the burst with 503 that fewer than 5 guesses were checked:
			// the rest of the allowance is spent one at a time.
			for i := 0; counts[http.StatusUnauthorized] < 5 && i < 10; i++ {
				status, _ := portalForm(t, nodes[0], "/portal/login", "203.0.113.7", "",
					url.Values{"email": {victim.email}, "password": {fmt.Sprintf("late guess %d", i)}})
				if status == http.StatusTooManyRequests {
					break
				}
				counts[status]++
			}
			if status, _ := portalForm(t, nodes[1], "/portal/login", "203.0.113.7", "",
				url.Values{"email": {victim.email}, "password": {victim.password}}); status != http.StatusTooManyRequests {
				t.Errorf("the right password after the burst: %d, want 429 (the pair is throttled)", status)
			}
		})
		t.Run("many emails from one address", func(t *testing.T) {
			counts := burst(t, nodes, 60, func(i int, node *testServer) int {
				status, _ := portalForm(t, node, "/portal/login", "198.51.100.9", "",
					url.Values{"email": {fmt.Sprintf("nobody%d@raced.example", i)}, "password": {"some pass phrase"}})
				return status
			})
			if n := checked(counts); n > 20 || counts[http.StatusUnauthorized] == 0 {
				t.Errorf("60 sign-ins from one address at once: %d checked (%v), want 1 to 20", n, counts)
			}
		})
		t.Run("change password", func(t *testing.T) {
			u := portalCLIUser(t, nodes[0], acc, "changer@raced.example", "member", "the changer's pass phrase")
			status, cookie := portalForm(t, nodes[0], "/portal/login", "192.0.2.44", "",
				url.Values{"email": {u.email}, "password": {u.password}})
			if status != http.StatusSeeOther || cookie == "" {
				t.Fatalf("sign-in: %d", status)
			}
			counts := burst(t, nodes, 30, func(i int, node *testServer) int {
				status, _ := portalForm(t, node, "/portal/password", "192.0.2.44", cookie, url.Values{
					"current": {fmt.Sprintf("guess number %d", i)}, "new": {"a brand new pass phrase"}, "confirm": {"a brand new pass phrase"}})
				return status
			})
			if n := checked(counts); n > 5 || counts[http.StatusBadRequest] == 0 {
				t.Errorf("30 wrong current passwords at once: %d checked (%v), want 1 to 5", n, counts)
			}
		})
	})
}

// Item 2: a sign-in that checked the old password while the password was
// being changed must not leave a session behind that outlives the change.
func TestPortal_PasswordChangeEndsRacingSignIns(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		nodes, acc := portalPair(t, b)
		for round := range 4 {
			old := fmt.Sprintf("round %d old pass phrase", round)
			u := portalCLIUser(t, nodes[0], acc, fmt.Sprintf("raced%d@raced.example", round), "member", old)
			status, own := portalForm(t, nodes[0], "/portal/login", "192.0.2.1", "", url.Values{"email": {u.email}, "password": {old}})
			if status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", status)
			}
			var (
				mu       sync.Mutex
				sessions []string
				wg       sync.WaitGroup
			)
			for i := range 16 {
				wg.Go(func() {
					// Each from its own address, so that the throttle
					// plays no part.
					status, c := portalForm(t, nodes[i%2], "/portal/login", fmt.Sprintf("10.%d.%d.%d", round, i, 1), "",
						url.Values{"email": {u.email}, "password": {old}})
					if status == http.StatusSeeOther {
						mu.Lock()
						sessions = append(sessions, c)
						mu.Unlock()
					}
				})
			}
			time.Sleep(time.Duration(20+round*15) * time.Millisecond)
			next := fmt.Sprintf("round %d new pass phrase", round)
			status = http.StatusServiceUnavailable
			// The sign-ins may fill the node's argon2 pool for a moment.
			for try := 0; status == http.StatusServiceUnavailable && try < 40; try++ {
				status, _ = portalForm(t, nodes[0], "/portal/password", "192.0.2.1", own,
					url.Values{"current": {old}, "new": {next}, "confirm": {next}})
				if status == http.StatusServiceUnavailable {
					time.Sleep(25 * time.Millisecond)
				}
			}
			if status != http.StatusSeeOther {
				t.Fatalf("round %d: change password: %d", round, status)
			}
			wg.Wait()
			survived := 0
			for i, c := range sessions {
				if signedIn(t, nodes[i%2], c) {
					survived++
				}
			}
			if survived > 0 {
				t.Errorf("round %d: %d of %d sessions signed in with the old password survived the change", round, survived, len(sessions))
			}
		}
	})
}

// Item 10: a client that hangs up while its password is being checked has
// still made a guess. It is counted and audited, and the hang-up is no
// error in the log.
func TestPortal_AbandonedSignIn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		nodes, acc := portalPair(t, b)
		ts := nodes[0]
		u := portalCLIUser(t, ts, acc, "quitter@raced.example", "member", "the quitter's pass phrase")
		st := ts.store()
		failed := func() int {
			es, err := st.AuditEvents(t.Context(), autho.AuditFilter{AccountID: acc})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range es {
				if e.Action == autho.AuditLoginFailed && e.ActorID == u.id {
					n++
				}
			}
			return n
		}
		// A guess hung up on before the server has even read it (a loaded
		// machine) is no guess: it is sent again, until five reached it.
		for i, tries := 0, 0; i < 5; tries++ {
			if tries == 20 {
				t.Fatalf("only %d of 20 guesses reached the server before the client hung up", i)
			}
			form := url.Values{"email": {u.email}, "password": {fmt.Sprintf("guess number %d", tries)}}
			req, _ := http.NewRequest("POST", ts.url+"/portal/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "203.0.113.77")
			// Gone long before argon2 is done.
			c := &http.Client{Timeout: 5 * time.Millisecond}
			if res, err := c.Do(req); err == nil {
				res.Body.Close()
				t.Fatalf("guess %d was answered (%d) within 5 ms: the test cannot hang up mid-check", i, res.StatusCode)
			}
			// Wait for the server to have seen it through, so that each
			// guess is one the server received.
			for wait := 0; failed() < i+1 && wait < 100; wait++ {
				time.Sleep(50 * time.Millisecond)
			}
			switch got := failed(); {
			case got == i+1:
				i++
			case got > i+1:
				t.Fatalf("after %d abandoned guesses, %d audited as failed sign-ins", i+1, got)
			}
		}
		if status, _ := portalForm(t, ts, "/portal/login", "203.0.113.77", "",
			url.Values{"email": {u.email}, "password": {u.password}}); status != http.StatusTooManyRequests {
			t.Fatalf("the right password after five abandoned guesses: %d, want 429", status)
		}
		for _, line := range strings.Split(ts.log.String(), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) {
				t.Errorf("logged as an error: %s", line)
			}
		}
	})
}

// Item 4: password checks run in a bounded pool. A flood of sign-ins from
// ever-new addresses (no throttle stops them) is answered at once beyond
// it, with 503 and Retry-After, instead of running every argon2 check at
// the same time. (What the flood costs the partner login is measured in
// bench/run's flood scenario, not here.)
func TestPortal_SignInFlood(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		nodes, _ := portalPair(t, b)
		ts := nodes[0]
		var (
			mu    sync.Mutex
			retry = map[string]int{}
		)
		// More than the pool's slots check in the second a caller waits,
		// on any machine: half the processors, each with a second of
		// budget and a check taking at least 10 ms.
		n := 150*max(1, runtime.GOMAXPROCS(0)/2) + 60
		counts := burst(t, []*testServer{ts}, n, func(i int, node *testServer) int {
			req, _ := http.NewRequest("POST", node.url+"/portal/login", strings.NewReader(url.Values{
				"email": {fmt.Sprintf("flood%d@raced.example", i)}, "password": {"some pass phrase"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.9.%d.%d", i/200, i%200+1))
			res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
			if err != nil {
				t.Error(err)
				return 0
			}
			readAll(res)
			if res.StatusCode == http.StatusServiceUnavailable {
				mu.Lock()
				retry[res.Header.Get("Retry-After")]++
				mu.Unlock()
			}
			return res.StatusCode
		})
		if counts[http.StatusServiceUnavailable] == 0 || counts[http.StatusUnauthorized] == 0 ||
			counts[http.StatusUnauthorized]+counts[http.StatusServiceUnavailable] != n {
			t.Fatalf("%d sign-ins at once from as many addresses: %v, want some checked (401) and the rest told to retry (503)", n, counts)
		}
		if len(retry) != 1 || retry["1"] == 0 {
			t.Fatalf("Retry-After on the 503s: %v, want 1 on every one", retry)
		}
	})
}
