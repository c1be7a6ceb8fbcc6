package admin_test

import (
	"strings"
	"testing"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/secret"
)

// storePasskey gives the fixture's user a passkey straight in the store,
// as a finished registration leaves one (the browser's part is
// cmd/autho's TestPortal_BrowserPasskey).
func (f *mfaFixture) storePasskey(t *testing.T, codes bool) *autho.Passkey {
	t.Helper()
	p := &autho.Passkey{ID: secret.NewID("pk"), UserID: f.u.ID, Name: "laptop", CredentialID: []byte(secret.Random(16)),
		PublicKey: []byte("cose"), CreatedAt: f.now}
	var rows []*autho.RecoveryCode
	if codes {
		for range admin.RecoveryCodeCount {
			rows = append(rows, &autho.RecoveryCode{UserID: f.u.ID, Hash: secret.Hash(secret.Random(12)), CreatedAt: f.now})
		}
	}
	if err := f.store.CreatePasskey(t.Context(), p, rows); err != nil {
		t.Fatal(err)
	}
	return p
}

// session signs the fixture's user in with the password (no factor yet)
// and returns the session.
func (f *mfaFixture) session(t *testing.T) *autho.Session {
	t.Helper()
	res, err := f.svc.SignIn(t.Context(), admin.SignInRequest{Email: f.u.Email, Password: f.pw, IP: "192.0.2.1"})
	if err != nil || res.Session == "" {
		t.Fatalf("SignIn: %v", err)
	}
	v, err := f.svc.Session(t.Context(), res.Session)
	if err != nil {
		t.Fatal(err)
	}
	return v.Session
}

// A passkey is a factor wherever factors count: sign-in asks for it, the
// requirement is met, step-up asks again, and the operator's reset clears it.
func TestPasskey_countsAsAFactor(t *testing.T) {
	f := newMFAFixture(t)
	ses := f.session(t)
	f.storePasskey(t, true)
	fs, err := f.svc.Factors(t.Context(), f.u.ID)
	if err != nil || !fs.Any() || len(fs.Passkeys) != 1 || fs.TOTP != nil {
		t.Fatalf("Factors = %+v, %v; want the passkey alone", fs, err)
	}
	f.svc.RequireMFA = true
	a, _ := f.store.Account(t.Context(), f.u.AccountID)
	if must, err := f.svc.MustEnroll(t.Context(), f.u, a); must || err != nil {
		t.Errorf("MustEnroll with a passkey = %v, %v", must, err)
	}
	if need, err := f.svc.NeedsStepUp(t.Context(), ses, f.u); !need || err != nil {
		t.Errorf("NeedsStepUp with a passkey never used in the session = %v, %v", need, err)
	}
	f.pending(t) // fails unless the password leads to a pending sign-in
	n, err := f.svc.ResetMFA(t.Context(), autho.OperatorCLI, f.u.ID)
	if n != 1+admin.RecoveryCodeCount || err != nil {
		t.Errorf("ResetMFA = %d, %v; want the passkey and the codes", n, err)
	}
	if fs, _ := f.svc.Factors(t.Context(), f.u.ID); fs.Any() {
		t.Error("a passkey outlived the reset")
	}
}

// The recovery codes stay while a factor does: removing the app keeps them
// for the passkey, removing the last passkey takes them.
func TestPasskey_recoveryCodesFollowTheLastFactor(t *testing.T) {
	f := newMFAFixture(t)
	by := autho.UserActor(f.u, "192.0.2.1")
	f.enroll(t)
	p := f.storePasskey(t, false)
	if err := f.svc.RemoveTOTP(t.Context(), by, f.u.ID); err != nil {
		t.Fatal(err)
	}
	if fs, _ := f.svc.Factors(t.Context(), f.u.ID); fs.RecoveryTotal != admin.RecoveryCodeCount {
		t.Errorf("%d recovery codes after removing the app with a passkey left, want %d", fs.RecoveryTotal, admin.RecoveryCodeCount)
	}
	wantInputError(t, f.svc.RemovePasskey(t.Context(), by, f.u.ID, "pk_other"), "no such passkey", autho.ErrNotFound)
	if err := f.svc.RemovePasskey(t.Context(), by, f.u.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if fs, _ := f.svc.Factors(t.Context(), f.u.ID); fs.Any() || fs.RecoveryTotal != 0 {
		t.Errorf("after the last factor: %+v", fs)
	}
	es, _ := f.store.AuditEvents(t.Context(), autho.AuditFilter{})
	found := false
	for _, e := range es {
		found = found || (e.Action == autho.AuditMFARemove && strings.Contains(e.TargetName, "passkey “laptop”"))
	}
	if !found {
		t.Error("no mfa.remove event naming the passkey")
	}
}

func TestPasskeyName(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{"  Work laptop ", "Work laptop", ""},
		{"", "", "Give the passkey a name"},
		{strings.Repeat("é", 65), "", "at most 64"},
		{"a\x00b", "", "control characters"},
	} {
		got, err := admin.PasskeyName(tt.in)
		if tt.err != "" {
			wantInputError(t, err, tt.err, nil)
			continue
		}
		if got != tt.want || err != nil {
			t.Errorf("PasskeyName(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// A ceremony is finished only by what it was begun for, within its five
// minutes, once: another session, another kind or a late answer finds
// nothing, and the ceremony is spent whatever the answer.
func TestPasskey_ceremonyBinding(t *testing.T) {
	f := newMFAFixture(t)
	f.svc.PublicURL = "http://localhost:8080"
	mine, theirs := f.session(t), f.session(t)
	f.storePasskey(t, true)
	begin := func() string {
		c, err := f.svc.BeginPasskeyStepUp(t.Context(), mine, f.u)
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	for _, tt := range []struct {
		name   string
		finish func(id string) error
	}{
		{"another session", func(id string) error {
			return f.svc.FinishPasskeyStepUp(t.Context(), theirs, f.u, "192.0.2.1", id, []byte("{}"))
		}},
		{"another kind", func(id string) error {
			_, err := f.svc.FinishPasskeySignIn(t.Context(), admin.PasskeySignInRequest{Ceremony: id, Answer: []byte("{}"), IP: "192.0.2.1"})
			return err
		}},
		{"too late", func(id string) error {
			f.now = f.now.Add(admin.CeremonyTimeout)
			return f.svc.FinishPasskeyStepUp(t.Context(), mine, f.u, "192.0.2.1", id, []byte("{}"))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := begin()
			wantInputError(t, tt.finish(id), "expired or was used already", nil)
			// Spent: its own session finds nothing either.
			err := f.svc.FinishPasskeyStepUp(t.Context(), mine, f.u, "192.0.2.1", id, []byte("{}"))
			wantInputError(t, err, "expired or was used already", nil)
		})
	}
	err := f.svc.FinishPasskeyStepUp(t.Context(), mine, f.u, "192.0.2.1", "not an id", []byte("{}"))
	wantInputError(t, err, "expired or was used already", nil)
	// Its own session, in time, gets past the ceremony to the answer,
	// which is malformed here.
	err = f.svc.FinishPasskeyStepUp(t.Context(), mine, f.u, "192.0.2.1", begin(), []byte("{}"))
	wantInputError(t, err, "could not be read", nil)
}

// Without a public URL with a host name there is no relying party, and no
// ceremony begins: the error says why.
func TestPasskey_needsThePublicURL(t *testing.T) {
	f := newMFAFixture(t)
	for url, why := range map[string]string{
		"":                      "AUTHO_PUBLIC_URL) is not set",
		"http://127.0.0.1:8080": "not available at an IP address such as 127.0.0.1",
	} {
		f.svc.PublicURL = url
		if _, err := f.svc.BeginPasskeySignIn(t.Context()); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("BeginPasskeySignIn at %q: %v, want %q", url, err, why)
		}
	}
}
