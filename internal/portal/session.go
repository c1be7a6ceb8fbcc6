package portal

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

// cookieSpec is how the session cookie is written. Behind https the
// __Host- prefix makes the browser refuse the cookie unless it is Secure,
// has Path=/ and no Domain, so a sibling subdomain cannot plant or shadow it.
type cookieSpec struct {
	name   string
	secure bool
}

func newCookieSpec(publicURL string) cookieSpec {
	if u, err := url.Parse(publicURL); err == nil && strings.EqualFold(u.Scheme, "https") {
		return cookieSpec{name: "__Host-autho_session", secure: true}
	}
	return cookieSpec{name: "autho_session"}
}

// set writes the cookie, replacing one already set on this response (a
// stale session cleared, then a new one started), so that the browser is
// told one thing only.
func (c cookieSpec) set(w http.ResponseWriter, value string, maxAge int) {
	h := w.Header()
	earlier := h.Values("Set-Cookie")
	h.Del("Set-Cookie")
	for _, sc := range earlier {
		if !strings.HasPrefix(sc, c.name+"=") {
			h.Add("Set-Cookie", sc)
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name:     c.name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge, // 0: a browser-session cookie; <0: delete
		HttpOnly: true,
		Secure:   c.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// visit is one request as the portal sees it: when, from where, and who is
// signed in (user, account and session are nil for nobody).
type visit struct {
	now     time.Time
	ip      string
	session *autho.Session
	user    *autho.User
	account *autho.Account
	// ended says a session cookie came with the request but its session
	// has ended (timed out, signed out elsewhere), to say so on the login
	// page.
	ended bool
}

// actor is the signed-in user, as admin's changes and the audit log name
// them.
func (v *visit) actor() autho.Actor { return autho.UserActor(v.user, v.ip) }

func (v *visit) isAdmin() bool { return v.user != nil && v.user.Role == autho.RoleAdmin }

// sessionCookie returns the session id the request carries, if it is
// shaped like one; anything else is treated as no cookie, without a
// database read.
func (p *Portal) sessionCookie(r *http.Request) (string, bool) {
	c, err := r.Cookie(p.cookie.name)
	if err != nil || !admin.ValidSessionID(c.Value) {
		return "", false
	}
	return c.Value, true
}

// visit reads who is signed in (admin.Session: read afresh on every
// request, so a sign-out, deactivation or password change elsewhere takes
// effect on the very next one). A cookie whose session has ended is
// cleared.
func (p *Portal) visit(w http.ResponseWriter, r *http.Request) (*visit, error) {
	v := &visit{now: p.cfg.Now().UTC().Truncate(time.Microsecond), ip: p.cfg.ClientIP(r)}
	id, ok := p.sessionCookie(r)
	if !ok {
		if _, err := r.Cookie(p.cookie.name); err == nil {
			p.cookie.set(w, "", -1)
		}
		return v, nil
	}
	sv, err := p.admin.Session(r.Context(), id)
	if errors.Is(err, admin.ErrSessionEnded) {
		v.ended = true
		p.cookie.set(w, "", -1)
		return v, nil
	}
	if err != nil {
		return v, err
	}
	v.session, v.user, v.account = sv.Session, sv.User, sv.Account
	return v, nil
}

// toLogin sends someone who is not signed in to the login page, and back
// to the page they asked for afterwards (GET pages only: a form sent after
// the session ended is not replayed).
func (p *Portal) toLogin(w http.ResponseWriter, r *http.Request, v *visit) {
	q := url.Values{}
	if r.Method == http.MethodGet && r.URL.Path != "/portal/" {
		q.Set("next", r.URL.Path)
	}
	if v.ended {
		q.Set("done", "ended")
	}
	target := "/portal/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext is where to go after signing in: a portal page of this server,
// never another site (an open redirect), never a page outside the portal
// and never the login or logout pages themselves.
//
// Portal paths are made of letters, digits, "_", "-", "." and "/" only, so
// that is all next may hold: whatever else it could carry (a percent
// escape, which a browser decodes again, "%2e%2e" being ".." to it; a tab,
// CR or LF, which browsers strip, turning "/\t/" into "//"; a backslash,
// which they read as "/") is where two readers of one URL disagree. And it
// must already be clean, so no dot segment or doubled slash remains.
func safeNext(next string) string {
	const home = "/portal/tokens"
	if len(next) > 200 || !strings.HasPrefix(next, "/portal/") || path.Clean(next) != next {
		return home
	}
	for i := 0; i < len(next); i++ {
		switch c := next[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-', c == '.', c == '/':
		default:
			return home
		}
	}
	switch next {
	case "/portal/login", "/portal/logout":
		return home
	}
	return next
}
