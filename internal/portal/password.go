package portal

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/autho/autho/internal/admin"
)

type passwordView struct {
	layout
	Errors formErrors
}

func (*passwordView) page() string { return "password" }

func (p *Portal) passwordPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	p.render(w, r, http.StatusOK, &passwordView{layout: p.layout(v, "Change password", "password")})
	return nil
}

// changePassword sets a new password when the current one is given. A
// wrong current password counts as a failed sign-in, so a borrowed session
// cannot be used to guess it faster than the login form allows. Every
// session of the user ends, this one too, and this browser is given a new
// one at the new password's epoch.
func (p *Portal) changePassword(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	current, next, confirm := r.PostForm.Get("current"), r.PostForm.Get("new"), r.PostForm.Get("confirm")
	again := func(status int, field, msg string) error {
		p.render(w, r, status, &passwordView{layout: p.layout(v, "Change password", "password"), Errors: formErrors{field: msg}})
		return nil
	}
	if current == "" {
		return again(http.StatusBadRequest, "current", "Enter your current password.")
	}
	if next != confirm {
		return again(http.StatusBadRequest, "confirm", "The two new passwords are not the same.")
	}
	// Seen through even if the client hangs up, like a sign-in.
	ctx := context.WithoutCancel(r.Context())
	keys := keysFor(v.user.Email, v.ip)
	th, attempt, err := p.reserve(ctx, keys, v.now)
	if err != nil {
		return err
	}
	if th.wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(th.wait.Seconds()+0.999)))
		return again(http.StatusTooManyRequests, "current", th.reason)
	}
	u, err := p.admin.ChangePassword(ctx, v.actor(), v.user.ID, current, next)
	var ae *admin.Error
	if !errors.As(err, &ae) || ae.Field != "current_password" {
		// The current password was right, or was never checked.
		p.forgive(ctx, attempt)
	}
	if ae != nil {
		field := "new"
		if ae.Field == "current_password" {
			field = "current"
		}
		return again(http.StatusBadRequest, field, sentence(ae.Message))
	}
	if err != nil {
		return err
	}
	if err := p.startSession(ctx, w, u, v); err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/account?done=password", http.StatusSeeOther)
	return nil
}
