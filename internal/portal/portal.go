// Package portal is the web portal of autho: the pages where a partner's
// people sign in with email and password, create and revoke their API
// tokens, and where an account's admins manage its users and read its audit
// log. It is a thin adapter: the rules about accounts, users and tokens live
// in internal/admin, and the portal adds only what is about people in a
// browser — who is signed in, who may see what, and what they did.
//
// The pages are server-rendered from embedded templates and work without
// JavaScript; one small embedded script adds a copy button. Sessions, login
// throttling and the audit log live in the database, so that any number of
// nodes can serve the portal behind a load balancer.
//
// Who may see what: a member sees and revokes only their own tokens; an
// admin sees every token of the account and manages its users. Asking for
// something that exists but is not yours answers exactly like asking for
// something that does not exist (404), so ids cannot be probed; a page a
// member's role does not allow answers 403.
package portal

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/autho/autho/internal/admin"
)

// Config is what the portal needs to know of the deployment.
type Config struct {
	// PublicURL is where people reach the server (AUTHO_PUBLIC_URL). When it
	// is https, the session cookie is Secure and carries the __Host- prefix.
	PublicURL string
	// Location is the time zone dates are shown in (AUTHO_TIMEZONE), and
	// the zone in which a date picked for a token's expiry ends.
	Location *time.Location
	// MaxActiveTokens caps the active API tokens of one user; 0 means
	// admin.DefaultMaxActiveTokens.
	MaxActiveTokens int
	// Contact says whom partners should talk to about their account (its
	// expiry, a suspension); "" gives a generic phrase. An email address is
	// shown as a mailto link.
	Contact string
	// ClientIP tells the address of the person behind a request, believing
	// X-Forwarded-For only from trusted proxies; nil means the peer address.
	ClientIP func(*http.Request) string
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Portal serves every path under /portal/.
type Portal struct {
	cfg     Config
	admin   *admin.Service
	log     *slog.Logger
	pages   *pages
	static  *assets
	cookie  cookieSpec
	handler http.Handler
}

// New parses the templates and builds the routes. A template that is
// missing or does not parse is an error here, at start, never in front of
// a user.
func New(cfg Config, svc *admin.Service) (*Portal, error) {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = peerIP
	}
	if cfg.MaxActiveTokens <= 0 {
		cfg.MaxActiveTokens = admin.DefaultMaxActiveTokens
	}
	p := &Portal{cfg: cfg, admin: svc, log: cfg.Logger, cookie: newCookieSpec(cfg.PublicURL)}
	var err error
	if p.static, err = loadAssets(); err != nil {
		return nil, err
	}
	if p.pages, err = parsePages(templateFS, p.static, cfg.Location); err != nil {
		return nil, err
	}
	cop := http.NewCrossOriginProtection()
	if o := origin(cfg.PublicURL); o != "" {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(p.crossOriginRefused))
	p.handler = securityHeaders(cop.Handler(p.routes()))
	return p, nil
}

// ServeHTTP implements http.Handler for paths under /portal/.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// origin is the scheme://host[:port] of a URL, or "" if it has none.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host
}

func peerIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
