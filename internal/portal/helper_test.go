package portal_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/portal"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/server"
	"github.com/autho/autho/internal/sqlite"
)

// start is the fixed "now" of every test, in whole microseconds as stored.
var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a test clock moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// env is a portal on a real SQLite store behind a real HTTP server, with
// one account holding an admin and a member.
type env struct {
	t       testing.TB
	srv     *httptest.Server
	store   autho.Store
	admin   *admin.Service
	clock   *clock
	cfg     portal.Config
	account *autho.Account
	partner string // the account's partner token
	boss    *autho.User
	ann     *autho.User // a member
	bob     *autho.User // another member
}

// password is every test user's password.
const password = "correct horse battery staple"

type envOption func(*portal.Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "autho.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, clock: &clock{now: start}}
	e.admin = &admin.Service{Store: st, Now: e.clock.Now, MaxTokenTTL: 365 * 24 * time.Hour}
	// The test server's peer is loopback; trusting it lets each client
	// choose its address with X-Forwarded-For.
	cfg := portal.Config{
		Now:      e.clock.Now,
		ClientIP: server.ClientIPFunc([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}),
		Contact:  "partners@platform.example",
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.cfg = cfg
	// One log, as serve wires it: what admin tells the operator lands
	// beside the portal's own lines.
	e.admin.Log = cfg.Logger
	e.serve()

	ctx := context.Background()
	e.account, e.partner, err = e.admin.CreateAccount(ctx, autho.OperatorCLI, "Acme Ltd", start.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	e.boss = e.mustUser("boss@acme.example", autho.RoleAdmin)
	e.ann = e.mustUser("ann@acme.example", autho.RoleMember)
	e.bob = e.mustUser("bob@acme.example", autho.RoleMember)
	return e
}

// serve starts a portal on e's store behind a new test server.
func (e *env) serve() {
	e.t.Helper()
	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	e.t.Cleanup(e.srv.Close)
	cfg := e.cfg
	if cfg.PublicURL == "" {
		cfg.PublicURL = e.srv.URL
	}
	p, err := portal.New(cfg, e.admin)
	if err != nil {
		e.t.Fatal(err)
	}
	h = p
}

// node is a second portal on the same database, as another node behind a
// load balancer would be.
func (e *env) node() *env {
	e.t.Helper()
	n := *e
	n.serve()
	return &n
}

func (e *env) mustUser(email string, role autho.Role) *autho.User {
	e.t.Helper()
	return e.mustUserIn(e.account.ID, email, role)
}

func (e *env) mustUserIn(accountID, email string, role autho.Role) *autho.User {
	e.t.Helper()
	u, _, err := e.admin.CreateUser(context.Background(), autho.OperatorCLI, accountID, email, role, password)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) mustToken(u *autho.User, name string) *autho.APIToken {
	e.t.Helper()
	tk, _, err := e.admin.CreateToken(context.Background(), autho.OperatorCLI, admin.NewToken{User: u.ID, Name: name, ExpiresAt: e.clock.Now().Add(30 * 24 * time.Hour)})
	if err != nil {
		e.t.Fatal(err)
	}
	return tk
}

// tokens is a snapshot of every token, to show a refused request changed
// nothing.
func (e *env) tokens() string {
	e.t.Helper()
	ts, err := e.store.APITokens(context.Background(), autho.TokenFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.ID + " " + t.Name + " " + t.ExpiresAt.String() + " " + t.RevokedAt.String() + " " + strings.Join(t.Scopes, ",") + "\n")
	}
	return b.String()
}

func (e *env) users() string {
	e.t.Helper()
	us, err := e.store.Users(context.Background(), e.account.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	for _, u := range us {
		b.WriteString(u.ID + " " + u.Email + " " + string(u.Role) + " " + u.PasswordHash + " " + u.UpdatedAt.String())
		if u.Active {
			b.WriteString(" active")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (e *env) events() []*autho.AuditEvent {
	e.t.Helper()
	es, err := e.store.AuditEvents(context.Background(), autho.AuditFilter{AccountID: e.account.ID})
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

// eventsOf is the account's audit events of one action, newest first.
func (e *env) eventsOf(action autho.AuditAction) []*autho.AuditEvent {
	var out []*autho.AuditEvent
	for _, ev := range e.events() {
		if ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

// browser is one person's HTTP client: a cookie jar, an address, and no
// redirect following, so each answer can be inspected.
type browser struct {
	e   *env
	c   *http.Client
	ip  string
	hdr http.Header // sent with every request
}

func (e *env) browser(ip string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, ip: ip, hdr: http.Header{}, c: &http.Client{
		Jar:           jar,
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is an answer.
type page struct {
	status int
	header http.Header
	body   string
}

func (p *page) location() string { return p.header.Get("Location") }

func (b *browser) do(method, path string, form url.Values, hdr ...string) *page {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	for k, vs := range b.hdr {
		req.Header[k] = vs
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", b.ip)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return &page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func (b *browser) get(path string) *page { b.e.t.Helper(); return b.do("GET", path, nil) }

// post sends a form as a browser on the same site does.
func (b *browser) post(path string, form url.Values) *page {
	b.e.t.Helper()
	return b.do("POST", path, form, "Sec-Fetch-Site", "same-origin", "Origin", b.e.srv.URL)
}

func (b *browser) login(email, pw string) *page {
	b.e.t.Helper()
	return b.post("/portal/login", url.Values{"email": {email}, "password": {pw}})
}

// mustLogin signs in and fails the test unless it worked.
func (b *browser) mustLogin(u *autho.User) {
	b.e.t.Helper()
	if p := b.login(u.Email, password); p.status != http.StatusSeeOther || p.location() != "/portal/tokens" {
		b.e.t.Fatalf("login %s: %d %q\n%s", u.Email, p.status, p.location(), text(p.body))
	}
}

// cookie is the session cookie the browser holds, or "".
func (b *browser) cookie() string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "autho_session" {
			return c.Value
		}
	}
	return ""
}

// wantPage fails unless the answer has the status and holds every part.
func wantPage(t *testing.T, p *page, status int, parts ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d; Location %q\n%s", p.status, status, p.location(), text(p.body))
	}
	for _, part := range parts {
		if !strings.Contains(p.body, part) {
			t.Fatalf("page lacks %q:\n%s", part, text(p.body))
		}
	}
}

// wantSignedOut fails unless the answer sends the browser to sign in.
func wantSignedOut(t *testing.T, p *page) {
	t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/portal/login") {
		t.Fatalf("got %d (Location %q), want a redirect to the login page\n%s", p.status, p.location(), text(p.body))
	}
}

// text is the main part of a page, for failure messages.
func text(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if i := strings.Index(body, "</main>"); i >= 0 {
		body = body[:i]
	}
	if len(body) > 3000 {
		body = body[:3000] + "…"
	}
	return body
}

func hashOf(s string) []byte { return secret.Hash(s) }
