package autho

import (
	"context"
	"time"
)

// Store is persistence, and only persistence: no business rules, no clocks
// beyond what a caller passes in. Every backend passes the conformance suite
// in internal/storetest.
//
// Read methods return ErrNotFound for a missing row; create methods return
// ErrConflict for a duplicate unique key (an email, a hash). Update methods
// read the row, call fn, and write back the fields the method names,
// atomically, so that a read-modify-write cannot race with another node; an
// error from fn aborts the update and is returned as is, except
// ErrUnchanged, which writes nothing and returns the row as read. What fn
// does to any other field is ignored rather than refused, so that the only
// errors are fn's and the database's: the result, like a later read, shows
// what is stored.
//
// Write methods take the change's entries (its audit events) and write
// them in the change's transaction, after the change: an entry that cannot
// be written (a duplicate id is ErrConflict, an unknown account
// ErrNotFound) undoes the change. An Update method reads its entries after
// fn returns, so fn may fill them in from the row it was given, or set one
// to nil to drop it (a part of the change that turned out to be none): a
// nil entry is skipped. Any method may return an error wrapping
// ErrUnavailable when the database cannot be reached.
//
// A create that refers to a missing row (a user of an unknown account, a
// token of an unknown user) returns ErrNotFound. Times come back in UTC at
// microsecond precision, and what an update returns equals what a later
// read returns. No error message contains a secret or a hash.
type Store interface {
	CreateAccount(ctx context.Context, a *Account, pt *PartnerToken, entries ...Entry) error
	Account(ctx context.Context, id string) (*Account, error)
	Accounts(ctx context.Context) ([]*Account, error)
	// UpdateAccount writes Name, Status, SuspendedAt, ExpiresAt,
	// AllowedScopes, MFARequired and UpdatedAt. The id and creation time never change; PartnerTokenHint
	// follows RotatePartnerToken.
	UpdateAccount(ctx context.Context, id string, fn func(*Account) error, entries ...Entry) (*Account, error)

	// RotatePartnerToken adds next as the account's current partner token
	// and ends every older one of the account at oldUntil (those already
	// ending earlier keep their earlier end). oldUntil must not be zero:
	// a zero end would mean "no end".
	RotatePartnerToken(ctx context.Context, next *PartnerToken, oldUntil time.Time, entries ...Entry) error
	// PartnerCredential finds a partner token by the SHA-256 of its secret,
	// whatever its expiry: the caller decides what an ended token means.
	PartnerCredential(ctx context.Context, hash []byte) (*PartnerCredential, error)

	CreateUser(ctx context.Context, u *User, entries ...Entry) error
	User(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error) // matched by EmailKey
	Users(ctx context.Context, accountID string) ([]*User, error)
	// UpdateUser writes Email (and so its EmailKey; another user's is
	// ErrConflict), PasswordHash, PasswordEpoch, Role, Active,
	// DeactivatedAt and UpdatedAt. The id, account and creation time never change.
	UpdateUser(ctx context.Context, id string, fn func(*User) error, entries ...Entry) (*User, error)

	CreateAPIToken(ctx context.Context, t *APIToken, entries ...Entry) error
	// CreateAPITokenCapped stores t as CreateAPIToken does, but only while
	// t's user holds fewer than maxActive active tokens: neither revoked nor
	// expired at t.CreatedAt (an ExpiresAt after it). At the cap it stores
	// nothing and returns ErrLimit. The count and the insert are one
	// transaction holding a lock on the user, so that parallel calls, from
	// any number of nodes, never take a user past maxActive.
	CreateAPITokenCapped(ctx context.Context, t *APIToken, maxActive int, entries ...Entry) error
	APIToken(ctx context.Context, id string) (*APIToken, error)
	APITokens(ctx context.Context, f TokenFilter) ([]*APIToken, error) // newest first
	// UpdateAPIToken writes Name, Scopes, ExpiresAt and RevokedAt. The id,
	// owner (UserID, AccountID), Hash, Hint and creation time never change,
	// and LastUsedAt and LastUsedIP are RecordTokenUse's alone.
	UpdateAPIToken(ctx context.Context, id string, fn func(*APIToken) error, entries ...Entry) (*APIToken, error)
	// APICredential finds an API token by the SHA-256 of its secret, with
	// its user's state, whatever its expiry or revocation.
	APICredential(ctx context.Context, hash []byte) (*APICredential, error)
	// LoginCredentials reads what a login checks of both secrets, by the
	// SHA-256 of each, in one snapshot, whatever their state: the caller
	// decides. An unknown partner token is ErrNotFound; an unknown API
	// token (or a nil apiHash) is a record without a Token.
	LoginCredentials(ctx context.Context, partnerHash, apiHash []byte) (*LoginRecord, error)
	// RecordTokenUse sets last-used time and IP; a use older than the one
	// stored does not overwrite it, and unknown token ids are ignored.
	RecordTokenUse(ctx context.Context, uses []TokenUse) error

	// RevocationVersion is a number that grows with every committed change
	// the revocation feed lists: an API token's RevokedAt, a user's
	// DeactivatedAt, or an account's SuspendedAt or ExpiresAt written with
	// a new value, by any writer (an Update, a Create, a leak's
	// revocation, another process sharing the database). A transaction
	// that makes such changes raises it by at least one, within itself, so
	// a reader that sees a version also sees every change behind it; it
	// never goes down. It may also grow when nothing the feed lists
	// changed. It does not move when time passes: an account reaching its
	// ExpiresAt is a change of now, not of the database.
	RevocationVersion(ctx context.Context) (int64, error)
	// Revocations lists the facts a revocation feed is built from, read in
	// one snapshot: every API token revoked at or after since whose
	// ExpiresAt is after since (At: RevokedAt); every user deactivated at
	// or after since (At: DeactivatedAt); every account suspended at or
	// after since (At: SuspendedAt); and every account whose ExpiresAt is
	// at or after since and not after now (At: ExpiresAt). An account both
	// suspended and ended in that span is listed twice. Any order.
	Revocations(ctx context.Context, since, now time.Time) ([]Revocation, error)

	// AddSigningKey stores k and marks every other key that is not yet
	// retired as retired at k.CreatedAt, to be published until verifyUntil.
	AddSigningKey(ctx context.Context, k *SigningKey, verifyUntil time.Time, entries ...Entry) error
	SigningKeys(ctx context.Context) ([]*SigningKey, error) // oldest first
	// DeleteSigningKeys removes the keys of those ids, all or none; an
	// unknown id is ignored. Only for keys no master key can open any
	// more (autho keys reset), since every token they signed stops
	// verifying.
	DeleteSigningKeys(ctx context.Context, ids []string, entries ...Entry) error

	// CreateSession stores a portal session; a duplicate hash is
	// ErrConflict, an unknown user ErrNotFound.
	CreateSession(ctx context.Context, s *Session, entries ...Entry) error
	// Session finds a session by the SHA-256 of its id, whatever its age:
	// the caller decides what a timeout means.
	Session(ctx context.Context, hash []byte) (*Session, error)
	// TouchSession moves a session's SeenAt forward to at (never back); an
	// unknown hash is ignored, as the session may just have ended.
	TouchSession(ctx context.Context, hash []byte, at time.Time) error
	// MarkSessionFactor moves a session's FactorAt forward to at (never
	// back); a missing session is not an error.
	MarkSessionFactor(ctx context.Context, hash []byte, at time.Time) error
	// DeleteSession ends one session; ending a missing one is not an error.
	DeleteSession(ctx context.Context, hash []byte, entries ...Entry) error
	// DeleteUserSessions ends every session of the user except the one
	// whose hash is keep (nil: all), and returns how many it ended.
	DeleteUserSessions(ctx context.Context, userID string, keep []byte, entries ...Entry) (int, error)
	// DeleteSessionsBefore ends every session last seen before seenBefore
	// or created before createdBefore, and returns how many it ended.
	DeleteSessionsBefore(ctx context.Context, seenBefore, createdBefore time.Time) (int, error)

	// AddAuditEvent appends to the audit log an event that goes with no
	// change (a refused sign-in); an unknown account is ErrNotFound, a
	// duplicate id ErrConflict.
	AddAuditEvent(ctx context.Context, e *AuditEvent) error
	// AuditEvents lists an account's events, or every event, newest first
	// (ties by id, descending), as AuditFilter says.
	AuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)

	// ReserveLoginAttempt is the portal sign-in throttle's one atomic step.
	// In a transaction that no other reservation sharing one of keys can
	// interleave with, on any node, it summarises each key's failures at or
	// after since, passes them to allow in the order of keys, and when allow
	// returns true records the attempt (the caller's unique id) at at under
	// every key. A reserved attempt counts as a failure from then on, until
	// ForgetLoginAttempt removes it, so parallel attempts see each other
	// before any password is checked. It reports whether allow let the
	// attempt through.
	ReserveLoginAttempt(ctx context.Context, attempt string, keys []string, since, at time.Time, allow func([]LoginFailures) bool) (bool, error)
	// ForgetLoginAttempt removes what ReserveLoginAttempt recorded for an
	// attempt that did not fail (it succeeded, or was never checked); an
	// unknown attempt is not an error.
	ForgetLoginAttempt(ctx context.Context, attempt string) error
	// ClearLoginFailures forgets every failure recorded under keys.
	ClearLoginFailures(ctx context.Context, keys []string) error
	// DeleteLoginFailuresBefore forgets failures older than before, which
	// no longer count, and returns how many it removed.
	DeleteLoginFailuresBefore(ctx context.Context, before time.Time) (int, error)

	// CreateOperatorKey stores an admin API key; a name or hash in use is
	// ErrConflict.
	CreateOperatorKey(ctx context.Context, k *OperatorKey, entries ...Entry) error
	OperatorKey(ctx context.Context, id string) (*OperatorKey, error)
	// OperatorKeyByHash finds a key by the SHA-256 of its secret, whatever
	// its state: the caller decides what a revoked key means.
	OperatorKeyByHash(ctx context.Context, hash []byte) (*OperatorKey, error)
	OperatorKeys(ctx context.Context) ([]*OperatorKey, error) // newest first, ties by id descending
	// UpdateOperatorKey writes RevokedAt. Nothing else of a key ever
	// changes, and LastUsedAt and LastUsedIP are RecordOperatorKeyUse's.
	UpdateOperatorKey(ctx context.Context, id string, fn func(*OperatorKey) error, entries ...Entry) (*OperatorKey, error)
	// RecordOperatorKeyUse sets the key's last-used time and IP; a use
	// older than the one stored does not overwrite it, and an unknown id
	// is ignored.
	RecordOperatorKeyUse(ctx context.Context, id string, at time.Time, ip string) error

	// StartIdempotent records r, the first attempt of a request, unless a
	// request of the same operator key and Key is recorded: then it
	// returns that one and records nothing. Records created before
	// expiredBefore are deleted first, so an old Key may be used again.
	// One transaction: of attempts made at once, on any node, exactly one
	// is recorded, and the others get it back.
	StartIdempotent(ctx context.Context, r *IdempotentRequest, expiredBefore time.Time) (*IdempotentRequest, error)
	// FinishIdempotent stores the answer of a recorded request.
	FinishIdempotent(ctx context.Context, operatorKeyID, key string, status int, body []byte) error
	// ForgetIdempotent deletes a record, so that the request may be tried
	// again (its first attempt failed for want of the database, and
	// changed nothing); a missing record is not an error.
	ForgetIdempotent(ctx context.Context, operatorKeyID, key string) error

	// Writing an *Event entry stores the event, queues a pending delivery
	// (due at once) to every enabled endpoint that Takes its type, and
	// one to each of its Mail, all in the change's transaction. An event
	// reaches an endpoint or a person at most once: a second delivery of
	// one event to one endpoint or email is never queued.

	// Events lists events newest first (ties by id, descending), at most
	// limit (0: all).
	Events(ctx context.Context, limit int) ([]*Event, error)
	// RecordNotice stores n unless it is stored already, with entries in
	// the same transaction; it reports whether it stored it. Of calls
	// made at once for one notice, on any node, exactly one stores it.
	RecordNotice(ctx context.Context, n Notice, entries ...Entry) (bool, error)

	CreateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint, entries ...Entry) error
	WebhookEndpoint(ctx context.Context, id string) (*WebhookEndpoint, error)
	WebhookEndpoints(ctx context.Context) ([]*WebhookEndpoint, error) // newest first
	// UpdateWebhookEndpoint writes DisabledAt and FailingSince; nothing
	// else of an endpoint changes.
	UpdateWebhookEndpoint(ctx context.Context, id string, fn func(*WebhookEndpoint) error, entries ...Entry) (*WebhookEndpoint, error)
	// DeleteWebhookEndpoint removes the endpoint with its deliveries and
	// their attempts.
	DeleteWebhookEndpoint(ctx context.Context, id string, entries ...Entry) error

	// ClaimDelivery takes the pending delivery due earliest (NextAttemptAt
	// at or before now) whose lease is free or ran out, leases it until
	// leaseUntil under a new Lease, and returns it with its Event and, for
	// a webhook, its Endpoint. None due is ErrNotFound. Of claims made at
	// once, on any node, each delivery goes to one: while a lease holds,
	// no other claim takes its delivery.
	ClaimDelivery(ctx context.Context, now, leaseUntil time.Time) (*Delivery, error)
	// FinishDelivery records attempt a of the claimed delivery d and sets
	// its State, Attempts, NextAttemptAt and DoneAt from d, freeing the
	// lease, with entries in the same transaction. When d.Lease is no
	// longer the delivery's (the lease ran out and another claim took it)
	// it changes nothing and returns ErrConflict.
	FinishDelivery(ctx context.Context, d *Delivery, a DeliveryAttempt, entries ...Entry) error
	Delivery(ctx context.Context, id string) (*Delivery, error)
	Deliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	DeliveryAttempts(ctx context.Context, deliveryID string) ([]*DeliveryAttempt, error) // in order
	// RetryDelivery makes a failed delivery pending again, due at now,
	// keeping its attempts; a delivery that is not failed is ErrConflict.
	RetryDelivery(ctx context.Context, id string, now time.Time, entries ...Entry) (*Delivery, error)

	// Ping reports whether the database can be reached.
	Ping(ctx context.Context) error
	Close() error

	// Invitations (invitation.go). An *Invitation entry stores the
	// invitation; a duplicate id or hash is ErrConflict.
	//
	// Invitation finds one by the SHA-256 of its token, whatever its state.
	Invitation(ctx context.Context, hash []byte) (*Invitation, error)
	// InvitationByID finds one by id, whatever its state.
	InvitationByID(ctx context.Context, id string) (*Invitation, error)
	// UseInvitation marks the invitation of that hash used at at, only if
	// it is unused and expires after at, in one conditional UPDATE, and in
	// the same transaction gives its user passwordHash and moves their
	// password epoch on, with entries. Of calls at once for one hash, on
	// any node, exactly one succeeds; the others (and a used, expired or
	// unknown hash) get ErrNotFound and change nothing. It returns the
	// invitation as now stored.
	UseInvitation(ctx context.Context, hash []byte, at time.Time, passwordHash string, entries ...Entry) (*Invitation, error)
	// ForgetInvitationToken drops the sealed token of the invitation (its
	// mail went out); a missing one is not an error.
	ForgetInvitationToken(ctx context.Context, id string) error
	// ExpiredInvitations lists invitations unused, expired at or before
	// now and whose expiry is not noticed yet, oldest first, at most
	// limit (0: all).
	ExpiredInvitations(ctx context.Context, now time.Time, limit int) ([]*Invitation, error)
	// NoticeInvitationExpired sets ExpiredNoticedAt to at (and drops the
	// sealed token) only if the invitation is unused, expired at at and
	// not noticed yet, in one conditional UPDATE, writing entries only
	// then; it reports whether it did. Of calls at once, on any node,
	// exactly one gets true.
	NoticeInvitationExpired(ctx context.Context, id string, at time.Time, entries ...Entry) (bool, error)

	// Second factors (mfa.go). A user's factors are their confirmed TOTP
	// factor (passkeys to join); recovery codes go with them.
	//
	// CreateTOTP stores f as its user's TOTP factor, replacing one whose
	// enrollment was never confirmed; a confirmed one is ErrConflict, an
	// unknown user ErrNotFound.
	CreateTOTP(ctx context.Context, f *TOTPFactor, entries ...Entry) error
	// TOTP reads a user's TOTP factor, confirmed or not.
	TOTP(ctx context.Context, userID string) (*TOTPFactor, error)
	// ConfirmTOTP marks the unconfirmed factor of that id confirmed at at,
	// with step as its last used step, and when codes is not nil replaces
	// the user's recovery codes with them, in one transaction. A factor
	// that is gone (replaced by a newer enrollment) is ErrNotFound, one
	// confirmed already ErrConflict.
	ConfirmTOTP(ctx context.Context, id string, at time.Time, step int64, codes []*RecoveryCode, entries ...Entry) error
	// UseTOTPStep records step as the confirmed factor's last used step if
	// it is later than the one stored, in one statement, and reports
	// whether it did: of calls with one step, on any node, exactly one
	// gets true. Entries are written only then.
	UseTOTPStep(ctx context.Context, id string, step int64, entries ...Entry) (bool, error)
	// DeleteTOTP removes the user's TOTP factor, and with
	// withRecoveryCodes their recovery codes, and reports whether there
	// was a factor; entries are written only then.
	DeleteTOTP(ctx context.Context, userID string, withRecoveryCodes bool, entries ...Entry) (bool, error)
	// ReplaceRecoveryCodes deletes every recovery code of the user and
	// stores codes, in one transaction.
	ReplaceRecoveryCodes(ctx context.Context, userID string, codes []*RecoveryCode, entries ...Entry) error
	// RecoveryCodes lists the user's recovery codes, used or not.
	RecoveryCodes(ctx context.Context, userID string) ([]*RecoveryCode, error)
	// UseRecoveryCode marks the user's unused code of that hash used at
	// at, in one statement, and reports whether it did: of calls with one
	// code, on any node, exactly one gets true. Entries are written only
	// then.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time, entries ...Entry) (bool, error)
	// DeleteMFA removes every factor (TOTP and passkeys), recovery code,
	// pending sign-in and ceremony of the user, and returns how many factors and codes it removed; entries
	// are written only when that is not zero.
	DeleteMFA(ctx context.Context, userID string, entries ...Entry) (int, error)
	// CreatePasskey stores a new passkey and, when codes is not nil,
	// replaces the user's recovery codes with them (the first factor), in
	// one transaction. A credential id stored already (for any user) is
	// ErrConflict, an unknown user ErrNotFound.
	CreatePasskey(ctx context.Context, p *Passkey, codes []*RecoveryCode, entries ...Entry) error
	// Passkeys lists the user's passkeys, oldest first.
	Passkeys(ctx context.Context, userID string) ([]*Passkey, error)
	// PasskeyByCredentialID finds the passkey of that credential id, of any
	// user; none is ErrNotFound.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)
	// UsePasskey records a use of the passkey: its new sign count and flags
	// and when. It reports whether the passkey still exists.
	UsePasskey(ctx context.Context, id string, signCount uint32, flags byte, at time.Time) (bool, error)
	// DeletePasskey removes the user's passkey of that id, and with
	// withRecoveryCodes their recovery codes, and reports whether there
	// was one; entries are written only then.
	DeletePasskey(ctx context.Context, userID, id string, withRecoveryCodes bool, entries ...Entry) (bool, error)
	// CreateCeremony stores a WebAuthn ceremony begun; a duplicate hash is
	// ErrConflict.
	CreateCeremony(ctx context.Context, c *Ceremony) error
	// TakeCeremony deletes the ceremony of that hash and returns it, in one
	// statement: of calls at once, on any node, exactly one gets it, the
	// others ErrNotFound. Its age is the caller's to check.
	TakeCeremony(ctx context.Context, hash []byte) (*Ceremony, error)
	// DeleteCeremoniesBefore removes those expiring before before and
	// returns how many.
	DeleteCeremoniesBefore(ctx context.Context, before time.Time) (int, error)
	// CreatePendingSignIn stores a half-finished sign-in; a duplicate hash
	// is ErrConflict, an unknown user ErrNotFound.
	CreatePendingSignIn(ctx context.Context, p *PendingSignIn) error
	// PendingSignIn finds one by the SHA-256 of its id, whatever its age.
	PendingSignIn(ctx context.Context, hash []byte) (*PendingSignIn, error)
	// ConsumePendingSignIn deletes it and reports whether it was there: of
	// calls at once, on any node, exactly one gets true.
	ConsumePendingSignIn(ctx context.Context, hash []byte) (bool, error)
	// DeletePendingSignInsBefore removes those expiring before before and
	// returns how many.
	DeletePendingSignInsBefore(ctx context.Context, before time.Time) (int, error)
}

// LoginRecord is what a login checks of its two secrets: the partner token
// with its account, and the API token with its user's state. It holds
// exactly what the checks read, so a store can read it from as few pages
// as possible, and all of it is filled.
type LoginRecord struct {
	// PartnerTokenEnds is when the partner token stops working: zero for
	// the account's current token, the end of the grace period for one
	// rotated out.
	PartnerTokenEnds time.Time
	Account          LoginAccount
	Token            *LoginToken // nil: no API token has the hash
}

// PartnerTokenEnded reports whether the partner token has stopped working
// at now.
func (r *LoginRecord) PartnerTokenEnded(now time.Time) bool {
	return !r.PartnerTokenEnds.IsZero() && expired(r.PartnerTokenEnds, now)
}

// LoginAccount is the partner token's account, as a login checks it. Its
// rules are Account's.
type LoginAccount struct {
	ID        string
	Status    AccountStatus
	ExpiresAt time.Time
}

// Expired is Account.Expired.
func (a *LoginAccount) Expired(now time.Time) bool { return expired(a.ExpiresAt, now) }

// Usable is Account.Usable.
func (a *LoginAccount) Usable(now time.Time) bool { return usable(a.Status, a.ExpiresAt, now) }

// LoginToken is an API token as a login checks it, with whether its user
// is active. Its rules are APIToken's.
type LoginToken struct {
	ID         string
	UserID     string
	AccountID  string // the user's account
	Scopes     []string
	ExpiresAt  time.Time
	RevokedAt  time.Time // zero: not revoked
	UserActive bool
}

// State is APIToken.State.
func (t *LoginToken) State(now time.Time) TokenState {
	return tokenState(t.ExpiresAt, t.RevokedAt, now)
}
