package portal

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/autho/autho/internal/admin"
)

// codeView is the second step of signing in: the code from an
// authenticator app, or a recovery code.
type codeView struct {
	layout
	Next    string
	Error   string
	Passkey bool // the user has a passkey to use instead
}

func (*codeView) page() string { return "login_code" }

// pendingCookie holds a pending sign-in's id between the password and the
// code: written like the session cookie, under its own name, for the five
// minutes the pending sign-in lasts.
func (p *Portal) pendingCookie() cookieSpec {
	return cookieSpec{name: strings.Replace(p.cookie.name, "autho_session", "autho_signin", 1), secure: p.cookie.secure}
}

func (p *Portal) pendingID(r *http.Request) string {
	c, err := r.Cookie(p.pendingCookie().name)
	if err != nil || !admin.ValidSessionID(c.Value) {
		return ""
	}
	return c.Value
}

// restart sends the browser back to the password, its pending sign-in
// forgotten.
func (p *Portal) restart(w http.ResponseWriter, r *http.Request) {
	p.pendingCookie().set(w, "", -1)
	http.Redirect(w, r, "/portal/login?done=signin", http.StatusSeeOther)
}

func (p *Portal) codePage(w http.ResponseWriter, r *http.Request, v *visit) error {
	next := safeNext(r.URL.Query().Get("next"))
	if v.user != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	has, err := p.admin.PendingHasPasskey(r.Context(), p.pendingID(r))
	if errors.Is(err, admin.ErrSignInExpired) {
		p.restart(w, r)
		return nil
	}
	if err != nil {
		return err
	}
	p.render(w, r, http.StatusOK, &codeView{layout: p.layout(&visit{}, "Enter your code", ""), Next: next, Passkey: has})
	return nil
}

// offerPasskey shows the passkey button on a page that asks for the code
// again, when the user has one.
func (p *Portal) offerPasskey(r *http.Request, cv *codeView) {
	cv.Passkey, _ = p.admin.PendingHasPasskey(r.Context(), p.pendingID(r))
}

// completeSignIn takes the code (admin.CompleteSignIn: the throttle, the
// one use of each code, the session and the audit) and swaps the pending
// cookie for the session cookie.
func (p *Portal) completeSignIn(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	cv := &codeView{layout: p.layout(&visit{}, "Enter your code", ""), Next: safeNext(r.PostForm.Get("next"))}
	// Seen through even if the client hangs up, like a password.
	res, err := p.admin.CompleteSignIn(context.WithoutCancel(r.Context()), admin.CompleteSignInRequest{
		Pending: p.pendingID(r), Code: r.PostForm.Get("code"), IP: v.ip,
	})
	return p.secondFactorDone(w, r, cv, res, err)
}

// secondFactorDone ends the second step of a sign-in, by code or by
// passkey: back to the password on an expired pending sign-in, the page
// again with the refusal, or the pending cookie swapped for the session's.
func (p *Portal) secondFactorDone(w http.ResponseWriter, r *http.Request, cv *codeView, res *admin.SignInResult, err error) error {
	if errors.Is(err, admin.ErrSignInExpired) {
		p.restart(w, r)
		return nil
	}
	var ae *admin.Error
	if errors.As(err, &ae) {
		cv.Error = ae.Message
		p.offerPasskey(r, cv)
		p.render(w, r, signInStatus(w, ae), cv)
		return nil
	}
	if err != nil {
		return err
	}
	p.pendingCookie().set(w, "", -1)
	p.cookie.set(w, res.Session, 0)
	http.Redirect(w, r, cv.Next, http.StatusSeeOther)
	return nil
}
