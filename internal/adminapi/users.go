package adminapi

import (
	"net/http"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/view"
)

// createUser adds a user to the account; without a password one is
// generated and shown in this answer only, and with invite the user is
// mailed a link to choose their own (admin.InviteUser).
func (h *handler) createUser(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	var req struct {
		Email    string     `json:"email"`
		Role     autho.Role `json:"role"`
		Password string     `json:"password"`
		Invite   bool       `json:"invite"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Invite {
		if req.Password != "" {
			return &admin.Error{Field: "invite", Message: "give a password or invite the user, not both"}
		}
		u, err := h.svc.InviteUser(r.Context(), by, r.PathValue("id"), req.Email, req.Role)
		if err != nil {
			return err
		}
		v := view.UserOf(u, "")
		v.Invited = true
		return reply(w, http.StatusCreated, v)
	}
	u, generated, err := h.svc.CreateUser(r.Context(), by, r.PathValue("id"), req.Email, req.Role, req.Password)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, view.UserOf(u, generated))
}

// listUsers pages through the account's users, newest first.
func (h *handler) listUsers(w http.ResponseWriter, r *http.Request, _ autho.Actor) error {
	us, err := h.svc.Users(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return replyPage(w, r, us, func(u *autho.User) (time.Time, string) { return u.CreatedAt, u.ID },
		func(u *autho.User) view.User { return view.UserOf(u, "") })
}

// patchUser sets the user's role and whether it is active, either or both.
func (h *handler) patchUser(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	var req struct {
		Active *bool       `json:"active"`
		Role   *autho.Role `json:"role"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	u, err := h.svc.ChangeUser(r.Context(), by, r.PathValue("id"), admin.UserChange{Active: req.Active, Role: req.Role})
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, view.UserOf(u, ""))
}

// resetPassword gives the user a new generated password, shown in this
// answer only, and ends the user's portal sessions.
func (h *handler) resetPassword(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	if r.ContentLength != 0 {
		var none struct{}
		if err := decode(r, &none); err != nil {
			return err
		}
	}
	u, pw, err := h.svc.ResetPassword(r.Context(), by, r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, view.UserOf(u, pw))
}
