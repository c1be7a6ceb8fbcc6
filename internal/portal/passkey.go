package portal

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

// Passkeys. Each ceremony is two requests: static/passkey.js posts to an
// options endpoint, which begins the ceremony (admin.Begin…), sets its
// cookie and answers the options as JSON for navigator.credentials; the
// browser's answer then goes in a hidden field of an ordinary form post,
// so that the finish answers an ordinary page (the session cookie and a
// redirect, the recovery codes, a message). Both are same-origin POSTs, so
// the portal's cross-origin protection covers them. Without script the
// passkey forms stay hidden and every page works with codes.

// credentialField names the browser's answer in the finish forms.
const credentialField = "credential"

// stepUpPasskeyField names the answer in a re-posted step-up form.
const stepUpPasskeyField = "stepup_passkey"

// ceremonyCookie holds a ceremony's id between its two requests, for the
// five minutes it lasts, written like the session cookie.
func (p *Portal) ceremonyCookie() cookieSpec {
	return cookieSpec{name: strings.Replace(p.cookie.name, "autho_session", "autho_webauthn", 1), secure: p.cookie.secure}
}

func (p *Portal) ceremonyID(r *http.Request) string {
	c, err := r.Cookie(p.ceremonyCookie().name)
	if err != nil || !admin.ValidSessionID(c.Value) {
		return ""
	}
	return c.Value
}

// answerOptions sets the ceremony's cookie and writes its options, or
// writes a refusal as {"error": message} for the script to show.
func (p *Portal) answerOptions(w http.ResponseWriter, c *admin.PasskeyCeremony, err error) error {
	var ae *admin.Error
	if errors.As(err, &ae) {
		status := http.StatusBadRequest
		if errors.Is(err, admin.ErrSignInExpired) {
			status = http.StatusUnauthorized
		}
		writeJSON(w, status, map[string]string{"error": ae.Message})
		return nil
	}
	if err != nil {
		return err
	}
	p.ceremonyCookie().set(w, c.ID, int(admin.CeremonyTimeout.Seconds()))
	writeJSON(w, http.StatusOK, c.Options)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"The passkey request could not be made."}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// answer is the browser's answer from a finish form.
func answer(r *http.Request) []byte { return []byte(r.PostForm.Get(credentialField)) }

func (p *Portal) passkeyRegisterOptions(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	c, err := p.admin.BeginPasskeyRegistration(r.Context(), v.session, v.user, r.PostForm.Get("name"))
	return p.answerOptions(w, c, err)
}

// addPasskey finishes a registration; on the first factor the recovery
// codes are shown, as after an authenticator app.
func (p *Portal) addPasskey(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	codes, err := p.admin.FinishPasskeyRegistration(r.Context(), v.actor(), v.session, v.user, p.ceremonyID(r), answer(r))
	p.ceremonyCookie().set(w, "", -1)
	var ae *admin.Error
	if errors.As(err, &ae) && !errors.Is(err, admin.ErrForbidden) {
		return p.showSecurity(w, r, v, http.StatusBadRequest, ae.Message)
	}
	if err != nil {
		return err
	}
	// The passkey just used to register verified the user: no step-up
	// right after adding it.
	if err := p.admin.FactorUsed(r.Context(), v.session); err != nil {
		return err
	}
	if codes == nil {
		http.Redirect(w, r, "/portal/security?done=passkey-added", http.StatusSeeOther)
		return nil
	}
	p.render(w, r, http.StatusOK, &codesView{layout: p.layout(v, "Save your recovery codes", "security"), Codes: codes, First: true})
	return nil
}

func (p *Portal) removePasskey(w http.ResponseWriter, r *http.Request, v *visit) error {
	err := p.admin.RemovePasskey(r.Context(), v.actor(), v.user.ID, r.PathValue("id"))
	if err != nil && !errors.Is(err, autho.ErrNotFound) {
		return err
	}
	http.Redirect(w, r, "/portal/security?done=passkey-removed", http.StatusSeeOther)
	return nil
}

func (p *Portal) passkeySignInOptions(w http.ResponseWriter, r *http.Request, v *visit) error {
	c, err := p.admin.BeginPasskeySignIn(r.Context())
	return p.answerOptions(w, c, err)
}

// passkeySignIn signs in with a passkey alone (admin.FinishPasskeySignIn:
// the throttle, the user's state, the session and the audit).
func (p *Portal) passkeySignIn(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	lv := &loginView{layout: p.layout(&visit{}, "Sign in", ""), Next: safeNext(r.PostForm.Get("next"))}
	old, _ := p.sessionCookie(r)
	res, err := p.admin.FinishPasskeySignIn(context.WithoutCancel(r.Context()), admin.PasskeySignInRequest{
		Ceremony: p.ceremonyID(r), Answer: answer(r), IP: v.ip, Replaces: old,
	})
	p.ceremonyCookie().set(w, "", -1)
	var ae *admin.Error
	if errors.As(err, &ae) {
		lv.Error = ae.Message
		p.render(w, r, signInStatus(w, ae), lv)
		return nil
	}
	if err != nil {
		return err
	}
	p.cookie.set(w, res.Session, 0)
	http.Redirect(w, r, lv.Next, http.StatusSeeOther)
	return nil
}

func (p *Portal) passkeyCodeOptions(w http.ResponseWriter, r *http.Request, v *visit) error {
	c, err := p.admin.BeginPasskeySecondFactor(r.Context(), p.pendingID(r))
	return p.answerOptions(w, c, err)
}

// passkeySecondFactor finishes a pending sign-in with a passkey, as
// completeSignIn does with a code.
func (p *Portal) passkeySecondFactor(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	cv := &codeView{layout: p.layout(&visit{}, "Enter your code", ""), Next: safeNext(r.PostForm.Get("next"))}
	res, err := p.admin.FinishPasskeySecondFactor(context.WithoutCancel(r.Context()), p.pendingID(r), p.ceremonyID(r), answer(r), v.ip)
	p.ceremonyCookie().set(w, "", -1)
	return p.secondFactorDone(w, r, cv, res, err)
}

func (p *Portal) passkeyStepUpOptions(w http.ResponseWriter, r *http.Request, v *visit) error {
	c, err := p.admin.BeginPasskeyStepUp(r.Context(), v.session, v.user)
	return p.answerOptions(w, c, err)
}
