package autho

import (
	"strings"
	"time"
)

// AuditAction names what an audit event records. The values are stored, so
// they never change meaning.
type AuditAction string

// Audit actions: what people do in the portal and what the operator does
// with the CLI (and, later, the admin API). Actions on a token have the
// token as their target, actions on a user the user, actions on an account
// the account; the sign-in actions have none.
const (
	AuditLogin          AuditAction = "login"
	AuditLoginFailed    AuditAction = "login.failed" // a wrong password for a known email
	AuditLoginDenied    AuditAction = "login.denied" // the right password of a deactivated user
	AuditLogout         AuditAction = "logout"
	AuditPasswordChange AuditAction = "password.change"
	AuditTokenCreate    AuditAction = "token.create"
	AuditTokenRevoke    AuditAction = "token.revoke"
	AuditUserCreate     AuditAction = "user.create"
	AuditUserDeactivate AuditAction = "user.deactivate"
	AuditUserActivate   AuditAction = "user.activate"
	AuditUserSessions   AuditAction = "user.sessions_end" // an admin ended the user's sessions
	AuditUserPassword   AuditAction = "user.password_reset"
	AuditUserRole       AuditAction = "user.role" // made an account admin or a member

	AuditAccountCreate     AuditAction = "account.create"
	AuditAccountRenew      AuditAction = "account.renew"
	AuditAccountSuspend    AuditAction = "account.suspend"
	AuditAccountReactivate AuditAction = "account.reactivate"
	AuditAccountScopes     AuditAction = "account.set_scopes" // the scopes its people may give their tokens
	AuditAccountRename     AuditAction = "account.rename"
	// An account admin requiring a second factor of the account's people,
	// or no longer; the event's detail is not kept, the account's row says.
	AuditAccountMFARequired AuditAction = "account.mfa_required"
	AuditPartnerTokenRotate AuditAction = "partner_token.rotate"
	// A signing key added: the one action of no account (AccountID "").
	AuditSigningKeyRotate AuditAction = "signing_key.rotate"
	// Signing keys dropped because the master key that sealed them is
	// lost (their ids are the target name).
	AuditSigningKeyReset AuditAction = "signing_key.reset"

	// An operator key made or revoked: actions of no account, with the key
	// as their target.
	AuditOperatorKeyCreate AuditAction = "operator_key.create"
	AuditOperatorKeyRevoke AuditAction = "operator_key.revoke"

	// A webhook endpoint made, disabled or deleted: actions of no account,
	// with the endpoint as their target (its URL the name).
	AuditWebhookCreate  AuditAction = "webhook.create"
	AuditWebhookDisable AuditAction = "webhook.disable"
	AuditWebhookDelete  AuditAction = "webhook.delete"
	// A secret reported leaked (by GitHub's secret scanning): an API token
	// (revoked with it) or a partner token (flagged, not revoked).
	AuditTokenLeaked        AuditAction = "token.leaked"
	AuditPartnerTokenLeaked AuditAction = "partner_token.leaked"
	// A failed delivery sent again by the operator.
	AuditDeliveryRetry AuditAction = "delivery.retry"

	// An admin's add refused because the email is a user of another
	// account. It has no target: that user is not the account's to see.
	AuditUserCreateRefused AuditAction = "user.create_refused"

	// A portal user's second factors, with the user as the target. Adding
	// one is its first code entered, not the start of an enrollment.
	AuditMFAAdd             AuditAction = "mfa.add"
	AuditMFARemove          AuditAction = "mfa.remove"
	AuditRecoveryCodeUsed   AuditAction = "mfa.recovery_code_used"
	AuditRecoveryCodesRenew AuditAction = "mfa.recovery_codes_regenerate"
	AuditMFAReset           AuditAction = "mfa.reset" // every factor cleared, by the operator or an account admin
	AuditLoginSecondFailed  AuditAction = "login.second_factor_failed"
	// A passkey's answer that did not check out at a passwordless sign-in.
	AuditLoginPasskeyFailed AuditAction = "login.passkey_failed"
	// A signed-in user's second factor asked again before a sensitive
	// action (step-up): the right code, or a wrong one.
	AuditStepUp       AuditAction = "login.step_up"
	AuditStepUpFailed AuditAction = "login.step_up_failed"

	// An invitation mailed to a new user (by who added them), used to set
	// a password (by the user), or expired unused (by autho), with the
	// user as the target.
	AuditInvitationSent    AuditAction = "invitation.sent"
	AuditInvitationUsed    AuditAction = "invitation.used"
	AuditInvitationExpired AuditAction = "invitation.expired"
)

// AuditEvent is one entry of an account's audit log: who did what to what,
// when, and from which address. Actor and target are copied as they were at
// the time, so the log still reads right after a rename.
type AuditEvent struct {
	ID         string // "aud_…"
	AccountID  string // "" for an action on no account (a signing key, an operator key)
	ActorID    string // Actor.ID: "usr_…", "operator:<name>" or "autho"
	ActorEmail string // "" unless a person acted
	Action     AuditAction
	TargetID   string // "tok_…", "usr_…", "acc_…", "key_…", "opk_…", or "" when the action has no object
	TargetName string // the token's or account's name, the user's email, the key's algorithm, at the time
	At         time.Time
	IP         string
}

// ByOperator reports whether the platform's operator made the change, and
// under which name ("cli", or an operator key's name).
func (e *AuditEvent) ByOperator() (name string, ok bool) {
	return strings.CutPrefix(e.ActorID, operatorPrefix)
}

func (*AuditEvent) entry() {}

// Entry is what a change leaves behind in the same transaction as the
// change: an audit event (and, with webhooks, the domain event). A store's
// write method writes the entries it is given after the change and before
// it commits, so an acknowledged change never lacks its entry and an entry
// never describes a change that did not happen.
type Entry interface{ entry() }

// Actor is who makes a change: a person signed into the portal, or the
// platform's operator (the CLI, an operator key of the admin API), or autho
// itself (a scheduled key rotation).
type Actor struct {
	UserID   string // "usr_…" when a person acts
	Email    string // that person's email, as it was
	Operator string // "cli" or an operator key's name when the platform acts
	IP       string // where the request came from, when it came over HTTP
	system   bool
}

const operatorPrefix = "operator:"

// OperatorCLI is the operator at the command line.
var OperatorCLI = Actor{Operator: "cli"}

// System is autho acting on its own schedule.
var System = Actor{system: true}

// UserActor is a portal user acting from ip.
func UserActor(u *User, ip string) Actor { return Actor{UserID: u.ID, Email: u.Email, IP: ip} }

// IsOperator reports whether the platform acts (the CLI, an operator key,
// or autho itself), which lifts the rules a partner's people are held to.
func (a Actor) IsOperator() bool { return a.UserID == "" && (a.Operator != "" || a.system) }

// ID is how the audit log names the actor: the user's id, "operator:" and
// the operator's name, or "autho"; "" for the zero Actor, which is nobody.
func (a Actor) ID() string {
	switch {
	case a.UserID != "":
		return a.UserID
	case a.Operator != "":
		return operatorPrefix + a.Operator
	case a.system:
		return "autho"
	}
	return ""
}

// Audit is the audit event of a's action at at, for the caller to fill in
// the account and target; id is its new "aud_…" id.
func (a Actor) Audit(id string, action AuditAction, at time.Time) *AuditEvent {
	return &AuditEvent{ID: id, ActorID: a.ID(), ActorEmail: a.Email, Action: action, At: at, IP: a.IP}
}

// AuditFilter selects a page of one account's audit log, newest first.
// Before, when set, continues a listing after the event with that time and
// id: only older events (or same-time events with a smaller id) are
// returned.
type AuditFilter struct {
	AccountID string      // "": every event, of every account and of none
	Before    *AuditEvent // the last event of the previous page, or nil
	Limit     int         // at most this many; 0 means no limit
}
