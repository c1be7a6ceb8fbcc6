package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// portalPost sends a sign-in form to a node as a browser behind a trusted
// proxy would, from the client address ip.
func portalPost(t *testing.T, ts *testServer, ip, email, pw string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.url+"/portal/login", strings.NewReader(url.Values{"email": {email}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := readAll(res)
	return res.StatusCode, string(b)
}

var emailWaitMessage = regexp.MustCompile(`Too many failed sign-ins for this email address\. Wait (\d+) seconds, then try again\.`)

// AC 3 on the real daemon, on both backends, across two nodes sharing one
// database: the sixth wrong password for an email is refused with a clear
// message on whichever node it reaches, while another user signing in
// from another address is not slowed.
func TestPortal_ThrottleAcrossNodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		nodes, acc := portalPair(t, b)
		a, second := nodes[0], nodes[1]
		victim := portalNodeUser(t, a, acc, "victim@throttled.example", "the victim's pass phrase")
		other := portalNodeUser(t, a, acc, "other@throttled.example", "the other one's pass phrase")

		for i, node := range []*testServer{a, second, a, second, a} {
			if status, _ := portalPost(t, node, "203.0.113.5", victim, "guess number "+string(rune('1'+i))); status != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: %d, want 401", i+1, status)
			}
		}
		for _, node := range []*testServer{second, a} {
			status, page := portalPost(t, node, "203.0.113.5", victim, "guess number 6")
			// The wait counts from the fifth failure: a second or two
			// may have gone by on a loaded machine.
			m := emailWaitMessage.FindStringSubmatch(page)
			if status != http.StatusTooManyRequests || m == nil || mustAtoi(m[1]) < 20 || mustAtoi(m[1]) > 30 {
				t.Fatalf("sixth wrong password: %d, message %q; want 429 asking to wait up to 30 seconds", status, m)
			}
		}
		if status, _ := portalPost(t, second, "198.51.100.20", other, "the other one's pass phrase"); status != http.StatusSeeOther {
			t.Fatalf("another user from another address: %d, want a successful sign-in", status)
		}
	})
}

// portalNodeUser adds a member with a known password and returns the
// email.
func portalNodeUser(t *testing.T, ts *testServer, accountID, email, pw string) string {
	t.Helper()
	return portalCLIUser(t, ts, accountID, email, "member", pw).email
}
