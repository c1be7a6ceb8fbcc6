package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/autho/autho"
)

// Session timeouts. A session ends after idleTimeout without a request, and
// in any case absoluteTimeout after it began: an unattended browser is
// signed out soon, and a stolen cookie is good for half a working day at
// most.
const (
	idleTimeout     = 30 * time.Minute
	absoluteTimeout = 12 * time.Hour
	// touchEvery limits the writes that keep a session alive to one a
	// minute per session, however many pages are opened.
	touchEvery = time.Minute
)

// sessionIDBytes is the size of a session id: 256 bits from crypto/rand.
const sessionIDBytes = 32

// sessionIDLen is its length in unpadded base64url.
var sessionIDLen = base64.RawURLEncoding.EncodedLen(sessionIDBytes)

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

// newSessionID returns a fresh session id and the hash the store keeps.
func newSessionID() (id string, hash []byte) {
	b := make([]byte, sessionIDBytes)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	id = base64.RawURLEncoding.EncodeToString(b)
	return id, hashID(id)
}

func hashID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// sessionCookie returns the session id the request carries, if it is
// shaped like one; anything else is treated as no cookie, without a
// database read.
func (p *Portal) sessionCookie(r *http.Request) (string, bool) {
	c, err := r.Cookie(p.cookie.name)
	if err != nil || len(c.Value) != sessionIDLen {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil {
		return "", false
	}
	return c.Value, true
}

// visit reads who is signed in. The session, the user and the account are
// read on every request, so that a sign-out, a deactivation or a password
// change elsewhere (on another node too) takes effect on the very next
// request: a session whose password epoch is not its user's any more was
// opened with a password that has since been changed. A session that has ended is deleted and its cookie cleared.
func (p *Portal) visit(w http.ResponseWriter, r *http.Request) (*visit, error) {
	v := &visit{now: p.cfg.Now().UTC().Truncate(time.Microsecond), ip: p.cfg.ClientIP(r)}
	id, ok := p.sessionCookie(r)
	if !ok {
		if _, err := r.Cookie(p.cookie.name); err == nil {
			p.cookie.set(w, "", -1)
		}
		return v, nil
	}
	ctx := r.Context()
	hash := hashID(id)
	s, err := p.store.Session(ctx, hash)
	if errors.Is(err, autho.ErrNotFound) {
		v.ended = true
		p.cookie.set(w, "", -1)
		return v, nil
	}
	if err != nil {
		return v, err
	}
	end := func() (*visit, error) {
		v.ended = true
		p.cookie.set(w, "", -1)
		return v, p.store.DeleteSession(ctx, hash)
	}
	if !v.now.Before(s.SeenAt.Add(idleTimeout)) || !v.now.Before(s.CreatedAt.Add(absoluteTimeout)) {
		return end()
	}
	u, err := p.store.User(ctx, s.UserID)
	if errors.Is(err, autho.ErrNotFound) {
		return end()
	}
	if err != nil {
		return v, err
	}
	if !u.Active || s.PasswordEpoch != u.PasswordEpoch {
		return end()
	}
	a, err := p.store.Account(ctx, u.AccountID)
	if err != nil {
		return v, err
	}
	if v.now.Sub(s.SeenAt) >= touchEvery {
		if err := p.store.TouchSession(ctx, hash, v.now); err != nil {
			// The request can go on; the worst case is a session that
			// times out a minute early.
			p.log.Warn("portal: cannot record session activity", "err", err)
		}
	}
	v.session, v.user, v.account = s, u, a
	return v, nil
}

// startSession signs u in: a new session id (never one the browser brought
// along, so a planted cookie is worthless), stored as a hash, sent as the
// cookie. u must be the user as read with the password hash just checked,
// so that the session carries that password's epoch.
func (p *Portal) startSession(ctx context.Context, w http.ResponseWriter, u *autho.User, v *visit) error {
	id, hash := newSessionID()
	s := &autho.Session{Hash: hash, UserID: u.ID, CreatedAt: v.now, SeenAt: v.now, IP: v.ip, PasswordEpoch: u.PasswordEpoch}
	if err := p.store.CreateSession(ctx, s); err != nil {
		return err
	}
	p.cookie.set(w, id, 0)
	return nil
}

// endSession deletes the session the request carries, if any, and clears
// its cookie.
func (p *Portal) endSession(w http.ResponseWriter, r *http.Request) error {
	p.cookie.set(w, "", -1)
	return p.dropSession(r.Context(), r)
}

// dropSession deletes the session the request carries, if any.
func (p *Portal) dropSession(ctx context.Context, r *http.Request) error {
	id, ok := p.sessionCookie(r)
	if !ok {
		return nil
	}
	return p.store.DeleteSession(ctx, hashID(id))
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
