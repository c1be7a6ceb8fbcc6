package login

import (
	"time"

	"github.com/autho/autho"
)

// Refusal is the contract's refusal table over what a login read, at now:
// the first row that applies, in the table's order, answers, and nil means
// the pair may log in. r is nil when no partner token has the secret (a
// malformed one is never looked up).
//
// The login, introspection and the OAuth2 token endpoint all decide with
// it, so that what one of them refuses, every one refuses.
func Refusal(r *autho.LoginRecord, now time.Time) *autho.Error {
	switch {
	case r == nil, r.PartnerTokenEnded(now):
		return autho.ErrInvalidPartnerToken // 02: malformed, unknown, or rotated out and past its grace
	case r.Account.Expired(now):
		return autho.ErrAccountExpired // 03
	case !r.Account.Usable(now):
		return autho.ErrInvalidUser // 07: account suspended
	case r.Token == nil:
		return autho.ErrInvalidAPIToken // 04: malformed or unknown
	}
	state := r.Token.State(now)
	switch {
	case state == autho.TokenRevoked:
		return autho.ErrInvalidAPIToken // 04
	case r.Token.AccountID != r.Account.ID:
		return autho.ErrWrongAccount // 06
	case state == autho.TokenExpired:
		return autho.ErrAPITokenExpired // 05
	case !r.Token.UserActive:
		return autho.ErrInvalidUser // 07: user deactivated
	}
	return nil
}

// RecordOf is what a login would read of an account, an API token and its
// user, for a caller holding the full rows (introspection). It has no
// partner token end: a JWT does not depend on the partner token it was
// exchanged with, so rotating that token does not end the JWT.
func RecordOf(a *autho.Account, t *autho.APIToken, u *autho.User) *autho.LoginRecord {
	return &autho.LoginRecord{
		Account: autho.LoginAccount{ID: a.ID, Status: a.Status, ExpiresAt: a.ExpiresAt},
		Token: &autho.LoginToken{ID: t.ID, UserID: t.UserID, AccountID: t.AccountID, Scopes: t.Scopes,
			ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, UserActive: u.Active},
	}
}
