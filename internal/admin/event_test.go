package admin_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

// eventsSince lists the events not in before (nil: all of them).
func eventsSince(t *testing.T, f *fixture, before map[string]bool) []*autho.Event {
	t.Helper()
	es, err := f.store.Events(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []*autho.Event
	for _, e := range es {
		if !before[e.ID] {
			out = append(out, e)
		}
	}
	return out
}

// eventIDs is every event's id so far.
func eventIDs(t *testing.T, f *fixture) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, e := range eventsSince(t, f, nil) {
		ids[e.ID] = true
	}
	return ids
}

func types(es []*autho.Event) []autho.EventType {
	var ts []autho.EventType
	for _, e := range es {
		ts = append(ts, e.Type)
	}
	return ts
}

// mailsOf is whom the deliveries of an event mail.
func mailsOf(t *testing.T, f *fixture, ev *autho.Event) []string {
	t.Helper()
	ds, err := f.store.Deliveries(t.Context(), autho.DeliveryFilter{EventID: ev.ID, Mail: true})
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, d := range ds {
		to = append(to, d.Email)
	}
	slices.Sort(to)
	return to
}

// TestEvents_EachChange: every change of the lifecycle makes its event in
// its own write, with data naming what changed and no secret; a change
// that changes nothing makes none.
func TestEvents_EachChange(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	a, pt := f.mustAccount(t, "Acme")
	_, _, err := f.svc.CreateUser(ctx, autho.OperatorCLI, a.ID, "admin@acme.example", autho.RoleAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	u := f.mustUser(t, a.ID, "dev@acme.example")
	tk, plain := f.mustToken(t, u.ID)
	steps := []struct {
		name string
		do   func() error
		want []autho.EventType
		mail []string // whom the last event mails
	}{
		{"renew", func() error {
			_, err := f.svc.RenewAccount(ctx, autho.OperatorCLI, a.ID, f.now.Add(400*24*time.Hour))
			return err
		},
			[]autho.EventType{autho.EventAccountRenewed}, nil},
		{"suspend", func() error { _, err := f.svc.Suspend(ctx, autho.OperatorCLI, a.ID); return err },
			[]autho.EventType{autho.EventAccountSuspended}, []string{"admin@acme.example"}},
		{"suspend again", func() error { _, err := f.svc.Suspend(ctx, autho.OperatorCLI, a.ID); return err }, nil, nil},
		{"reactivate", func() error { _, err := f.svc.Reactivate(ctx, autho.OperatorCLI, a.ID); return err },
			[]autho.EventType{autho.EventAccountReactivated}, nil},
		{"rename only", func() error {
			n := "Acme Ltd"
			_, err := f.svc.ChangeAccount(ctx, autho.OperatorCLI, a.ID, admin.AccountChange{Name: &n})
			return err
		}, nil, nil},
		{"rotate", func() error {
			_, _, _, err := f.svc.RotatePartnerToken(ctx, autho.OperatorCLI, a.ID, time.Hour)
			return err
		},
			[]autho.EventType{autho.EventPartnerTokenRotated}, nil},
		{"deactivate", func() error { _, err := f.svc.DeactivateUser(ctx, autho.OperatorCLI, u.ID); return err },
			[]autho.EventType{autho.EventUserDeactivated}, nil},
		{"activate and make admin", func() error {
			on, r := true, autho.RoleAdmin
			_, err := f.svc.ChangeUser(ctx, autho.OperatorCLI, u.ID, admin.UserChange{Active: &on, Role: &r})
			return err
		}, []autho.EventType{autho.EventUserActivated}, nil},
		{"revoke by the operator", func() error { _, err := f.svc.Revoke(ctx, autho.OperatorCLI, tk.ID); return err },
			[]autho.EventType{autho.EventAPITokenRevoked}, []string{"dev@acme.example"}},
		{"revoke again", func() error { _, err := f.svc.Revoke(ctx, autho.OperatorCLI, tk.ID); return err }, nil, nil},
		{"a token revoked by its owner mails nobody", func() error {
			t2, _ := f.mustToken(t, u.ID)
			_, err := f.svc.Revoke(ctx, autho.UserActor(u, "127.0.0.1"), t2.ID)
			return err
		}, []autho.EventType{autho.EventAPITokenCreated, autho.EventAPITokenRevoked}, nil}, // sorted by type
	}
	for _, st := range steps {
		n := eventIDs(t, f)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := eventsSince(t, f, n)
		slices.SortFunc(got, func(a, b *autho.Event) int { return strings.Compare(string(a.Type), string(b.Type)) })
		if !slices.Equal(types(got), st.want) {
			t.Fatalf("%s: events %v, want %v", st.name, types(got), st.want)
		}
		if len(got) > 0 {
			if m := mailsOf(t, f, got[len(got)-1]); !slices.Equal(m, st.mail) {
				t.Errorf("%s: mails %v, want %v", st.name, m, st.mail)
			}
		}
	}
	all := eventsSince(t, f, nil)
	// Before the steps: the account, its two users and the token.
	made := map[autho.EventType]int{}
	for _, e := range all {
		made[e.Type]++
	}
	if made[autho.EventAccountCreated] != 1 || made[autho.EventUserCreated] != 2 || made[autho.EventAPITokenCreated] != 2 {
		t.Fatalf("events made: %v", made)
	}
	for _, e := range all {
		// Hints ("autho_api_Ab3x…9fQk") are in the data; the secrets are not.
		for _, sec := range []string{pt, plain} {
			if strings.Contains(string(e.Data), sec) {
				t.Errorf("%s holds a secret: %s", e.Type, e.Data)
			}
		}
		var d autho.EventData
		if err := json.Unmarshal(e.Data, &d); err != nil || d.AccountID != a.ID || d.By != "operator:cli" && d.By != u.ID {
			t.Errorf("%s: data %s", e.Type, e.Data)
		}
		if e.AccountID != a.ID {
			t.Errorf("%s: account %q", e.Type, e.AccountID)
		}
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
