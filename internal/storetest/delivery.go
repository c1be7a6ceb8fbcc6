package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// mustClaim claims the delivery due earliest at now.
func mustClaim(t *testing.T, s autho.Store, now, leaseUntil time.Time) *autho.Delivery {
	t.Helper()
	d, err := s.ClaimDelivery(t.Context(), now, leaseUntil)
	wantErr(t, "ClaimDelivery", err, nil)
	if d.Lease == "" {
		t.Fatal("ClaimDelivery: no Lease")
	}
	return d
}

// noClaim fails unless nothing can be claimed at now.
func noClaim(t *testing.T, s autho.Store, now time.Time) {
	t.Helper()
	d, err := s.ClaimDelivery(t.Context(), now, now.Add(time.Minute))
	if !errors.Is(err, autho.ErrNotFound) {
		t.Fatalf("ClaimDelivery at %v = %+v, %v; want ErrNotFound", now, d, err)
	}
}

// mustFinish records the next attempt of a claimed delivery, which ends in
// state (due again at next when pending, done at next otherwise).
func mustFinish(t *testing.T, s autho.Store, d *autho.Delivery, state autho.DeliveryState, next, when time.Time) autho.DeliveryAttempt {
	t.Helper()
	d.State, d.Attempts = state, d.Attempts+1
	if state == autho.DeliveryPending {
		d.NextAttemptAt = next
	} else {
		d.DoneAt = next
	}
	a := autho.DeliveryAttempt{DeliveryID: d.ID, N: d.Attempts, At: when, Status: 503, Error: "503 Service Unavailable"}
	wantErr(t, "FinishDelivery", s.FinishDelivery(t.Context(), d, a), nil)
	return a
}

// read is a delivery as Delivery and Deliveries return it: without what a
// claim adds.
func read(d *autho.Delivery) *autho.Delivery {
	c := *d
	c.Event, c.Endpoint, c.Lease = nil, nil, ""
	return &c
}

func deliveryID(d *autho.Delivery) string { return d.ID }

// where says where a delivery goes, for comparing sets of them.
func where(d *autho.Delivery) string {
	if d.EndpointID != "" {
		return "endpoint " + d.EndpointID
	}
	return fmt.Sprintf("mail %s (%s)", d.Email, d.UserID)
}

func mustDeliveries(t *testing.T, s autho.Store, f autho.DeliveryFilter) []*autho.Delivery {
	t.Helper()
	ds, err := s.Deliveries(t.Context(), f)
	wantErr(t, "Deliveries", err, nil)
	return ds
}

// newestFirst sorts deliveries as Deliveries lists them.
func newestFirst(ds []*autho.Delivery) []*autho.Delivery {
	ds = slices.Clone(ds)
	slices.SortFunc(ds, func(x, y *autho.Delivery) int {
		return cmp.Or(y.CreatedAt.Compare(x.CreatedAt), cmp.Compare(y.ID, x.ID))
	})
	return ds
}

func testDeliveries(t *testing.T, newStore newStoreFunc) {
	t.Run("queued to each enabled endpoint that takes the type, and to each person mailed", func(t *testing.T) {
		s := newStore(t)
		all := mustEndpoint(t, s, newEndpoint(t0))
		takes := mustEndpoint(t, s, newEndpoint(t0, autho.EventAccountCreated, autho.EventAPITokenLeaked))
		mustEndpoint(t, s, newEndpoint(t0, autho.EventAccountCreated)) // not the type
		off := newEndpoint(t0)
		off.DisabledAt = at(-time.Minute)
		mustEndpoint(t, s, off)
		offLater := mustEndpoint(t, s, newEndpoint(t0))
		_, err := s.UpdateWebhookEndpoint(t.Context(), offLater.ID, func(e *autho.WebhookEndpoint) error { e.DisabledAt = at(-time.Second); return nil })
		wantErr(t, "UpdateWebhookEndpoint", err, nil)

		r1, r2 := recipient(), recipient()
		noEmail := autho.Recipient{UserID: secret.NewID("usr")}
		// r1 twice: one mail, not two, and no error.
		e := newEvent("", autho.EventAPITokenLeaked, t0, r1, r2, r1, noEmail)
		mustEvent(t, s, e)
		got := mustDeliveries(t, s, autho.DeliveryFilter{EventID: e.ID})
		var wants []string
		for _, d := range []*autho.Delivery{
			{EndpointID: all.ID}, {EndpointID: takes.ID},
			{Email: r1.Email, UserID: r1.UserID}, {Email: r2.Email, UserID: r2.UserID},
		} {
			wants = append(wants, where(d))
		}
		gotWhere := ids(got, where)
		slices.Sort(gotWhere)
		slices.Sort(wants)
		check(t, "deliveries", gotWhere, wants)
		seen := map[string]bool{}
		for _, d := range got {
			if seen[d.ID] || len(d.ID) < 5 || d.ID[:4] != "dlv_" {
				t.Errorf("delivery id %q: want a fresh dlv_ id", d.ID)
			}
			seen[d.ID] = true
			want := &autho.Delivery{ID: d.ID, EventID: e.ID, EndpointID: d.EndpointID, Email: d.Email, UserID: d.UserID,
				State: autho.DeliveryPending, NextAttemptAt: t0, CreatedAt: t0}
			check(t, "queued "+where(d), d, want)
			one, err := s.Delivery(t.Context(), d.ID)
			wantErr(t, "Delivery", err, nil)
			check(t, "Delivery", one, want)
		}
		_, err = s.Delivery(t.Context(), secret.NewID("dlv"))
		wantErr(t, "Delivery of none", err, autho.ErrNotFound)
	})
	t.Run("an endpoint created later gets later events only", func(t *testing.T) {
		s := newStore(t)
		e1 := newEvent("", autho.EventSigningKeyRotated, t0)
		mustEvent(t, s, e1)
		ep := mustEndpoint(t, s, newEndpoint(at(time.Minute)))
		e2 := newEvent("", autho.EventSigningKeyRotated, at(2*time.Minute))
		mustEvent(t, s, e2)
		got := mustDeliveries(t, s, autho.DeliveryFilter{})
		if len(got) != 1 || got[0].EventID != e2.ID || got[0].EndpointID != ep.ID {
			t.Fatalf("deliveries %v, want one of the later event", ids(got, where))
		}
	})
	t.Run("filters, newest first", func(t *testing.T) {
		s := newStore(t)
		ep := mustEndpoint(t, s, newEndpoint(t0))
		mustEndpoint(t, s, newEndpoint(t0))
		r := recipient()
		e1, e2 := newEvent("", autho.EventSigningKeyRotated, t0, r), newEvent("", autho.EventSigningKeyRotated, at(time.Minute), r)
		mustEvent(t, s, e1)
		mustEvent(t, s, e2)
		all := mustDeliveries(t, s, autho.DeliveryFilter{})
		if len(all) != 6 {
			t.Fatalf("%d deliveries, want 6", len(all))
		}
		check(t, "Deliveries", ids(all, deliveryID), ids(newestFirst(all), deliveryID))
		for _, tc := range []struct {
			name string
			f    autho.DeliveryFilter
			keep func(*autho.Delivery) bool
		}{
			{"endpoint", autho.DeliveryFilter{EndpointID: ep.ID}, func(d *autho.Delivery) bool { return d.EndpointID == ep.ID }},
			{"event", autho.DeliveryFilter{EventID: e1.ID}, func(d *autho.Delivery) bool { return d.EventID == e1.ID }},
			{"mail", autho.DeliveryFilter{Mail: true}, func(d *autho.Delivery) bool { return d.Email != "" }},
			{"event and endpoint", autho.DeliveryFilter{EventID: e2.ID, EndpointID: ep.ID}, func(d *autho.Delivery) bool { return d.EventID == e2.ID && d.EndpointID == ep.ID }},
			{"mail of an event", autho.DeliveryFilter{EventID: e2.ID, Mail: true}, func(d *autho.Delivery) bool { return d.EventID == e2.ID && d.Email != "" }},
			{"limit", autho.DeliveryFilter{Limit: 4}, func(d *autho.Delivery) bool { return true }},
		} {
			want := slices.DeleteFunc(slices.Clone(all), func(d *autho.Delivery) bool { return !tc.keep(d) })
			if tc.f.Limit > 0 {
				want = want[:tc.f.Limit]
			}
			check(t, tc.name, mustDeliveries(t, s, tc.f), want)
		}
	})
	t.Run("claimed earliest due first, with its event and endpoint", func(t *testing.T) {
		s := newStore(t)
		ep := mustEndpoint(t, s, newEndpoint(t0, autho.EventUserCreated))
		r := recipient()
		late, first, mid := newEvent("", autho.EventAccountExpired, at(2*time.Second), r),
			newEvent("", autho.EventAccountExpired, t0, r),
			newEvent("", autho.EventUserCreated, at(time.Second))
		for _, e := range []*autho.Event{late, first, mid} {
			mustEvent(t, s, e)
		}
		now, until := at(time.Minute), at(2*time.Minute)
		leases := map[string]bool{}
		for _, want := range []struct {
			e  *autho.Event
			ep *autho.WebhookEndpoint
		}{{first, nil}, {mid, ep}, {late, nil}} {
			d := mustClaim(t, s, now, until)
			if leases[d.Lease] {
				t.Errorf("lease %q given twice", d.Lease)
			}
			leases[d.Lease] = true
			w := &autho.Delivery{ID: d.ID, EventID: want.e.ID, State: autho.DeliveryPending,
				NextAttemptAt: want.e.CreatedAt, CreatedAt: want.e.CreatedAt, Event: readEvent(want.e), Endpoint: want.ep, Lease: d.Lease}
			if want.ep != nil {
				w.EndpointID = want.ep.ID
			} else {
				w.Email, w.UserID = r.Email, r.UserID
			}
			check(t, "claimed", d, w)
			// A read does not show the claim.
			got, err := s.Delivery(t.Context(), d.ID)
			wantErr(t, "Delivery", err, nil)
			check(t, "Delivery of the claimed", got, read(w))
		}
		noClaim(t, s, now)
	})
	t.Run("not due, or leased, is not claimed; a lease run out is", func(t *testing.T) {
		s := newStore(t)
		mustEvent(t, s, newEvent("", autho.EventAccountExpired, at(time.Minute), recipient()))
		noClaim(t, s, at(time.Minute-time.Microsecond))
		old := mustClaim(t, s, at(time.Minute), at(2*time.Minute))
		noClaim(t, s, at(time.Minute))
		noClaim(t, s, at(2*time.Minute-time.Microsecond))
		// At leaseUntil the lease has run out.
		cur := mustClaim(t, s, at(2*time.Minute), at(3*time.Minute))
		if cur.ID != old.ID || cur.Lease == old.Lease {
			t.Fatalf("reclaimed %s with lease %q, want %s under a new lease", cur.ID, cur.Lease, old.ID)
		}
		// The old claim's finish changes nothing, entries included.
		before, err := s.Delivery(t.Context(), old.ID)
		wantErr(t, "Delivery", err, nil)
		stale := *old
		stale.State, stale.Attempts, stale.DoneAt = autho.DeliveryDelivered, 1, at(2*time.Minute)
		err = s.FinishDelivery(t.Context(), &stale, autho.DeliveryAttempt{DeliveryID: old.ID, N: 1, At: at(2 * time.Minute), Status: 200}, globalAudit(t0))
		wantErr(t, "FinishDelivery under the old lease", err, autho.ErrConflict)
		after, err := s.Delivery(t.Context(), old.ID)
		wantErr(t, "Delivery", err, nil)
		check(t, "Delivery after the old lease's finish", after, before)
		as, err := s.DeliveryAttempts(t.Context(), old.ID)
		wantErr(t, "DeliveryAttempts", err, nil)
		check(t, "attempts after the old lease's finish", as, []*autho.DeliveryAttempt(nil))
		check(t, "AuditEvents", allEvents(t, s), []*autho.AuditEvent(nil))
		// Nor does a finish without a lease: the delivery as read.
		err = s.FinishDelivery(t.Context(), before, autho.DeliveryAttempt{DeliveryID: old.ID, N: 1, At: at(2 * time.Minute)})
		wantErr(t, "FinishDelivery without a lease", err, autho.ErrConflict)
		// The current claim's does, and frees the lease.
		mustFinish(t, s, cur, autho.DeliveryPending, at(2*time.Minute), at(2*time.Minute))
		again := mustClaim(t, s, at(2*time.Minute), at(3*time.Minute))
		if again.ID != cur.ID {
			t.Fatalf("claimed %s, want %s again once finished and due", again.ID, cur.ID)
		}
		wantErr(t, "FinishDelivery of a finished claim", s.FinishDelivery(t.Context(), cur,
			autho.DeliveryAttempt{DeliveryID: cur.ID, N: 9, At: at(2 * time.Minute)}), autho.ErrConflict)
	})
	t.Run("finish records the attempt and the delivery's fields", func(t *testing.T) {
		s := newStore(t)
		ep := mustEndpoint(t, s, newEndpoint(t0))
		e := newEvent("", autho.EventSigningKeyRotated, t0)
		mustEvent(t, s, e)
		d := mustClaim(t, s, at(time.Minute), at(2*time.Minute))
		d.State, d.Attempts, d.NextAttemptAt = autho.DeliveryPending, 1, at(10*time.Minute)
		a1 := autho.DeliveryAttempt{DeliveryID: d.ID, N: 1, At: at(time.Minute + time.Microsecond), Status: 0, Error: "dial tcp 192.0.2.1:443: connection refused"}
		aud := globalAudit(at(time.Minute))
		wantErr(t, "FinishDelivery", s.FinishDelivery(t.Context(), d, a1, aud), nil)
		want := &autho.Delivery{ID: d.ID, EventID: e.ID, EndpointID: ep.ID, State: autho.DeliveryPending, Attempts: 1,
			NextAttemptAt: at(10 * time.Minute), CreatedAt: t0}
		got, err := s.Delivery(t.Context(), d.ID)
		wantErr(t, "Delivery", err, nil)
		check(t, "Delivery after a failed attempt", got, want)
		check(t, "AuditEvents", allEvents(t, s), []*autho.AuditEvent{aud})
		noClaim(t, s, at(10*time.Minute-time.Microsecond))

		d = mustClaim(t, s, at(10*time.Minute), at(11*time.Minute))
		if d.Attempts != 1 {
			t.Fatalf("claimed with Attempts %d, want 1", d.Attempts)
		}
		// An entry refused undoes the finish: the claim still holds.
		dup := globalAudit(t0)
		dup.ID = aud.ID
		d.State, d.Attempts, d.DoneAt = autho.DeliveryDelivered, 2, at(10*time.Minute)
		a2 := autho.DeliveryAttempt{DeliveryID: d.ID, N: 2, At: at(10 * time.Minute), Status: 204}
		wantErr(t, "FinishDelivery with a refused entry", s.FinishDelivery(t.Context(), d, a2, dup), autho.ErrConflict)
		got, err = s.Delivery(t.Context(), d.ID)
		wantErr(t, "Delivery", err, nil)
		check(t, "Delivery after the refused finish", got, want)
		wantErr(t, "FinishDelivery", s.FinishDelivery(t.Context(), d, a2), nil)
		want.State, want.Attempts, want.DoneAt = autho.DeliveryDelivered, 2, at(10*time.Minute)
		got, err = s.Delivery(t.Context(), d.ID)
		wantErr(t, "Delivery", err, nil)
		check(t, "Delivery delivered", got, want)
		as, err := s.DeliveryAttempts(t.Context(), d.ID)
		wantErr(t, "DeliveryAttempts", err, nil)
		check(t, "DeliveryAttempts", as, []*autho.DeliveryAttempt{&a1, &a2})
		// Delivered is never claimed again.
		noClaim(t, s, at(24*time.Hour))
	})
	t.Run("retry makes a failed delivery pending again", func(t *testing.T) {
		s := newStore(t)
		mustEvent(t, s, newEvent("", autho.EventSigningKeyRotated, t0, recipient()))
		d := mustClaim(t, s, t0, at(time.Minute))
		_, err := s.RetryDelivery(t.Context(), d.ID, t0)
		wantErr(t, "RetryDelivery of a pending delivery", err, autho.ErrConflict)
		mustFinish(t, s, d, autho.DeliveryFailed, at(time.Second), at(time.Second))
		noClaim(t, s, at(time.Hour))
		failed, err := s.Delivery(t.Context(), d.ID)
		wantErr(t, "Delivery", err, nil)

		aud := globalAudit(at(time.Hour))
		got, err := s.RetryDelivery(t.Context(), d.ID, at(time.Hour), aud)
		wantErr(t, "RetryDelivery", err, nil)
		want := *failed
		want.State, want.NextAttemptAt, want.DoneAt = autho.DeliveryPending, at(time.Hour), time.Time{}
		check(t, "RetryDelivery", got, &want)
		again, err := s.Delivery(t.Context(), d.ID)
		wantErr(t, "Delivery", err, nil)
		check(t, "Delivery after retry", again, &want)
		check(t, "AuditEvents", allEvents(t, s), []*autho.AuditEvent{aud})
		as, err := s.DeliveryAttempts(t.Context(), d.ID)
		if err != nil || len(as) != 1 {
			t.Fatalf("attempts after retry: %d, %v; want the one kept", len(as), err)
		}
		_, err = s.RetryDelivery(t.Context(), d.ID, at(time.Hour))
		wantErr(t, "RetryDelivery of a retried delivery", err, autho.ErrConflict)
		noClaim(t, s, at(time.Hour-time.Microsecond))
		d = mustClaim(t, s, at(time.Hour), at(2*time.Hour))
		mustFinish(t, s, d, autho.DeliveryDelivered, at(time.Hour), at(time.Hour))
		_, err = s.RetryDelivery(t.Context(), d.ID, at(2*time.Hour))
		wantErr(t, "RetryDelivery of a delivered delivery", err, autho.ErrConflict)
		_, err = s.RetryDelivery(t.Context(), secret.NewID("dlv"), at(2*time.Hour))
		wantErr(t, "RetryDelivery of none", err, autho.ErrNotFound)
	})
	t.Run("parallel claims", func(t *testing.T) {
		TestClaimAcrossStores(t, newStore(t))
	})
}

// TestClaimAcrossStores queues 10 deliveries and claims 20 times at once,
// round-robin over stores (one, or several on one database, as several
// nodes would claim; they must hold nothing yet), and fails unless each
// delivery went to exactly one claim and the rest found none due.
func TestClaimAcrossStores(t *testing.T, stores ...autho.Store) {
	t.Helper()
	const due, calls = 10, 20
	var mail []autho.Recipient
	for range due {
		mail = append(mail, recipient())
	}
	mustEvent(t, stores[0], newEvent("", autho.EventSigningKeyRotated, t0, mail...))
	var (
		wg     sync.WaitGroup
		begin  = make(chan struct{})
		claims = make([]*autho.Delivery, calls)
		errs   = make([]error, calls)
	)
	for i := range calls {
		wg.Go(func() {
			<-begin
			claims[i], errs[i] = stores[i%len(stores)].ClaimDelivery(t.Context(), at(time.Minute), at(time.Hour))
		})
	}
	close(begin)
	wg.Wait()
	got := map[string]int{}
	for i, err := range errs {
		switch {
		case err == nil:
			got[claims[i].ID]++
		case !errors.Is(err, autho.ErrNotFound):
			t.Errorf("claim %d: %v, want nil or ErrNotFound", i, err)
		}
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("delivery %s claimed %d times", id, n)
		}
	}
	if len(got) != due {
		t.Fatalf("%d claims at once of %d due deliveries: %d claimed", calls, due, len(got))
	}
}
