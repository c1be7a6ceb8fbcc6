package portal

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
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

// login checks an email and password (admin.SignIn: the throttle, the
// argon2 work, the session and the audit) and sets the session cookie.
func (p *Portal) login(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	lv := &loginView{layout: p.layout(&visit{}, "Sign in", ""), Email: email, Next: safeNext(r.PostForm.Get("next"))}
	old, _ := p.sessionCookie(r)
	res, err := p.admin.SignIn(r.Context(), admin.SignInRequest{
		Email: email, Password: r.PostForm.Get("password"), IP: v.ip, Replaces: old,
	})
	var ae *admin.Error
	if errors.As(err, &ae) {
		if ae.Field == "email" {
			lv.Email = ""
		}
		lv.Error = ae.Message
		p.render(w, r, signInStatus(w, ae), lv)
		return nil
	}
	if err != nil {
		return err
	}
	if res.Pending != "" {
		p.pendingCookie().set(w, res.Pending, int(admin.PendingSignInTimeout/time.Second))
		http.Redirect(w, r, "/portal/login/code?"+url.Values{"next": {lv.Next}}.Encode(), http.StatusSeeOther)
		return nil
	}
	p.cookie.set(w, res.Session, 0)
	http.Redirect(w, r, lv.Next, http.StatusSeeOther)
	return nil
}

// logout ends the session in the database, not only in the browser: the
// cookie, if it was copied, opens nothing afterwards.
func (p *Portal) logout(w http.ResponseWriter, r *http.Request, v *visit) error {
	p.cookie.set(w, "", -1)
	var by autho.Actor
	accountID := ""
	if v.user != nil {
		by, accountID = v.actor(), v.account.ID
	}
	id, _ := p.sessionCookie(r)
	if err := p.admin.SignOut(r.Context(), by, accountID, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/login?done=bye", http.StatusSeeOther)
	return nil
}

// signInStatus is the status of a refused sign-in step (the password or
// the code), with Retry-After when it was throttled.
func signInStatus(w http.ResponseWriter, ae *admin.Error) int {
	switch {
	case errors.Is(ae, admin.ErrThrottled):
		w.Header().Set("Retry-After", strconv.Itoa(int(ae.RetryAfter.Seconds()+0.999)))
		return http.StatusTooManyRequests
	case errors.Is(ae, admin.ErrWrongPassword), errors.Is(ae, admin.ErrWrongCode):
		return http.StatusUnauthorized
	case errors.Is(ae, admin.ErrForbidden):
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}
