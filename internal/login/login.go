// Package login is the exchange at the heart of autho: an API token and a
// partner token in, a signed JWT out. The contract's error table is written
// here once, as a sequence of checks in the table's order; the HTTP layer
// only parses the body and maps the resulting autho.Error to a response.
package login

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/signer"
)

// Store is what the exchange reads: one indexed lookup per secret.
type Store interface {
	PartnerCredential(ctx context.Context, hash []byte) (*autho.PartnerCredential, error)
	APICredential(ctx context.Context, hash []byte) (*autho.APICredential, error)
}

// pairReader is a Store that can read both secrets' rows in one query.
// The exchange uses it when both secrets are well formed: one statement
// instead of two is most of a SQLite login's database time. The checks that
// follow, and their order, are the same either way.
type pairReader interface {
	// LoginCredentials reads the partner token (autho.ErrNotFound when
	// unknown) and the API token (nil when unknown) in one snapshot.
	LoginCredentials(ctx context.Context, partnerHash, apiHash []byte) (*autho.PartnerCredential, *autho.APICredential, error)
}

// Signer signs the claims of a login JWT.
type Signer interface {
	Sign(c *bearer.Claims) (string, error)
}

// Config is what the exchange needs to know of the deployment.
type Config struct {
	Issuer   string
	Audience string
	TTL      time.Duration // lifetime of a JWT; capped by account and token expiry
	Now      func() time.Time
}

// Service performs logins.
type Service struct {
	store   Store
	signer  Signer
	limiter *Limiter
	usage   *Recorder
	cfg     Config
}

// NewService wires the exchange. limiter and usage may be nil (no rate
// limit; last-used not recorded).
func NewService(store Store, s Signer, limiter *Limiter, usage *Recorder, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: store, signer: s, limiter: limiter, usage: usage, cfg: cfg}
}

// Result is a successful login.
type Result struct {
	Token     string
	ExpiresAt time.Time // equal to the JWT's exp, whole seconds
	TokenID   string
	AccountID string
}

// RateLimitError is a refusal because too many logins failed recently.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string { return autho.ErrTooManyRequests.Error() }

// Is makes errors.Is(err, autho.ErrTooManyRequests) hold.
func (e *RateLimitError) Is(target error) bool { return target == autho.ErrTooManyRequests }

// CheckIP answers a *RateLimitError if clientIP (counted by its RateKey)
// may not try now. The HTTP layer calls it before reading the body, so a
// client that is refused costs nothing but this check.
func (s *Service) CheckIP(clientIP string) error {
	if d := s.limiter.Wait(ipKey(clientIP), s.cfg.Now()); d > 0 {
		return &RateLimitError{RetryAfter: d}
	}
	return nil
}

// ipKey is the limiter's key for a client IP.
func ipKey(clientIP string) string { return "ip:" + RateKey(clientIP) }

// Login runs the contract's checks in order; the first failing check
// answers. Errors are *autho.Error values of the table, *RateLimitError, or
// a store error (wrapping autho.ErrUnavailable when the database cannot be
// reached) which the caller maps to 503 or 500.
func (s *Service) Login(ctx context.Context, c Credentials, clientIP string) (*Result, error) {
	now := s.cfg.Now()
	// The partner token is checked and hashed once, here: the hash is both
	// its rate-limit key and its database key. A malformed one has no hash,
	// so it gets no bucket (it costs no database work, and a flood of
	// random strings must not fill the limiter's memory).
	var ptHash []byte
	if secret.Check(secret.PartnerToken, c.PartnerToken) == nil {
		ptHash = secret.Hash(c.PartnerToken)
	}
	ptKey := ""
	if s.limiter != nil && ptHash != nil {
		ptKey = "ptn:" + string(ptHash)
		if d := s.limiter.Wait(ptKey, now); d > 0 {
			return nil, &RateLimitError{RetryAfter: d}
		}
	}
	res, err := s.exchange(ctx, c, ptHash, now)
	var refusal *autho.Error
	if errors.As(err, &refusal) {
		s.limiter.Refused(ipKey(clientIP), now)
		s.limiter.Refused(ptKey, now)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if s.usage != nil {
		s.usage.Record(autho.TokenUse{TokenID: res.TokenID, At: now, IP: clientIP})
	}
	return res, nil
}

// exchange runs the error table; ptHash is the partner token's hash, nil
// when the token is malformed.
func (s *Service) exchange(ctx context.Context, c Credentials, ptHash []byte, now time.Time) (*Result, error) {
	// Row 3: partner token malformed (no database read) or unknown.
	if ptHash == nil {
		return nil, autho.ErrInvalidPartnerToken
	}
	apiWellFormed := secret.Check(secret.APIToken, c.APIToken) == nil
	var (
		pc         *autho.PartnerCredential
		ac         *autho.APICredential
		apiFetched bool // ac is the answer, nil meaning unknown
		err        error
	)
	if pr, ok := s.store.(pairReader); ok && apiWellFormed {
		pc, ac, err = pr.LoginCredentials(ctx, ptHash, secret.Hash(c.APIToken))
		apiFetched = err == nil
	} else {
		pc, err = s.store.PartnerCredential(ctx, ptHash)
	}
	if errors.Is(err, autho.ErrNotFound) {
		return nil, autho.ErrInvalidPartnerToken
	}
	if err != nil {
		return nil, err
	}
	if !pc.TokenExpiresAt.IsZero() && !now.Before(pc.TokenExpiresAt) {
		return nil, autho.ErrInvalidPartnerToken // rotated out, grace over
	}
	acc := &pc.Account
	// Rows 4 and 5: the partner's account.
	if acc.Expired(now) {
		return nil, autho.ErrAccountExpired
	}
	if acc.Status != autho.AccountActive {
		return nil, autho.ErrInvalidUser
	}
	// Row 6: API token malformed, unknown or revoked.
	if !apiWellFormed {
		return nil, autho.ErrInvalidAPIToken
	}
	if !apiFetched {
		ac, err = s.store.APICredential(ctx, secret.Hash(c.APIToken))
		if errors.Is(err, autho.ErrNotFound) {
			return nil, autho.ErrInvalidAPIToken
		}
		if err != nil {
			return nil, err
		}
	}
	if ac == nil {
		return nil, autho.ErrInvalidAPIToken
	}
	tok := &ac.Token
	if tok.Revoked() {
		return nil, autho.ErrInvalidAPIToken
	}
	// Row 7: the two secrets belong to different accounts.
	if tok.AccountID != acc.ID {
		return nil, autho.ErrWrongAccount
	}
	// Row 8: the API token's own expiry.
	if tok.Expired(now) {
		return nil, autho.ErrAPITokenExpired
	}
	// Row 9: the user.
	if !ac.UserActive {
		return nil, autho.ErrInvalidUser
	}

	exp := now.Add(s.cfg.TTL)
	if acc.ExpiresAt.Before(exp) {
		exp = acc.ExpiresAt
	}
	if tok.ExpiresAt.Before(exp) {
		exp = tok.ExpiresAt
	}
	// JWT times are whole seconds; truncating (never rounding up) keeps
	// the JWT inside both expiries, and expires_on equal to exp.
	exp = exp.Truncate(time.Second)
	jwt, err := s.signer.Sign(&bearer.Claims{
		Issuer:    s.cfg.Issuer,
		Subject:   tok.UserID,
		Audience:  bearer.Audience{s.cfg.Audience},
		IssuedAt:  bearer.NumericDate{Time: now},
		NotBefore: bearer.NumericDate{Time: now},
		ExpiresAt: bearer.NumericDate{Time: exp},
		ID:        signer.NewJTI(),
		Account:   acc.ID,
		Token:     tok.ID,
		Scope:     strings.Join(tok.Scopes, " "),
	})
	if err != nil {
		return nil, err
	}
	return &Result{Token: jwt, ExpiresAt: exp, TokenID: tok.ID, AccountID: acc.ID}, nil
}
