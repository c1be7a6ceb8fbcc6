package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/password"
	"github.com/autho/autho/internal/secret"
)

// invitationTokenBytes is the size of an invitation link's secret: 256
// bits from crypto/rand, unpadded base64url in the link.
const invitationTokenBytes = 32

var invitationTokenLen = base64.RawURLEncoding.EncodedLen(invitationTokenBytes)

// maxInvitationToken bounds what is hashed of a link's last segment, so
// that a malformed link costs what a real one does, and no more.
const maxInvitationToken = 256

// ErrInvitationGone marks a link that opens nothing: used, expired,
// unknown or malformed, one answer for all (so the page gives no hint
// which). It is also an autho.ErrNotFound.
var ErrInvitationGone = errors.New("invitation used or expired")

var invitationGone = &Error{Message: "This invitation link was used or has expired.", kind: errors.Join(ErrInvitationGone, autho.ErrNotFound)}

// errNoMail refuses an invitation where no mail could carry it.
func errNoMail() error {
	return invalid("invite", "invitations are mailed, and mail is not configured: set AUTHO_SMTP_URL and AUTHO_SMTP_FROM")
}

// InviteUser adds a user to an account as CreateUser does, but with no
// password anyone knows (a random one, hashed and forgotten): the user
// gets a mail with a one-time link, valid autho.InvitationTTL, that lets
// them set their own. The user, the invitation, its audit event and its
// mail are one transaction, so the mail is queued (and retried, and sent
// once) exactly when the user exists. It needs s.Mail and s.Sealer: the
// link's token is sealed with the master key until the mail has gone out,
// and only its hash is kept after.
func (s *Service) InviteUser(ctx context.Context, by autho.Actor, accountID, email string, role autho.Role) (*autho.User, error) {
	if !s.Mail {
		return nil, errNoMail()
	}
	if s.Sealer == nil {
		return nil, errors.New("admin: invitations need the master key to seal their link")
	}
	u, _, err := s.createUser(ctx, by, accountID, email, role, "", true)
	return u, err
}

// invitationEntries are what inviting u leaves with u's creation: the
// invitation (its token sealed), its audit event, and its mail to u.
func (s *Service) invitationEntries(by autho.Actor, u *autho.User, now time.Time) ([]autho.Entry, error) {
	b := make([]byte, invitationTokenBytes)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	token := base64.RawURLEncoding.EncodeToString(b)
	inv := &autho.Invitation{
		ID: secret.NewID("inv"), UserID: u.ID, AccountID: u.AccountID,
		Hash: secret.Hash(token), InvitedBy: by.ID(), InvitedByEmail: by.Email,
		CreatedAt: now, ExpiresAt: now.Add(autho.InvitationTTL),
	}
	inv.SealedToken = s.Sealer.Seal(inv.ID, []byte(token))
	e, err := audit(by, now, autho.AuditInvitationSent, u.AccountID, u.ID, u.Email)
	if err != nil {
		return nil, err
	}
	mail := newEvent(autho.EventInvitationMail, now, u.AccountID, autho.EventData{
		User:       autho.EventUserOf(u),
		Invitation: &autho.EventInvitation{ID: inv.ID, ExpiresAt: inv.ExpiresAt, InvitedBy: by.Email},
		By:         by.ID(),
	}, []autho.Recipient{{UserID: u.ID, Email: u.Email}})
	return []autho.Entry{inv, e, mail}, nil
}

// InvitationLink opens the token of an invitation whose mail is being
// written; an invitation whose token is gone (sent, used, expired) is
// ErrInvitationGone.
func (s *Service) InvitationLink(ctx context.Context, id string) (*autho.Invitation, string, error) {
	inv, err := s.Store.InvitationByID(ctx, id)
	if err != nil {
		return nil, "", storeErr(err, "read invitation", invitationGone)
	}
	if len(inv.SealedToken) == 0 || !inv.Live(s.now()) {
		return inv, "", invitationGone
	}
	if s.Sealer == nil {
		return nil, "", errors.New("admin: the invitation's link needs the master key")
	}
	token, err := s.Sealer.Open(inv.ID, inv.SealedToken)
	if err != nil {
		return nil, "", errors.New("admin: the invitation's link cannot be opened with this master key")
	}
	return inv, string(token), nil
}

// InvitationSent forgets the sealed token of an invitation whose mail went
// out: from then on nothing in the database can make its link.
func (s *Service) InvitationSent(ctx context.Context, id string) error {
	if err := s.Store.ForgetInvitationToken(ctx, id); err != nil {
		return storeErr(err, "forget the invitation's token", nil)
	}
	return nil
}

// Invitation reads the live invitation of a link's token and its user.
// Whatever is wrong (malformed, unknown, used, expired, a deactivated
// user) is the one ErrInvitationGone, after about the same work: the
// token is hashed and looked up whatever its shape.
func (s *Service) Invitation(ctx context.Context, token string) (*autho.Invitation, *autho.User, error) {
	if len(token) > maxInvitationToken {
		token = token[:maxInvitationToken]
	}
	inv, err := s.Store.Invitation(ctx, secret.Hash(token))
	if err != nil {
		return nil, nil, storeErr(err, "read invitation", invitationGone)
	}
	if len(token) != invitationTokenLen || !inv.Live(s.now()) {
		return nil, nil, invitationGone
	}
	u, err := s.Store.User(ctx, inv.UserID)
	if err != nil {
		return nil, nil, storeErr(err, "read the invited user", invitationGone)
	}
	if !u.Active {
		return nil, nil, invitationGone
	}
	return inv, u, nil
}

// AcceptInvitationRequest is the password a person chose on an
// invitation's page.
type AcceptInvitationRequest struct {
	Token    string
	Password string
	IP       string
	Replaces string // the session id the browser brought, ended on success
}

// AcceptInvitation sets the invited user's password and signs them in (a
// new session). The link works once: taking it and setting the password
// are one conditional update, so of requests at once, on any node, one
// wins and the others get ErrInvitationGone. The password follows the
// rules of every password (field "password"). Audited as the user's use of
// the invitation, and as a login.
func (s *Service) AcceptInvitation(ctx context.Context, req AcceptInvitationRequest) (*SignInResult, error) {
	inv, u, err := s.Invitation(ctx, req.Token)
	if err != nil {
		return nil, err
	}
	if err := password.Validate(req.Password); err != nil {
		return nil, &Error{Field: "password", Message: err.Error()}
	}
	// Seen through if the browser hangs up: a link taken must end in a
	// session or an error the store decided, not half-way.
	ctx = context.WithoutCancel(ctx)
	h, err := s.hash(ctx, "password", req.Password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	by := autho.UserActor(u, req.IP)
	e, err := audit(by, now, autho.AuditInvitationUsed, u.AccountID, u.ID, u.Email)
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.UseInvitation(ctx, inv.Hash, now, h, e); err != nil {
		return nil, storeErr(err, "use invitation", invitationGone)
	}
	// Read again: the session carries the epoch of the password just set.
	if u, err = s.Store.User(ctx, u.ID); err != nil {
		return nil, storeErr(err, "read user", nil)
	}
	if req.Replaces != "" {
		if err := s.Store.DeleteSession(ctx, HashSessionID(req.Replaces)); err != nil {
			return nil, storeErr(err, "end the earlier session", nil)
		}
	}
	login, err := audit(by, now, autho.AuditLogin, u.AccountID, "", "")
	if err != nil {
		return nil, err
	}
	id, err := s.startSession(ctx, u, req.IP, now, time.Time{}, login)
	if err != nil {
		return nil, err
	}
	return &SignInResult{User: u, Session: id}, nil
}

// noticeInvitations audits every invitation that expired unused, once
// whatever the number of nodes and sweeps (the store's conditional
// update decides), and reports how many it audited.
func (s *Service) noticeInvitations(ctx context.Context, now time.Time) (int, error) {
	made := 0
	// Bounded per sweep; the next sweep takes the rest.
	invs, err := s.Store.ExpiredInvitations(ctx, now, 500)
	if err != nil {
		return 0, storeErr(err, "list expired invitations", nil)
	}
	for _, inv := range invs {
		email := ""
		if u, err := s.Store.User(ctx, inv.UserID); err == nil {
			email = u.Email
		}
		e, err := audit(autho.System, now, autho.AuditInvitationExpired, inv.AccountID, inv.UserID, email)
		if err != nil {
			return made, err
		}
		ok, err := s.Store.NoticeInvitationExpired(ctx, inv.ID, now, e)
		if err != nil {
			return made, storeErr(err, "record an invitation's expiry", nil)
		}
		if ok {
			made++
		}
	}
	return made, nil
}
