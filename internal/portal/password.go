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

// changePassword sets a new password when the current one is given
// (admin.ChangePassword, throttled like a sign-in). Every session of the
// user ends, this one too, and this browser is given a new one at the new
// password's epoch.
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
	u, err := p.admin.ChangePassword(ctx, v.actor(), v.user.ID, current, next)
	var ae *admin.Error
	if errors.As(err, &ae) {
		if errors.Is(err, admin.ErrThrottled) {
			w.Header().Set("Retry-After", strconv.Itoa(int(ae.RetryAfter.Seconds()+0.999)))
			return again(http.StatusTooManyRequests, "current", ae.Message)
		}
		field := "new"
		if ae.Field == "current_password" {
			field = "current"
		}
		return again(http.StatusBadRequest, field, sentence(ae.Message))
	}
	if err != nil {
		return err
	}
	id, err := p.admin.NewSession(ctx, u, v.ip)
	if err != nil {
		return err
	}
	p.cookie.set(w, id, 0)
	http.Redirect(w, r, "/portal/account?done=password", http.StatusSeeOther)
	return nil
}
