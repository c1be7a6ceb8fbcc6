// Package login is the exchange at the heart of autho: an API token and a
// partner token in, a signed JWT out. The contract's checks are written here
// once, in the contract's order: a request's pre-checks in Serve and Login,
// the refusal table in Refusal. The HTTP layer only maps the resulting
// autho.Error to a response.
package login

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/reqbody"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/signer"
)

// Store is what the exchange reads: both secrets' rows in one snapshot,
// one statement per login.
type Store interface {
	LoginCredentials(ctx context.Context, partnerHash, apiHash []byte) (*autho.LoginRecord, error)
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
	IssuedAt  time.Time // the JWT's iat, before its truncation to seconds
	ExpiresAt time.Time // equal to the JWT's exp, whole seconds
	TokenID   string
	AccountID string
	Scope     string // the JWT's scope claim: the scopes granted, space-separated
}

// ErrInvalidScope refuses a login that asks for a scope its API token does
// not have. It is no refusal of the table: the secrets were right, so it
// spends nothing of the rate limit.
var ErrInvalidScope = errors.New("login: a requested scope is not among the API token's")

// RateLimitError is a refusal because too many logins failed recently.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string { return autho.ErrTooManyRequests.Error() }

// Is makes errors.Is(err, autho.ErrTooManyRequests) hold.
func (e *RateLimitError) Is(target error) bool { return target == autho.ErrTooManyRequests }

// CheckIP answers a *RateLimitError if clientIP (counted by its RateKey)
// may not try now. Serve calls it before reading the body; so must any
// other way into Login that does not go through Serve.
func (s *Service) CheckIP(clientIP string) error {
	if d := s.limiter.Wait(ipKey(clientIP), s.cfg.Now()); d > 0 {
		return &RateLimitError{RetryAfter: d}
	}
	return nil
}

// ipKey is the limiter's key for a client IP.
func ipKey(clientIP string) string { return "ip:" + RateKey(clientIP) }

// Request is a login request as it arrives, before anything is checked.
type Request struct {
	ContentType string    // the Content-Type header; "" when absent
	Length      int64     // the declared Content-Length; -1 when unknown
	Body        io.Reader // never nil, as in an *http.Request a server hands over
	ClientIP    string
	// Parse reads the secrets, and any scopes asked, from the body; nil is
	// the login endpoint's own ParseBody. The OAuth2 token endpoint gives
	// its own (a form with client credentials, or HTTP Basic), so that both
	// surfaces run the rest of Serve, every check in the same order.
	Parse func(body []byte, form bool) (c Credentials, scopes []string, err error)
}

// Serve answers a login request. Its checks run in the contract's order,
// and the first that fails answers:
//
//	13  415  a Content-Type other than JSON (or none) or a form
//	11  413  a declared length over reqbody.MaxBytes
//	09  429  the client IP's bucket of refusals is empty
//	11  413  a body longer than reqbody.MaxBytes
//	08  400  a malformed body
//	01  400  a secret missing, empty or not a string
//	         (08 and 01 are ParseBody's, or req.Parse's answers)
//	09  429  the partner token's bucket of refusals is empty (Login)
//	         then the refusal table, 02 to 07 (Refusal),
//	         then the scopes asked (ErrInvalidScope)
//
// The IP's bucket is checked before the body is read, so that a client
// that is refused costs nothing but the check.
func (s *Service) Serve(ctx context.Context, req Request) (*Result, error) {
	form, err := reqbody.Check(req.ContentType, req.Length)
	if err != nil {
		return nil, err
	}
	if err := s.CheckIP(req.ClientIP); err != nil {
		return nil, err
	}
	body, err := reqbody.Read(req.Body)
	if err != nil {
		return nil, err
	}
	parse := req.Parse
	if parse == nil {
		parse = parseLogin
	}
	c, scopes, err := parse(body, form)
	if err != nil {
		return nil, err
	}
	return s.LoginScoped(ctx, c, scopes, req.ClientIP)
}

// parseLogin is ParseBody as a Request's Parse: a login asks no scopes.
func parseLogin(body []byte, form bool) (Credentials, []string, error) {
	c, err := ParseBody(body, form)
	return c, nil, err
}

// Login exchanges two secrets, already parsed, for a JWT: the partner
// token's bucket of refusals, then the refusal table; a refusal spends a
// token of the client IP's bucket and of the partner token's. Errors are
// *autho.Error values of the table, *RateLimitError, or a store error
// (wrapping autho.ErrUnavailable when the database cannot be reached) which
// the caller maps to 503 or 500.
func (s *Service) Login(ctx context.Context, c Credentials, clientIP string) (*Result, error) {
	return s.LoginScoped(ctx, c, nil, clientIP)
}

// LoginScoped is Login for a caller that may ask for part of the API
// token's scopes (the OAuth2 token endpoint's scope parameter): the JWT's
// scope claim is then narrowed to scopes, and a scope the token lacks is
// ErrInvalidScope, answered after the whole refusal table. No scopes asked
// means all of the token's, as a login gets. It is the one exchange: Login
// is this with none asked.
func (s *Service) LoginScoped(ctx context.Context, c Credentials, scopes []string, clientIP string) (*Result, error) {
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
	res, err := s.exchange(ctx, c, ptHash, scopes, now)
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

// exchange reads the pair, asks Refusal, grants the scopes asked and
// signs; ptHash is the partner token's hash, nil when the token is
// malformed.
func (s *Service) exchange(ctx context.Context, c Credentials, ptHash []byte, scopes []string, now time.Time) (*Result, error) {
	rec, err := s.read(ctx, ptHash, c.APIToken)
	if err != nil {
		return nil, err
	}
	if refusal := Refusal(rec, now); refusal != nil {
		return nil, refusal
	}
	granted, err := grant(rec.Token.Scopes, scopes)
	if err != nil {
		return nil, err
	}
	return s.issue(rec, granted, now)
}

// grant is the part of have that asked names, in have's order; all of have
// when nothing is asked, ErrInvalidScope when asked names one it lacks.
func grant(have, asked []string) ([]string, error) {
	if len(asked) == 0 {
		return have, nil
	}
	for _, a := range asked {
		if !slices.Contains(have, a) {
			return nil, ErrInvalidScope
		}
	}
	var granted []string
	for _, h := range have {
		if slices.Contains(asked, h) {
			granted = append(granted, h)
		}
	}
	return granted, nil
}

// read is the login's one database read. A nil record, with no error,
// means no partner token has the secret; a malformed one is never looked
// up. A malformed API token is looked up as no hash, which matches nothing:
// whatever the partner token's state, the answer is then Refusal's.
func (s *Service) read(ctx context.Context, ptHash []byte, apiToken string) (*autho.LoginRecord, error) {
	if ptHash == nil {
		return nil, nil
	}
	var apiHash []byte
	if secret.Check(secret.APIToken, apiToken) == nil {
		apiHash = secret.Hash(apiToken)
	}
	rec, err := s.store.LoginCredentials(ctx, ptHash, apiHash)
	if errors.Is(err, autho.ErrNotFound) {
		return nil, nil
	}
	return rec, err
}

// issue signs the JWT of a pair Refusal let through, granting scopes. It
// expires after the TTL, but never later than the account or the API token.
func (s *Service) issue(rec *autho.LoginRecord, scopes []string, now time.Time) (*Result, error) {
	acc, tok := &rec.Account, rec.Token
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
	scope := strings.Join(scopes, " ")
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
		Scope:     scope,
	})
	if err != nil {
		return nil, err
	}
	return &Result{Token: jwt, IssuedAt: now, ExpiresAt: exp, TokenID: tok.ID, AccountID: acc.ID, Scope: scope}, nil
}
