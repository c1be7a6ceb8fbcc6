package admin

import (
	"context"
	"errors"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/password"
)

// ChangePassword sets a user's password when current is the one they have
// now, throttled like a portal sign-in from by.IP (ErrThrottled), and ends
// every portal session of the user, the asking one included:
// whoever knew the old password is signed out, and the caller starts a new
// session from the user returned. The new password must pass
// password.Validate and differ from the current one. With every slot of
// s.Passwords taken it returns password.ErrBusy and changes nothing.
func (s *Service) ChangePassword(ctx context.Context, by autho.Actor, userID, current, next string) (*autho.User, error) {
	if current == "" {
		return nil, invalid("current_password", "enter your current password")
	}
	if err := password.Validate(next); err != nil {
		return nil, &Error{Field: "new_password", Message: "new " + err.Error()}
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	// A wrong current password counts as a failed sign-in, so a borrowed
	// session cannot be used to guess it faster than the sign-in form
	// allows; the attempt is seen through even if the caller hangs up.
	ctx = context.WithoutCancel(ctx)
	th, attempt, err := s.reserve(ctx, keysFor(u.Email, by.IP), s.now())
	if err != nil {
		return nil, err
	}
	if th.wait > 0 {
		return nil, th.refused()
	}
	wrong := false
	defer func() {
		if !wrong {
			s.forgive(ctx, attempt) // right, or never checked
		}
	}()
	release, err := s.Passwords.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	ok, _, err := password.Verify(current, u.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformedHash) {
		return nil, err
	}
	if !ok {
		wrong = true
		return nil, invalid("current_password", "the current password is not correct")
	}
	if next == current {
		return nil, invalid("new_password", "the new password must differ from the current one")
	}
	h, err := password.Hash(next)
	if err != nil {
		return nil, &Error{Field: "new_password", Message: err.Error()}
	}
	return s.setPassword(ctx, by, u, h, autho.AuditPasswordChange)
}

// ResetPassword gives a user a new random password, returned once, and ends
// all of the user's portal sessions: an account admin uses it for someone
// who has forgotten theirs.
func (s *Service) ResetPassword(ctx context.Context, by autho.Actor, userID string) (*autho.User, string, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	pw := password.Generate()
	h, err := s.hash(ctx, "password", pw)
	if err != nil {
		return nil, "", err
	}
	u, err = s.setPassword(ctx, by, u, h, autho.AuditUserPassword)
	if err != nil {
		return nil, "", err
	}
	return u, pw, nil
}

// setPassword stores the password hash h and moves the user's password
// epoch on, in one update. That ends every session made before it whenever
// the two interleave, since a sign-in that checked the old password carries
// the old epoch; deleting the session rows afterwards is tidiness, not
// safety. h is made before the update, outside the row lock, since argon2 is
// slow on purpose. The change is audited as action; one's own change has
// no target.
func (s *Service) setPassword(ctx context.Context, by autho.Actor, u *autho.User, h string, action autho.AuditAction) (*autho.User, error) {
	now := s.now()
	targetID, targetName := u.ID, u.Email
	if by.UserID == u.ID {
		targetID, targetName = "", ""
	}
	e, err := audit(by, now, action, u.AccountID, targetID, targetName)
	if err != nil {
		return nil, err
	}
	u, err = s.Store.UpdateUser(ctx, u.ID, func(u *autho.User) error {
		u.PasswordHash = h
		u.PasswordEpoch++
		u.UpdatedAt = now
		return nil
	}, e)
	if err != nil {
		return nil, storeErr(err, "update user", notFound("user", "user %s not found", u.ID))
	}
	if _, err := s.Store.DeleteUserSessions(ctx, u.ID, nil); err != nil {
		return nil, storeErr(err, "end sessions", nil)
	}
	return u, nil
}

// hash is password.Hash in a slot of s.Passwords. password.ErrBusy comes
// back as is; a password the rules refuse comes back as an *Error for
// field.
func (s *Service) hash(ctx context.Context, field, pw string) (string, error) {
	release, err := s.Passwords.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	h, err := password.Hash(pw)
	if err != nil {
		return "", &Error{Field: field, Message: err.Error()}
	}
	return h, nil
}

// Rehash stores a new hash of pw, the password the user just signed in
// with, when the stored hash was made with weaker parameters than
// password.Hash uses now. It changes nothing else and ends no session.
func (s *Service) Rehash(ctx context.Context, userID, pw string) error {
	hash, err := s.hash(ctx, "password", pw)
	if err != nil {
		return err
	}
	_, err = s.Store.UpdateUser(ctx, userID, func(u *autho.User) error {
		u.PasswordHash = hash
		return nil
	})
	if err != nil {
		return storeErr(err, "rehash password", nil)
	}
	return nil
}
