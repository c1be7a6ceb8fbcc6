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
// may not try now. Serve calls it before reading the body; so must any
// other way into Login (the OAuth2 token endpoint, with its own body).
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
//	09  429  the partner token's bucket of refusals is empty (Login)
//	         then the refusal table, 02 to 07 (Refusal)
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
	c, err := ParseBody(body, form)
	if err != nil {
		return nil, err
	}
	return s.Login(ctx, c, req.ClientIP)
}

// Login exchanges two secrets, already parsed, for a JWT: the partner
// token's bucket of refusals, then the refusal table; a refusal spends a
// token of the client IP's bucket and of the partner token's. Errors are
// *autho.Error values of the table, *RateLimitError, or a store error
// (wrapping autho.ErrUnavailable when the database cannot be reached) which
// the caller maps to 503 or 500.
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

// exchange reads the pair, asks Refusal and signs; ptHash is the partner
// token's hash, nil when the token is malformed.
func (s *Service) exchange(ctx context.Context, c Credentials, ptHash []byte, now time.Time) (*Result, error) {
	rec, err := s.read(ctx, ptHash, c.APIToken)
	if err != nil {
		return nil, err
	}
	if refusal := Refusal(rec, now); refusal != nil {
		return nil, refusal
	}
	return s.issue(rec, now)
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

// issue signs the JWT of a pair Refusal let through. It expires after the
// TTL, but never later than the account or the API token.
func (s *Service) issue(rec *autho.LoginRecord, now time.Time) (*Result, error) {
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
