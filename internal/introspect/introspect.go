// Package introspect answers, for another API, whether a login JWT is still
// good now: RFC 7662's question. A JWT verified locally stays valid until its
// exp whatever happens to its API token, user or account; this package is
// where the current state in the store is checked, so that a revocation, a
// deactivation, a suspension or an expiry takes effect at once for every
// caller that asks.
package introspect

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/login"
)

// Store is what an answer reads: the token the JWT was exchanged for, its
// user and its account, each by id.
type Store interface {
	APIToken(ctx context.Context, id string) (*autho.APIToken, error)
	User(ctx context.Context, id string) (*autho.User, error)
	Account(ctx context.Context, id string) (*autho.Account, error)
}

// Verifier checks a JWT's signature and registered claims and returns its
// claims; a *bearer.Verifier on the server's own keys.
type Verifier interface {
	VerifyClaims(ctx context.Context, token string) (*bearer.Claims, error)
}

// Config configures a Service.
type Config struct {
	// Secret is AUTHO_INTROSPECTION_SECRET, the bearer a caller must present.
	// Required: without it there is no Service and the endpoint is absent.
	Secret string
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

// Service answers introspection requests.
type Service struct {
	state  *State
	verify Verifier
	secret [sha256.Size]byte
}

// New returns a Service, or an error if cfg has no secret.
func New(store Store, v Verifier, cfg Config) (*Service, error) {
	if store == nil || v == nil {
		return nil, errors.New("introspect: a store and a verifier are required")
	}
	if cfg.Secret == "" {
		return nil, errors.New("introspect: a caller secret is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{state: NewState(store, cfg.Now), verify: v, secret: sha256.Sum256([]byte(cfg.Secret))}, nil
}

// Authorized reports whether presented is the caller secret. Both sides are
// hashed first so that the comparison takes the same time whatever the
// length or content of a wrong guess.
func (s *Service) Authorized(presented string) bool {
	h := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(h[:], s.secret[:]) == 1
}

// Result is an answer. When Active is false, Claims is empty: an inactive
// token's answer tells the caller nothing else (RFC 7662 §2.2).
type Result struct {
	Active bool
	Claims bearer.Claims
}

var inactive = &Result{}

// Introspect reports whether token is a JWT autho signed that is valid now
// and whose API token, user and account are, at this moment, in a state
// that would let them log in. Anything else is an inactive answer, not an
// error; an error means the store could not be read, and then no answer can
// be given at all (a caller in strict mode answers 503 meanwhile, and /me too).
func (s *Service) Introspect(ctx context.Context, token string) (*Result, error) {
	c, err := s.verify.VerifyClaims(ctx, token)
	if err != nil {
		return inactive, nil
	}
	ok, err := s.state.Usable(ctx, c.Identity())
	if err != nil || !ok {
		return inactive, err
	}
	return &Result{Active: true, Claims: *c}, nil
}

// State is the one answer to "is this verified JWT still usable now?",
// read from the store: introspection asks it for another API, and
// GET /v1/autho/me/ for itself, so that both refuse exactly the same JWTs.
// Unlike a Service it needs no caller secret: /me checks the current state
// whether or not introspection is turned on.
type State struct {
	store Store
	now   func() time.Time
}

// NewState returns the State of store; now is the clock (time.Now if nil).
func NewState(store Store, now func() time.Time) *State {
	if now == nil {
		now = time.Now
	}
	return &State{store: store, now: now}
}

// Usable reports whether the JWT id was read from (already verified: its
// signature and registered claims) is not past its exp, names an API
// token, user and account that are, at this moment, in a state that would
// let them log in, and was issued after the user's last deactivation and
// the account's last suspension. An error means the store could not be read: then there
// is no answer, neither yes nor no.
//
// It asks login.Refusal about the store's state, so that it refuses exactly
// what a login would, and also checks that the three still belong
// together: a token moved to another user (which nothing does today) must
// not keep speaking for the old one.
func (s *State) Usable(ctx context.Context, id *bearer.Identity) (bool, error) {
	now := s.now()
	// The verifier allows a little clock leeway, as a resource server
	// should; the authority itself answers exactly: past exp is inactive.
	if !now.Before(id.ExpiresAt) {
		return false, nil
	}
	tok, err := s.store.APIToken(ctx, id.TokenID)
	if err != nil {
		return false, notFoundIsNo(err)
	}
	if tok.UserID != id.UserID || tok.AccountID != id.AccountID {
		return false, nil
	}
	usr, err := s.store.User(ctx, id.UserID)
	if err != nil {
		return false, notFoundIsNo(err)
	}
	if usr.AccountID != id.AccountID {
		return false, nil
	}
	acc, err := s.store.Account(ctx, id.AccountID)
	if err != nil {
		return false, notFoundIsNo(err)
	}
	if login.Refusal(login.RecordOf(acc, tok, usr), now) != nil {
		return false, nil
	}
	// A JWT from before the user's last deactivation or the account's last
	// suspension stays refused after a reactivation, as the revocation feed
	// has local verifiers refuse it: the three answer alike.
	return !autho.IssuedBefore(id.IssuedAt, usr.DeactivatedAt) && !autho.IssuedBefore(id.IssuedAt, acc.SuspendedAt), nil
}

// notFoundIsNo turns a missing row into an inactive answer (nil error) and
// keeps every other error.
func notFoundIsNo(err error) error {
	if errors.Is(err, autho.ErrNotFound) {
		return nil
	}
	return err
}
