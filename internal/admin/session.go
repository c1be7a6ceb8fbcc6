package admin

import (
	"context"

	"github.com/autho/autho"
)

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
