package admin

import (
	"context"
	"errors"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// SecretScanner is the actor of what a leak report does: autho acting on
// a report of GitHub's secret scanning.
var SecretScanner = autho.Actor{Operator: "secret-scanning"}

// ReportLeak acts on a report that plain, a secret, was found in public
// at url, and reports whether it was a live autho secret. A live API token
// is revoked at once, its owner and the account's admins mailed; a live
// partner token is only flagged (revoking it would stop the whole
// account): its admins are mailed and the operator warned in the log.
// Both leave an api_token.leaked event and an audit entry, in the same
// transaction as the revocation or the flag. A secret that is not live (a
// revoked or expired token, one rotated out, an unknown string) changes
// nothing: a report of it is a false positive.
func (s *Service) ReportLeak(ctx context.Context, plain, url string) (bool, error) {
	switch {
	case secret.Check(secret.APIToken, plain) == nil:
		return s.leakedAPIToken(ctx, plain, url)
	case secret.Check(secret.PartnerToken, plain) == nil:
		return s.leakedPartnerToken(ctx, plain, url)
	}
	return false, nil
}

func (s *Service) leakedAPIToken(ctx context.Context, plain, url string) (bool, error) {
	now := s.now()
	c, err := s.Store.APICredential(ctx, secret.Hash(plain))
	if errors.Is(err, autho.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, storeErr(err, "read token", nil)
	}
	if c.Token.State(now) != autho.TokenActive {
		return false, nil
	}
	admins, err := s.adminsOf(ctx, c.Token.AccountID)
	if err != nil {
		return false, err
	}
	owner, err := s.ownerOf(ctx, c.Token.UserID)
	if err != nil && !errors.Is(err, autho.ErrNotFound) {
		return false, err
	}
	revoke, err := audit(SecretScanner, now, autho.AuditTokenRevoke, c.Token.AccountID, c.Token.ID, c.Token.Name)
	if err != nil {
		return false, err
	}
	leak, err := audit(SecretScanner, now, autho.AuditTokenLeaked, c.Token.AccountID, c.Token.ID, c.Token.Name)
	if err != nil {
		return false, err
	}
	entries := []autho.Entry{revoke, leak, nil, nil}
	revoked := false
	_, err = s.Store.UpdateAPIToken(ctx, c.Token.ID, func(t *autho.APIToken) error {
		if t.State(now) != autho.TokenActive {
			return autho.ErrUnchanged // revoked meanwhile: that revocation told everyone
		}
		t.RevokedAt, revoked = now, true
		entries[2] = eventOf(revoke, autho.EventData{Token: autho.EventTokenOf(t)}, owner)
		entries[3] = newEvent(autho.EventAPITokenLeaked, now, t.AccountID, autho.EventData{
			Token: autho.EventTokenOf(t), Kind: "api_token", URL: url, By: SecretScanner.ID(),
		}, admins)
		return nil
	}, entries...)
	if err != nil {
		return false, storeErr(err, "revoke leaked token", nil)
	}
	if revoked {
		s.log().Warn("secret scanning: a leaked API token was revoked", "token", c.Token.ID, "account", c.Token.AccountID, "found_at", url)
	}
	return revoked, nil
}

func (s *Service) leakedPartnerToken(ctx context.Context, plain, url string) (bool, error) {
	now := s.now()
	c, err := s.Store.PartnerCredential(ctx, secret.Hash(plain))
	if errors.Is(err, autho.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, storeErr(err, "read partner token", nil)
	}
	if !c.TokenExpiresAt.IsZero() && !now.Before(c.TokenExpiresAt) {
		return false, nil // rotated out and ended: no longer opens anything
	}
	admins, err := s.adminsOf(ctx, c.Account.ID)
	if err != nil {
		return false, err
	}
	a := c.Account
	e, err := audit(SecretScanner, now, autho.AuditPartnerTokenLeaked, a.ID, a.ID, a.Name)
	if err != nil {
		return false, err
	}
	// The hint is the leaked token's: during a rotation's grace it is the
	// old one, not the account's current one.
	ea := autho.EventAccountOf(&a)
	ea.PartnerTokenHint = secret.Hint(plain)
	ev := newEvent(autho.EventAPITokenLeaked, now, a.ID, autho.EventData{
		Account: ea, Kind: "partner_token", URL: url, By: SecretScanner.ID(),
	}, admins)
	// Flagged once per partner token, however often it is reported: the
	// notice is the flag.
	flagged, err := s.Store.RecordNotice(ctx, autho.Notice{ThingID: c.TokenID, Kind: string(autho.AuditPartnerTokenLeaked), Due: time.Unix(0, 0).UTC()}, e, ev)
	if err != nil {
		return false, storeErr(err, "flag leaked partner token", nil)
	}
	if !flagged {
		return true, nil // still live, and flagged already: told once
	}
	s.log().Warn("secret scanning: a live partner token was reported leaked; rotate it (autho account rotate-partner-token) after telling the partner",
		"account", a.ID, "found_at", url)
	return true, nil
}
