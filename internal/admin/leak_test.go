package admin_test

import (
	"slices"
	"testing"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/secret"
)

// TestReportLeak: a live API token reported leaked is revoked with its
// events, mail and audit in one change; a live partner token is flagged
// once, not revoked; anything else is a false positive that changes
// nothing.
func TestReportLeak(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	a, pt := f.mustAccount(t, "Acme")
	if _, _, err := f.svc.CreateUser(ctx, autho.OperatorCLI, a.ID, "boss@acme.example", autho.RoleAdmin, ""); err != nil {
		t.Fatal(err)
	}
	u := f.mustUser(t, a.ID, "dev@acme.example")
	tk, plain := f.mustToken(t, u.ID)

	for _, s := range []string{secret.New(secret.APIToken), secret.New(secret.PartnerToken), plain[:len(plain)-1] + otherChar(plain[len(plain)-1]), "hello"} {
		before, ids := snapshot(t, f.store), eventIDs(t, f)
		if live, err := f.svc.ReportLeak(ctx, s, "https://github.com/x"); err != nil || live {
			t.Fatalf("ReportLeak(unknown or malformed) = %v, %v; want a false positive", live, err)
		}
		if snapshot(t, f.store) != before || len(eventsSince(t, f, ids)) != 0 {
			t.Fatal("a false positive changed something")
		}
	}

	ids := eventIDs(t, f)
	if live, err := f.svc.ReportLeak(ctx, plain, "https://github.com/acme/app"); err != nil || !live {
		t.Fatalf("ReportLeak(live API token) = %v, %v", live, err)
	}
	got, err := f.store.APIToken(ctx, tk.ID)
	if err != nil || !got.Revoked() {
		t.Fatalf("the leaked token is not revoked: %v", err)
	}
	evs := eventsSince(t, f, ids)
	mails := map[autho.EventType][]string{}
	for _, e := range evs {
		mails[e.Type] = mailsOf(t, f, e)
	}
	if len(evs) != 2 || !slices.Equal(mails[autho.EventAPITokenLeaked], []string{"boss@acme.example"}) || !slices.Equal(mails[autho.EventAPITokenRevoked], []string{"dev@acme.example"}) {
		t.Fatalf("events %v, mails %v", types(evs), mails)
	}
	log, err := f.svc.AuditLog(ctx, autho.AuditFilter{AccountID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	var byScanner []autho.AuditAction
	for _, e := range log {
		if e.ActorID == admin.SecretScanner.ID() {
			byScanner = append(byScanner, e.Action)
		}
	}
	slices.Sort(byScanner)
	if !slices.Equal(byScanner, []autho.AuditAction{autho.AuditTokenLeaked, autho.AuditTokenRevoke}) {
		t.Fatalf("audited by the scanner: %v", byScanner)
	}
	// Reported again (GitHub retries): no longer live, nothing more.
	ids = eventIDs(t, f)
	if live, _ := f.svc.ReportLeak(ctx, plain, "https://github.com/acme/app"); live || len(eventsSince(t, f, ids)) != 0 {
		t.Fatal("a revoked token reported again did something")
	}

	for i := range 2 {
		ids = eventIDs(t, f)
		if live, err := f.svc.ReportLeak(ctx, pt, "https://github.com/acme/app"); err != nil || !live {
			t.Fatalf("ReportLeak(live partner token) = %v, %v", live, err)
		}
		evs = eventsSince(t, f, ids)
		if want := 1 - i; len(evs) != want {
			t.Fatalf("report %d of the partner token: %d events, want %d (flagged once)", i+1, len(evs), want)
		}
	}
	acc, err := f.store.Account(ctx, a.ID)
	if err != nil || acc.Status != autho.AccountActive {
		t.Fatalf("the account is %v after its partner token leaked, want it active", acc.Status)
	}
}
