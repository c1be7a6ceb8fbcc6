package portal_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/portal"
)

func TestPortal_SecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1")
	b.mustLogin(e.ann)
	for _, path := range []string{"/portal/login", "/portal/tokens", "/portal/account", "/portal/nope"} {
		t.Run(path, func(t *testing.T) {
			p := b.get(path)
			for k, want := range map[string]string{
				"X-Frame-Options":        "DENY",
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
				"Cache-Control":          "no-store",
				"Content-Type":           "text/html; charset=utf-8",
			} {
				if got := p.header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			csp := p.header.Get("Content-Security-Policy")
			for _, part := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, part) {
					t.Errorf("Content-Security-Policy %q lacks %q", csp, part)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") {
				t.Error("inline script or style in the page or allowed by the policy")
			}
		})
	}
	t.Run("static files are cached by version", func(t *testing.T) {
		page := b.get("/portal/tokens")
		i := strings.Index(page.body, "/portal/static/portal.css?v=")
		if i < 0 {
			t.Fatal("no versioned stylesheet link")
		}
		link := page.body[i : i+strings.IndexByte(page.body[i:], '"')]
		p := b.get(link)
		wantPage(t, p, http.StatusOK, ":root")
		if cc := p.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("versioned Cache-Control = %q", cc)
		}
		if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
			t.Errorf("Content-Type = %q", ct)
		}
		if cc := b.get("/portal/static/portal.css").header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("unversioned Cache-Control = %q", cc)
		}
		wantPage(t, b.get("/portal/static/nope.js"), http.StatusNotFound)
	})
}

func TestPortal_Routes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1")
	b.mustLogin(e.ann)
	tests := []struct {
		name, method, path string
		status             int
		part               string
	}{
		{"home", "GET", "/portal/", http.StatusSeeOther, ""},
		{"unknown page", "GET", "/portal/nope", http.StatusNotFound, "Page not found"},
		{"wrong method", "DELETE", "/portal/tokens", http.StatusMethodNotAllowed, "Not allowed"},
		{"head", "HEAD", "/portal/tokens", http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.do(tt.method, tt.path, nil)
			wantPage(t, p, tt.status, tt.part)
		})
	}
	if allow := b.do("DELETE", "/portal/tokens", nil).header.Get("Allow"); allow != "GET, HEAD, POST" {
		t.Errorf("Allow = %q", allow)
	}
}

func TestNew_Defaults(t *testing.T) {
	t.Parallel()
	// The templates parse and every page is found at start.
	if _, err := portal.New(portal.Config{}, &admin.Service{}); err != nil {
		t.Fatal(err)
	}
}

// A form posted from another site is refused before it does anything.
func TestPortal_CrossOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1")
	b.mustLogin(e.boss)
	tk := e.mustToken(e.boss, "deploy")
	tokensBefore, usersBefore, eventsBefore := e.tokens(), e.users(), len(e.events())
	cross := []struct {
		name string
		hdr  []string
	}{
		{"fetch metadata", []string{"Sec-Fetch-Site", "cross-site"}},
		{"origin only", []string{"Origin", "https://evil.example"}},
		{"same site, other origin", []string{"Sec-Fetch-Site", "same-site", "Origin", "http://other.localhost"}},
	}
	forms := []struct {
		path string
		form url.Values
	}{
		{"/portal/tokens", url.Values{"name": {"csrf"}, "expiry": {"30"}}},
		{"/portal/tokens/" + tk.ID + "/revoke", url.Values{}},
		{"/portal/users", url.Values{"email": {"mallory@evil.example"}, "role": {"admin"}}},
		{"/portal/users/" + e.ann.ID + "/deactivate", url.Values{}},
		{"/portal/password", url.Values{"current": {password}, "new": {"pwned pwned pwned"}, "confirm": {"pwned pwned pwned"}}},
		{"/portal/logout", url.Values{}},
		{"/portal/login", url.Values{"email": {e.ann.Email}, "password": {password}}},
	}
	for _, c := range cross {
		for _, f := range forms {
			t.Run(c.name+" "+f.path, func(t *testing.T) {
				p := b.do("POST", f.path, f.form, c.hdr...)
				wantPage(t, p, http.StatusForbidden, "Form refused", "nothing was changed")
			})
		}
	}
	if e.tokens() != tokensBefore || e.users() != usersBefore || len(e.events()) != eventsBefore {
		t.Fatal("a cross-origin form changed something")
	}
	wantPage(t, b.get("/portal/tokens"), http.StatusOK, "deploy")
}

func TestPortal_Cookie(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		publicURL  string
		cookieName string
		secure     bool
	}{
		{"http", "", "autho_session", false},
		{"https", "https://portal.example.com", "__Host-autho_session", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *portal.Config) { c.PublicURL = tt.publicURL })
			b := e.browser("192.0.2.1")
			p := b.do("POST", "/portal/login", url.Values{"email": {e.ann.Email}, "password": {password}},
				"Origin", strings.TrimSuffix(tt.publicURL, "/"))
			if p.status != http.StatusSeeOther {
				t.Fatalf("login: %d\n%s", p.status, text(p.body))
			}
			sc := p.header.Values("Set-Cookie")
			if len(sc) != 1 {
				t.Fatalf("Set-Cookie = %q, want one cookie", sc)
			}
			c, err := http.ParseSetCookie(sc[0])
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != tt.cookieName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.Secure != tt.secure {
				t.Fatalf("cookie %q: want %s, HttpOnly, SameSite=Lax, Path=/, no Domain, Secure=%v", sc[0], tt.cookieName, tt.secure)
			}
			if len(c.Value) != 43 {
				t.Fatalf("session id of %d characters, want 43 (256 bits, base64url)", len(c.Value))
			}
			if strings.Contains(p.location(), c.Value) {
				t.Fatal("session id in a URL")
			}
		})
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tt := range []struct{ next, want string }{
		{"/portal/account", "/portal/account"},
		{"", "/portal/tokens"},
		{"//evil.example/portal/", "/portal/tokens"},
		{"https://evil.example/", "/portal/tokens"},
		{"/portal/../v1/autho/me/", "/portal/tokens"},
		{"/portal/\\evil", "/portal/tokens"},
		{"/portal/login", "/portal/tokens"},
		{"/portal//evil.example", "/portal/tokens"},
	} {
		t.Run(tt.next, func(t *testing.T) {
			b := e.browser("192.0.2.9")
			p := b.post("/portal/login", url.Values{"email": {e.ann.Email}, "password": {password}, "next": {tt.next}})
			if p.status != http.StatusSeeOther || p.location() != tt.want {
				t.Fatalf("after login to %q: %d %q, want %q", tt.next, p.status, p.location(), tt.want)
			}
		})
	}
	t.Run("back to the page asked for", func(t *testing.T) {
		b := e.browser("192.0.2.9")
		p := b.get("/portal/account")
		if p.location() != "/portal/login?next=%2Fportal%2Faccount" {
			t.Fatalf("Location %q", p.location())
		}
		wantPage(t, b.get(p.location()), http.StatusOK, `value="/portal/account"`)
	})
}

func TestPortal_StoreDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1")
	b.mustLogin(e.ann)
	e.store.Close()
	p := b.get("/portal/tokens")
	if p.status != http.StatusServiceUnavailable && p.status != http.StatusInternalServerError {
		t.Fatalf("status %d with the database closed", p.status)
	}
	if strings.Contains(p.body, "sqlite") || strings.Contains(p.body, "sql:") {
		t.Fatalf("error detail leaked:\n%s", text(p.body))
	}
}

// Passkeys are offered only where a browser can make them: at a public
// URL with a host name, not an IP address (the default listen address)
// and not without one; elsewhere the Security page says why, and the
// login page has no passkey button.
func TestPortal_PasskeysOffered(t *testing.T) {
	for _, tt := range []struct {
		publicURL string
		offered   bool
		why       string
	}{
		{"http://localhost:8080", true, ""},
		{"https://portal.example.com", true, ""},
		{"http://127.0.0.1:8080", false, "not available at an IP address such as 127.0.0.1"},
		{"http://[::1]:8080", false, "not available at an IP address such as ::1"},
		{"", false, "AUTHO_PUBLIC_URL) is not set"},
	} {
		t.Run(tt.publicURL, func(t *testing.T) {
			e := newEnv(t)
			e.admin.PublicURL = tt.publicURL
			login := e.browser("192.0.2.1").get("/portal/login")
			if got := strings.Contains(login.body, `data-passkey="sign-in"`); got != tt.offered {
				t.Errorf("login page offers a passkey: %v, want %v", got, tt.offered)
			}
			b := e.browser("192.0.2.2")
			b.mustLogin(e.mustUser("pk@acme.example", autho.RoleMember))
			sec := b.get("/portal/security")
			if got := strings.Contains(sec.body, `data-passkey="register"`); got != tt.offered {
				t.Errorf("Security page offers to add a passkey: %v, want %v", got, tt.offered)
			}
			if tt.why != "" && !strings.Contains(html.UnescapeString(sec.body), tt.why) {
				t.Errorf("Security page does not say %q", tt.why)
			}
		})
	}
}
