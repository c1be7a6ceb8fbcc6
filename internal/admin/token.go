package admin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// NewToken is a request for an API token.
type NewToken struct {
	// ID is the new token's id, "" for a fresh one. A caller that must not
	// make two tokens of one request sent twice (the portal's form, sent
	// again by a reload) derives it from that request: the second attempt
	// then fails with autho.ErrConflict.
	ID        string
	User      string // the owner: email (any letter case) or user id
	Name      string
	ExpiresAt time.Time
	Scopes    []string // RFC 6749 scope tokens; repeats are dropped
}

// CreateToken makes an API token for a user and returns it with its
// plaintext, which exists nowhere else: the store keeps only its hash.
//
// A partner's own people may give it only scopes among their account's
// AllowedScopes. The operator (by.IsOperator) is not held to the portal's
// rules: any scopes, an expiry past MaxTokenTTL and the account's own, and
// an account and user in any state (a token for a suspended account is
// made, and simply refused at login until reactivation).
func (s *Service) CreateToken(ctx context.Context, by autho.Actor, req NewToken) (*autho.APIToken, string, error) {
	return s.createToken(ctx, by, req, 0)
}

// DefaultMaxActiveTokens is how many active (neither revoked nor expired)
// API tokens one user may hold when a caller gives no other limit.
const DefaultMaxActiveTokens = 50

// CreateTokenCapped is CreateToken for a user who may hold at most
// maxActive active tokens (0: DefaultMaxActiveTokens): a forgotten token is
// a leak waiting to happen, and a cap makes people revoke what they no
// longer use. The store counts and creates in one transaction, so the cap
// holds exactly however many requests arrive at once, on any node.
func (s *Service) CreateTokenCapped(ctx context.Context, by autho.Actor, req NewToken, maxActive int) (*autho.APIToken, string, error) {
	if maxActive <= 0 {
		maxActive = DefaultMaxActiveTokens
	}
	return s.createToken(ctx, by, req, maxActive)
}

// createToken is CreateToken with a cap on the user's active tokens;
// maxActive 0 means none.
func (s *Service) createToken(ctx context.Context, by autho.Actor, req NewToken, maxActive int) (*autho.APIToken, string, error) {
	now := s.now()
	id := req.ID
	if id == "" {
		id = secret.NewID("tok")
	} else if !strings.HasPrefix(id, "tok_") {
		return nil, "", invalid("id", "token id must begin with tok_")
	}
	name, err := cleanName("name", req.Name)
	if err != nil {
		return nil, "", err
	}
	scopes, err := cleanScopes(req.Scopes)
	if err != nil {
		return nil, "", err
	}
	if err := checkFuture("expires_at", req.ExpiresAt, now); err != nil {
		return nil, "", err
	}
	if max := s.maxTokenTTL(); !by.IsOperator() && req.ExpiresAt.After(now.Add(max)) {
		return nil, "", invalid("expires_at", "expiry must be at most %s from now", formatTTL(max))
	}
	u, err := s.User(ctx, req.User)
	if err != nil {
		return nil, "", err
	}
	if !by.IsOperator() {
		a, err := s.Account(ctx, u.AccountID)
		if err != nil {
			return nil, "", err
		}
		if err := refuseClosed(a, now, "no new tokens"); err != nil {
			return nil, "", err
		}
		if req.ExpiresAt.After(a.ExpiresAt) {
			return nil, "", invalid("expires_at", "expiry must not be after the account expires (%s)", a.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"))
		}
		if !u.Active {
			return nil, "", forbidden("user", "user %s is deactivated", u.Email)
		}
		if err := checkAllowedScopes(a, scopes); err != nil {
			return nil, "", err
		}
	}
	plain := secret.New(secret.APIToken)
	t := &autho.APIToken{
		ID:        id,
		UserID:    u.ID,
		AccountID: u.AccountID,
		Name:      name,
		Hash:      secret.Hash(plain),
		Hint:      secret.Hint(plain),
		Scopes:    scopes,
		CreatedAt: now,
		ExpiresAt: stamp(req.ExpiresAt),
	}
	e, err := audit(by, now, autho.AuditTokenCreate, t.AccountID, t.ID, t.Name)
	if err != nil {
		return nil, "", err
	}
	ev := eventOf(e, autho.EventData{Token: autho.EventTokenOf(t), User: autho.EventUserOf(u)}, nil)
	if maxActive > 0 {
		err = s.Store.CreateAPITokenCapped(ctx, t, maxActive, e, ev)
	} else {
		err = s.Store.CreateAPIToken(ctx, t, e, ev)
	}
	if req.ID != "" && errors.Is(err, autho.ErrConflict) {
		return nil, "", conflict("id", "token %s exists already", id)
	}
	if errors.Is(err, autho.ErrLimit) {
		return nil, "", forbidden("tokens", "you already have the most active tokens one user may hold (%d): revoke one you no longer use first", maxActive)
	}
	if err != nil {
		return nil, "", storeErr(err, "create token", notFound("user", "user %s not found", req.User))
	}
	return t, plain, nil
}

// checkAllowedScopes refuses a scope the operator has not allowed the
// account: a partner's people may grant themselves only what the platform
// agreed to.
func checkAllowedScopes(a *autho.Account, scopes []string) error {
	for _, sc := range scopes {
		if slices.Contains(a.AllowedScopes, sc) {
			continue
		}
		if len(a.AllowedScopes) == 0 {
			return invalid("scopes", "scope %q is not allowed for this account (it allows none)", sc)
		}
		return invalid("scopes", "scope %q is not allowed for this account (allowed: %s)", sc, strings.Join(a.AllowedScopes, " "))
	}
	return nil
}

// Token returns one API token.
func (s *Service) Token(ctx context.Context, id string) (*autho.APIToken, error) {
	id, err := checkID("token", "tok", id)
	if err != nil {
		return nil, err
	}
	t, err := s.Store.APIToken(ctx, id)
	if err != nil {
		return nil, storeErr(err, "read token", notFound("token", "token %s not found", id))
	}
	return t, nil
}

// TokenQuery narrows a token listing as an operator names things; empty
// fields do not filter.
type TokenQuery struct {
	AccountID string
	User      string // a user id or an email
}

// Tokens lists API tokens, newest first. A query naming an account or user
// that does not exist is an error rather than an empty list, so a typo is
// not mistaken for "no tokens".
func (s *Service) Tokens(ctx context.Context, q TokenQuery) ([]*autho.APIToken, error) {
	f := autho.TokenFilter{AccountID: q.AccountID}
	if q.AccountID != "" {
		if _, err := s.Account(ctx, q.AccountID); err != nil {
			return nil, err
		}
	}
	if q.User != "" {
		u, err := s.User(ctx, q.User)
		if err != nil {
			return nil, err
		}
		f.UserID = u.ID
	}
	ts, err := s.Store.APITokens(ctx, f)
	if err != nil {
		return nil, storeErr(err, "list tokens", nil)
	}
	return ts, nil
}

// Revoke ends an API token for good: the next login with it is refused.
// Revoking a revoked token returns it unchanged, keeping the time of the
// first revocation, and records nothing, so a retried revoke is harmless.
func (s *Service) Revoke(ctx context.Context, by autho.Actor, id string) (*autho.APIToken, error) {
	id, err := checkID("token", "tok", id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	e, err := audit(by, now, autho.AuditTokenRevoke, "", id, "")
	if err != nil {
		return nil, err
	}
	mail, err := s.revokeMail(ctx, by, id)
	if err != nil {
		return nil, err
	}
	// The store reads the entries after fn: the event is made there, from
	// the token as revoked.
	entries := []autho.Entry{e, nil}
	t, err := s.Store.UpdateAPIToken(ctx, id, func(t *autho.APIToken) error {
		if t.Revoked() {
			return autho.ErrUnchanged
		}
		t.RevokedAt = now
		e.AccountID, e.TargetName = t.AccountID, t.Name
		entries[1] = eventOf(e, autho.EventData{Token: autho.EventTokenOf(t)}, mail)
		return nil
	}, entries...)
	if err != nil {
		return nil, storeErr(err, "revoke token", notFound("token", "token %s not found", id))
	}
	return t, nil
}

// revokeMail is whom to mail about the token's revocation: its owner, when
// someone else revoked it (an admin, the operator).
func (s *Service) revokeMail(ctx context.Context, by autho.Actor, id string) ([]autho.Recipient, error) {
	t, err := s.Store.APIToken(ctx, id)
	if errors.Is(err, autho.ErrNotFound) {
		return nil, nil // the update answers that
	}
	if err != nil {
		return nil, storeErr(err, "read token", nil)
	}
	if by.UserID == t.UserID {
		return nil, nil
	}
	return s.ownerOf(ctx, t.UserID)
}
