package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/daemon"
)

// rrProxy is a round-robin reverse proxy at http://localhost:PORT in front
// of nodes, preserving Host: WebAuthn refuses an IP address as relying
// party, so the browser and AUTHO_PUBLIC_URL use localhost, and alternating
// the nodes per request makes a ceremony's two requests land on different
// ones. It registers what passes through that is secret (the challenges,
// the ceremony cookies, the assertions' signatures) with leakWatch, and can
// hold back one POST to a path for the test to replay.
type rrProxy struct {
	base    string
	nodes   []*httputil.ReverseProxy
	next    atomic.Int64
	mu      sync.Mutex
	served  []served
	hold    atomic.Pointer[string]
	capture chan *http.Request // the held request, its body in GetBody
}

type served struct {
	path string
	node int
}

func newRRProxy(t *testing.T) *rrProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &rrProxy{base: fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port), capture: make(chan *http.Request, 1)}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

// to points the proxy at the nodes, once they run.
func (p *rrProxy) to(nodes ...*testServer) {
	for _, n := range nodes {
		target, _ := url.Parse(n.url)
		p.nodes = append(p.nodes, &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Host = pr.In.Host
			},
			ModifyResponse: watchCeremony,
		})
	}
}

// watchCeremony registers an options answer's challenge and the ceremony
// cookie as secrets.
func watchCeremony(res *http.Response) error {
	for _, c := range res.Cookies() {
		leaks.add(c.Value)
	}
	if !strings.HasSuffix(res.Request.URL.Path, "/options") || res.StatusCode != http.StatusOK {
		return nil
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if json.Unmarshal(b, &o) == nil {
		leaks.add(o.PublicKey.Challenge)
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

func (p *rrProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		if form, err := url.ParseQuery(string(b)); err == nil {
			for _, k := range []string{"credential", "stepup_passkey"} {
				var a struct {
					Response struct {
						Signature string `json:"signature"`
					} `json:"response"`
				}
				if json.Unmarshal([]byte(form.Get(k)), &a) == nil {
					leaks.add(a.Response.Signature)
				}
			}
		}
		if h := p.hold.Load(); h != nil && *h == r.URL.Path && p.hold.CompareAndSwap(h, nil) {
			held := r.Clone(context.Background())
			held.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
			p.capture <- held
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	i := int(p.next.Add(1)-1) % len(p.nodes)
	p.mu.Lock()
	p.served = append(p.served, served{r.URL.Path, i})
	p.mu.Unlock()
	p.nodes[i].ServeHTTP(w, r)
}

// split counts the ceremonies whose options and finish went to different
// nodes, and the requests each node served.
func (p *rrProxy) split() (ceremonies, splitOnes int, perNode map[int]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	perNode = map[int]int{}
	began := map[string]int{}
	for _, s := range p.served {
		perNode[s.node]++
		if finish, ok := strings.CutSuffix(s.path, "/options"); ok {
			began[finish] = s.node
			continue
		}
		if n, ok := began[s.path]; ok {
			ceremonies++
			if n != s.node {
				splitOnes++
			}
			delete(began, s.path)
		}
	}
	return ceremonies, splitOnes, perNode
}

// replay sends a held request again to node, with the cookies in swap in
// place of the browser's of those names, and returns the status and the
// session cookie it set ("" for none).
func replay(t *testing.T, held *http.Request, node *testServer, swap map[string]string) (int, string) {
	body, _ := held.GetBody()
	req, _ := http.NewRequest("POST", node.url+held.URL.Path, body)
	req.Header = held.Header.Clone()
	req.Host = held.Host
	if swap != nil {
		req.Header.Del("Cookie")
		for _, ck := range held.Cookies() {
			if v, ok := swap[ck.Name]; ok {
				ck.Value = v
			}
			req.AddCookie(ck)
		}
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	readAll(res)
	session := ""
	for _, ck := range res.Cookies() {
		leaks.add(ck.Value)
		if ck.Name == "autho_session" && ck.MaxAge >= 0 {
			session = ck.Value
		}
	}
	return res.StatusCode, session
}

// holdNext holds back the browser's next POST to path and returns it once
// the steps have sent it.
func (p *rrProxy) holdNext(t *testing.T, ctx context.Context, path, step string, steps ...chromedp.Action[chromedp.Void]) *http.Request {
	t.Helper()
	p.hold.Store(&path)
	portalDo(t, ctx, step, steps...)
	select {
	case held := <-p.capture:
		return held
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: the browser's answer never came", step)
		return nil
	}
}

// passkeyBrowser is portalBrowser with a virtual authenticator: CTAP2 over
// the internal transport, with resident keys and user verification that
// succeeds, as a laptop's fingerprint reader.
func passkeyBrowser(t *testing.T) context.Context {
	t.Helper()
	ctx := portalBrowser(t)
	portalDo(t, ctx, "start the tab", chromedp.Navigate("about:blank"))
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	_, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
		Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
		IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return ctx
}

// addPasskey adds a passkey named name on the Security page, through the
// virtual authenticator, and waits for the answer.
func addPasskey(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	portalDo(t, ctx, "add a passkey",
		chromedp.Navigate(base+"/portal/security"),
		chromedp.WaitVisible(chromedp.CSS(`form[data-passkey="register"]`)),
		chromedp.SendKeys(chromedp.CSS("#passkey-name"), name),
		chromedp.Click(chromedp.CSS(`form[data-passkey="register"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes, [data-passkey-error]:not([hidden]), #passkey-error")),
	)
	passkeyNoError(t, ctx)
}

// passkeyNoError fails the test with the page's passkey message, if one is
// shown.
func passkeyNoError(t *testing.T, ctx context.Context) {
	t.Helper()
	msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("[data-passkey-error]:not([hidden]), #passkey-error, #login-error, #code-error")).map(e => e.textContent.trim()).join(" | ")`))
	if err != nil {
		t.Fatalf("browser: read the page's messages: %v", err)
	}
	if msg != "" {
		t.Fatalf("the page says: %s", msg)
	}
}

func passkeyPassword(t *testing.T, ctx context.Context, base string, u portalUser, waitFor string) {
	t.Helper()
	portalDo(t, ctx, "sign in with the password as "+u.email,
		chromedp.Navigate(base+"/portal/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), u.email),
		chromedp.SendKeys(chromedp.CSS("#password"), u.password),
		chromedp.Click(chromedp.CSS(`form[action="/portal/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(waitFor)),
	)
}

func passkeyAlone(t *testing.T, ctx context.Context, base, waitFor string) {
	t.Helper()
	portalDo(t, ctx, "sign in with a passkey",
		chromedp.Navigate(base+"/portal/login"),
		chromedp.WaitVisible(chromedp.CSS("#passkey-signin")),
		chromedp.Click(chromedp.CSS("#passkey-signin")),
		chromedp.WaitVisible(chromedp.CSS(waitFor)),
	)
}

// Issue 18, criterion 2: passkeys, in a real Chromium with a virtual
// authenticator, over two nodes behind a round-robin proxy (so a ceremony
// begun on one node is finished on the other), on both backends. A
// passkey is added (the first factor: ten recovery codes), signs in alone,
// and after the password in place of a code; one held-back sign-in answer
// replayed ten times at once signs in once; a removed passkey is refused
// with a message that says so.
func TestPortal_BrowserPasskey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		proxy := newRRProxy(t)
		env := map[string]string{"AUTHO_PUBLIC_URL": proxy.base, "AUTHO_TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}
		a := startServerOn(t, b, env)
		nodes := []*testServer{a, secondNode(t, b, a, env)}
		proxy.to(nodes...)
		var acc map[string]any
		a.mustCLI(&acc, "account", "create", "--name", "Passkey Ltd")
		u := portalCLIUser(t, a, acc["id"].(string), "pk-"+string(b)+"@passkey.example", "member", "a passkey user's pass phrase")
		ctx := passkeyBrowser(t)
		base := proxy.base

		passkeyPassword(t, ctx, base, u, "#list-heading")
		addPasskey(t, ctx, base, "Test laptop")
		if codes := portalCodes(t, ctx); len(codes) != 10 {
			t.Errorf("%d recovery codes shown with the first passkey, want 10", len(codes))
		}
		portalDo(t, ctx, "open Security", chromedp.Navigate(base+"/portal/security"), chromedp.WaitVisible(chromedp.CSS("#passkeys")))
		if name := portalText(t, ctx, "#passkeys .passkey-name"); name != "Test laptop" {
			t.Errorf("the passkey listed as %q", name)
		}

		// The passkey alone signs in.
		portalSignOut(t, ctx)
		passkeyAlone(t, ctx, base, "#list-heading")

		// Password, then the passkey in place of a code.
		portalSignOut(t, ctx)
		passkeyPassword(t, ctx, base, u, "#passkey-code")
		portalDo(t, ctx, "use the passkey as the second factor",
			chromedp.Click(chromedp.CSS("#passkey-code")),
			chromedp.WaitVisible(chromedp.CSS("#list-heading")),
		)

		// One answer, replayed ten times at once over both nodes: one
		// sign-in.
		// A second-factor answer belongs to its pending sign-in: sent
		// with another one (the same password, again), it signs nothing
		// in, and its ceremony is spent.
		portalSignOut(t, ctx)
		held := proxy.holdNext(t, ctx, "/portal/login/code/passkey", "a second-factor passkey answer held back",
			chromedp.Navigate(base+"/portal/login"),
			chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), u.email),
			chromedp.SendKeys(chromedp.CSS("#password"), u.password),
			chromedp.Click(chromedp.CSS(`form[action="/portal/login"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#passkey-code")),
			chromedp.Click(chromedp.CSS("#passkey-code")),
		)
		other := &mfaClient{t: t, ts: nodes[1], ip: "192.0.2.31", cookies: map[string]string{}}
		if st, _ := other.do("POST", "/portal/login", url.Values{"email": {u.email}, "password": {u.password}}); st != http.StatusSeeOther || other.cookies["autho_signin"] == "" {
			t.Fatalf("another password sign-in: %d", st)
		}
		if st, ses := replay(t, held, nodes[0], map[string]string{"autho_signin": other.cookies["autho_signin"]}); st != http.StatusBadRequest || ses != "" {
			t.Errorf("a second-factor answer with another pending sign-in: %d, session %v; want 400 and none", st, ses != "")
		}
		if st, ses := replay(t, held, nodes[1], nil); st != http.StatusBadRequest || ses != "" {
			t.Errorf("the same answer with its own pending sign-in, after: %d, session %v; want 400 (spent) and none", st, ses != "")
		}

		// One passwordless answer, replayed ten times at once over both
		// nodes: one sign-in.
		held = proxy.holdNext(t, ctx, "/portal/login/passkey", "a passkey sign-in held back",
			chromedp.Navigate(base+"/portal/login"),
			chromedp.WaitVisible(chromedp.CSS("#passkey-signin")),
			chromedp.Click(chromedp.CSS("#passkey-signin")),
		)
		counts := burst(t, nodes, 10, func(i int, node *testServer) int {
			st, ses := replay(t, held, node, nil)
			if ses != "" && st != http.StatusSeeOther {
				t.Errorf("a session cookie with %d", st)
			}
			return st
		})
		t.Logf("one passkey answer ten times at once: %v", counts)
		if counts[http.StatusSeeOther] != 1 || counts[http.StatusBadRequest] != 9 {
			t.Errorf("one passkey answer ten times at once: answers by status %v, want one 303 and nine 400", counts)
		}

		// A failed assertion is a failed sign-in: the held answer, sent
		// to fresh ceremonies (whose challenges it did not sign) from
		// another address, is refused and counted, and the sixth try
		// waits; the browser's address is not held up.
		var statuses []int
		for i := range 6 {
			node := nodes[i%2]
			res, err := client.Post(node.url+"/portal/login/passkey/options", "application/x-www-form-urlencoded", nil)
			if err != nil {
				t.Fatal(err)
			}
			readAll(res)
			var ceremony string
			for _, ck := range res.Cookies() {
				if ck.Name == "autho_webauthn" {
					ceremony = ck.Value
					leaks.add(ceremony)
				}
			}
			held.Header.Set("X-Forwarded-For", "203.0.113.9")
			st, ses := replay(t, held, node, map[string]string{"autho_webauthn": ceremony})
			held.Header.Del("X-Forwarded-For")
			if ses != "" {
				t.Errorf("an answer to another challenge signed in")
			}
			statuses = append(statuses, st)
		}
		if fmt.Sprint(statuses) != "[401 401 401 401 401 429]" {
			t.Errorf("an answer sent to six fresh ceremonies: %v, want five 401 then 429", statuses)
		}

		// A deactivated user's passkey is refused as their password is.
		a.mustCLI(nil, "user", "deactivate", "--email", u.email)
		passkeyAlone(t, ctx, base, "#login-error")
		if msg := portalText(t, ctx, "#login-error"); !strings.Contains(msg, "deactivated") {
			t.Errorf("a deactivated user's passkey: %q", msg)
		}
		a.mustCLI(nil, "user", "activate", "--email", u.email)

		// Removed, the passkey signs in no more. (The browser has no
		// session: the held answer's winner was the test's.)
		passkeyAlone(t, ctx, base, "#list-heading")
		portalDo(t, ctx, "remove the passkey",
			chromedp.Navigate(base+"/portal/security"),
			chromedp.WaitVisible(chromedp.CSS("#passkeys")),
			chromedp.Click(chromedp.CSS(`#passkeys form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#passkeys-status")),
		)
		portalSignOut(t, ctx)
		passkeyAlone(t, ctx, base, "#login-error")
		if msg := portalText(t, ctx, "#login-error"); !strings.Contains(msg, "not registered here") {
			t.Errorf("a removed passkey: %q", msg)
		}
		// And the password alone signs in again: no factor is left.
		passkeyPassword(t, ctx, base, u, "#list-heading")

		ceremonies, split, perNode := proxy.split()
		t.Logf("%d ceremonies, %d begun and finished on different nodes; requests by node %v", ceremonies, split, perNode)
		if perNode[0] == 0 || perNode[1] == 0 || split == 0 {
			t.Errorf("both nodes must serve, and some ceremony must cross: %d of %d crossed, %v", split, ceremonies, perNode)
		}

		es, err := a.store().AuditEvents(context.Background(), autho.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, e := range es {
			if e.ActorID == u.id {
				key := string(e.Action)
				if strings.Contains(e.TargetName, "passkey") {
					key += " (passkey)"
				}
				count[key]++
			}
		}
		for k, n := range map[string]int{"mfa.add (passkey)": 1, "mfa.remove (passkey)": 1, "login (passkey)": 4, "login.passkey_failed": 5, "login.denied": 1} {
			if count[k] != n {
				t.Errorf("%d %s events, want %d (all: %v)", count[k], k, n, count)
			}
		}
	})
}

// Step-up with a passkey: 16 minutes after adding one (the portal's clock
// moved on), creating a token asks for the second factor, and "Use a
// passkey" on that page completes the form; removing the passkey 16
// minutes later asks again and is done the same way.
func TestPortal_BrowserPasskeyStepUp(t *testing.T) {
	var offset atomic.Int64 // the portal's clock, ahead of the real one
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	proxy := newRRProxy(t)
	ts := startServerAt(t, filepath.Join(t.TempDir(), "autho.db"), map[string]string{"AUTHO_PUBLIC_URL": proxy.base},
		func(c *daemon.Config) { c.PortalNow = clock })
	proxy.to(ts)
	var acc map[string]any
	ts.mustCLI(&acc, "account", "create", "--name", "Passkey Step Up Ltd")
	u := portalCLIUser(t, ts, acc["id"].(string), "stepup@passkey.example", "member", "a step-up passkey pass phrase")
	ctx := passkeyBrowser(t)
	base := proxy.base

	passkeyPassword(t, ctx, base, u, "#list-heading")
	addPasskey(t, ctx, base, "Phone")
	portalCodes(t, ctx)

	offset.Store(int64(16 * time.Minute))
	portalDo(t, ctx, "create a token, asked for the second factor",
		chromedp.Navigate(base+"/portal/tokens"),
		chromedp.WaitVisible(chromedp.CSS("#token-name")),
		chromedp.SendKeys(chromedp.CSS("#token-name"), "after a step-up"),
		chromedp.Click(chromedp.CSS(`input[name="expiry"][value="30"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/portal/tokens"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#passkey-stepup")),
		chromedp.Click(chromedp.CSS("#passkey-stepup")),
		chromedp.WaitVisible(chromedp.CSS("#new-token, [data-passkey-error]:not([hidden]), #code-error")),
	)
	passkeyNoError(t, ctx)
	leaks.add(portalText(t, ctx, "#new-token"))

	offset.Store(int64(32 * time.Minute))
	portalDo(t, ctx, "remove the passkey, asked for the second factor",
		chromedp.Navigate(base+"/portal/security"),
		chromedp.WaitVisible(chromedp.CSS("#passkeys")),
		chromedp.Click(chromedp.CSS(`#passkeys form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#passkey-stepup")),
		chromedp.Click(chromedp.CSS("#passkey-stepup")),
		chromedp.WaitVisible(chromedp.CSS("#passkeys-status, [data-passkey-error]:not([hidden]), #code-error")),
	)
	passkeyNoError(t, ctx)

	tks, err := ts.store().APITokens(context.Background(), autho.TokenFilter{UserID: u.id})
	if err != nil || len(tks) != 1 {
		t.Errorf("%d tokens (%v), want the one made after the step-up", len(tks), err)
	}
	count := actionsBy(t, ts, u.id)
	if count[autho.AuditStepUp] != 2 || count[autho.AuditMFARemove] != 1 || count[autho.AuditTokenCreate] != 1 {
		t.Errorf("audit %v; want two step-ups, a token and a removal", count)
	}
}
