package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/autho/autho"
)

// rfc6238 is the test's own TOTP (RFC 6238 over RFC 4226, HMAC-SHA1),
// written from the RFCs and not from the server's library, so that the
// server is checked against the standard rather than against itself.
func rfc6238(key []byte, at time.Time, digits int) string {
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(at.Unix()/30))
	mac := hmac.New(sha1.New, key)
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// RFC 6238 Appendix B, the SHA-1 rows.
func TestRFC6238_vectors(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		if got := rfc6238(key, time.Unix(v.unix, 0), 8); got != v.want {
			t.Errorf("T=%d: %s, want %s", v.unix, got, v.want)
		}
	}
}

// totpKey reads a base32 key as the enrollment page shows it.
func totpKey(t *testing.T, shown string) []byte {
	t.Helper()
	s := strings.ToUpper(strings.Join(strings.Fields(shown), ""))
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil || len(key) < 16 {
		t.Fatalf("the page's key %d characters: not a base32 key of 128 bits or more (%v)", len(s), err)
	}
	leaks.add(s)
	return key
}

// totpCode is the code of the step steps after now's, registered as a
// secret.
func totpCode(key []byte, steps int) string {
	c := rfc6238(key, time.Now().Add(time.Duration(steps)*30*time.Second), 6)
	leaks.addCode(c)
	return c
}

// portalCodeStep types a code into the second step of signing in and sends it.
func portalCodeStep(t *testing.T, ctx context.Context, code, waitFor string) {
	t.Helper()
	portalDo(t, ctx, "enter a code",
		chromedp.WaitVisible(chromedp.CSS("#code")),
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/portal/login/code"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(waitFor)),
	)
}

// portalPassword signs in with the password only, up to the code page.
func portalPassword(t *testing.T, ctx context.Context, ts *testServer, u portalUser) {
	t.Helper()
	portalDo(t, ctx, "sign in as "+u.email,
		chromedp.Navigate(ts.url+"/portal/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), u.email),
		chromedp.SendKeys(chromedp.CSS("#password"), u.password),
		chromedp.Click(chromedp.CSS(`form[action="/portal/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#code")),
	)
}

func portalSignOut(t *testing.T, ctx context.Context) {
	t.Helper()
	portalDo(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS(`form[action="/portal/logout"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	)
}

func portalCodes(t *testing.T, ctx context.Context) []string {
	t.Helper()
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#recovery-codes code")).map(e => e.textContent.trim())`))
	if err != nil {
		t.Fatalf("browser: read the recovery codes: %v", err)
	}
	for _, c := range codes {
		leaks.add(c)
		leaks.add(strings.ReplaceAll(c, "-", ""))
	}
	return codes
}

// Issue 18, AC 1 and 3: enroll TOTP by reading the key off the page, sign
// in with password and code, a replay refused; recovery codes work once
// and not after regeneration. At a desktop's width with script, and at a
// phone's without.
func TestPortal_BrowserTOTP(t *testing.T) {
	ts := startServer(t, nil)
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "Second Factor Ltd")
	for _, width := range []int64{1280, 375} {
		js := width == 1280
		t.Run(fmt.Sprintf("%dpx, script %v", width, js), func(t *testing.T) {
			u := portalCLIUser(t, ts, acc["id"].(string), fmt.Sprintf("totp%d@second.example", width), "member", "a second factor pass phrase")
			ctx := portalBrowser(t)
			var opts []chromedp.EmulateViewportOption
			if width == 375 {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(2))
			}
			portalDo(t, ctx, "start the tab", chromedp.Navigate("about:blank"), chromedp.EmulateViewport(width, 812, opts...))
			if !js {
				if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
					t.Fatal(err)
				}
			}
			portalSignIn(t, ctx, ts, u)

			// Security, from the menu; add the app.
			portalDo(t, ctx, "open Security",
				chromedp.Click(chromedp.CSS(`nav a[href="/portal/security"]`)),
				chromedp.WaitVisible(chromedp.CSS("#totp-status")),
			)
			if s := portalText(t, ctx, "#totp-status"); !strings.HasPrefix(s, "Off") {
				t.Errorf("status before enrolling: %q", s)
			}
			portalDo(t, ctx, "add an authenticator app",
				chromedp.Click(chromedp.CSS(`form[action="/portal/security/totp"] button`)),
				chromedp.WaitVisible(chromedp.CSS("#totp-secret")),
			)
			shown := portalText(t, ctx, "#totp-secret")
			key := totpKey(t, shown)
			uri := portalText(t, ctx, "#totp-uri")
			leaks.add(uri)
			if secret := strings.Join(strings.Fields(shown), ""); !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+secret) {
				t.Errorf("the URI %q does not carry the key shown", uri)
			}
			// The image loads after the page: asked again until it has
			// (bounded), since a loaded machine may take a while.
			qr, err := -1, error(nil)
			for deadline := time.Now().Add(15 * time.Second); qr < 100 && err == nil && time.Now().Before(deadline); {
				qr, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector("img.qr").complete ? document.querySelector("img.qr").naturalWidth : -1`))
				if qr < 100 {
					time.Sleep(100 * time.Millisecond)
				}
			}
			if err != nil || qr < 100 {
				t.Errorf("the QR code image: %d px wide (%v); want it drawn", qr, err)
			}

			// A wrong code first, then the right one.
			wrong := fmt.Sprintf("%06d", (mustAtoi(totpCode(key, 0))+1)%1000000)
			portalDo(t, ctx, "confirm with a wrong code",
				chromedp.SendKeys(chromedp.CSS("#code"), wrong),
				chromedp.Click(chromedp.CSS(`form[action="/portal/security/totp/confirm"] button`)),
				chromedp.WaitVisible(chromedp.CSS("#code-error")),
			)
			portalDo(t, ctx, "confirm with the code of now",
				chromedp.SendKeys(chromedp.CSS("#code"), totpCode(key, 0)),
				chromedp.Click(chromedp.CSS(`form[action="/portal/security/totp/confirm"] button`)),
				chromedp.WaitVisible(chromedp.CSS("#recovery-codes")),
			)
			codes := portalCodes(t, ctx)
			if len(codes) != 10 {
				t.Fatalf("%d recovery codes shown, want 10", len(codes))
			}

			// Password, then the next step's code (the window takes it;
			// this step's was spent confirming).
			portalSignOut(t, ctx)
			portalPassword(t, ctx, ts, u)
			next := totpCode(key, 1)
			portalCodeStep(t, ctx, next, "#list-heading")

			// The same code again is refused, with the page saying why.
			portalSignOut(t, ctx)
			portalPassword(t, ctx, ts, u)
			portalCodeStep(t, ctx, next, "#code-error")
			if msg := portalText(t, ctx, "#code-error"); !strings.Contains(msg, "not right") {
				t.Errorf("a replayed code: %q", msg)
			}
			// A recovery code on the same page (its field left empty by
			// the refusal) signs in, once.
			portalCodeStep(t, ctx, codes[0], "#list-heading")
			portalSignOut(t, ctx)
			portalPassword(t, ctx, ts, u)
			portalCodeStep(t, ctx, codes[0], "#code-error")

			// New codes: the old ones stop working.
			portalCodeStep(t, ctx, codes[1], "#list-heading")
			portalDo(t, ctx, "make new recovery codes",
				chromedp.Navigate(ts.url+"/portal/security"),
				chromedp.WaitVisible(chromedp.CSS("#recovery-status")),
				chromedp.Click(chromedp.CSS(`form[action="/portal/security/recovery"] button`)),
				chromedp.WaitVisible(chromedp.CSS("#recovery-codes")),
			)
			fresh := portalCodes(t, ctx)
			portalSignOut(t, ctx)
			portalPassword(t, ctx, ts, u)
			portalCodeStep(t, ctx, codes[2], "#code-error")
			portalCodeStep(t, ctx, fresh[0], "#list-heading")

			// Each change is in the audit log, with the user as its actor.
			count := actionsBy(t, ts, u.id)
			want := map[autho.AuditAction]int{autho.AuditMFAAdd: 1, autho.AuditRecoveryCodeUsed: 3, autho.AuditRecoveryCodesRenew: 1, autho.AuditLoginSecondFailed: 3}
			for a, n := range want {
				if count[a] != n {
					t.Errorf("%d %s events, want %d (all: %v)", count[a], a, n, count)
				}
			}
		})
	}
}

func mustAtoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// actionsBy counts the audit events of each action with actorID as their
// actor, in every account.
func actionsBy(t *testing.T, ts *testServer, actorID string) map[autho.AuditAction]int {
	t.Helper()
	es, err := ts.store().AuditEvents(context.Background(), autho.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[autho.AuditAction]int{}
	for _, e := range es {
		if e.ActorID == actorID {
			count[e.Action]++
		}
	}
	return count
}

// mfaClient is a cookie-keeping client that does not follow redirects,
// coming from ip through the trusted proxy.
type mfaClient struct {
	t       *testing.T
	ts      *testServer
	ip      string
	cookies map[string]string
	loc     string // the last answer's Location
}

func (c *mfaClient) do(method, path string, form url.Values) (int, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.ts.url+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", c.ip)
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	hc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Do(req)
	if err != nil {
		c.t.Error(err)
		return 0, ""
	}
	b, _ := readAll(res)
	c.loc = res.Header.Get("Location")
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
			leaks.add(ck.Value)
		}
	}
	return res.StatusCode, string(b)
}

var secretOnPage = regexp.MustCompile(`id="totp-secret"[^>]*>([^<]+)<`)

// enrollOverHTTP signs u in and adds an authenticator app with plain form
// posts, as a browser without script does, and returns the key.
func enrollOverHTTP(t *testing.T, ts *testServer, u portalUser) []byte {
	t.Helper()
	c := &mfaClient{t: t, ts: ts, ip: "192.0.2.200", cookies: map[string]string{}}
	if st, _ := c.do("POST", "/portal/login", url.Values{"email": {u.email}, "password": {u.password}}); st != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", st)
	}
	return enrollWith(t, c)
}

// enrollWith adds an authenticator app for the user signed in with c, with
// plain form posts, and returns its key.
func enrollWith(t *testing.T, c *mfaClient) []byte {
	t.Helper()
	if st, _ := c.do("POST", "/portal/security/totp", url.Values{}); st != http.StatusSeeOther {
		t.Fatalf("begin enrollment: %d", st)
	}
	st, page := c.do("GET", "/portal/security/totp", nil)
	m := secretOnPage.FindStringSubmatch(page)
	if st != http.StatusOK || m == nil {
		t.Fatalf("enrollment page: %d, key found %v", st, m != nil)
	}
	key := totpKey(t, html.UnescapeString(m[1]))
	if st, _ := c.do("POST", "/portal/security/totp/confirm", url.Values{"code": {totpCode(key, 0)}}); st != http.StatusOK {
		t.Fatalf("confirm: %d", st)
	}
	return key
}

// replayBurst: one right code sent at once with six pending sign-ins of
// the same user, over two nodes, opens exactly one session: the code's
// step is taken in one conditional write, whichever node checks it.
func replayBurst(t *testing.T, nodes []*testServer, acc string) {
	t.Helper()
	u := portalCLIUser(t, nodes[0], acc, "replay@second.example", "member", "the replay's pass phrase")
	key := enrollOverHTTP(t, nodes[0], u)
	const n = 6
	pendings := make([]string, n)
	for i := range pendings {
		c := &mfaClient{t: t, ts: nodes[i%2], ip: fmt.Sprintf("198.51.100.%d", 10+i), cookies: map[string]string{}}
		if st, _ := c.do("POST", "/portal/login", url.Values{"email": {u.email}, "password": {u.password}}); st != http.StatusSeeOther || c.cookies["autho_signin"] == "" {
			t.Fatalf("password step %d: %d", i, st)
		}
		pendings[i] = c.cookies["autho_signin"]
	}
	right := totpCode(key, 1)
	var sessions atomic.Int32
	counts := burst(t, nodes, n, func(i int, node *testServer) int {
		c := &mfaClient{t: t, ts: node, ip: fmt.Sprintf("198.51.100.%d", 10+i), cookies: map[string]string{"autho_signin": pendings[i]}}
		st, _ := c.do("POST", "/portal/login/code", url.Values{"code": {right}})
		if c.cookies["autho_session"] != "" {
			sessions.Add(1)
		}
		return st
	})
	t.Logf("one right code sent %d times at once: answers by status %v", n, counts)
	if sessions.Load() != 1 || counts[http.StatusSeeOther] != 1 {
		t.Errorf("one right code sent %d times at once: %d sessions, answers %v; want exactly one", n, sessions.Load(), counts)
	}
}

// Issue 18, AC 1: wrong codes count toward the sign-in throttle like wrong
// passwords. A burst of 30 wrong codes at once, over two nodes, gets at
// most the 5 checks an email and address are allowed; then the right
// password too waits. The operator's reset-mfa then lets the password
// alone sign in, and is audited as the operator's.
func TestPortal_TOTPThrottleBurst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		nodes, acc := portalPair(t, b)
		u := portalCLIUser(t, nodes[0], acc, "burst@second.example", "member", "the burst's pass phrase")
		key := enrollOverHTTP(t, nodes[0], u)

		const ip = "203.0.113.50"
		c := &mfaClient{t: t, ts: nodes[0], ip: ip, cookies: map[string]string{}}
		if st, _ := c.do("POST", "/portal/login", url.Values{"email": {u.email}, "password": {u.password}}); st != http.StatusSeeOther || c.cookies["autho_signin"] == "" {
			t.Fatalf("password step: %d, pending cookie %v", st, c.cookies["autho_signin"] != "")
		}
		if c.cookies["autho_session"] != "" {
			t.Fatal("a session exists before the second factor")
		}
		replayBurst(t, nodes, acc)
		pending := c.cookies["autho_signin"]
		// The pending sign-in opens no page.
		if st, _ := c.do("GET", "/portal/tokens", nil); st != http.StatusSeeOther {
			t.Errorf("a member's page with only the pending sign-in: %d, want 303 to the login", st)
		}
		right := totpCode(key, 1)
		counts := burst(t, nodes, 30, func(i int, node *testServer) int {
			wc := &mfaClient{t: t, ts: node, ip: ip, cookies: map[string]string{"autho_signin": pending}}
			code := fmt.Sprintf("%06d", (mustAtoi(right)+1+i)%1000000)
			st, _ := wc.do("POST", "/portal/login/code", url.Values{"code": {code}})
			return st
		})
		t.Logf("30 wrong codes at once: %d checked, answers by status %v", checked(counts), counts)
		if n := checked(counts); n > 5 || counts[http.StatusUnauthorized] == 0 {
			t.Errorf("30 wrong codes at once: %d checked (%v), want 1 to 5", n, counts)
		}
		if counts[http.StatusSeeOther] != 0 {
			t.Errorf("a wrong code signed in: %v", counts)
		}
		if st, _ := c.do("POST", "/portal/login/code", url.Values{"code": {right}}); st != http.StatusTooManyRequests {
			t.Errorf("the right code after the burst: %d, want 429", st)
		}
		fresh := &mfaClient{t: t, ts: nodes[1], ip: ip, cookies: map[string]string{}}
		if st, _ := fresh.do("POST", "/portal/login", url.Values{"email": {u.email}, "password": {u.password}}); st != http.StatusTooManyRequests {
			t.Errorf("the right password after the burst: %d, want 429", st)
		}

		// The operator clears the factor; the password alone signs in
		// (from another address: this one is still waiting).
		var out map[string]any
		nodes[0].mustCLI(&out, "user", "reset-mfa", "--email", u.email)
		if out["cleared"] != float64(11) {
			t.Errorf("reset-mfa: %v, want 11 cleared (a factor, ten codes)", out)
		}
		other := &mfaClient{t: t, ts: nodes[1], ip: "198.51.100.77", cookies: map[string]string{}}
		if st, _ := other.do("POST", "/portal/login", url.Values{"email": {u.email}, "password": {u.password}}); st != http.StatusSeeOther || other.cookies["autho_session"] == "" {
			t.Errorf("password after reset-mfa: %d, session %v", st, other.cookies["autho_session"] != "")
		}
		es, err := nodes[0].store().AuditEvents(context.Background(), autho.AuditFilter{AccountID: acc})
		if err != nil {
			t.Fatal(err)
		}
		resets := 0
		for _, e := range es {
			if e.Action == autho.AuditMFAReset && e.ActorID == "operator:cli" && e.TargetID == u.id {
				resets++
			}
		}
		if resets != 1 {
			t.Errorf("%d reset-mfa events by the operator, want 1", resets)
		}
	})
}
