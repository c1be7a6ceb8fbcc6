package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// Passkeys (WebAuthn). The relying party is the host of the public URL,
// and its one origin that URL's scheme://host[:port]. A ceremony's state
// (the library's SessionData, with the challenge) is kept in the store
// under the hash of a random id the browser holds in a cookie, bound to
// what it belongs to (the session, or the pending sign-in), and taken once
// in one atomic store step when the browser answers: any node can finish
// what another began, and a replayed answer finds nothing. A passkey's use
// goes through the sign-in throttle like a password or a code.

// CeremonyTimeout is how long the browser has to answer a ceremony.
const CeremonyTimeout = 5 * time.Minute

// maxPasskeyName is the longest name a passkey may have, in characters.
const maxPasskeyName = 64

var (
	wrongPasskey = &Error{kind: ErrWrongCode,
		Message: "That passkey was not accepted. Try again, or use another way to sign in."}
	unknownPasskey = &Error{kind: ErrWrongCode,
		Message: "This passkey is not registered here (it may have been removed). Sign in with your password, or use another passkey."}
	ceremonyExpired  = &Error{Message: "This passkey request has expired or was used already. Try again."}
	unreadableAnswer = &Error{Message: "The browser's passkey answer could not be read. Try again."}
)

// PasskeyCeremony is a ceremony begun: Options go to the browser's
// navigator.credentials call as they are, ID into a cookie.
type PasskeyCeremony struct {
	ID      string
	Options any // *protocol.CredentialCreation or *protocol.CredentialAssertion
}

// PasskeysOff says why passkeys cannot work at this portal's public URL,
// or "" when they can. Browsers take a host name as relying party, never
// an IP address, so a portal reached at http://127.0.0.1:8080 (the
// default listen address) offers none rather than a button that fails.
func (s *Service) PasskeysOff() string {
	u, err := url.Parse(s.PublicURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "Passkeys are not available: the portal's public address (AUTHO_PUBLIC_URL) is not set."
	}
	if net.ParseIP(u.Hostname()) != nil {
		return "Passkeys are not available at an IP address such as " + u.Hostname() +
			": browsers accept them only for a host name. Reach the portal by its name (localhost on this computer) and set AUTHO_PUBLIC_URL to that address."
	}
	return ""
}

// relyingParty builds the library's view of the relying party from the
// public URL.
func (s *Service) relyingParty() (*webauthn.WebAuthn, error) {
	if why := s.PasskeysOff(); why != "" {
		return nil, invalid("", "%s", why)
	}
	u, _ := url.Parse(s.PublicURL)
	return webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "autho",
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
	})
}

// passkeysOf is the relying party and the user's passkeys, which every
// ceremony of a known user starts from.
func (s *Service) passkeysOf(ctx context.Context, userID string) (*webauthn.WebAuthn, []*autho.Passkey, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, nil, err
	}
	ps, err := s.Store.Passkeys(ctx, userID)
	if err != nil {
		return nil, nil, storeErr(err, "read passkeys", nil)
	}
	return rp, ps, nil
}

// passkeyUser is a user as the library sees one: the user handle is the
// user id's bytes, so that a discoverable passkey names its user.
type passkeyUser struct {
	u     *autho.User
	creds []webauthn.Credential
}

func (p *passkeyUser) WebAuthnID() []byte                         { return []byte(p.u.ID) }
func (p *passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p *passkeyUser) WebAuthnDisplayName() string                { return p.u.Email }
func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

func credentialOf(p *autho.Passkey) webauthn.Credential {
	c := webauthn.Credential{
		ID: p.CredentialID, PublicKey: p.PublicKey,
		AttestationType: p.AttestationType, AttestationFormat: p.AttestationFormat,
		Flags: webauthn.CredentialFlagsFromMsgpByte(p.Flags),
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount,
			Attachment: protocol.AuthenticatorAttachment(p.Attachment)},
	}
	for _, t := range p.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	return c
}

func newPasskeyUser(u *autho.User, ps []*autho.Passkey) *passkeyUser {
	pu := &passkeyUser{u: u}
	for _, p := range ps {
		pu.creds = append(pu.creds, credentialOf(p))
	}
	return pu
}

// beginCeremony stores the library's session data under a new id.
func (s *Service) beginCeremony(ctx context.Context, kind autho.CeremonyKind, userID string, bound []byte, name string,
	sd *webauthn.SessionData, options any, now time.Time) (*PasskeyCeremony, error) {
	data, err := json.Marshal(sd)
	if err != nil {
		return nil, errors.New("admin: cannot encode a passkey ceremony")
	}
	b := make([]byte, sessionIDBytes)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	c := &autho.Ceremony{Hash: HashSessionID(id), Kind: kind, UserID: userID, Bound: bound, Name: name, Data: data,
		CreatedAt: now, ExpiresAt: now.Add(CeremonyTimeout)}
	if err := s.Store.CreateCeremony(ctx, c); err != nil {
		return nil, storeErr(err, "begin a passkey ceremony", nil)
	}
	return &PasskeyCeremony{ID: id, Options: options}, nil
}

// takeCeremony takes the ceremony of id, once, and checks that it is of
// kind, bound to bound and for userID, and not too old. Whatever the
// outcome it is gone: an answer gets one try.
func (s *Service) takeCeremony(ctx context.Context, id string, kind autho.CeremonyKind, userID string, bound []byte, now time.Time) (*autho.Ceremony, *webauthn.SessionData, error) {
	if !ValidSessionID(id) {
		return nil, nil, ceremonyExpired
	}
	c, err := s.Store.TakeCeremony(ctx, HashSessionID(id))
	if errors.Is(err, autho.ErrNotFound) {
		return nil, nil, ceremonyExpired
	}
	if err != nil {
		return nil, nil, storeErr(err, "take a passkey ceremony", nil)
	}
	if c.Kind != kind || c.UserID != userID || subtle.ConstantTimeCompare(c.Bound, bound) != 1 || !now.Before(c.ExpiresAt) {
		return nil, nil, ceremonyExpired
	}
	sd := &webauthn.SessionData{}
	if err := json.Unmarshal(c.Data, sd); err != nil {
		return nil, nil, errors.New("admin: a stored passkey ceremony cannot be read")
	}
	return c, sd, nil
}

// PasskeyName checks and tidies the name a user gives a passkey.
func PasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", invalid("name", "Give the passkey a name, such as the device it is on.")
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxPasskeyName:
		return "", invalid("name", "A passkey's name is at most %d characters.", maxPasskeyName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", invalid("name", "A passkey's name cannot hold control characters.")
	}
	return name, nil
}

// BeginPasskeyRegistration starts adding a passkey named name for the
// user signed in with ses; the ceremony is bound to that session.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, ses *autho.Session, u *autho.User, name string) (*PasskeyCeremony, error) {
	name, err := PasskeyName(name)
	if err != nil {
		return nil, err
	}
	rp, ps, err := s.passkeysOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	pu := newPasskeyUser(u, ps)
	opts, sd, err := rp.BeginRegistration(pu, webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()))
	if err != nil {
		return nil, errors.New("admin: cannot begin a passkey registration")
	}
	return s.beginCeremony(ctx, autho.CeremonyRegister, u.ID, ses.Hash, name, sd, opts, s.now())
}

// FinishPasskeyRegistration checks the browser's answer to the
// registration ceremony of id and stores the passkey. On the user's first
// factor it makes their recovery codes, returned this once.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, by autho.Actor, ses *autho.Session, u *autho.User, id string, answer []byte) ([]string, error) {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	c, sd, err := s.takeCeremony(ctx, id, autho.CeremonyRegister, u.ID, ses.Hash, now)
	if err != nil {
		return nil, err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(answer)
	if err != nil {
		return nil, unreadableAnswer
	}
	before, err := s.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	cred, err := rp.CreateCredential(newPasskeyUser(u, before.Passkeys), *sd, parsed)
	if err != nil {
		return nil, invalid("", "The passkey could not be added: your browser's answer did not check out. Try again.")
	}
	p := &autho.Passkey{ID: secret.NewID("pk"), UserID: u.ID, Name: c.Name, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		SignCount: cred.Authenticator.SignCount, AAGUID: cred.Authenticator.AAGUID, Flags: cred.Flags.MsgpByte(),
		AttestationType: cred.AttestationType, AttestationFormat: cred.AttestationFormat,
		Attachment: string(cred.Authenticator.Attachment), CreatedAt: now}
	for _, t := range cred.Transport {
		p.Transports = append(p.Transports, string(t))
	}
	var plain []string
	var rows []*autho.RecoveryCode
	if !before.Any() {
		plain, rows = newRecoveryCodes(u.ID, now)
	}
	e, err := audit(by, now, autho.AuditMFAAdd, u.AccountID, u.ID, passkeyTarget(u, p))
	if err != nil {
		return nil, err
	}
	if err := s.Store.CreatePasskey(ctx, p, rows, e); err != nil {
		return nil, storeErr(err, "add passkey", nil)
	}
	return plain, nil
}

// passkeyTarget names the user and the factor in an audit event: the
// event has no detail of its own, so the kind of factor goes with the
// name.
func passkeyTarget(u *autho.User, p *autho.Passkey) string {
	return u.Email + " (passkey “" + p.Name + "”)"
}

// RemovePasskey removes one of the user's passkeys; with no other factor
// left, the recovery codes go with it.
func (s *Service) RemovePasskey(ctx context.Context, by autho.Actor, userID, id string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	fs, err := s.Factors(ctx, u.ID)
	if err != nil {
		return err
	}
	var p *autho.Passkey
	for _, q := range fs.Passkeys {
		if q.ID == id {
			p = q
		}
	}
	if p == nil {
		return notFound("", "You have no such passkey; it may have been removed already.")
	}
	e, err := audit(by, s.now(), autho.AuditMFARemove, u.AccountID, u.ID, passkeyTarget(u, p))
	if err != nil {
		return err
	}
	last := fs.TOTP == nil && len(fs.Passkeys) == 1
	ok, err := s.Store.DeletePasskey(ctx, u.ID, p.ID, last, e)
	if err != nil {
		return storeErr(err, "remove passkey", nil)
	}
	if !ok {
		return notFound("", "You have no such passkey; it may have been removed already.")
	}
	return nil
}

// BeginPasskeySignIn starts a passwordless sign-in: a discoverable
// ceremony, bound to nothing but the cookie its id goes into.
func (s *Service) BeginPasskeySignIn(ctx context.Context) (*PasskeyCeremony, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	opts, sd, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, errors.New("admin: cannot begin a passkey sign-in")
	}
	return s.beginCeremony(ctx, autho.CeremonySignIn, "", nil, "", sd, opts, s.now())
}

// PasskeySignInRequest is the browser's answer to a passwordless sign-in.
type PasskeySignInRequest struct {
	Ceremony string // the ceremony's cookie
	Answer   []byte // the PublicKeyCredential as JSON
	IP       string
	Replaces string // the session id the browser brought along, as SignInRequest's
}

// FinishPasskeySignIn signs in with a passkey alone. The passkey names its
// user; the attempt is reserved through the sign-in throttle under that
// user's keys before the signature is checked, and a failed one stays
// counted, like a wrong password. A passkey is a factor, so the session
// starts inside its step-up window. The user's state is checked as for a
// password (signIn).
func (s *Service) FinishPasskeySignIn(ctx context.Context, req PasskeySignInRequest) (*SignInResult, error) {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	_, sd, err := s.takeCeremony(ctx, req.Ceremony, autho.CeremonySignIn, "", nil, now)
	if err != nil {
		return nil, err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(req.Answer)
	if err != nil {
		return nil, unreadableAnswer
	}
	p, err := s.Store.PasskeyByCredentialID(ctx, parsed.RawID)
	if errors.Is(err, autho.ErrNotFound) {
		// Nobody to count it for but the address.
		keys := keysFor("", req.IP)
		th, _, err := s.reserve(ctx, keys, now)
		if err != nil {
			return nil, err
		}
		if th.wait > 0 {
			return nil, th.refused()
		}
		return nil, unknownPasskey
	}
	if err != nil {
		return nil, storeErr(err, "read passkey", nil)
	}
	u, err := s.Store.User(ctx, p.UserID)
	if err != nil {
		return nil, storeErr(err, "read user", nil)
	}
	keys := keysFor(u.Email, req.IP)
	th, attempt, err := s.reserve(ctx, keys, now)
	if err != nil {
		return nil, err
	}
	if th.wait > 0 {
		return nil, th.refused()
	}
	by := autho.UserActor(u, req.IP)
	_, cred, err := rp.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
		if string(userHandle) != u.ID || !bytes.Equal(rawID, p.CredentialID) {
			return nil, errors.New("the passkey is not of the user it names")
		}
		return newPasskeyUser(u, []*autho.Passkey{p}), nil
	}, *sd, parsed)
	if err != nil {
		s.auditAlone(ctx, by, now, autho.AuditLoginPasskeyFailed, u.AccountID, "")
		if th.emailLimited > 0 {
			return nil, th.emailRefusal().refused()
		}
		return nil, wrongPasskey
	}
	s.forgive(ctx, attempt)
	if err := s.mayStartSession(ctx, by, u, now, req.Replaces); err != nil {
		return nil, err
	}
	if err := s.usedPasskey(ctx, p, cred, now); err != nil {
		return nil, err
	}
	return s.signedIn(ctx, by, u, keys, req.IP, now, now, passkeyHow(p))
}

// passkeyHow names a passkey as what signed in, in the login's audit event.
func passkeyHow(p *autho.Passkey) string { return "passkey “" + p.Name + "”" }

// usedPasskey writes back the passkey's counter and flags; a passkey
// removed while its use was checked does not sign in.
func (s *Service) usedPasskey(ctx context.Context, p *autho.Passkey, cred *webauthn.Credential, now time.Time) error {
	if cred.Authenticator.CloneWarning {
		s.log().Warn("portal: a passkey's counter went back: it may have been copied", "passkey", p.ID, "user", p.UserID)
	}
	ok, err := s.Store.UsePasskey(ctx, p.ID, cred.Authenticator.SignCount, cred.Flags.MsgpByte(), now)
	if err != nil {
		return storeErr(err, "record the passkey's use", nil)
	}
	if !ok {
		return unknownPasskey
	}
	return nil
}

// BeginPasskeySecondFactor starts using a passkey after a right password:
// the ceremony is bound to the pending sign-in and offers the user's own
// passkeys.
func (s *Service) BeginPasskeySecondFactor(ctx context.Context, pending string) (*PasskeyCeremony, error) {
	now := s.now()
	p, u, err := s.pendingUser(ctx, pending, now)
	if err != nil {
		return nil, err
	}
	return s.beginUserAssertion(ctx, autho.CeremonySecondFactor, u, p.Hash, now)
}

// PendingHasPasskey reports whether the user of a pending sign-in has a
// passkey, so that the page asking for the second factor offers it; the
// errors are PendingSignIn's.
func (s *Service) PendingHasPasskey(ctx context.Context, pending string) (bool, error) {
	_, u, err := s.pendingUser(ctx, pending, s.now())
	if err != nil {
		return false, err
	}
	ps, err := s.Store.Passkeys(ctx, u.ID)
	if err != nil {
		return false, storeErr(err, "read passkeys", nil)
	}
	return len(ps) > 0, nil
}

// BeginPasskeyStepUp starts using a passkey again before a sensitive
// action; the ceremony is bound to the session.
func (s *Service) BeginPasskeyStepUp(ctx context.Context, ses *autho.Session, u *autho.User) (*PasskeyCeremony, error) {
	return s.beginUserAssertion(ctx, autho.CeremonyStepUp, u, ses.Hash, s.now())
}

func (s *Service) beginUserAssertion(ctx context.Context, kind autho.CeremonyKind, u *autho.User, bound []byte, now time.Time) (*PasskeyCeremony, error) {
	rp, ps, err := s.passkeysOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, notFound("", "You have no passkey. Use the code from your authenticator app, or a recovery code.")
	}
	opts, sd, err := rp.BeginLogin(newPasskeyUser(u, ps), webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, errors.New("admin: cannot begin a passkey assertion")
	}
	return s.beginCeremony(ctx, kind, u.ID, bound, "", sd, opts, now)
}

// checkUserAssertion checks answer against the user's passkeys and the
// ceremony's session data, records the use and returns the passkey used.
// None is a failed attempt (counted); err is an error of ours or a
// malformed answer (not counted).
func (s *Service) checkUserAssertion(ctx context.Context, u *autho.User, sd *webauthn.SessionData, answer []byte, now time.Time) (*autho.Passkey, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return nil, unreadableAnswer
	}
	rp, ps, err := s.passkeysOf(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var p *autho.Passkey
	for _, q := range ps {
		if bytes.Equal(q.CredentialID, parsed.RawID) {
			p = q
		}
	}
	if p == nil {
		return nil, nil
	}
	cred, err := rp.ValidateLogin(newPasskeyUser(u, ps), *sd, parsed)
	if err != nil {
		return nil, nil
	}
	if err := s.usedPasskey(ctx, p, cred, now); err != nil {
		if isAdminError(err) {
			return nil, nil
		}
		return nil, err
	}
	return p, nil
}

// FinishPasskeySecondFactor finishes a pending sign-in with a passkey of
// its user, as CompleteSignIn does with a code: the same throttle and
// keys, the ceremony and the pending sign-in each taken once.
func (s *Service) FinishPasskeySecondFactor(ctx context.Context, pending, ceremony string, answer []byte, ip string) (*SignInResult, error) {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	p, u, err := s.pendingUser(ctx, pending, now)
	if err != nil {
		return nil, err
	}
	_, sd, err := s.takeCeremony(ctx, ceremony, autho.CeremonySecondFactor, u.ID, p.Hash, now)
	if err != nil {
		return nil, err
	}
	keys := keysFor(u.Email, ip)
	attempt, err := s.reserveFactor(ctx, keys, now)
	if err != nil {
		return nil, err
	}
	by := autho.UserActor(u, ip)
	pk, err := s.checkUserAssertion(ctx, u, sd, answer, now)
	if err != nil {
		s.forgive(ctx, attempt)
		return nil, err
	}
	if pk == nil {
		s.auditAlone(ctx, by, now, autho.AuditLoginSecondFailed, u.AccountID, "")
		return nil, wrongPasskey
	}
	s.forgive(ctx, attempt)
	return s.finishPending(ctx, by, u, p, keys, ip, now, passkeyHow(pk))
}

// FinishPasskeyStepUp takes a passkey of the user signed in with ses as
// StepUp takes a code.
func (s *Service) FinishPasskeyStepUp(ctx context.Context, ses *autho.Session, u *autho.User, ip, ceremony string, answer []byte) error {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	_, sd, err := s.takeCeremony(ctx, ceremony, autho.CeremonyStepUp, u.ID, ses.Hash, now)
	if err != nil {
		return err
	}
	keys := keysFor(u.Email, ip)
	attempt, err := s.reserveFactor(ctx, keys, now)
	if err != nil {
		return err
	}
	by := autho.UserActor(u, ip)
	pk, err := s.checkUserAssertion(ctx, u, sd, answer, now)
	if err != nil {
		s.forgive(ctx, attempt)
		return err
	}
	if pk == nil {
		s.auditAlone(ctx, by, now, autho.AuditStepUpFailed, u.AccountID, "")
		return wrongPasskey
	}
	s.forgive(ctx, attempt)
	return s.steppedUp(ctx, by, ses, u, keys, now)
}
