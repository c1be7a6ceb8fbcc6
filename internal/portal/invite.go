package portal

import (
	"errors"
	"net/http"

	"github.com/autho/autho/internal/admin"
)

// errInvitationGone is the one page of a link that opens nothing: used,
// expired, unknown or malformed alike, so that it tells nobody which.
var errInvitationGone = &pageError{http.StatusGone, "This invitation link was used or has expired",
	"This invitation link was used or has expired. If you have set your password already, sign in; otherwise ask an admin of your account to add you again."}

// inviteView is the page where an invited person chooses a password.
type inviteView struct {
	layout
	Email  string
	Action string
	Errors formErrors
}

func (*inviteView) page() string { return "invite" }

// invitePage shows the set-password form of a live invitation. The token
// is in the path, so the request log names the route's pattern only, and
// Referrer-Policy keeps it from leaving with a link followed from here.
func (p *Portal) invitePage(w http.ResponseWriter, r *http.Request, v *visit) error {
	_, u, err := p.admin.Invitation(r.Context(), r.PathValue("token"))
	if isAdminError(err, admin.ErrInvitationGone) {
		return errInvitationGone
	}
	if err != nil {
		return err
	}
	p.render(w, r, http.StatusOK, &inviteView{layout: p.layout(&visit{}, "Choose your password", ""), Email: u.Email, Action: r.URL.Path})
	return nil
}

// acceptInvite sets the password once (admin.AcceptInvitation) and signs
// the person in; where a second factor is required, the next page sends
// them to enroll.
func (p *Portal) acceptInvite(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	token := r.PathValue("token")
	pw, confirm := r.PostForm.Get("password"), r.PostForm.Get("confirm")
	again := func(status int, email, msg string) error {
		p.render(w, r, status, &inviteView{layout: p.layout(&visit{}, "Choose your password", ""), Email: email, Action: r.URL.Path,
			Errors: formErrors{"password": msg}})
		return nil
	}
	if pw != confirm {
		_, u, err := p.admin.Invitation(r.Context(), token)
		if isAdminError(err, admin.ErrInvitationGone) {
			return errInvitationGone
		}
		if err != nil {
			return err
		}
		return again(http.StatusBadRequest, u.Email, "The two passwords are not the same.")
	}
	old, _ := p.sessionCookie(r)
	res, err := p.admin.AcceptInvitation(r.Context(), admin.AcceptInvitationRequest{Token: token, Password: pw, IP: v.ip, Replaces: old})
	if isAdminError(err, admin.ErrInvitationGone) {
		return errInvitationGone
	}
	var ae *admin.Error
	if errors.As(err, &ae) {
		_, u, ierr := p.admin.Invitation(r.Context(), token)
		if ierr != nil {
			return errInvitationGone
		}
		return again(http.StatusBadRequest, u.Email, sentence(ae.Message))
	}
	if err != nil {
		return err
	}
	p.cookie.set(w, res.Session, 0)
	http.Redirect(w, r, "/portal/tokens?done=invited", http.StatusSeeOther)
	return nil
}
