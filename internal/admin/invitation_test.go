package admin_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/password"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/signer"
)

func newInviteFixture(t *testing.T) (*fixture, *autho.Account) {
	t.Helper()
	f := newFixture(t)
	sealer, err := signer.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Sealer, f.svc.Mail = sealer, true
	a, _ := f.mustAccount(t, "Acme")
	return f, a
}

func TestInviteUser_needsMail(t *testing.T) {
	f, a := newInviteFixture(t)
	f.svc.Mail = false
	before := snapshot(t, f.store)
	_, err := f.svc.InviteUser(t.Context(), autho.OperatorCLI, a.ID, "new@acme.example", "")
	wantInputError(t, err, "AUTHO_SMTP_URL", nil)
	if ae := (*admin.Error)(nil); !errors.As(err, &ae) || ae.Field != "invite" {
		t.Fatalf("err = %v, want field invite", err)
	}
	if snapshot(t, f.store) != before {
		t.Fatal("a refused invitation changed something")
	}
}

// The user, the invitation, its audit and its mail are made together; the
// link's token is stored only sealed; nobody knows a password that works.
func TestInviteUser(t *testing.T) {
	f, a := newInviteFixture(t)
	boss := f.mustUser(t, a.ID, "boss@acme.example")
	by := autho.UserActor(boss, "192.0.2.1")
	u, err := f.svc.InviteUser(t.Context(), by, a.ID, "new@acme.example", autho.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := f.store.Deliveries(t.Context(), autho.DeliveryFilter{Mail: true})
	if err != nil || len(ds) != 1 || ds[0].Email != u.Email {
		t.Fatalf("mail deliveries: %v (%v), want one to the new user", ds, err)
	}
	evs, _ := f.store.Events(t.Context(), 0)
	data := invitationMail(t, f)
	if data.Invitation == nil || data.Invitation.InvitedBy != boss.Email || !data.Invitation.ExpiresAt.Equal(start.Add(72*time.Hour)) {
		t.Fatalf("invitation mail's data: %+v", data.Invitation)
	}
	inv, token, err := f.svc.InvitationLink(t.Context(), data.Invitation.ID)
	if err != nil || len(token) != 43 || inv.UserID != u.ID {
		t.Fatalf("InvitationLink: %v, token of %d characters", err, len(token))
	}
	if strings.Contains(string(inv.SealedToken), token) || string(inv.Hash) != string(secret.Hash(token)) {
		t.Fatal("the token is stored in clear, or not as its hash")
	}
	for _, e := range evs {
		if strings.Contains(string(e.Data), token) {
			t.Fatalf("event %s holds the token", e.Type)
		}
	}
	es, _ := f.store.AuditEvents(t.Context(), autho.AuditFilter{AccountID: a.ID})
	sent := 0
	for _, e := range es {
		if e.Action == autho.AuditInvitationSent {
			sent++
			if e.ActorID != boss.ID || e.TargetID != u.ID {
				t.Errorf("invitation.sent: %+v, want by the admin, of the new user", e)
			}
		}
	}
	if sent != 1 {
		t.Fatalf("invitation.sent audited %d times, want 1", sent)
	}

	// Wrong links, one answer; then the right one, once.
	for _, bad := range []string{"", "short", token + "x", secret.Random(43), strings.Repeat("a", 5000)} {
		_, err := f.svc.AcceptInvitation(t.Context(), admin.AcceptInvitationRequest{Token: bad, Password: "a new pass phrase"})
		wantInputError(t, err, "used or has expired", admin.ErrInvitationGone)
	}
	_, err = f.svc.AcceptInvitation(t.Context(), admin.AcceptInvitationRequest{Token: token, Password: "short"})
	wantInputError(t, err, "", nil)
	res, err := f.svc.AcceptInvitation(t.Context(), admin.AcceptInvitationRequest{Token: token, Password: "a new pass phrase", IP: "192.0.2.9"})
	if err != nil || res.Session == "" {
		t.Fatalf("AcceptInvitation: %v", err)
	}
	stored, _ := f.store.User(t.Context(), u.ID)
	if ok, _, _ := password.Verify("a new pass phrase", stored.PasswordHash); !ok || res.User.PasswordEpoch != stored.PasswordEpoch {
		t.Fatal("the password set does not verify, or the session is of another epoch")
	}
	_, err = f.svc.AcceptInvitation(t.Context(), admin.AcceptInvitationRequest{Token: token, Password: "another pass phrase"})
	wantInputError(t, err, "used or has expired", admin.ErrInvitationGone)
	if _, _, err := f.svc.InvitationLink(t.Context(), inv.ID); !errors.Is(err, admin.ErrInvitationGone) {
		t.Fatalf("InvitationLink after use: %v, want gone (the sealed token dropped)", err)
	}
}

// An invitation past 72 hours opens nothing, and the sweep audits its
// expiry once.
func TestInviteUser_expiry(t *testing.T) {
	f, a := newInviteFixture(t)
	u, err := f.svc.InviteUser(t.Context(), autho.OperatorCLI, a.ID, "late@acme.example", "")
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := f.svc.InvitationLink(t.Context(), invitationMail(t, f).Invitation.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.now = start.Add(autho.InvitationTTL)
	if _, _, err := f.svc.Invitation(t.Context(), token); !errors.Is(err, admin.ErrInvitationGone) {
		t.Fatalf("Invitation at 72 h: %v, want gone", err)
	}
	for range 2 {
		if _, err := f.svc.NoticeExpiries(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	es, _ := f.store.AuditEvents(t.Context(), autho.AuditFilter{AccountID: a.ID})
	for _, e := range es {
		if e.Action == autho.AuditInvitationExpired {
			n++
			if e.ActorID != "autho" || e.TargetID != u.ID {
				t.Errorf("invitation.expired: %+v", e)
			}
		}
	}
	if n != 1 {
		t.Fatalf("invitation.expired audited %d times, want 1", n)
	}
}

// invitationMail is the data of the one invitation mail's event.
func invitationMail(t *testing.T, f *fixture) autho.EventData {
	t.Helper()
	evs, err := f.store.Events(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var data autho.EventData
	n := 0
	for _, e := range evs {
		if e.Type == autho.EventInvitationMail {
			n++
			if err := json.Unmarshal(e.Data, &data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n != 1 || data.Invitation == nil {
		t.Fatalf("%d invitation mail events, want 1 with its invitation", n)
	}
	return data
}
