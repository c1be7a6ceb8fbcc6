package portal

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/password"
)

// loginView is the sign-in page.
type loginView struct {
	layout
	Email string
	Next  string
	Error string
}

func (*loginView) page() string { return "login" }

// home sends people to their tokens, or to the login page.
func (p *Portal) home(w http.ResponseWriter, r *http.Request, v *visit) error {
	if v.user == nil {
		p.toLogin(w, r, v)
		return nil
	}
	http.Redirect(w, r, "/portal/tokens", http.StatusSeeOther)
	return nil
}

func (p *Portal) loginPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	if v.user != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	lv := &loginView{layout: p.layout(v, "Sign in", ""), Next: safeNext(r.URL.Query().Get("next"))}
	lv.Notice = notice(r)
	p.render(w, r, http.StatusOK, lv)
	return nil
}

// genericLoginFailure is the one answer for an unknown email and a wrong
// password alike, so the form does not tell which emails exist.
const genericLoginFailure = "The email address or the password is not correct."

// login checks an email and password and starts a session. Unknown emails
// cost the same argon2 work as known ones, and every failure is counted
// for throttling under keys that do not depend on whether the email exists.
func (p *Portal) login(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	pw := r.PostForm.Get("password")
	lv := &loginView{layout: p.layout(&visit{}, "Sign in", ""), Email: email, Next: safeNext(r.PostForm.Get("next"))}
	refuse := func(status int, msg string) error {
		lv.Error = msg
		p.render(w, r, status, lv)
		return nil
	}
	if email == "" || pw == "" {
		return refuse(http.StatusBadRequest, "Enter your email address and your password.")
	}
	if len(email) > 254 {
		lv.Email = ""
		return refuse(http.StatusBadRequest, "That is not an email address: it is longer than any email address can be.")
	}
	// The attempt is seen through even if the client hangs up, while it
	// waits for its turn too: an abandoned guess is counted and audited
	// like any other (the pool's wait and budget bound what that costs).
	ctx := context.WithoutCancel(r.Context())
	// A slot for the argon2 work first, so that a flood is answered before
	// it costs a database write.
	release, err := p.admin.Passwords.Acquire(ctx)
	if err != nil {
		return err
	}
	keys := keysFor(email, v.ip)
	th, attempt, err := p.reserve(ctx, keys, v.now)
	if err != nil || th.wait > 0 {
		release()
		if err != nil {
			return err
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(th.wait.Seconds()+0.999)))
		return refuse(http.StatusTooManyRequests, th.reason)
	}
	ok, rehash, u, err := p.checkPassword(ctx, email, pw)
	release()
	if err != nil {
		return err
	}
	if !ok {
		if u != nil {
			p.audit(ctx, v, u.AccountID, u, autho.AuditLoginFailed, "", "")
		}
		if th.emailLimited > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(th.emailLimited.Seconds()+0.999)))
			return refuse(http.StatusTooManyRequests, emailReason(th.emailLimited))
		}
		return refuse(http.StatusUnauthorized, genericLoginFailure)
	}
	p.forgive(ctx, attempt)
	if !u.Active {
		p.audit(ctx, v, u.AccountID, u, autho.AuditLoginDenied, "", "")
		return refuse(http.StatusForbidden, "Your user has been deactivated, so you cannot sign in. Ask an admin of your account to reactivate it.")
	}
	if rehash {
		if err := p.admin.Rehash(ctx, u.ID, pw); err != nil {
			p.log.Warn("portal: cannot upgrade a password hash", "user", u.ID, "err", err)
		}
	}
	if err := p.store.ClearLoginFailures(ctx, []string{keys.email, keys.pair}); err != nil {
		p.log.Warn("portal: cannot clear login failures", "err", err)
	}
	// Whatever session the browser had ends here; the new one gets a new
	// id, so an id planted before sign-in is worth nothing after it.
	if err := p.dropSession(ctx, r); err != nil {
		return err
	}
	if err := p.startSession(ctx, w, u, v); err != nil {
		return err
	}
	p.audit(ctx, v, u.AccountID, u, autho.AuditLogin, "", "")
	http.Redirect(w, r, lv.Next, http.StatusSeeOther)
	return nil
}

// checkPassword reads the user of email and checks pw against the hash
// read with it, so that the session made from the answer carries the
// password epoch that hash belongs to. An unknown email (u nil) costs the
// same argon2 work as a known one. The caller holds a slot of the pool.
func (p *Portal) checkPassword(ctx context.Context, email, pw string) (ok, rehash bool, u *autho.User, err error) {
	u, err = p.store.UserByEmail(ctx, email)
	if errors.Is(err, autho.ErrNotFound) {
		u = nil
	} else if err != nil {
		return false, false, nil, err
	}
	if u == nil || utf8.RuneCountInString(pw) > password.MaxLength {
		password.DummyVerify()
		return false, false, u, nil
	}
	ok, rehash, err = password.Verify(pw, u.PasswordHash)
	if err != nil {
		// A stored hash we cannot read is our fault, not theirs; it must
		// not sign anyone in.
		p.log.Error("portal: unreadable password hash", "user", u.ID, "err", err)
		return false, false, u, nil
	}
	return ok, rehash, u, nil
}

// logout ends the session in the database, not only in the browser: the
// cookie, if it was copied, opens nothing afterwards.
func (p *Portal) logout(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := p.endSession(w, r); err != nil {
		return err
	}
	if v.user != nil {
		p.audit(r.Context(), v, v.account.ID, v.user, autho.AuditLogout, "", "")
	}
	http.Redirect(w, r, "/portal/login?done=bye", http.StatusSeeOther)
	return nil
}
