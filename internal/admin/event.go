package admin

import (
	"context"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// lifecycle names the audited actions that are also lifecycle events: the
// one table that decides which changes webhooks hear of. The others (a
// rename, a sign-in, an operator key) stay in the audit log alone.
var lifecycle = map[autho.AuditAction]autho.EventType{
	autho.AuditAccountCreate:      autho.EventAccountCreated,
	autho.AuditAccountRenew:       autho.EventAccountRenewed,
	autho.AuditAccountSuspend:     autho.EventAccountSuspended,
	autho.AuditAccountReactivate:  autho.EventAccountReactivated,
	autho.AuditPartnerTokenRotate: autho.EventPartnerTokenRotated,
	autho.AuditUserCreate:         autho.EventUserCreated,
	autho.AuditUserDeactivate:     autho.EventUserDeactivated,
	autho.AuditUserActivate:       autho.EventUserActivated,
	autho.AuditTokenCreate:        autho.EventAPITokenCreated,
	autho.AuditTokenRevoke:        autho.EventAPITokenRevoked,
	autho.AuditSigningKeyRotate:   autho.EventSigningKeyRotated,
}

// newEvent is autho.NewEvent with a new id.
func newEvent(t autho.EventType, now time.Time, accountID string, d autho.EventData, mail []autho.Recipient) *autho.Event {
	return autho.NewEvent(secret.NewID("evt"), t, now, accountID, d, mail)
}

// eventOf is the lifecycle event of the audited change e, with d as its
// data and mail as whom to mail, or nil when e's action is not a lifecycle
// one. It returns an Entry so that "none" is a nil interface, which a
// store skips, not a nil *Event.
func eventOf(e *autho.AuditEvent, d autho.EventData, mail []autho.Recipient) autho.Entry {
	t, ok := lifecycle[e.Action]
	if !ok {
		return nil
	}
	d.By = e.ActorID
	return newEvent(t, e.At, e.AccountID, d, mail)
}

// adminsOf says whom a mail about an event of accountID goes to: the
// account's active admins, as they are now. Recipients are named whether
// or not this node has mail configured, so that a change made with the
// CLI is mailed by the servers; a node without mail marks the deliveries
// failed, saying so.
func (s *Service) adminsOf(ctx context.Context, accountID string) ([]autho.Recipient, error) {
	us, err := s.Store.Users(ctx, accountID)
	if err != nil {
		return nil, storeErr(err, "read the account's admins", nil)
	}
	var to []autho.Recipient
	for _, u := range us {
		if u.Active && u.Role == autho.RoleAdmin {
			to = append(to, autho.Recipient{UserID: u.ID, Email: u.Email})
		}
	}
	return to, nil
}

// ownerOf is the token's owner as a mail's recipient, when the owner is
// active.
func (s *Service) ownerOf(ctx context.Context, userID string) ([]autho.Recipient, error) {
	u, err := s.Store.User(ctx, userID)
	if err != nil {
		return nil, storeErr(err, "read the token's owner", nil)
	}
	if !u.Active {
		return nil, nil
	}
	return []autho.Recipient{{UserID: u.ID, Email: u.Email}}, nil
}
