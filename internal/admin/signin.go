package admin

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/password"
)

// SignInRequest is an email and password typed into the portal's form.
type SignInRequest struct {
	Email, Password string
	IP              string // the client's address, for throttling and the audit log
	// Replaces is the session id the browser brought along, if any: it
	// ends here, whatever the outcome of a successful sign-in, so an id
	// planted before the sign-in is worth nothing after it.
	Replaces string
}

// wrongPassword is the one answer for an unknown email and a wrong password
// alike.
var wrongPassword = &Error{Message: "The email address or the password is not correct.", kind: ErrWrongPassword}

// SignInResult is what a right password leads to: a session, or, for a
// user with a second factor, a pending sign-in that CompleteSignIn
// finishes. Each id is a cookie's value, which exists nowhere else: the
// store keeps its hash.
type SignInResult struct {
	User    *autho.User
	Session string // the session id, when signed in
	Pending string // the pending sign-in's id, when a second factor is needed
}

// SignIn checks a portal sign-in and, when it is right, starts a session
// (SignInResult.Session), or for a user with a second factor a pending
// sign-in (SignInResult.Pending) that grants nothing until CompleteSignIn
// has a code. Refusals are *Error of kind ErrThrottled (with
// RetryAfter), ErrWrongPassword, or ErrForbidden (a deactivated user);
// with every password slot taken it is password.ErrBusy, before any
// database write.
//
// Unknown emails cost the same argon2 work as known ones, and every attempt
// is counted for throttling under keys that do not depend on whether the
// email exists (throttle.go). The attempt is seen through even if the
// caller's context ends, while it waits for a slot too: an abandoned guess
// is counted and audited like any other (the pool's wait and budget bound
// what that costs).
func (s *Service) SignIn(ctx context.Context, req SignInRequest) (*SignInResult, error) {
	if req.Email == "" || req.Password == "" {
		return nil, invalid("", "Enter your email address and your password.")
	}
	if len(req.Email) > 254 {
		return nil, invalid("email", "That is not an email address: it is longer than any email address can be.")
	}
	ctx = context.WithoutCancel(ctx)
	// A slot for the argon2 work first, so that a flood is answered before
	// it costs a database write.
	release, err := s.Passwords.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	keys := keysFor(req.Email, req.IP)
	th, attempt, err := s.reserve(ctx, keys, now)
	if err != nil || th.wait > 0 {
		release()
		if err != nil {
			return nil, err
		}
		return nil, th.refused()
	}
	ok, rehash, u, err := s.checkPassword(ctx, req.Email, req.Password)
	release()
	if err != nil {
		return nil, err
	}
	by := autho.Actor{IP: req.IP}
	if u != nil {
		by = autho.UserActor(u, req.IP)
	}
	if !ok {
		if u != nil {
			s.auditAlone(ctx, by, now, autho.AuditLoginFailed, u.AccountID, "")
		}
		if th.emailLimited > 0 {
			return nil, th.emailRefusal().refused()
		}
		return nil, wrongPassword
	}
	s.forgive(ctx, attempt)
	if err := s.refuseInactive(ctx, by, u, now); err != nil {
		return nil, err
	}
	if rehash {
		if err := s.Rehash(ctx, u.ID, req.Password); err != nil {
			s.log().Warn("portal: cannot upgrade a password hash", "user", u.ID, "err", err)
		}
	}
	if err := s.endReplaced(ctx, req.Replaces); err != nil {
		return nil, err
	}
	fs, err := s.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if fs.Any() {
		// The failures stay counted until the second factor is right:
		// a known password must not reset the count of wrong codes.
		id, err := s.startPending(ctx, u, req.IP, now)
		if err != nil {
			return nil, err
		}
		return &SignInResult{User: u, Pending: id}, nil
	}
	return s.signedIn(ctx, by, u, keys, req.IP, now, time.Time{}, "")
}

// refuseInactive refuses, and audits, the sign-in of a deactivated user
// whose credential (a password, a passkey) was right.
func (s *Service) refuseInactive(ctx context.Context, by autho.Actor, u *autho.User, now time.Time) error {
	if u.Active {
		return nil
	}
	s.auditAlone(ctx, by, now, autho.AuditLoginDenied, u.AccountID, "")
	return forbidden("", "Your user has been deactivated, so you cannot sign in. Ask an admin of your account to reactivate it.")
}

// endReplaced ends the session the browser brought along to a sign-in.
func (s *Service) endReplaced(ctx context.Context, replaces string) error {
	if replaces == "" {
		return nil
	}
	if err := s.Store.DeleteSession(ctx, HashSessionID(replaces)); err != nil {
		return storeErr(err, "end the earlier session", nil)
	}
	return nil
}

// mayStartSession is what a right credential is checked for before a
// session starts, whatever the credential: the user must be active, and
// the session the browser brought ends.
func (s *Service) mayStartSession(ctx context.Context, by autho.Actor, u *autho.User, now time.Time, replaces string) error {
	if err := s.refuseInactive(ctx, by, u, now); err != nil {
		return err
	}
	return s.endReplaced(ctx, replaces)
}

// signedIn ends a sign-in that passed every check: its failures are
// forgotten and its session starts, audited as a login; how, when not "",
// names what signed in other than a password (a passkey's name), as the
// event's target name.
func (s *Service) signedIn(ctx context.Context, by autho.Actor, u *autho.User, keys throttleKeys, ip string, now, factorAt time.Time, how string) (*SignInResult, error) {
	if err := s.Store.ClearLoginFailures(ctx, []string{keys.email, keys.pair}); err != nil {
		s.log().Warn("portal: cannot clear login failures", "err", err)
	}
	e, err := audit(by, now, autho.AuditLogin, u.AccountID, "", how)
	if err != nil {
		return nil, err
	}
	id, err := s.startSession(ctx, u, ip, now, factorAt, e)
	if err != nil {
		return nil, err
	}
	return &SignInResult{User: u, Session: id}, nil
}

// checkPassword reads the user of email and checks pw against the hash
// read with it, so that the session made from the answer carries the
// password epoch that hash belongs to. An unknown email (u nil) costs the
// same argon2 work as a known one. The caller holds a slot of the pool.
func (s *Service) checkPassword(ctx context.Context, email, pw string) (ok, rehash bool, u *autho.User, err error) {
	u, err = s.Store.UserByEmail(ctx, email)
	if errors.Is(err, autho.ErrNotFound) {
		u = nil
	} else if err != nil {
		return false, false, nil, storeErr(err, "read user", nil)
	}
	if u == nil || utf8.RuneCountInString(pw) > password.MaxLength {
		password.DummyVerify()
		return false, false, u, nil
	}
	ok, rehash, err = password.Verify(pw, u.PasswordHash)
	if err != nil {
		// A stored hash we cannot read is our fault, not theirs; it must
		// not sign anyone in.
		s.log().Error("portal: unreadable password hash", "user", u.ID, "err", err)
		return false, false, u, nil
	}
	return ok, rehash, u, nil
}

// auditAlone records an event that goes with no change (a refused
// sign-in). The refusal has already been decided, so a failure to record
// it is logged loudly rather than returned.
func (s *Service) auditAlone(ctx context.Context, by autho.Actor, now time.Time, action autho.AuditAction, accountID, targetName string) {
	e, err := audit(by, now, action, accountID, "", targetName)
	if err == nil {
		err = s.Store.AddAuditEvent(ctx, e)
	}
	if err != nil {
		s.log().Error("audit event not recorded", "account", accountID, "actor", by.ID(), "action", string(action), "err", err)
	}
}
