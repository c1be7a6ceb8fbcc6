package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/autho/autho"
)

// Portal session timeouts. A session ends after IdleTimeout without a
// request, and in any case AbsoluteTimeout after it began: an unattended
// browser is signed out soon, and a stolen cookie is good for half a
// working day at most.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	// touchEvery limits the writes that keep a session alive to one a
	// minute per session, however many pages are opened.
	touchEvery = time.Minute
)

// sessionIDBytes is the size of a session id: 256 bits from crypto/rand.
const sessionIDBytes = 32

// SessionIDLen is the length of a session id in unpadded base64url, so a
// caller can tell a cookie that cannot be one without a database read.
var SessionIDLen = base64.RawURLEncoding.EncodedLen(sessionIDBytes)

// ValidSessionID reports whether id is shaped like a session id.
func ValidSessionID(id string) bool {
	if len(id) != SessionIDLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

// HashSessionID is what the store keeps of a session id.
func HashSessionID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// ErrSessionEnded marks a session id that opens nothing (any more): it
// timed out, was signed out, or its user was deactivated or changed their
// password.
var ErrSessionEnded = errors.New("session ended")

// Visit is who a session id signs in.
type Visit struct {
	Session *autho.Session
	User    *autho.User
	Account *autho.Account
}

// Session reads who the session id signs in. The session, the user and the
// account are read on every call, so that a sign-out, a deactivation or a
// password change elsewhere (on another node too) takes effect on the very
// next request: a session whose password epoch is not its user's any more
// was opened with a password that has since been changed. A session that
// has ended is deleted, and ErrSessionEnded returned.
func (s *Service) Session(ctx context.Context, id string) (*Visit, error) {
	if !ValidSessionID(id) {
		return nil, ErrSessionEnded
	}
	now := s.now()
	hash := HashSessionID(id)
	ses, err := s.Store.Session(ctx, hash)
	if errors.Is(err, autho.ErrNotFound) {
		return nil, ErrSessionEnded
	}
	if err != nil {
		return nil, storeErr(err, "read session", nil)
	}
	end := func() (*Visit, error) {
		if err := s.Store.DeleteSession(ctx, hash); err != nil {
			return nil, storeErr(err, "end session", nil)
		}
		return nil, ErrSessionEnded
	}
	if !now.Before(ses.SeenAt.Add(IdleTimeout)) || !now.Before(ses.CreatedAt.Add(AbsoluteTimeout)) {
		return end()
	}
	u, err := s.Store.User(ctx, ses.UserID)
	if errors.Is(err, autho.ErrNotFound) {
		return end()
	}
	if err != nil {
		return nil, storeErr(err, "read user", nil)
	}
	if !u.Active || ses.PasswordEpoch != u.PasswordEpoch {
		return end()
	}
	a, err := s.Store.Account(ctx, u.AccountID)
	if err != nil {
		return nil, storeErr(err, "read account", nil)
	}
	if now.Sub(ses.SeenAt) >= touchEvery {
		if err := s.Store.TouchSession(ctx, hash, now); err != nil {
			// The request can go on; the worst case is a session that
			// times out a minute early.
			s.log().Warn("portal: cannot record session activity", "err", err)
		}
	}
	return &Visit{Session: ses, User: u, Account: a}, nil
}

// NewSession signs u in from ip with a new session id, which it returns: u
// must be the user as read with the password hash just checked (or just
// set), so that the session carries that password's epoch.
func (s *Service) NewSession(ctx context.Context, u *autho.User, ip string) (string, error) {
	return s.startSession(ctx, u, ip, s.now(), time.Time{})
}

// startSession stores a session for u, with entries in its transaction, and
// returns its id: never one the browser brought along, so a planted cookie
// is worthless.
// factorAt is when a second factor was used for it (zero: none was).
func (s *Service) startSession(ctx context.Context, u *autho.User, ip string, now, factorAt time.Time, entries ...autho.Entry) (string, error) {
	b := make([]byte, sessionIDBytes)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	id := base64.RawURLEncoding.EncodeToString(b)
	ses := &autho.Session{Hash: HashSessionID(id), UserID: u.ID, CreatedAt: now, SeenAt: now, IP: ip, PasswordEpoch: u.PasswordEpoch,
		FactorAt: factorAt}
	if err := s.Store.CreateSession(ctx, ses, entries...); err != nil {
		return "", storeErr(err, "start session", nil)
	}
	return id, nil
}

// SignOut ends the session id, in the database and not only in the
// browser: the cookie, if it was copied, opens nothing afterwards. A
// signed-in user's sign-out is audited (by is the zero Actor when nobody
// was signed in).
func (s *Service) SignOut(ctx context.Context, by autho.Actor, accountID, id string) error {
	if !ValidSessionID(id) {
		return nil
	}
	var entries []autho.Entry
	if by.ID() != "" {
		e, err := audit(by, s.now(), autho.AuditLogout, accountID, "", "")
		if err != nil {
			return err
		}
		entries = append(entries, e)
	}
	if err := s.Store.DeleteSession(ctx, HashSessionID(id), entries...); err != nil {
		return storeErr(err, "end session", nil)
	}
	return nil
}

// EndSessions signs a user out of the portal everywhere, at once, and
// returns how many sessions ended. Their API tokens are untouched.
func (s *Service) EndSessions(ctx context.Context, by autho.Actor, userID string) (int, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return 0, err
	}
	e, err := audit(by, s.now(), autho.AuditUserSessions, u.AccountID, u.ID, u.Email)
	if err != nil {
		return 0, err
	}
	n, err := s.Store.DeleteUserSessions(ctx, u.ID, nil, e)
	if err != nil {
		return 0, storeErr(err, "end sessions", nil)
	}
	return n, nil
}

// sweepEvery is how often Sweep runs when Run drives it.
const sweepEvery = 5 * time.Minute

// Run sweeps every sweepEvery until ctx ends. Every node may run it; the
// deletes are the same whoever runs them.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		s.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep deletes ended sessions, expired pending sign-ins and sign-in
// failures too old to count. Both
// are ignored on read anyway; this only keeps the tables small.
func (s *Service) Sweep(ctx context.Context) {
	now := s.now()
	if _, err := s.Store.DeleteSessionsBefore(ctx, now.Add(-IdleTimeout), now.Add(-AbsoluteTimeout)); err != nil && ctx.Err() == nil {
		s.log().Warn("portal: cannot delete ended sessions", "err", err)
	}
	if _, err := s.Store.DeleteLoginFailuresBefore(ctx, now.Add(-failureWindow)); err != nil && ctx.Err() == nil {
		s.log().Warn("portal: cannot delete old login failures", "err", err)
	}
	if _, err := s.Store.DeletePendingSignInsBefore(ctx, now); err != nil && ctx.Err() == nil {
		s.log().Warn("portal: cannot delete expired pending sign-ins", "err", err)
	}
	if _, err := s.Store.DeleteCeremoniesBefore(ctx, now); err != nil && ctx.Err() == nil {
		s.log().Warn("portal: cannot delete expired passkey ceremonies", "err", err)
	}
}

// AuditLog lists audit events as f says, newest first.
func (s *Service) AuditLog(ctx context.Context, f autho.AuditFilter) ([]*autho.AuditEvent, error) {
	es, err := s.Store.AuditEvents(ctx, f)
	if err != nil {
		return nil, storeErr(err, "read the audit log", nil)
	}
	return es, nil
}
