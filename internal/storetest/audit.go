package storetest

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

func newAuditEvent(a *autho.Account, u *autho.User, when time.Time) *autho.AuditEvent {
	return &autho.AuditEvent{
		ID:         secret.NewID("aud"),
		AccountID:  a.ID,
		ActorID:    u.ID,
		ActorEmail: u.Email,
		Action:     autho.AuditTokenCreate,
		TargetID:   secret.NewID("tok"),
		TargetName: `<b>"ci" & 'deploy'</b> ✓`,
		At:         when,
		IP:         "192.0.2.7",
	}
}

func auditID(e *autho.AuditEvent) string { return e.ID }

func testAuditEvents(t *testing.T, newStore newStoreFunc) {
	t.Run("add and list", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		b, v := mustAll(t, s)
		first := newAuditEvent(a, u, t0)
		login := newAuditEvent(a, u, at(time.Minute))
		login.Action, login.TargetID, login.TargetName = autho.AuditLogin, "", ""
		elsewhere := newAuditEvent(b, v, at(2*time.Minute))
		for _, e := range []*autho.AuditEvent{first, login, elsewhere} {
			wantErr(t, "AddAuditEvent", s.AddAuditEvent(t.Context(), e), nil)
		}
		got, err := s.AuditEvents(t.Context(), autho.AuditFilter{AccountID: a.ID})
		wantErr(t, "AuditEvents", err, nil)
		check(t, "AuditEvents", got, []*autho.AuditEvent{login, first})
	})
	t.Run("unknown account", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		e := newAuditEvent(a, u, t0)
		e.AccountID = secret.NewID("acc")
		wantErr(t, "AddAuditEvent", s.AddAuditEvent(t.Context(), e), autho.ErrNotFound)
		got, err := s.AuditEvents(t.Context(), autho.AuditFilter{AccountID: e.AccountID})
		wantErr(t, "AuditEvents", err, nil)
		if len(got) != 0 {
			t.Fatalf("AuditEvents of an unknown account = %d events", len(got))
		}
	})
	t.Run("duplicate id", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		e := newAuditEvent(a, u, t0)
		wantErr(t, "AddAuditEvent", s.AddAuditEvent(t.Context(), e), nil)
		dup := newAuditEvent(a, u, at(time.Hour))
		dup.ID = e.ID
		wantErr(t, "AddAuditEvent", s.AddAuditEvent(t.Context(), dup), autho.ErrConflict)
		got, err := s.AuditEvents(t.Context(), autho.AuditFilter{AccountID: a.ID})
		wantErr(t, "AuditEvents", err, nil)
		check(t, "AuditEvents", got, []*autho.AuditEvent{e})
	})
	t.Run("pages", func(t *testing.T) {
		// Seven events, three of them in one microsecond: the cursor
		// (time, id) must neither skip nor repeat any of them. Ids that
		// share a microsecond differ only in a final digit, so that every
		// collation orders them alike.
		s := newStore(t)
		a, u := mustAll(t, s)
		base := secret.NewID("aud")
		var all []*autho.AuditEvent
		for i, when := range []time.Time{t0, at(time.Second), at(time.Second), at(time.Second), at(2 * time.Second), at(3 * time.Second), at(4 * time.Second)} {
			e := newAuditEvent(a, u, when)
			e.ID = base + strconv.Itoa(i)
			wantErr(t, "AddAuditEvent", s.AddAuditEvent(t.Context(), e), nil)
			all = append(all, e)
		}
		want := slices.Clone(all)
		slices.SortFunc(want, func(x, y *autho.AuditEvent) int {
			if c := y.At.Compare(x.At); c != 0 {
				return c
			}
			if x.ID > y.ID {
				return -1
			}
			return 1
		})
		for _, size := range []int{1, 2, 3, 7, 10} {
			t.Run("size "+strconv.Itoa(size), func(t *testing.T) {
				var got []*autho.AuditEvent
				f := autho.AuditFilter{AccountID: a.ID, Limit: size}
				for range 10 {
					page, err := s.AuditEvents(t.Context(), f)
					wantErr(t, "AuditEvents", err, nil)
					if len(page) > size {
						t.Fatalf("page of %d events, limit %d", len(page), size)
					}
					got = append(got, page...)
					if len(page) < size {
						break
					}
					f.Before = page[len(page)-1]
				}
				if g, w := ids(got, auditID), ids(want, auditID); !slices.Equal(g, w) {
					t.Fatalf("paged listing %v, want %v", g, w)
				}
			})
		}
	})
}
