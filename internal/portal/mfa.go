package portal

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

// The Security page: a person's own second factors. Every change here is
// admin's (admin.BeginTOTP, ConfirmTOTP, RemoveTOTP,
// RegenerateRecoveryCodes), audited there.

type securityView struct {
	layout
	Factors      admin.Factors
	PasskeyError string // why a passkey was not added
}

func (*securityView) page() string { return "security" }

type enrollView struct {
	layout
	Secret string // grouped in fours, as apps show it
	URI    string
	Error  string
}

func (*enrollView) page() string { return "totp_enroll" }

// codesView shows recovery codes, this once.
type codesView struct {
	layout
	Codes []string
	First bool // made with the first factor, rather than regenerated
}

func (*codesView) page() string { return "recovery_codes" }

func (p *Portal) securityPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	return p.showSecurity(w, r, v, http.StatusOK, "")
}

func (p *Portal) showSecurity(w http.ResponseWriter, r *http.Request, v *visit, status int, passkeyErr string) error {
	fs, err := p.admin.Factors(r.Context(), v.user.ID)
	if err != nil {
		return err
	}
	sv := &securityView{layout: p.layout(v, "Security", "security"), Factors: fs, PasskeyError: passkeyErr}
	sv.Notice = notice(r)
	p.render(w, r, status, sv)
	return nil
}

// beginTOTP makes a new secret and sends the browser to the page that
// shows it, so that a reload shows the same secret rather than a new one.
func (p *Portal) beginTOTP(w http.ResponseWriter, r *http.Request, v *visit) error {
	_, err := p.admin.BeginTOTP(r.Context(), v.actor(), v.user.ID)
	if errors.Is(err, autho.ErrConflict) {
		http.Redirect(w, r, "/portal/security?done=totp-has", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/security/totp", http.StatusSeeOther)
	return nil
}

func (p *Portal) enrollPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	return p.showEnrollment(w, r, v, http.StatusOK, "")
}

func (p *Portal) showEnrollment(w http.ResponseWriter, r *http.Request, v *visit, status int, msg string) error {
	e, err := p.admin.PendingTOTP(r.Context(), v.user.ID)
	if errors.Is(err, autho.ErrNotFound) {
		http.Redirect(w, r, "/portal/security", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	p.render(w, r, status, &enrollView{layout: p.layout(v, "Add an authenticator app", "security"),
		Secret: group(e.Secret(), 4), URI: e.URI(), Error: msg})
	return nil
}

// totpQR serves the enrollment's QR code, drawn here: the secret goes to
// no other service, and the page's img-src 'self' holds.
func (p *Portal) totpQR(w http.ResponseWriter, r *http.Request, v *visit) error {
	e, err := p.admin.PendingTOTP(r.Context(), v.user.ID)
	if errors.Is(err, autho.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	img, err := e.QRCode(256)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Content-Length", strconv.Itoa(len(img)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(img)
	}
	return nil
}

func (p *Portal) confirmTOTP(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	codes, err := p.admin.ConfirmTOTP(r.Context(), v.actor(), v.user.ID, r.PostForm.Get("code"))
	var ae *admin.Error
	switch {
	case errors.Is(err, autho.ErrConflict):
		http.Redirect(w, r, "/portal/security", http.StatusSeeOther)
		return nil
	case errors.As(err, &ae) && !errors.Is(err, autho.ErrNotFound):
		return p.showEnrollment(w, r, v, http.StatusBadRequest, ae.Message)
	case err != nil:
		return err
	}
	// The code just entered is a use of the factor: no step-up right
	// after adding it.
	if err := p.admin.FactorUsed(r.Context(), v.session); err != nil {
		return err
	}
	if codes == nil {
		http.Redirect(w, r, "/portal/security?done=totp-added", http.StatusSeeOther)
		return nil
	}
	p.render(w, r, http.StatusOK, &codesView{layout: p.layout(v, "Save your recovery codes", "security"), Codes: codes, First: true})
	return nil
}

func (p *Portal) removeTOTP(w http.ResponseWriter, r *http.Request, v *visit) error {
	err := p.admin.RemoveTOTP(r.Context(), v.actor(), v.user.ID)
	if err != nil && !errors.Is(err, autho.ErrNotFound) {
		return err
	}
	http.Redirect(w, r, "/portal/security?done=totp-removed", http.StatusSeeOther)
	return nil
}

func (p *Portal) regenerateCodes(w http.ResponseWriter, r *http.Request, v *visit) error {
	codes, err := p.admin.RegenerateRecoveryCodes(r.Context(), v.actor(), v.user.ID)
	if err != nil {
		return err
	}
	p.render(w, r, http.StatusOK, &codesView{layout: p.layout(v, "Save your recovery codes", "security"), Codes: codes})
	return nil
}

// group splits s into groups of n separated by spaces.
func group(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+n, len(s))])
	}
	return b.String()
}
