package portal

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

// userRow is one user as the admin's list shows them.
type userRow struct {
	ID, Email string
	Role      autho.Role
	Active    bool
	Created   time.Time
	Self      bool
	Tokens    int  // active API tokens
	Factor    bool // has a second factor
}

type userForm struct {
	Email string
	Role  string
}

type usersView struct {
	layout
	Users        []userRow
	Form         userForm
	Errors       formErrors
	CannotChange string // why users cannot be added or changed now, or ""
	Invite       bool   // new users are invited by mail
}

func (*usersView) page() string { return "users" }

func (p *Portal) usersView(ctx context.Context, v *visit, form userForm, errs formErrors) (*usersView, error) {
	us, err := p.admin.Users(ctx, v.account.ID)
	if err != nil {
		return nil, err
	}
	ts, err := p.admin.Tokens(ctx, admin.TokenQuery{AccountID: v.account.ID})
	if err != nil {
		return nil, err
	}
	active := map[string]int{}
	for _, t := range ts {
		if t.State(v.now) == autho.TokenActive {
			active[t.UserID]++
		}
	}
	if form.Role == "" {
		form.Role = string(autho.RoleMember)
	}
	uv := &usersView{layout: p.layout(v, "Users", "users"), Form: form, Errors: errs, Invite: p.admin.Mail}
	if p.admin.CheckUserManagement(v.account) != nil {
		uv.CannotChange = "Users cannot be added or changed while the account is " + string(v.account.State(v.now)) + "."
	}
	for _, u := range us {
		// One read per user: an account's people are tens, not thousands.
		fs, err := p.admin.Factors(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		uv.Users = append(uv.Users, userRow{ID: u.ID, Email: u.Email, Role: u.Role, Active: u.Active,
			Created: u.CreatedAt, Self: u.ID == v.user.ID, Tokens: active[u.ID], Factor: fs.Any()})
	}
	return uv, nil
}

func (p *Portal) usersPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	uv, err := p.usersView(r.Context(), v, userForm{}, nil)
	if err != nil {
		return err
	}
	uv.Notice = notice(r)
	p.render(w, r, http.StatusOK, uv)
	return nil
}

// usersAgain shows the users page with a message, after a mistake.
func (p *Portal) usersAgain(w http.ResponseWriter, r *http.Request, v *visit, status int, form userForm, errs formErrors) error {
	if len(form.Email) > 1000 {
		form.Email = ""
	}
	uv, err := p.usersView(r.Context(), v, form, errs)
	if err != nil {
		return err
	}
	p.render(w, r, status, uv)
	return nil
}

// userCreatedView shows a new user's generated password, once.
type userCreatedView struct {
	layout
	Email    string
	Role     autho.Role
	Password string
}

func (*userCreatedView) page() string { return "user_created" }

// userInvitedView says that a new user's invitation is on its way: no
// password is shown, since nobody knows one.
type userInvitedView struct {
	layout
	Email string
	Role  autho.Role
}

func (*userInvitedView) page() string { return "user_invited" }

// addUser adds a user to the admin's own account: with mail configured,
// invited by mail (admin.InviteUser); without, with a generated password,
// shown once for the admin to pass on.
func (p *Portal) addUser(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	form := userForm{Email: strings.TrimSpace(r.PostForm.Get("email")), Role: r.PostForm.Get("role")}
	role := autho.Role(form.Role)
	if !role.Valid() {
		return p.usersAgain(w, r, v, http.StatusBadRequest, form, formErrors{"role": "Choose a role: member or admin."})
	}
	var (
		u   *autho.User
		pw  string
		err error
	)
	if p.admin.Mail {
		u, err = p.admin.InviteUser(r.Context(), v.actor(), v.account.ID, form.Email, role)
	} else {
		u, pw, err = p.admin.CreateUser(r.Context(), v.actor(), v.account.ID, form.Email, role, "")
	}
	switch {
	case isAdminError(err, admin.ErrTakenElsewhere):
		// Not this admin's to know where (admin.emailTaken).
		return p.usersAgain(w, r, v, http.StatusConflict, form, formErrors{"email": "This email address cannot be added. If the person should be a user of your account, talk to " + p.contact().Text + "."})
	case isAdminError(err, autho.ErrConflict):
		return p.usersAgain(w, r, v, http.StatusConflict, form, formErrors{"email": "That email address is already a user of your account."})
	}
	var ae *admin.Error
	if errors.As(err, &ae) {
		return p.usersAgain(w, r, v, http.StatusBadRequest, form, formErrors{"email": sentence(ae.Message)})
	}
	if err != nil {
		return err
	}
	if p.admin.Mail {
		p.render(w, r, http.StatusOK, &userInvitedView{layout: p.layout(v, "User invited", "users"), Email: u.Email, Role: u.Role})
		return nil
	}
	p.render(w, r, http.StatusOK, &userCreatedView{layout: p.layout(v, "User added", "users"), Email: u.Email, Role: u.Role, Password: pw})
	return nil
}

// accountUser returns the user id names if they belong to v's account;
// anyone else is reported as not found.
func (p *Portal) accountUser(ctx context.Context, v *visit, id string) (*autho.User, error) {
	if !strings.HasPrefix(id, "usr_") || strings.Contains(id, "@") || len(id) > 64 {
		return nil, errUserNotFound
	}
	u, err := p.admin.User(ctx, id)
	if isAdminError(err, autho.ErrNotFound) {
		return nil, errUserNotFound
	}
	if err != nil {
		return nil, err
	}
	if u.AccountID != v.account.ID {
		return nil, errUserNotFound
	}
	return u, nil
}

// errNotYourself refuses actions an admin may not take on themselves: the
// last admin must not be able to lock the account out of its own portal.
var errNotYourself = formErrors{"": "You cannot do that to yourself. Ask another admin of your account, or use Change password for your own password."}

func (p *Portal) deactivateUser(w http.ResponseWriter, r *http.Request, v *visit) error {
	return p.setActive(w, r, v, false)
}

func (p *Portal) activateUser(w http.ResponseWriter, r *http.Request, v *visit) error {
	return p.setActive(w, r, v, true)
}

// setActive deactivates (which also ends the user's sessions) or
// reactivates a user of the account.
func (p *Portal) setActive(w http.ResponseWriter, r *http.Request, v *visit, active bool) error {
	u, err := p.accountUser(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	if u.ID == v.user.ID {
		return p.usersAgain(w, r, v, http.StatusBadRequest, userForm{}, errNotYourself)
	}
	do, done := p.admin.DeactivateUser, "deactivated"
	if active {
		do, done = p.admin.ActivateUser, "activated"
	}
	if _, err := do(r.Context(), v.actor(), u.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/users?done="+done, http.StatusSeeOther)
	return nil
}

// endUserSessions signs a user out everywhere.
func (p *Portal) endUserSessions(w http.ResponseWriter, r *http.Request, v *visit) error {
	u, err := p.accountUser(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	if u.ID == v.user.ID {
		return p.usersAgain(w, r, v, http.StatusBadRequest, userForm{}, errNotYourself)
	}
	if _, err := p.admin.EndSessions(r.Context(), v.actor(), u.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/users?done=sessions", http.StatusSeeOther)
	return nil
}

// clearUserFactors removes every second factor and recovery code of a
// user of the account (who lost their phone and their codes), so that they
// sign in with their password alone. An admin's own factors are theirs to
// change on the Security page.
func (p *Portal) clearUserFactors(w http.ResponseWriter, r *http.Request, v *visit) error {
	u, err := p.accountUser(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	if u.ID == v.user.ID {
		return p.usersAgain(w, r, v, http.StatusBadRequest, userForm{}, errNotYourself)
	}
	n, err := p.admin.ResetMFA(r.Context(), v.actor(), u.ID)
	if err != nil {
		return err
	}
	done := "mfa-cleared"
	if n == 0 {
		done = "mfa-none"
	}
	http.Redirect(w, r, "/portal/users?done="+done, http.StatusSeeOther)
	return nil
}

// userResetView confirms a password reset, then shows the new password.
// The one reset is Target: layout's User is who is signed in.
type userResetView struct {
	layout
	Target   userRow
	Password string // "" on the confirmation step
}

func (*userResetView) page() string { return "user_reset" }

func (p *Portal) resetPasswordPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	u, err := p.accountUser(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	if u.ID == v.user.ID {
		http.Redirect(w, r, "/portal/password", http.StatusSeeOther)
		return nil
	}
	p.render(w, r, http.StatusOK, &userResetView{layout: p.layout(v, "Reset password", "users"),
		Target: userRow{ID: u.ID, Email: u.Email, Role: u.Role, Active: u.Active}})
	return nil
}

// resetPassword gives a user a new generated password, shown once, and
// signs them out everywhere.
func (p *Portal) resetPassword(w http.ResponseWriter, r *http.Request, v *visit) error {
	u, err := p.accountUser(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	if u.ID == v.user.ID {
		return p.usersAgain(w, r, v, http.StatusBadRequest, userForm{}, errNotYourself)
	}
	u, pw, err := p.admin.ResetPassword(r.Context(), v.actor(), u.ID)
	if err != nil {
		return err
	}
	p.render(w, r, http.StatusOK, &userResetView{layout: p.layout(v, "Password reset", "users"),
		Target: userRow{ID: u.ID, Email: u.Email, Role: u.Role, Active: u.Active}, Password: pw})
	return nil
}
