package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/autho/autho"
)

// startPending stores the half-signed-in state of u after a right password
// and returns its id, made like a session id.
func (s *Service) startPending(ctx context.Context, u *autho.User, ip string, now time.Time) (string, error) {
	b := make([]byte, sessionIDBytes)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	p := &autho.PendingSignIn{Hash: HashSessionID(id), UserID: u.ID, CreatedAt: now,
		ExpiresAt: now.Add(PendingSignInTimeout), IP: ip, PasswordEpoch: u.PasswordEpoch}
	if err := s.Store.CreatePendingSignIn(ctx, p); err != nil {
		return "", storeErr(err, "start pending sign-in", nil)
	}
	return id, nil
}

// CompleteSignInRequest is the second step of a sign-in: the pending
// sign-in's id (its cookie) and the code typed.
type CompleteSignInRequest struct {
	Pending string
	Code    string // a TOTP code or a recovery code
	IP      string
}

// pendingUser reads the user a pending sign-in is for, or answers
// signInExpired (deleting what is left of it) when it opens nothing: too
// old, or its user deactivated or with a new password since.
func (s *Service) pendingUser(ctx context.Context, id string, now time.Time) (*autho.PendingSignIn, *autho.User, error) {
	if !ValidSessionID(id) {
		return nil, nil, signInExpired
	}
	hash := HashSessionID(id)
	p, err := s.Store.PendingSignIn(ctx, hash)
	if errors.Is(err, autho.ErrNotFound) {
		return nil, nil, signInExpired
	}
	if err != nil {
		return nil, nil, storeErr(err, "read pending sign-in", nil)
	}
	u, err := s.Store.User(ctx, p.UserID)
	if err != nil && !errors.Is(err, autho.ErrNotFound) {
		return nil, nil, storeErr(err, "read user", nil)
	}
	if err != nil || !now.Before(p.ExpiresAt) || !u.Active || u.PasswordEpoch != p.PasswordEpoch {
		if _, err := s.Store.ConsumePendingSignIn(ctx, hash); err != nil {
			return nil, nil, storeErr(err, "end pending sign-in", nil)
		}
		return nil, nil, signInExpired
	}
	return p, u, nil
}

// PendingSignIn reports whether id is a pending sign-in that still waits
// for its code, for the page that asks for it.
func (s *Service) PendingSignIn(ctx context.Context, id string) error {
	_, _, err := s.pendingUser(ctx, id, s.now())
	return err
}

// CompleteSignIn finishes a pending sign-in with a TOTP code (of the
// current step or one either side, and later than the last one used) or an
// unused recovery code, and starts the session. Each code is taken in one
// atomic store step, so a replay, here or on another node, fails.
//
// A wrong code is a failed sign-in: it is reserved through the same
// throttle, under the same keys, as a password, before it is checked, so a
// burst gets no more checks than the password allowance. Unlike a
// password, a code is not checked while its email is over its limit from
// another address: whoever is guessing codes knows the password already.
// Refusals are *Error of kind ErrThrottled, ErrWrongCode or
// ErrSignInExpired (sign in with the password again).
func (s *Service) CompleteSignIn(ctx context.Context, req CompleteSignInRequest) (*SignInResult, error) {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	p, u, err := s.pendingUser(ctx, req.Pending, now)
	if err != nil {
		return nil, err
	}
	code := normalizeCode(req.Code)
	if code == "" {
		return nil, invalid("code", "Enter the code from your authenticator app, or a recovery code.")
	}
	keys := keysFor(u.Email, req.IP)
	attempt, err := s.reserveFactor(ctx, keys, now)
	if err != nil {
		return nil, err
	}
	by := autho.UserActor(u, req.IP)
	ok, err := s.checkCode(ctx, by, u, code, now)
	if err != nil {
		// Not counted: nothing was checked.
		s.forgive(ctx, attempt)
		return nil, err
	}
	if !ok {
		s.auditAlone(ctx, by, now, autho.AuditLoginSecondFailed, u.AccountID, "")
		return nil, wrongCode
	}
	s.forgive(ctx, attempt)
	return s.finishPending(ctx, by, u, p, keys, req.IP, now, "")
}

// reserveFactor reserves a second factor's check through the sign-in
// throttle, under the same keys as a password. Unlike a password, a
// factor is not checked while its email is over its limit from another
// address: whoever is guessing knows the password (or holds the session)
// already. It returns the reserved attempt, or the refusal.
func (s *Service) reserveFactor(ctx context.Context, keys throttleKeys, now time.Time) (string, error) {
	th, attempt, err := s.reserve(ctx, keys, now)
	if err != nil {
		return "", err
	}
	if th.wait == 0 && th.emailLimited > 0 {
		s.forgive(ctx, attempt)
		th = th.emailRefusal()
	}
	if th.wait > 0 {
		return "", th.refused()
	}
	return attempt, nil
}

// finishPending turns a pending sign-in whose second factor was right into
// a session, once.
func (s *Service) finishPending(ctx context.Context, by autho.Actor, u *autho.User, p *autho.PendingSignIn, keys throttleKeys, ip string, now time.Time, how string) (*SignInResult, error) {
	won, err := s.Store.ConsumePendingSignIn(ctx, p.Hash)
	if err != nil {
		return nil, storeErr(err, "finish pending sign-in", nil)
	}
	if !won {
		// Finished already, by a request that came with another factor.
		return nil, signInExpired
	}
	// The factor's use counts: the session starts inside its step-up
	// window.
	return s.signedIn(ctx, by, u, keys, ip, now, now, how)
}

// StepUpWindow is how recently a second factor must have been used in a
// session for a sensitive action (creating a token, adding, deactivating
// or reactivating a user, resetting a password, changing the account's
// requirement) to go ahead without asking for it again.
const StepUpWindow = 15 * time.Minute

// NeedsStepUp reports whether the user signed in with ses must enter a
// second factor before a sensitive action: they have one, and it was last
// used in this session StepUpWindow ago or longer (or never). A user
// without a factor is not asked.
func (s *Service) NeedsStepUp(ctx context.Context, ses *autho.Session, u *autho.User) (bool, error) {
	fs, err := s.Factors(ctx, u.ID)
	if err != nil {
		return false, err
	}
	return fs.Any() && s.now().Sub(ses.FactorAt) >= StepUpWindow, nil
}

// FactorUsed records on the session that the user just entered a code from
// a factor of theirs (the first one, confirming an enrollment).
func (s *Service) FactorUsed(ctx context.Context, ses *autho.Session) error {
	if err := s.Store.MarkSessionFactor(ctx, ses.Hash, s.now()); err != nil {
		return storeErr(err, "record the second factor's use", nil)
	}
	return nil
}

// StepUp takes a TOTP code or a recovery code from the user signed in with
// ses, as CompleteSignIn does (the same throttle and keys, each code taken
// once), and on a right one records the factor's use on the session, which
// opens the sensitive actions for StepUpWindow. Both outcomes are audited.
// Refusals are *Error of kind ErrThrottled or ErrWrongCode, or invalid.
func (s *Service) StepUp(ctx context.Context, ses *autho.Session, u *autho.User, ip, code string) error {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	code = normalizeCode(code)
	if code == "" {
		return invalid("code", "Enter the code from your authenticator app, or a recovery code.")
	}
	keys := keysFor(u.Email, ip)
	attempt, err := s.reserveFactor(ctx, keys, now)
	if err != nil {
		return err
	}
	by := autho.UserActor(u, ip)
	ok, err := s.checkCode(ctx, by, u, code, now)
	if err != nil {
		s.forgive(ctx, attempt)
		return err
	}
	if !ok {
		s.auditAlone(ctx, by, now, autho.AuditStepUpFailed, u.AccountID, "")
		return wrongCode
	}
	s.forgive(ctx, attempt)
	return s.steppedUp(ctx, by, ses, u, keys, now)
}

// steppedUp records a right step-up: the failures forgotten, the factor's
// use on the session, the audit event.
func (s *Service) steppedUp(ctx context.Context, by autho.Actor, ses *autho.Session, u *autho.User, keys throttleKeys, now time.Time) error {
	if err := s.Store.ClearLoginFailures(ctx, []string{keys.email, keys.pair}); err != nil {
		s.log().Warn("portal: cannot clear login failures", "err", err)
	}
	if err := s.Store.MarkSessionFactor(ctx, ses.Hash, now); err != nil {
		return storeErr(err, "record the second factor's use", nil)
	}
	s.auditAlone(ctx, by, now, autho.AuditStepUp, u.AccountID, "")
	return nil
}

// checkCode takes code as the user's TOTP code or one of their recovery
// codes, and reports whether it was right (and is now used).
func (s *Service) checkCode(ctx context.Context, by autho.Actor, u *autho.User, code string, now time.Time) (bool, error) {
	if isRecoveryShaped(code) {
		e, err := audit(by, now, autho.AuditRecoveryCodeUsed, u.AccountID, u.ID, u.Email)
		if err != nil {
			return false, err
		}
		ok, err := s.Store.UseRecoveryCode(ctx, u.ID, hashRecoveryCode(code), now, e)
		if err != nil {
			return false, storeErr(err, "use recovery code", nil)
		}
		return ok, nil
	}
	f, raw, err := s.openTOTP(ctx, u.ID)
	if isAdminError(err) {
		return false, nil // no factor: no code is right
	}
	if err != nil {
		return false, err
	}
	if !f.Confirmed() {
		return false, nil
	}
	step := matchTOTP(raw, code, now, f.LastStep)
	if step == 0 {
		return false, nil
	}
	ok, err := s.Store.UseTOTPStep(ctx, f.ID, step)
	if err != nil {
		return false, storeErr(err, "use TOTP code", nil)
	}
	return ok, nil
}

func isAdminError(err error) bool {
	var ae *Error
	return errors.As(err, &ae)
}
