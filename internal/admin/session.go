package admin

import (
	"context"

	"github.com/autho/autho"
)

// EndSessions signs a user out of the portal everywhere, at once, and
// returns how many sessions ended. Their API tokens are untouched.
func (s *Service) EndSessions(ctx context.Context, userID string) (int, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return 0, err
	}
	n, err := s.Store.DeleteUserSessions(ctx, u.ID, nil)
	if err != nil {
		return 0, storeErr(err, "end sessions", nil)
	}
	return n, nil
}

// DefaultMaxActiveTokens is how many active (neither revoked nor expired)
// API tokens one user may hold when a caller gives no other limit.
const DefaultMaxActiveTokens = 50

// CreateTokenCapped is CreateToken for a user who may hold at most
// maxActive active tokens (0: DefaultMaxActiveTokens): a forgotten token is
// a leak waiting to happen, and a cap makes people revoke what they no
// longer use. The count and the create are two steps, so two requests at
// the same instant may pass the cap by one; it is a guard rail, not a quota.
func (s *Service) CreateTokenCapped(ctx context.Context, req NewToken, maxActive int) (*autho.APIToken, string, error) {
	if maxActive <= 0 {
		maxActive = DefaultMaxActiveTokens
	}
	u, err := s.User(ctx, req.User)
	if err != nil {
		return nil, "", err
	}
	ts, err := s.Store.APITokens(ctx, autho.TokenFilter{UserID: u.ID})
	if err != nil {
		return nil, "", storeErr(err, "list tokens", nil)
	}
	now := s.now()
	active := 0
	for _, t := range ts {
		if !t.Revoked() && !t.Expired(now) {
			active++
		}
	}
	if active >= maxActive {
		return nil, "", forbidden("tokens", "you already have %d active tokens, the most one user may hold: revoke one you no longer use first", active)
	}
	req.User = u.ID
	return s.CreateToken(ctx, req)
}
