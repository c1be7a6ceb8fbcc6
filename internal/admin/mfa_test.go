package admin_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/signer"
)

// mfaFixture is a fixture whose service seals TOTP secrets, with one user
// who knows their password.
type mfaFixture struct {
	*fixture
	u      *autho.User
	pw     string
	secret string
}

const mfaPassword = "correct horse battery staple"

func newMFAFixture(t *testing.T) *mfaFixture {
	t.Helper()
	f := newFixture(t)
	sealer, err := signer.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Sealer = sealer
	a, _ := f.mustAccount(t, "Acme")
	u, _, err := f.svc.CreateUser(t.Context(), autho.OperatorCLI, a.ID, "dev@acme.example", autho.RoleMember, mfaPassword)
	if err != nil {
		t.Fatal(err)
	}
	return &mfaFixture{fixture: f, u: u, pw: mfaPassword}
}

// codeAt is the TOTP code of the fixture's secret at t.
func (f *mfaFixture) codeAt(t *testing.T, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(f.secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enroll adds an authenticator app, confirmed with the code of now, and
// returns the recovery codes.
func (f *mfaFixture) enroll(t *testing.T) []string {
	t.Helper()
	e, err := f.svc.BeginTOTP(t.Context(), autho.UserActor(f.u, "192.0.2.1"), f.u.ID)
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	f.secret = e.Secret()
	codes, err := f.svc.ConfirmTOTP(t.Context(), autho.UserActor(f.u, "192.0.2.1"), f.u.ID, f.codeAt(t, f.now))
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	return codes
}

// pending signs in with the password and returns the pending sign-in.
func (f *mfaFixture) pending(t *testing.T) string {
	t.Helper()
	res, err := f.svc.SignIn(t.Context(), admin.SignInRequest{Email: f.u.Email, Password: f.pw, IP: "192.0.2.1"})
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if res.Session != "" || res.Pending == "" {
		t.Fatalf("SignIn of a user with a factor: session %v, pending %v; want only a pending sign-in", res.Session != "", res.Pending != "")
	}
	return res.Pending
}

func (f *mfaFixture) actions(t *testing.T) []autho.AuditAction {
	t.Helper()
	es, err := f.store.AuditEvents(t.Context(), autho.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var as []autho.AuditAction
	for i := len(es) - 1; i >= 0; i-- {
		as = append(as, es[i].Action)
	}
	return as
}

func TestConfirmTOTP(t *testing.T) {
	cases := []struct {
		name   string
		offset time.Duration // of the code's time from now
		typed  func(string) string
		ok     bool
	}{
		{"code of now", 0, nil, true},
		{"code of the step before", -30 * time.Second, nil, true},
		{"code of the step after", 30 * time.Second, nil, true},
		{"code two steps old", -60 * time.Second, nil, false},
		{"code two steps ahead", 60 * time.Second, nil, false},
		{"typed with a space", 0, func(c string) string { return c[:3] + " " + c[3:] }, true},
		{"one digit off", 0, func(c string) string { return c[:5] + string('0'+(c[5]-'0'+1)%10) }, false},
		{"empty", 0, func(string) string { return "" }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newMFAFixture(t)
			by := autho.UserActor(f.u, "192.0.2.1")
			e, err := f.svc.BeginTOTP(t.Context(), by, f.u.ID)
			if err != nil {
				t.Fatal(err)
			}
			f.secret = e.Secret()
			if !strings.HasPrefix(e.URI(), "otpauth://totp/") || !strings.Contains(e.URI(), "secret="+f.secret) {
				t.Errorf("URI %q does not carry the secret", e.URI())
			}
			if fs, _ := f.svc.Factors(t.Context(), f.u.ID); fs.Any() {
				t.Error("an unconfirmed factor counts")
			}
			code := f.codeAt(t, f.now.Add(c.offset))
			if c.typed != nil {
				code = c.typed(code)
			}
			codes, err := f.svc.ConfirmTOTP(t.Context(), by, f.u.ID, code)
			if !c.ok {
				wantInputError(t, err, "not right", nil)
				if fs, _ := f.svc.Factors(t.Context(), f.u.ID); fs.Any() {
					t.Error("a wrong code confirmed the factor")
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfirmTOTP: %v", err)
			}
			if len(codes) != admin.RecoveryCodeCount {
				t.Errorf("%d recovery codes, want %d", len(codes), admin.RecoveryCodeCount)
			}
			fs, err := f.svc.Factors(t.Context(), f.u.ID)
			if err != nil || !fs.Any() || fs.RecoveryLeft != 10 {
				t.Errorf("Factors = %+v, %v; want TOTP on and 10 codes", fs, err)
			}
			if got := f.actions(t); len(got) != 3 || !contains(got, autho.AuditMFAAdd) {
				t.Errorf("audit %v, want the account's and the user's creation and %s", got, autho.AuditMFAAdd)
			}
		})
	}
}

func TestBeginTOTP_again(t *testing.T) {
	f := newMFAFixture(t)
	f.enroll(t)
	_, err := f.svc.BeginTOTP(t.Context(), autho.UserActor(f.u, ""), f.u.ID)
	wantInputError(t, err, "already", autho.ErrConflict)
	f.svc.Sealer = nil
	if _, err := f.svc.BeginTOTP(t.Context(), autho.UserActor(f.u, ""), f.u.ID); err == nil {
		t.Error("BeginTOTP without a sealer worked")
	}
}

// TestCompleteSignIn runs one sign-in story step by step: each step signs
// in with the password, then gives a code at a time.
func TestCompleteSignIn(t *testing.T) {
	f := newMFAFixture(t)
	codes := f.enroll(t)
	enrolled := f.now
	steps := []struct {
		name  string
		at    time.Duration // after the enrollment
		code  func() string
		want  error // nil: signed in
		after time.Duration
	}{
		{"the enrollment's own code again", 5 * time.Second, func() string { return f.codeAt(t, enrolled) }, admin.ErrWrongCode, 0},
		{"the next step's code", 30 * time.Second, func() string { return f.codeAt(t, enrolled.Add(30*time.Second)) }, nil, 0},
		{"the same code again (a replay)", 40 * time.Second, func() string { return f.codeAt(t, enrolled.Add(30*time.Second)) }, admin.ErrWrongCode, 0},
		{"an older step's code within the window", 60 * time.Second, func() string { return f.codeAt(t, enrolled.Add(30*time.Second)) }, admin.ErrWrongCode, 0},
		{"a later code", 90 * time.Second, func() string { return f.codeAt(t, enrolled.Add(90*time.Second)) }, nil, 0},
		{"a recovery code", 100 * time.Second, func() string { return codes[0] }, nil, 0},
		{"the same recovery code again", 110 * time.Second, func() string { return codes[0] }, admin.ErrWrongCode, 0},
		{"a recovery code typed loosely", 120 * time.Second, func() string { return " " + strings.ToUpper(strings.ReplaceAll(codes[1], "-", " ")) }, nil, 0},
		{"a made-up recovery code", 130 * time.Second, func() string { return "abcd-efgh-jkmn" }, admin.ErrWrongCode, 0},
		{"a right code after five minutes", 150 * time.Second, func() string { return f.codeAt(t, enrolled.Add(150*time.Second+admin.PendingSignInTimeout)) }, admin.ErrSignInExpired, admin.PendingSignInTimeout},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			f.now = enrolled.Add(s.at)
			// The failures of earlier steps must not throttle this one.
			if err := f.store.ClearLoginFailures(t.Context(), nil); err != nil {
				t.Fatal(err)
			}
			p := f.pending(t)
			f.now = f.now.Add(s.after)
			code := s.code()
			res, err := f.svc.CompleteSignIn(t.Context(), admin.CompleteSignInRequest{Pending: p, Code: code, IP: "192.0.2.1"})
			if s.want != nil {
				if !errors.Is(err, s.want) {
					t.Fatalf("CompleteSignIn = %v, want %v", err, s.want)
				}
				if strings.Contains(err.Error(), normalized(code)) || strings.Contains(err.Error(), f.secret) {
					t.Errorf("error %q quotes the code or the secret", err)
				}
				return
			}
			if err != nil || res.Session == "" {
				t.Fatalf("CompleteSignIn = %v, %v; want a session", res, err)
			}
			if v, err := f.svc.Session(t.Context(), res.Session); err != nil || v.User.ID != f.u.ID {
				t.Fatalf("the session opens %v, %v", v, err)
			}
			// The pending sign-in is spent.
			_, err = f.svc.CompleteSignIn(t.Context(), admin.CompleteSignInRequest{Pending: p, Code: f.codeAt(t, f.now.Add(30*time.Second)), IP: "192.0.2.1"})
			if !errors.Is(err, admin.ErrSignInExpired) {
				t.Errorf("a pending sign-in used twice: %v", err)
			}
		})
	}
	// What the log says, and that no field of it holds a secret.
	es, _ := f.store.AuditEvents(t.Context(), autho.AuditFilter{})
	count := map[autho.AuditAction]int{}
	for _, e := range es {
		count[e.Action]++
		for _, field := range []string{e.TargetID, e.TargetName, e.ActorID, e.ActorEmail, e.IP} {
			if strings.Contains(field, f.secret) || strings.Contains(field, codes[0]) {
				t.Errorf("audit event %s holds a secret", e.Action)
			}
		}
	}
	if count[autho.AuditRecoveryCodeUsed] != 2 || count[autho.AuditLogin] != 4 || count[autho.AuditLoginSecondFailed] != 5 {
		t.Errorf("audit counts %v; want 2 recovery codes used, 4 sign-ins, 5 wrong codes", count)
	}
}

func normalized(code string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(code))
}

// Wrong codes are throttled like wrong passwords, and the right password
// does not reset their count.
func TestCompleteSignIn_throttle(t *testing.T) {
	f := newMFAFixture(t)
	f.enroll(t)
	f.now = f.now.Add(time.Minute)
	wrong := 0
	// One pending sign-in takes many tries: only a right code ends it.
	p := f.pending(t)
	for i := range 8 {
		_, err := f.svc.CompleteSignIn(t.Context(), admin.CompleteSignInRequest{Pending: p, Code: "000000", IP: "192.0.2.1"})
		switch {
		case errors.Is(err, admin.ErrWrongCode):
			wrong++
		case errors.Is(err, admin.ErrThrottled):
			if i < 5 {
				t.Fatalf("throttled after %d wrong codes, want 5 free", i)
			}
		default:
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if wrong != 5 {
		t.Errorf("%d wrong codes checked, want 5", wrong)
	}
	// Even the right code waits now, and so does the right password.
	_, err := f.svc.CompleteSignIn(t.Context(), admin.CompleteSignInRequest{Pending: p, Code: f.codeAt(t, f.now), IP: "192.0.2.1"})
	if !errors.Is(err, admin.ErrThrottled) {
		t.Errorf("the right code while throttled: %v, want ErrThrottled", err)
	}
	_, err = f.svc.SignIn(t.Context(), admin.SignInRequest{Email: f.u.Email, Password: f.pw, IP: "192.0.2.1"})
	if !errors.Is(err, admin.ErrThrottled) {
		t.Errorf("the right password after 5 wrong codes: %v, want ErrThrottled", err)
	}
	// Once the wait is over, the right code signs in.
	f.now = f.now.Add(15 * time.Minute)
	res, err := f.svc.CompleteSignIn(t.Context(), admin.CompleteSignInRequest{Pending: f.pending(t), Code: f.codeAt(t, f.now), IP: "192.0.2.1"})
	if err != nil || res.Session == "" {
		t.Errorf("the right code after the wait: %v", err)
	}
}

func TestRecoveryCodes_regenerate(t *testing.T) {
	f := newMFAFixture(t)
	old := f.enroll(t)
	by := autho.UserActor(f.u, "192.0.2.1")
	fresh, err := f.svc.RegenerateRecoveryCodes(t.Context(), by, f.u.ID)
	if err != nil || len(fresh) != 10 {
		t.Fatalf("RegenerateRecoveryCodes = %d codes, %v", len(fresh), err)
	}
	for _, c := range []struct {
		code string
		want error
	}{{old[3], admin.ErrWrongCode}, {fresh[3], nil}} {
		_, err := f.svc.CompleteSignIn(t.Context(), admin.CompleteSignInRequest{Pending: f.pending(t), Code: c.code, IP: "192.0.2.1"})
		if !errors.Is(err, c.want) {
			t.Errorf("code %s: %v, want %v", c.code[:4]+"…", err, c.want)
		}
	}
	if got := f.actions(t); !contains(got, autho.AuditRecoveryCodesRenew) {
		t.Errorf("audit %v lacks %s", got, autho.AuditRecoveryCodesRenew)
	}
}

func TestRemoveTOTP(t *testing.T) {
	f := newMFAFixture(t)
	f.enroll(t)
	by := autho.UserActor(f.u, "192.0.2.1")
	if err := f.svc.RemoveTOTP(t.Context(), by, f.u.ID); err != nil {
		t.Fatal(err)
	}
	wantInputError(t, f.svc.RemoveTOTP(t.Context(), by, f.u.ID), "no authenticator app", autho.ErrNotFound)
	res, err := f.svc.SignIn(t.Context(), admin.SignInRequest{Email: f.u.Email, Password: f.pw, IP: "192.0.2.1"})
	if err != nil || res.Session == "" {
		t.Fatalf("SignIn after removing the factor: %v, session %v", err, res != nil && res.Session != "")
	}
	if fs, _ := f.svc.Factors(t.Context(), f.u.ID); fs.Any() || fs.RecoveryTotal != 0 {
		t.Errorf("Factors after removal: %+v", fs)
	}
	_, err = f.svc.RegenerateRecoveryCodes(t.Context(), by, f.u.ID)
	wantInputError(t, err, "add an authenticator app or a passkey first", admin.ErrForbidden)
}

func TestResetMFA(t *testing.T) {
	f := newMFAFixture(t)
	f.enroll(t)
	p := f.pending(t)
	n, err := f.svc.ResetMFA(t.Context(), autho.OperatorCLI, f.u.ID)
	if err != nil || n != 11 {
		t.Fatalf("ResetMFA = %d, %v; want 11 (a factor, ten codes)", n, err)
	}
	_, err = f.svc.CompleteSignIn(t.Context(), admin.CompleteSignInRequest{Pending: p, Code: f.codeAt(t, f.now.Add(30*time.Second)), IP: "192.0.2.1"})
	if !errors.Is(err, admin.ErrSignInExpired) {
		t.Errorf("a pending sign-in outlived the reset: %v", err)
	}
	if n, _ := f.svc.ResetMFA(t.Context(), autho.OperatorCLI, f.u.ID); n != 0 {
		t.Errorf("second reset cleared %d", n)
	}
	es, _ := f.store.AuditEvents(t.Context(), autho.AuditFilter{})
	resets := 0
	for _, e := range es {
		if e.Action == autho.AuditMFAReset {
			resets++
			if name, ok := e.ByOperator(); !ok || name != "cli" || e.TargetID != f.u.ID {
				t.Errorf("reset event by %q for %q, want the operator's CLI for the user", e.ActorID, e.TargetID)
			}
		}
	}
	if resets != 1 {
		t.Errorf("%d reset events, want 1", resets)
	}
}

func contains(as []autho.AuditAction, a autho.AuditAction) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

func TestMustEnroll(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		global, account, factor bool
		want                    bool
	}{
		{"nothing required", false, false, false, false},
		{"nothing required, has a factor", false, false, true, false},
		{"account requires, none", false, true, false, true},
		{"account requires, has a factor", false, true, true, false},
		{"operator requires, none", true, false, false, true},
		{"operator requires, has a factor", true, false, true, false},
		{"both require, none", true, true, false, true},
		{"both require, has a factor", true, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newMFAFixture(t)
			f.svc.RequireMFA = tc.global
			if tc.factor {
				f.enroll(t)
			}
			a, err := f.svc.SetMFARequired(t.Context(), autho.OperatorCLI, f.u.AccountID, tc.account)
			if err != nil {
				t.Fatalf("SetMFARequired: %v", err)
			}
			if a.MFARequired != tc.account {
				t.Fatalf("account's MFARequired = %v, want %v", a.MFARequired, tc.account)
			}
			got, err := f.svc.MustEnroll(t.Context(), f.u, a)
			if err != nil {
				t.Fatalf("MustEnroll: %v", err)
			}
			if got != tc.want {
				t.Errorf("MustEnroll = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSetMFARequired_audit(t *testing.T) {
	f := newMFAFixture(t)
	admin := f.mustUser(t, f.u.AccountID, "boss@acme.example")
	by := autho.UserActor(admin, "192.0.2.9")
	for _, on := range []bool{true, true, false} {
		if _, err := f.svc.SetMFARequired(t.Context(), by, f.u.AccountID, on); err != nil {
			t.Fatalf("SetMFARequired(%v): %v", on, err)
		}
	}
	evs, err := f.store.AuditEvents(t.Context(), autho.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Action == autho.AuditAccountMFARequired {
			n++
			if e.ActorID != admin.ID {
				t.Errorf("event's actor %q, want the admin %q", e.ActorID, admin.ID)
			}
		}
	}
	// On, on again (no change, nothing recorded), off.
	if n != 2 {
		t.Errorf("%d %s events, want 2", n, autho.AuditAccountMFARequired)
	}
}

func TestNeedsStepUp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		factor bool
		used   time.Duration // how long before now the factor was last used; < 0: never
		want   bool
	}{
		{"no factor, never used", false, -1, false},
		{"no factor, long ago", false, time.Hour, false},
		{"factor, never used in this session", true, -1, true},
		{"factor, just now", true, 0, false},
		{"factor, within the window", true, admin.StepUpWindow - time.Second, false},
		{"factor, the window exactly", true, admin.StepUpWindow, true},
		{"factor, 16 minutes ago", true, 16 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newMFAFixture(t)
			if tc.factor {
				f.enroll(t)
			}
			ses := &autho.Session{UserID: f.u.ID}
			if tc.used >= 0 {
				ses.FactorAt = f.now.Add(-tc.used)
			}
			got, err := f.svc.NeedsStepUp(t.Context(), ses, f.u)
			if err != nil {
				t.Fatalf("NeedsStepUp: %v", err)
			}
			if got != tc.want {
				t.Errorf("NeedsStepUp = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStepUp(t *testing.T) {
	f := newMFAFixture(t)
	codes := f.enroll(t)
	f.now = f.now.Add(time.Minute)
	res, err := f.svc.CompleteSignIn(t.Context(), admin.CompleteSignInRequest{Pending: f.pending(t), Code: f.codeAt(t, f.now), IP: "192.0.2.1"})
	if err != nil {
		t.Fatalf("CompleteSignIn: %v", err)
	}
	v, err := f.svc.Session(t.Context(), res.Session)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Session.FactorAt.Equal(f.now) {
		t.Fatalf("a session signed in with a code: FactorAt %v, want %v", v.Session.FactorAt, f.now)
	}
	signedIn := f.now
	for _, step := range []struct {
		name string
		at   time.Duration // after the sign-in
		code func() string
		want error // nil: accepted
	}{
		{"a wrong code", 16 * time.Minute, func() string { return "000000" }, admin.ErrWrongCode},
		{"the sign-in's code again", 16 * time.Minute, func() string { return f.codeAt(t, signedIn) }, admin.ErrWrongCode},
		{"the right code", 16 * time.Minute, func() string { return f.codeAt(t, signedIn.Add(16*time.Minute)) }, nil},
		{"the same code again", 16*time.Minute + 10*time.Second, func() string { return f.codeAt(t, signedIn.Add(16*time.Minute)) }, admin.ErrWrongCode},
		{"a recovery code", 40 * time.Minute, func() string { return codes[0] }, nil},
	} {
		t.Run(step.name, func(t *testing.T) {
			f.now = signedIn.Add(step.at)
			err := f.svc.StepUp(t.Context(), v.Session, f.u, "192.0.2.1", step.code())
			if !errors.Is(err, step.want) || (step.want == nil) != (err == nil) {
				t.Fatalf("StepUp = %v, want %v", err, step.want)
			}
			read, err := f.store.Session(t.Context(), v.Session.Hash)
			if err != nil {
				t.Fatal(err)
			}
			if step.want == nil && !read.FactorAt.Equal(f.now) {
				t.Errorf("FactorAt %v after a right code, want %v", read.FactorAt, f.now)
			}
			if step.want != nil && read.FactorAt.Equal(f.now) {
				t.Errorf("FactorAt moved on a wrong code")
			}
		})
	}
	es, _ := f.store.AuditEvents(t.Context(), autho.AuditFilter{})
	count := map[autho.AuditAction]int{}
	for _, e := range es {
		count[e.Action]++
	}
	if count[autho.AuditStepUp] != 2 || count[autho.AuditStepUpFailed] != 3 {
		t.Errorf("audit counts %v; want 2 step-ups, 3 refused", count)
	}
}

func TestStepUp_throttle(t *testing.T) {
	f := newMFAFixture(t)
	f.enroll(t)
	ses := &autho.Session{Hash: make([]byte, 32), UserID: f.u.ID}
	var throttled bool
	for i := range 40 {
		err := f.svc.StepUp(t.Context(), ses, f.u, "192.0.2.1", "00000"+string(rune('0'+i%10)))
		if errors.Is(err, admin.ErrThrottled) {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Errorf("40 wrong step-up codes in a row were never throttled")
	}
}
