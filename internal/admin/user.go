package admin

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/password"
	"github.com/autho/autho/internal/secret"
)

// CreateUser adds a user to an account, in any state. role "" means member.
// When pw is "", a random password is generated and returned (it exists
// nowhere else); otherwise pw must pass password.Validate and "" is
// returned. Emails are unique regardless of letter case.
func (s *Service) CreateUser(ctx context.Context, by autho.Actor, accountID, email string, role autho.Role, pw string) (*autho.User, string, error) {
	return s.createUser(ctx, by, accountID, email, role, pw, false)
}

// createUser is CreateUser, or with invite InviteUser: then the password
// is a random one nobody is shown, and the invitation's entries go with
// the user's.
func (s *Service) createUser(ctx context.Context, by autho.Actor, accountID, email string, role autho.Role, pw string, invite bool) (*autho.User, string, error) {
	accountID, err := checkID("account", "acc", accountID)
	if err != nil {
		return nil, "", err
	}
	email, err = cleanEmail(email)
	if err != nil {
		return nil, "", err
	}
	if role == "" {
		role = autho.RoleMember
	}
	if !role.Valid() {
		return nil, "", invalid("role", "role must be %q or %q, not %q", autho.RoleAdmin, autho.RoleMember, string(role))
	}
	generated := ""
	if pw == "" {
		generated = password.Generate()
		pw = generated
	} else if err := password.Validate(pw); err != nil {
		return nil, "", &Error{Field: "password", Message: err.Error()}
	}
	if _, err := s.Account(ctx, accountID); err != nil {
		return nil, "", err
	}
	// Checked before the costly hash so that the common mistake answers at
	// once; the store's unique index still decides under a race.
	if holder, err := s.Store.UserByEmail(ctx, email); err == nil {
		return nil, "", s.emailTaken(ctx, by, accountID, holder, email)
	} else if !errors.Is(err, autho.ErrNotFound) {
		return nil, "", storeErr(err, "read user", nil)
	}
	hash, err := s.hash(ctx, "password", pw)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	u := &autho.User{
		ID:           secret.NewID("usr"),
		AccountID:    accountID,
		Email:        email,
		PasswordHash: hash,
		Role:         role,
		Active:       true,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	e, err := audit(by, now, autho.AuditUserCreate, accountID, u.ID, u.Email)
	if err != nil {
		return nil, "", err
	}
	entries := []autho.Entry{e, eventOf(e, autho.EventData{User: autho.EventUserOf(u)}, nil)}
	if invite {
		// Nobody is ever shown this password: until the link is used,
		// nobody can sign in as the user.
		generated = ""
		more, err := s.invitationEntries(by, u, now)
		if err != nil {
			return nil, "", err
		}
		entries = append(entries, more...)
	}
	if err := s.Store.CreateUser(ctx, u, entries...); err != nil {
		if errors.Is(err, autho.ErrConflict) {
			// Lost a race with another add of the same email.
			if holder, herr := s.Store.UserByEmail(ctx, email); herr == nil {
				return nil, "", s.emailTaken(ctx, by, accountID, holder, email)
			}
			return nil, "", conflict("email", "email already in use: %s", email)
		}
		return nil, "", storeErr(err, "create user", notFound("account", "account %s not found", accountID))
	}
	return u, generated, nil
}

// User finds a user by id ("usr_…") or by email (any letter case).
func (s *Service) User(ctx context.Context, ref string) (*autho.User, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, invalid("user", "user email or id must not be empty")
	}
	var (
		u   *autho.User
		err error
	)
	if strings.HasPrefix(ref, "usr_") && !strings.Contains(ref, "@") {
		u, err = s.Store.User(ctx, ref)
	} else {
		u, err = s.Store.UserByEmail(ctx, ref)
	}
	if err != nil {
		return nil, storeErr(err, "read user", notFound("user", "user %s not found", ref))
	}
	return u, nil
}

// Users returns the users of one account.
func (s *Service) Users(ctx context.Context, accountID string) ([]*autho.User, error) {
	a, err := s.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	us, err := s.Store.Users(ctx, a.ID)
	if err != nil {
		return nil, storeErr(err, "list users", nil)
	}
	return us, nil
}

// DeactivateUser stops a user's portal logins and every login with the
// user's API tokens, at once, and ends the user's portal sessions. The
// tokens are kept, so reactivating the user restores them. ref is an email
// or a user id; deactivating an inactive user returns it unchanged.
func (s *Service) DeactivateUser(ctx context.Context, by autho.Actor, ref string) (*autho.User, error) {
	return s.setActive(ctx, by, ref, false)
}

// ActivateUser undoes DeactivateUser. ref is an email or a user id.
func (s *Service) ActivateUser(ctx context.Context, by autho.Actor, ref string) (*autho.User, error) {
	return s.setActive(ctx, by, ref, true)
}

func (s *Service) setActive(ctx context.Context, by autho.Actor, ref string, active bool) (*autho.User, error) {
	return s.ChangeUser(ctx, by, ref, UserChange{Active: &active})
}

// SetRole makes a user an admin of its account or a member; the same role
// again records nothing.
func (s *Service) SetRole(ctx context.Context, by autho.Actor, ref string, role autho.Role) (*autho.User, error) {
	return s.ChangeUser(ctx, by, ref, UserChange{Role: &role})
}

// UserChange is a change of one user; nil fields stay as they are.
type UserChange struct {
	Active *bool
	Role   *autho.Role
}

// ChangeUser makes every part of c in one transaction, each audited (a
// role change, a deactivation or reactivation); a part that changes
// nothing records nothing, and every part is checked before anything is
// written. A deactivated user is signed out everywhere, so that a later
// reactivation does not bring back a browser session from before.
func (s *Service) ChangeUser(ctx context.Context, by autho.Actor, ref string, c UserChange) (*autho.User, error) {
	if c.Role != nil && !c.Role.Valid() {
		return nil, invalid("role", "role must be %q or %q, not %q", autho.RoleAdmin, autho.RoleMember, string(*c.Role))
	}
	u, err := s.User(ctx, ref)
	if err != nil {
		return nil, err
	}
	now := s.now()
	type part struct {
		action autho.AuditAction
		apply  func(*autho.User) bool // reports whether it changed u
	}
	var parts []part
	if c.Role != nil {
		parts = append(parts, part{autho.AuditUserRole, func(u *autho.User) bool {
			changed := u.Role != *c.Role
			u.Role = *c.Role
			return changed
		}})
	}
	if c.Active != nil {
		action := autho.AuditUserDeactivate
		if *c.Active {
			action = autho.AuditUserActivate
		}
		parts = append(parts, part{action, func(u *autho.User) bool { return u.SetActive(*c.Active, now) }})
	}
	// Each part leaves its audit event and, when it is a lifecycle one,
	// its event: two entries, both dropped when the part changes nothing.
	entries := make([]autho.Entry, 2*len(parts))
	events := make([]*autho.AuditEvent, len(parts))
	for i, p := range parts {
		if events[i], err = audit(by, now, p.action, u.AccountID, u.ID, u.Email); err != nil {
			return nil, err
		}
	}
	u, err = s.Store.UpdateUser(ctx, u.ID, func(u *autho.User) error {
		changed := make([]bool, len(parts))
		for i, p := range parts {
			changed[i] = p.apply(u)
		}
		if !slices.Contains(changed, true) {
			return autho.ErrUnchanged
		}
		u.UpdatedAt = now
		for i, e := range events {
			entries[2*i], entries[2*i+1] = nil, nil
			if changed[i] {
				e.TargetName = u.Email
				entries[2*i], entries[2*i+1] = e, eventOf(e, autho.EventData{User: autho.EventUserOf(u)}, nil)
			}
		}
		return nil
	}, entries...)
	if err != nil {
		return nil, storeErr(err, "update user", notFound("user", "user %s not found", ref))
	}
	if c.Active != nil && !*c.Active {
		if _, err := s.Store.DeleteUserSessions(ctx, u.ID, nil); err != nil {
			return nil, storeErr(err, "end sessions", nil)
		}
	}
	return u, nil
}

// emailTaken refuses an email that is a user's already. Emails are unique
// across all accounts, so for a portal admin that user may be in another
// account, which is not theirs to know: it would tell one partner who is a
// customer of the platform elsewhere. Then the answer (ErrTakenElsewhere)
// says only that the address cannot be added; the operator learns who holds
// it from the log, and the account's own audit log keeps the attempt. An
// address of the admin's own account, and any address the operator asks
// about, is said plainly.
func (s *Service) emailTaken(ctx context.Context, by autho.Actor, accountID string, holder *autho.User, email string) error {
	if by.IsOperator() || holder.AccountID == accountID {
		return conflict("email", "email already in use: %s", email)
	}
	// Ids, not the email: they are all the operator needs to look both
	// up, and they keep the address out of the log.
	s.log().Warn("portal: an admin tried to add a user of another account; refused without saying so",
		"account", accountID, "actor", by.ID(), "existing_user", holder.ID, "existing_account", holder.AccountID)
	s.auditAlone(ctx, by, s.now(), autho.AuditUserCreateRefused, accountID, email)
	return &Error{Field: "email", Message: "this email address cannot be added", kind: ErrTakenElsewhere}
}
