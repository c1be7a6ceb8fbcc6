package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

func newTOTP(u *autho.User, created time.Time) *autho.TOTPFactor {
	return &autho.TOTPFactor{
		ID:           secret.NewID("mfa"),
		UserID:       u.ID,
		SealedSecret: []byte("sealed \x00\xff " + secret.Random(8)),
		CreatedAt:    created,
	}
}

func newCodes(u *autho.User, n int, created time.Time) []*autho.RecoveryCode {
	var cs []*autho.RecoveryCode
	for range n {
		cs = append(cs, &autho.RecoveryCode{UserID: u.ID, Hash: secret.Hash(secret.Random(10)), CreatedAt: created})
	}
	return cs
}

// mustConfirmedTOTP stores a factor confirmed at t0 with step 100 and
// three recovery codes, and returns the factor as a read returns it.
func mustConfirmedTOTP(t *testing.T, s autho.Store, u *autho.User) (*autho.TOTPFactor, []*autho.RecoveryCode) {
	t.Helper()
	f := newTOTP(u, t0)
	wantErr(t, "CreateTOTP", s.CreateTOTP(t.Context(), f), nil)
	codes := newCodes(u, 3, t0)
	wantErr(t, "ConfirmTOTP", s.ConfirmTOTP(t.Context(), f.ID, at(time.Minute), 100, codes), nil)
	f.ConfirmedAt, f.LastStep = at(time.Minute), 100
	return f, codes
}

func mfaAudit(a *autho.Account, u *autho.User, action autho.AuditAction) *autho.AuditEvent {
	e := newAuditEvent(a, u, t0)
	e.Action, e.TargetID, e.TargetName = action, u.ID, u.Email
	return e
}

func testMFA(t *testing.T, newStore newStoreFunc) {
	t.Run("create and read a factor", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		f := newTOTP(u, t0)
		wantErr(t, "CreateTOTP", s.CreateTOTP(t.Context(), f), nil)
		got, err := s.TOTP(t.Context(), u.ID)
		wantErr(t, "TOTP", err, nil)
		check(t, "TOTP", got, f)
		if got.Confirmed() {
			t.Error("a new factor is confirmed")
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		s := newStore(t)
		_, err := s.TOTP(t.Context(), "usr_nobody")
		wantErr(t, "TOTP", err, autho.ErrNotFound)
		err = s.CreateTOTP(t.Context(), newTOTP(&autho.User{ID: "usr_nobody"}, t0))
		wantErr(t, "CreateTOTP", err, autho.ErrNotFound)
	})
	t.Run("a new enrollment replaces an unconfirmed one, not a confirmed one", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		wantErr(t, "CreateTOTP", s.CreateTOTP(t.Context(), newTOTP(u, t0)), nil)
		second := newTOTP(u, at(time.Minute))
		wantErr(t, "CreateTOTP again", s.CreateTOTP(t.Context(), second), nil)
		got, err := s.TOTP(t.Context(), u.ID)
		wantErr(t, "TOTP", err, nil)
		check(t, "TOTP", got, second)
		wantErr(t, "ConfirmTOTP", s.ConfirmTOTP(t.Context(), second.ID, at(2*time.Minute), 7, nil), nil)
		err = s.CreateTOTP(t.Context(), newTOTP(u, at(3*time.Minute)))
		wantErr(t, "CreateTOTP over a confirmed one", err, autho.ErrConflict)
		got, _ = s.TOTP(t.Context(), u.ID)
		second.ConfirmedAt, second.LastStep = at(2*time.Minute), 7
		check(t, "TOTP after the refused create", got, second)
	})
	t.Run("confirm", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		f := newTOTP(u, t0)
		wantErr(t, "CreateTOTP", s.CreateTOTP(t.Context(), f), nil)
		codes := newCodes(u, 10, at(time.Minute))
		e := mfaAudit(a, u, "mfa.add")
		wantErr(t, "ConfirmTOTP", s.ConfirmTOTP(t.Context(), f.ID, at(time.Minute), 42, codes, e), nil)
		got, _ := s.TOTP(t.Context(), u.ID)
		f.ConfirmedAt, f.LastStep = at(time.Minute), 42
		check(t, "TOTP", got, f)
		rc, err := s.RecoveryCodes(t.Context(), u.ID)
		wantErr(t, "RecoveryCodes", err, nil)
		if len(rc) != 10 {
			t.Errorf("RecoveryCodes: %d, want 10", len(rc))
		}
		if es := allEvents(t, s); len(es) != 1 || es[0].ID != e.ID {
			t.Errorf("audit events: %v, want the confirmation's", es)
		}
		wantErr(t, "ConfirmTOTP again", s.ConfirmTOTP(t.Context(), f.ID, at(time.Hour), 50, nil, mfaAudit(a, u, "mfa.add")), autho.ErrConflict)
		wantErr(t, "ConfirmTOTP of a replaced factor", s.ConfirmTOTP(t.Context(), "mfa_gone", at(time.Hour), 50, nil), autho.ErrNotFound)
		if es := allEvents(t, s); len(es) != 1 {
			t.Errorf("a refused confirmation wrote its entry: %d events", len(es))
		}
		got, _ = s.TOTP(t.Context(), u.ID)
		check(t, "TOTP after refused confirmations", got, f)
	})
	t.Run("use a step", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		f, _ := mustConfirmedTOTP(t, s, u)
		cases := []struct {
			step int64
			want bool
		}{
			{100, false}, // the confirmation's own step
			{99, false},
			{101, true},
			{101, false}, // a replay
			{103, true},
			{102, false}, // an earlier step after a later one
		}
		for _, c := range cases {
			ok, err := s.UseTOTPStep(t.Context(), f.ID, c.step, mfaAudit(a, u, autho.AuditLogin))
			wantErr(t, "UseTOTPStep", err, nil)
			if ok != c.want {
				t.Errorf("UseTOTPStep(%d) = %v, want %v", c.step, ok, c.want)
			}
		}
		if es := allEvents(t, s); len(es) != 2 {
			t.Errorf("%d audit events, want 2: entries go only with a step used", len(es))
		}
		got, _ := s.TOTP(t.Context(), u.ID)
		if got.LastStep != 103 {
			t.Errorf("LastStep = %d, want 103", got.LastStep)
		}
		g := newTOTP(mustUser(t, s, a.ID), t0)
		wantErr(t, "CreateTOTP", s.CreateTOTP(t.Context(), g), nil)
		if ok, err := s.UseTOTPStep(t.Context(), g.ID, 5); ok || err != nil {
			t.Errorf("UseTOTPStep of an unconfirmed factor = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("recovery codes", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		_, codes := mustConfirmedTOTP(t, s, u)
		other := mustUser(t, s, a.ID)
		if ok, _ := s.UseRecoveryCode(t.Context(), other.ID, codes[0].Hash, at(time.Hour)); ok {
			t.Error("another user's code was used")
		}
		ok, err := s.UseRecoveryCode(t.Context(), u.ID, codes[0].Hash, at(time.Hour), mfaAudit(a, u, "mfa.recovery_used"))
		if !ok || err != nil {
			t.Fatalf("UseRecoveryCode = %v, %v; want true", ok, err)
		}
		if ok, _ := s.UseRecoveryCode(t.Context(), u.ID, codes[0].Hash, at(2*time.Hour), mfaAudit(a, u, "mfa.recovery_used")); ok {
			t.Error("a used code was used again")
		}
		if es := allEvents(t, s); len(es) != 1 {
			t.Errorf("%d audit events, want 1", len(es))
		}
		rc, err := s.RecoveryCodes(t.Context(), u.ID)
		wantErr(t, "RecoveryCodes", err, nil)
		used := 0
		for _, c := range rc {
			if !c.UsedAt.IsZero() {
				used++
				if !c.UsedAt.Equal(at(time.Hour)) || c.UsedAt.Location() != time.UTC {
					t.Errorf("UsedAt = %v, want %v in UTC", c.UsedAt, at(time.Hour))
				}
			}
		}
		if len(rc) != 3 || used != 1 {
			t.Errorf("%d codes, %d used; want 3, 1", len(rc), used)
		}
		fresh := newCodes(u, 10, at(3*time.Hour))
		wantErr(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(t.Context(), u.ID, fresh, mfaAudit(a, u, "mfa.recovery_regenerated")), nil)
		if ok, _ := s.UseRecoveryCode(t.Context(), u.ID, codes[1].Hash, at(4*time.Hour)); ok {
			t.Error("an old code worked after the codes were replaced")
		}
		if ok, _ := s.UseRecoveryCode(t.Context(), u.ID, fresh[9].Hash, at(4*time.Hour)); !ok {
			t.Error("a new code did not work")
		}
		rc, _ = s.RecoveryCodes(t.Context(), u.ID)
		if len(rc) != 10 {
			t.Errorf("%d codes after replacing, want 10", len(rc))
		}
	})
	t.Run("delete the factor", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		mustConfirmedTOTP(t, s, u)
		ok, err := s.DeleteTOTP(t.Context(), u.ID, false, mfaAudit(a, u, "mfa.remove"))
		if !ok || err != nil {
			t.Fatalf("DeleteTOTP = %v, %v", ok, err)
		}
		_, err = s.TOTP(t.Context(), u.ID)
		wantErr(t, "TOTP after delete", err, autho.ErrNotFound)
		if rc, _ := s.RecoveryCodes(t.Context(), u.ID); len(rc) != 3 {
			t.Errorf("codes kept: %d, want 3", len(rc))
		}
		if ok, _ := s.DeleteTOTP(t.Context(), u.ID, true, mfaAudit(a, u, "mfa.remove")); ok {
			t.Error("deleting a missing factor reported one")
		}
		if es := allEvents(t, s); len(es) != 1 {
			t.Errorf("%d audit events, want 1", len(es))
		}
		mustConfirmedTOTP(t, s, u)
		if ok, _ := s.DeleteTOTP(t.Context(), u.ID, true); !ok {
			t.Error("DeleteTOTP with codes: none")
		}
		if rc, _ := s.RecoveryCodes(t.Context(), u.ID); len(rc) != 0 {
			t.Errorf("codes left: %d, want 0", len(rc))
		}
	})
	t.Run("delete everything", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		mustConfirmedTOTP(t, s, u)
		p := newPending(u, t0)
		wantErr(t, "CreatePendingSignIn", s.CreatePendingSignIn(t.Context(), p), nil)
		n, err := s.DeleteMFA(t.Context(), u.ID, mfaAudit(a, u, "mfa.reset"))
		if n != 4 || err != nil {
			t.Errorf("DeleteMFA = %d, %v; want 4 (a factor, three codes)", n, err)
		}
		if _, err := s.PendingSignIn(t.Context(), p.Hash); err == nil {
			t.Error("a pending sign-in outlived the reset")
		}
		n, err = s.DeleteMFA(t.Context(), u.ID, mfaAudit(a, u, "mfa.reset"))
		if n != 0 || err != nil {
			t.Errorf("DeleteMFA again = %d, %v; want 0", n, err)
		}
		if es := allEvents(t, s); len(es) != 1 {
			t.Errorf("%d audit events, want 1: a reset of nothing records nothing", len(es))
		}
	})
	t.Run("pending sign-ins", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		p := newPending(u, t0)
		wantErr(t, "CreatePendingSignIn", s.CreatePendingSignIn(t.Context(), p), nil)
		wantErr(t, "CreatePendingSignIn again", s.CreatePendingSignIn(t.Context(), p), autho.ErrConflict)
		got, err := s.PendingSignIn(t.Context(), p.Hash)
		wantErr(t, "PendingSignIn", err, nil)
		check(t, "PendingSignIn", got, p)
		h := secret.Hash("unknown")
		_, err = s.PendingSignIn(t.Context(), h)
		wantErr(t, "PendingSignIn unknown", err, autho.ErrNotFound)
		noLeak(t, err, h)
		if ok, err := s.ConsumePendingSignIn(t.Context(), p.Hash); !ok || err != nil {
			t.Errorf("ConsumePendingSignIn = %v, %v", ok, err)
		}
		if ok, _ := s.ConsumePendingSignIn(t.Context(), p.Hash); ok {
			t.Error("a pending sign-in was consumed twice")
		}
		err = s.CreatePendingSignIn(t.Context(), newPending(&autho.User{ID: "usr_nobody"}, t0))
		wantErr(t, "CreatePendingSignIn of nobody", err, autho.ErrNotFound)
		old, young := newPending(u, t0), newPending(u, at(10*time.Minute))
		wantErr(t, "CreatePendingSignIn", s.CreatePendingSignIn(t.Context(), old), nil)
		wantErr(t, "CreatePendingSignIn", s.CreatePendingSignIn(t.Context(), young), nil)
		n, err := s.DeletePendingSignInsBefore(t.Context(), at(6*time.Minute))
		if n != 1 || err != nil {
			t.Errorf("DeletePendingSignInsBefore = %d, %v; want 1", n, err)
		}
		if _, err := s.PendingSignIn(t.Context(), young.Hash); err != nil {
			t.Errorf("the young one: %v", err)
		}
	})
	t.Run("parallel", func(t *testing.T) {
		s := newStore(t)
		TestMFAAcrossStores(t, s, s)
	})
}

func newPending(u *autho.User, created time.Time) *autho.PendingSignIn {
	return &autho.PendingSignIn{
		Hash: secret.Hash(secret.Random(43)), UserID: u.ID, CreatedAt: created,
		ExpiresAt: created.Add(5 * time.Minute), IP: "2001:db8::9", PasswordEpoch: 3,
	}
}

// TestMFAAcrossStores uses one TOTP step, one recovery code and one pending
// sign-in from 20 goroutines at once, round robin over stores (two nodes,
// or two handles on one file): each is used exactly once, with one entry.
func TestMFAAcrossStores(t *testing.T, stores ...autho.Store) {
	t.Helper()
	a, u := mustAll(t, stores[0])
	f, codes := mustConfirmedTOTP(t, stores[0], u)
	p := newPending(u, t0)
	wantErr(t, "CreatePendingSignIn", stores[0].CreatePendingSignIn(t.Context(), p), nil)
	before := len(allEvents(t, stores[0]))
	const calls = 20
	uses := []struct {
		what string
		use  func(s autho.Store) (bool, error)
	}{
		{"one TOTP step", func(s autho.Store) (bool, error) {
			return s.UseTOTPStep(t.Context(), f.ID, 101, mfaAudit(a, u, autho.AuditLogin))
		}},
		{"one recovery code", func(s autho.Store) (bool, error) {
			return s.UseRecoveryCode(t.Context(), u.ID, codes[0].Hash, at(time.Hour), mfaAudit(a, u, "mfa.recovery_used"))
		}},
		{"one pending sign-in", func(s autho.Store) (bool, error) {
			return s.ConsumePendingSignIn(t.Context(), p.Hash)
		}},
	}
	for _, use := range uses {
		onceAcross(t, use.what, calls, stores, func(s autho.Store, _ int) (bool, error) { return use.use(s) })
	}
	if n := len(allEvents(t, stores[0])) - before; n != 2 {
		t.Errorf("%d audit events from the races, want 2 (the step's and the code's)", n)
	}
}

// onceAcross makes calls calls of use at once, spread over stores (two
// handles on one database stand for two nodes), and fails the test unless
// exactly one of them reports taking what they race for, and none errs.
func onceAcross(t *testing.T, what string, calls int, stores []autho.Store, use func(s autho.Store, i int) (bool, error)) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		begin = make(chan struct{})
		oks   = make([]bool, calls)
		errs  = make([]error, calls)
	)
	for i := range calls {
		wg.Go(func() {
			<-begin
			oks[i], errs[i] = use(stores[i%len(stores)], i)
		})
	}
	close(begin)
	wg.Wait()
	won := 0
	for i := range calls {
		if errs[i] != nil {
			t.Errorf("%s: call %d: %v", what, i, errs[i])
		}
		if oks[i] {
			won++
		}
	}
	if won != 1 {
		t.Errorf("%s taken by %d of %d calls at once, want exactly 1", what, won, calls)
	}
}
