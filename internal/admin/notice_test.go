package admin_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

// TestNoticeExpiries: an account 6 days from its end is told the 7-day
// notice (not the 30-day one it passed unseen), once however often the
// sweep runs and on however many nodes, then the 1-day one, then expired;
// a renewal before a threshold means it never comes; a token a day from its
// end mails its owner.
func TestNoticeExpiries(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	day := 24 * time.Hour
	soon, _, err := f.svc.CreateAccount(ctx, autho.OperatorCLI, "Soon", f.now.Add(6*day))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateUser(ctx, autho.OperatorCLI, soon.ID, "boss@soon.example", autho.RoleAdmin, ""); err != nil {
		t.Fatal(err)
	}
	renewed, _, err := f.svc.CreateAccount(ctx, autho.OperatorCLI, "Renewed", f.now.Add(40*day))
	if err != nil {
		t.Fatal(err)
	}
	far, _ := f.mustAccount(t, "Far")
	u := f.mustUser(t, far.ID, "dev@far.example")
	tk, _, err := f.svc.CreateToken(ctx, autho.OperatorCLI, admin.NewToken{User: u.ID, Name: "ci", ExpiresAt: f.now.Add(20 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	sweep := func(want ...string) {
		t.Helper()
		n := eventIDs(t, f)
		// Three nodes at once: each notice is made by one.
		var wg sync.WaitGroup
		for range 3 {
			node := &admin.Service{Store: f.store, Now: f.clock}
			wg.Go(func() {
				if _, err := node.NoticeExpiries(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		var got []string
		for _, e := range eventsSince(t, f, n) {
			got = append(got, string(e.Type)+" "+e.AccountID+" "+slices.Concat(mailsOf(t, f, e), []string{""})[0])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("sweep at %s: %q, want %q", f.now.Sub(start), got, want)
		}
	}
	sweep("account.expiring "+soon.ID+" boss@soon.example", "api_token.expiring "+far.ID+" dev@far.example")
	sweep()
	// The renewal comes before the 30-day threshold: no notice of it.
	if _, err := f.svc.RenewAccount(ctx, autho.OperatorCLI, renewed.ID, f.now.Add(400*day)); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(day) // Soon at 5 days, the token past its end.
	sweep("api_token.expired " + far.ID + " dev@far.example")
	f.now = f.now.Add(4*day + time.Hour) // Soon 23 h from its end.
	sweep("account.expiring " + soon.ID + " boss@soon.example")
	f.now = f.now.Add(day)
	sweep("account.expired " + soon.ID + " boss@soon.example")
	sweep()
	var d autho.EventData
	es := eventsSince(t, f, nil)
	for _, e := range es {
		if e.Type == autho.EventAPITokenExpiring {
			if err := jsonUnmarshal(e.Data, &d); err != nil || d.Token == nil || d.Token.ID != tk.ID || d.Threshold != "1d" {
				t.Fatalf("api_token.expiring data %s", e.Data)
			}
		}
	}
}
