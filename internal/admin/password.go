package admin

import (
	"context"
	"errors"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/password"
)

// ChangePassword sets a user's password when current is the one they have
// now, and ends every other portal session of the user, keeping the session
// whose hash is keep (the one asking; nil ends them all): whoever knew the
// old password is signed out. The new password must pass password.Validate
// and differ from the current one.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next string, keep []byte) (*autho.User, error) {
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
	ok, _, err := password.Verify(current, u.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformedHash) {
		return nil, err
	}
	if !ok {
		return nil, invalid("current_password", "the current password is not correct")
	}
	if next == current {
		return nil, invalid("new_password", "the new password must differ from the current one")
	}
	return s.setPassword(ctx, u, next, keep)
}

// ResetPassword gives a user a new random password, returned once, and ends
// all of the user's portal sessions: an account admin uses it for someone
// who has forgotten theirs.
func (s *Service) ResetPassword(ctx context.Context, userID string) (*autho.User, string, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	pw := password.Generate()
	u, err = s.setPassword(ctx, u, pw, nil)
	if err != nil {
		return nil, "", err
	}
	return u, pw, nil
}

// setPassword stores the hash of pw and then ends the user's other
// sessions. The hash is made before the update, outside the row lock, since
// argon2 is slow on purpose.
func (s *Service) setPassword(ctx context.Context, u *autho.User, pw string, keep []byte) (*autho.User, error) {
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, &Error{Field: "new_password", Message: err.Error()}
	}
	now := s.now()
	u, err = s.Store.UpdateUser(ctx, u.ID, func(u *autho.User) error {
		u.PasswordHash = hash
		u.UpdatedAt = now
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "update user", notFound("user", "user %s not found", u.ID))
	}
	if _, err := s.Store.DeleteUserSessions(ctx, u.ID, keep); err != nil {
		return nil, storeErr(err, "end sessions", nil)
	}
	return u, nil
}

// Rehash stores a new hash of pw, the password the user just signed in
// with, when the stored hash was made with weaker parameters than
// password.Hash uses now. It changes nothing else and ends no session.
func (s *Service) Rehash(ctx context.Context, userID, pw string) error {
	hash, err := password.Hash(pw)
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
