package autho

import "time"

// AuditAction names what an audit event records. The values are stored, so
// they never change meaning.
type AuditAction string

// Audit actions: what people do in the portal. Actions on a token have
// the token as their target, actions on a user the user; the sign-in
// actions have none.
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

	// An admin's add refused because the email is a user of another
	// account. It has no target: that user is not the account's to see.
	AuditUserCreateRefused AuditAction = "user.create_refused"
)

// AuditEvent is one entry of an account's audit log: who did what to what,
// when, and from which address. Actor and target are copied as they were at
// the time, so the log still reads right after a rename.
type AuditEvent struct {
	ID         string // "aud_…"
	AccountID  string
	ActorID    string // the user who acted ("usr_…")
	ActorEmail string
	Action     AuditAction
	TargetID   string // "tok_…", "usr_…", or "" when the action has no object
	TargetName string // the token's name or the user's email at the time
	At         time.Time
	IP         string
}

// AuditFilter selects a page of one account's audit log, newest first.
// Before, when set, continues a listing after the event with that time and
// id: only older events (or same-time events with a smaller id) are
// returned.
type AuditFilter struct {
	AccountID string
	Before    *AuditEvent // the last event of the previous page, or nil
	Limit     int         // at most this many; 0 means no limit
}
