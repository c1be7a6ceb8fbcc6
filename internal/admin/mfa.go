package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// Second factors: a TOTP authenticator app (RFC 6238: SHA-1, 6 digits, 30 s,
// what every app expects) and the recovery codes that stand in for a lost
// one. A factor counts once one code from it has been entered; a code is
// accepted once (the store advances the factor's last used step in one
// statement, so a replay fails on every node); wrong codes at sign-in are
// throttled like wrong passwords, under the same keys.

const (
	// totpPeriod and the window: codes of the current step and of one
	// step either side are accepted, for clocks a little off.
	totpPeriod = 30 * time.Second
	totpSkew   = 1
	// PendingSignInTimeout is how long a right password waits for its
	// second factor.
	PendingSignInTimeout = 5 * time.Minute
	// RecoveryCodeCount codes are made at once.
	RecoveryCodeCount = 10
	// DefaultTOTPIssuer names the service in authenticator apps when
	// Service.TOTPIssuer is empty.
	DefaultTOTPIssuer = "autho"
)

var totpOpts = totp.ValidateOpts{Period: uint(totpPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// ErrWrongCode marks a second-factor code that is not right: wrong, used
// already, or of another step.
var ErrWrongCode = errors.New("wrong code")

// ErrSignInExpired marks a pending sign-in that opens nothing (any more):
// too old, finished already, or its user changed.
var ErrSignInExpired = errors.New("sign-in expired")

var (
	wrongCode = &Error{Field: "code", kind: ErrWrongCode,
		Message: "That code is not right. Enter the 6-digit code your authenticator app shows now, or one of your recovery codes."}
	signInExpired = &Error{kind: ErrSignInExpired,
		Message: "This sign-in has expired or was finished already. Sign in again with your password."}
)

// Factors is what second factors a user has: an authenticator app and
// passkeys. Only confirmed factors count (a passkey is stored only once its
// registration checked out).
type Factors struct {
	TOTP     *autho.TOTPFactor // nil: none (or its enrollment is unfinished)
	Passkeys []*autho.Passkey  // oldest first
	// RecoveryLeft of RecoveryTotal recovery codes are unused.
	RecoveryLeft, RecoveryTotal int
}

// Any reports whether the user has a factor, so that sign-in asks for it.
func (f Factors) Any() bool { return f.TOTP != nil || len(f.Passkeys) > 0 }

// Factors reads the user's second factors.
func (s *Service) Factors(ctx context.Context, userID string) (Factors, error) {
	var fs Factors
	f, err := s.Store.TOTP(ctx, userID)
	switch {
	case err == nil && f.Confirmed():
		fs.TOTP = f
	case err != nil && !errors.Is(err, autho.ErrNotFound):
		return fs, storeErr(err, "read second factors", nil)
	}
	if fs.Passkeys, err = s.Store.Passkeys(ctx, userID); err != nil {
		return fs, storeErr(err, "read passkeys", nil)
	}
	codes, err := s.Store.RecoveryCodes(ctx, userID)
	if err != nil {
		return fs, storeErr(err, "read recovery codes", nil)
	}
	fs.RecoveryTotal = len(codes)
	for _, c := range codes {
		if c.UsedAt.IsZero() {
			fs.RecoveryLeft++
		}
	}
	return fs, nil
}

// MustEnroll reports whether u, of account a, must add a second factor
// before reaching anything else of the portal: a factor is required (by
// the operator for everyone, or by the account's admins) and u has none.
// It is the one place this is decided; the portal asks it on every page.
// Factors are read only when one is required.
func (s *Service) MustEnroll(ctx context.Context, u *autho.User, a *autho.Account) (bool, error) {
	if !s.RequireMFA && !a.MFARequired {
		return false, nil
	}
	fs, err := s.Factors(ctx, u.ID)
	if err != nil {
		return false, err
	}
	return !fs.Any(), nil
}

// TOTPEnrollment is what an authenticator app is given: the secret as
// base32 text and as an otpauth:// URI (which the QR code holds).
type TOTPEnrollment struct {
	key *otp.Key
}

// Secret is the base32 secret, as an app's "enter a key" field takes it.
func (e *TOTPEnrollment) Secret() string { return e.key.Secret() }

// URI is the otpauth://totp/… URI.
func (e *TOTPEnrollment) URI() string { return e.key.URL() }

// QRCode renders the URI as a PNG of size × size pixels.
func (e *TOTPEnrollment) QRCode(size int) ([]byte, error) {
	img, err := e.key.Image(size, size)
	if err != nil {
		return nil, errors.New("admin: cannot draw the QR code")
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, errors.New("admin: cannot encode the QR code")
	}
	return b.Bytes(), nil
}

func (s *Service) enrollment(u *autho.User, raw []byte) (*TOTPEnrollment, error) {
	issuer := s.TOTPIssuer
	if issuer == "" {
		issuer = DefaultTOTPIssuer
	}
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Email, Period: totpOpts.Period,
		Secret: raw, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm, Rand: rand.Reader})
	if err != nil {
		return nil, errors.New("admin: cannot make a TOTP key")
	}
	return &TOTPEnrollment{key: k}, nil
}

// BeginTOTP starts adding an authenticator app: a new secret, sealed and
// stored unconfirmed (replacing an unfinished enrollment), which counts
// only once ConfirmTOTP has seen a code from it. A user with one already
// must remove it first.
func (s *Service) BeginTOTP(ctx context.Context, by autho.Actor, userID string) (*TOTPEnrollment, error) {
	if s.Sealer == nil {
		return nil, errors.New("admin: second factors need the master key's sealer")
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 20) // RFC 4226's recommended 160 bits
	rand.Read(raw)
	e, err := s.enrollment(u, raw)
	if err != nil {
		return nil, err
	}
	f := &autho.TOTPFactor{ID: secret.NewID("mfa"), UserID: u.ID, CreatedAt: s.now()}
	f.SealedSecret = s.Sealer.Seal(f.ID, raw)
	err = s.Store.CreateTOTP(ctx, f)
	if errors.Is(err, autho.ErrConflict) {
		return nil, conflict("", "You already have an authenticator app. Remove it first to add another.")
	}
	if err != nil {
		return nil, storeErr(err, "start TOTP enrollment", nil)
	}
	return e, nil
}

// PendingTOTP is the user's unfinished enrollment, to show again (the QR
// code, the page after a wrong code); none is ErrNotFound.
func (s *Service) PendingTOTP(ctx context.Context, userID string) (*TOTPEnrollment, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	f, raw, err := s.openTOTP(ctx, userID)
	if err != nil {
		return nil, err
	}
	if f.Confirmed() {
		return nil, notFound("", "There is no authenticator app being added.")
	}
	return s.enrollment(u, raw)
}

// openTOTP reads the user's factor and its secret.
func (s *Service) openTOTP(ctx context.Context, userID string) (*autho.TOTPFactor, []byte, error) {
	if s.Sealer == nil {
		return nil, nil, errors.New("admin: second factors need the master key's sealer")
	}
	f, err := s.Store.TOTP(ctx, userID)
	if err != nil {
		return nil, nil, storeErr(err, "read TOTP factor", notFound("", "There is no authenticator app being added."))
	}
	raw, err := s.Sealer.Open(f.ID, f.SealedSecret)
	if err != nil {
		// The error names the factor, never the secret.
		return nil, nil, errors.New("admin: cannot open the TOTP secret of factor " + f.ID + " with this master key")
	}
	return f, raw, nil
}

// matchTOTP returns the step, within the window and after the last used
// one, whose code is code; 0 when none is.
func matchTOTP(raw []byte, code string, now time.Time, after int64) int64 {
	if len(code) != 6 {
		return 0
	}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	cur := now.Unix() / int64(totpPeriod/time.Second)
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		if step <= after {
			continue
		}
		want, err := totp.GenerateCodeCustom(b32, time.Unix(step*int64(totpPeriod/time.Second), 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step
		}
	}
	return 0
}

// ConfirmTOTP finishes adding the authenticator app with a code from it;
// the factor counts from now on, and that code's step is used. On the
// user's first factor it makes their recovery codes, returned this once.
func (s *Service) ConfirmTOTP(ctx context.Context, by autho.Actor, userID, code string) ([]string, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	f, raw, err := s.openTOTP(ctx, userID)
	if err != nil {
		return nil, err
	}
	if f.Confirmed() {
		return nil, conflict("", "Your authenticator app was added already.")
	}
	now := s.now()
	step := matchTOTP(raw, normalizeCode(code), now, f.LastStep)
	if step == 0 {
		return nil, invalid("code", "That code is not right. Enter the 6-digit code the app shows now; if it keeps failing, check that your phone's clock is set automatically.")
	}
	before, err := s.Factors(ctx, userID)
	if err != nil {
		return nil, err
	}
	var plain []string
	var rows []*autho.RecoveryCode
	if !before.Any() {
		plain, rows = newRecoveryCodes(u.ID, now)
	}
	e, err := audit(by, now, autho.AuditMFAAdd, u.AccountID, u.ID, u.Email)
	if err != nil {
		return nil, err
	}
	if err := s.Store.ConfirmTOTP(ctx, f.ID, now, step, rows, e); err != nil {
		return nil, storeErr(err, "confirm TOTP factor", notFound("", "This enrollment was replaced by a newer one. Use the newest code shown."))
	}
	return plain, nil
}

// RemoveTOTP removes the user's authenticator app; with no other factor
// left, the recovery codes go with it.
func (s *Service) RemoveTOTP(ctx context.Context, by autho.Actor, userID string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	ps, err := s.Store.Passkeys(ctx, u.ID)
	if err != nil {
		return storeErr(err, "read passkeys", nil)
	}
	e, err := audit(by, s.now(), autho.AuditMFARemove, u.AccountID, u.ID, u.Email)
	if err != nil {
		return err
	}
	// Passkeys keep the codes: only the last factor's removal takes them.
	ok, err := s.Store.DeleteTOTP(ctx, u.ID, len(ps) == 0, e)
	if err != nil {
		return storeErr(err, "remove TOTP factor", nil)
	}
	if !ok {
		return notFound("", "You have no authenticator app to remove.")
	}
	return nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes, voiding the
// old ones, and returns the new ones this once. Only a user with a factor
// has codes.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, by autho.Actor, userID string) ([]string, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	fs, err := s.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !fs.Any() {
		return nil, forbidden("", "Recovery codes stand in for a second factor: add an authenticator app or a passkey first.")
	}
	now := s.now()
	plain, rows := newRecoveryCodes(u.ID, now)
	e, err := audit(by, now, autho.AuditRecoveryCodesRenew, u.AccountID, u.ID, u.Email)
	if err != nil {
		return nil, err
	}
	if err := s.Store.ReplaceRecoveryCodes(ctx, u.ID, rows, e); err != nil {
		return nil, storeErr(err, "replace recovery codes", nil)
	}
	return plain, nil
}

// ResetMFA clears every second factor and recovery code of the user (the
// operator helping someone who lost their phone and their codes), and
// returns how many it removed; clearing nothing records nothing.
func (s *Service) ResetMFA(ctx context.Context, by autho.Actor, userID string) (int, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return 0, err
	}
	e, err := audit(by, s.now(), autho.AuditMFAReset, u.AccountID, u.ID, u.Email)
	if err != nil {
		return 0, err
	}
	n, err := s.Store.DeleteMFA(ctx, u.ID, e)
	if err != nil {
		return 0, storeErr(err, "reset second factors", nil)
	}
	return n, nil
}

// recoveryAlphabet has no 0/o, 1/l/i: codes are read off paper.
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// newRecoveryCodes makes RecoveryCodeCount codes of 12 characters (about
// 59 bits each), shown as xxxx-xxxx-xxxx, and their rows.
func newRecoveryCodes(userID string, now time.Time) ([]string, []*autho.RecoveryCode) {
	plain := make([]string, RecoveryCodeCount)
	rows := make([]*autho.RecoveryCode, RecoveryCodeCount)
	for i := range plain {
		b := make([]byte, 12)
		for j := range b {
			b[j] = recoveryAlphabet[randIntn(len(recoveryAlphabet))]
		}
		plain[i] = string(b[:4]) + "-" + string(b[4:8]) + "-" + string(b[8:])
		rows[i] = &autho.RecoveryCode{UserID: userID, Hash: hashRecoveryCode(string(b)), CreatedAt: now}
	}
	return plain, rows
}

// randIntn is uniform in [0, n) from crypto/rand, by rejection.
func randIntn(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// normalizeCode is a code as typed, without the spaces and dashes people
// add or copy along, in lower case.
func normalizeCode(code string) string {
	if len(code) > 64 {
		return ""
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, code)
}

func hashRecoveryCode(normalized string) []byte {
	h := sha256.Sum256([]byte("autho recovery code\x00" + normalized))
	return h[:]
}

// isRecoveryShaped reports whether a normalised code could be a recovery
// code, so that a TOTP code is never hashed and looked up as one.
func isRecoveryShaped(code string) bool {
	if len(code) != 12 {
		return false
	}
	for i := 0; i < len(code); i++ {
		if !strings.ContainsRune(recoveryAlphabet, rune(code[i])) {
			return false
		}
	}
	return true
}
