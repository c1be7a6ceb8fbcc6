// Package admin holds the business rules of every change: creating and
// renewing partner accounts, rotating partner tokens, adding and
// deactivating users, creating and revoking API tokens, and the portal's
// sign-in (throttle, password check, session). It is written once, above
// the Store, and every surface (the operator CLI, the web portal, the admin
// API) is a thin adapter over it: nothing here prints, parses flags or
// knows about HTTP.
//
// Every change takes its actor (a portal user, or the operator:
// autho.OperatorCLI, an operator key) and writes its audit event in the
// change's own transaction, so that no acknowledged change lacks its event.
// A change that changes nothing (a second revoke) records nothing.
//
// Every method validates its whole input before it writes anything, so a
// mistake changes nothing. A secret (partner token, API token, generated
// password) is returned only after the store call that persisted its hash
// has returned nil, so an operator is never handed a secret the database
// does not know.
package admin

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/password"
	"github.com/autho/autho/internal/secret"
)

// DefaultMaxTokenTTL is the longest expiry a portal user may give an API
// token when Service.MaxTokenTTL is zero (AUTHO_MAX_TOKEN_TTL's default).
const DefaultMaxTokenTTL = 8760 * time.Hour

// Service performs the operator's actions on a Store.
type Service struct {
	Store autho.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxTokenTTL caps how far in the future a portal user may set an API
	// token's expiry; zero means DefaultMaxTokenTTL. The operator is not
	// bound by it.
	MaxTokenTTL time.Duration
	// Passwords bounds the argon2 work of password changes, resets and new
	// users, and of the portal's sign-in checks; nil bounds nothing (one
	// operator command hashes one password).
	Passwords *password.Pool
	// Log is told what the operator should know and no caller is told (a
	// portal admin adding a user of another account); nil logs nothing.
	Log *slog.Logger
	// Sealer seals webhook signing secrets and TOTP secrets; nil refuses
	// new endpoints and second factors.
	Sealer Sealer
	// WebhookAllowPrivate lets endpoints be on loopback and private
	// addresses (AUTHO_WEBHOOK_ALLOW_PRIVATE).
	WebhookAllowPrivate bool
	// TOTPIssuer names the service in authenticator apps; "" means
	// DefaultTOTPIssuer.
	TOTPIssuer string
	// Mail says that mail is configured (AUTHO_SMTP_URL and
	// AUTHO_SMTP_FROM): new users can be invited by mail (InviteUser)
	// rather than given a password to pass on.
	Mail bool
	// PublicURL is where people reach the portal: its host is the passkeys'
	// relying party, its scheme://host[:port] their one origin. "" refuses
	// passkeys.
	PublicURL string
	// RequireMFA requires a second factor of every portal user, whatever
	// their account says (AUTHO_PORTAL_REQUIRE_MFA); see MustEnroll.
	RequireMFA bool

	// noticed holds the notices this process knows are recorded, so that a
	// sweep does not read the recipients of a thing every minute until its
	// next threshold: the store still decides, this only saves reads.
	noticed sync.Map
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// now returns the current time as the store keeps it: UTC, whole
// microseconds, so that what a method returns equals what a later read
// returns.
func (s *Service) now() time.Time {
	if s.Now == nil {
		return stamp(time.Now())
	}
	return stamp(s.Now())
}

func (s *Service) maxTokenTTL() time.Duration {
	if s.MaxTokenTTL <= 0 {
		return DefaultMaxTokenTTL
	}
	return s.MaxTokenTTL
}

func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// The terms the operator's surfaces (the CLI, the admin API) give when
// none is asked: a yearly API agreement, and an API token of a quarter.
const (
	DefaultAccountTerm = 365 * 24 * time.Hour
	DefaultTokenTerm   = 90 * 24 * time.Hour
)

// ErrForbidden marks an action the rules refuse in the current state, such
// as a portal user creating a token while the account is suspended.
var ErrForbidden = errors.New("not allowed")

// ErrThrottled marks a sign-in (or a password change) refused before any
// password was checked, because of too many recent failures; Error.RetryAfter
// says how long to wait.
var ErrThrottled = errors.New("too many failed sign-ins")

// ErrWrongPassword marks a sign-in whose email or password is not right:
// one answer for both, so that the form does not tell which emails exist.
var ErrWrongPassword = errors.New("wrong email or password")

// ErrTakenElsewhere marks an email that a portal admin cannot add because
// it is a user of another account; it is also an autho.ErrConflict.
var ErrTakenElsewhere = fmt.Errorf("%w in another account", autho.ErrConflict)

// Error is a mistake in a request: invalid input, an unknown id, a
// duplicate, or an action the current state forbids. Its message is one
// line, safe to show to the person who asked, and never holds a secret.
//
// errors.Is(err, autho.ErrNotFound), autho.ErrConflict or ErrForbidden tells
// those cases apart; an Error matching none of them is invalid input. Any
// error that is not an *Error is a failure of the system (the database),
// not of the request.
type Error struct {
	Field   string // the input at fault ("name", "email", "expires_at", …), or ""
	Message string
	// RetryAfter is how long to wait before trying again (ErrThrottled).
	RetryAfter time.Duration
	kind       error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.kind }

func invalid(field, format string, args ...any) error {
	return newError(nil, field, format, args)
}

func notFound(field, format string, args ...any) error {
	return newError(autho.ErrNotFound, field, format, args)
}

func conflict(field, format string, args ...any) error {
	return newError(autho.ErrConflict, field, format, args)
}

func forbidden(field, format string, args ...any) error {
	return newError(ErrForbidden, field, format, args)
}

// newError builds an Error whose message may echo what was typed (an id,
// an email), except a secret pasted by mistake into the wrong place.
func newError(kind error, field, format string, args []any) error {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = Redact(s)
		}
	}
	return &Error{Field: field, Message: fmt.Sprintf(format, args...), kind: kind}
}

// Redact returns s, or a placeholder when s holds something shaped like
// an autho token: an operator who pastes a token where an id or email
// belongs must not find it repeated in a terminal, a log or a screenshot.
func Redact(s string) string {
	l := strings.ToLower(s)
	for _, k := range []secret.Kind{secret.APIToken, secret.PartnerToken, secret.OperatorKey} {
		if strings.Contains(l, string(k)) {
			return "[value hidden: it looks like a secret token]"
		}
	}
	return s
}

// storeErr turns a store failure into an error for the caller: ErrNotFound
// becomes nf (when given), anything else is wrapped with what was
// being done.
func storeErr(err error, doing string, nf error) error {
	if nf != nil && errors.Is(err, autho.ErrNotFound) {
		return nf
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// audit is by's audit event for action at now, on the target named, in
// accountID's log ("" for none). A change without an actor is a caller's
// mistake, refused before anything is written.
func audit(by autho.Actor, now time.Time, action autho.AuditAction, accountID, targetID, targetName string) (*autho.AuditEvent, error) {
	if by.ID() == "" {
		return nil, errors.New("admin: a change needs an actor")
	}
	e := by.Audit(secret.NewID("aud"), action, now)
	e.AccountID, e.TargetID, e.TargetName = accountID, targetID, targetName
	return e, nil
}
