package storetest

import (
	"cmp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// newEvent builds, without storing, an event of the account (or of none)
// that mails mail.
func newEvent(accountID string, typ autho.EventType, created time.Time, mail ...autho.Recipient) *autho.Event {
	id := secret.NewID("evt")
	return &autho.Event{ID: id, Type: typ, AccountID: accountID, CreatedAt: created,
		Data: []byte(`{"id":"` + id + `","name":"<b>\"ci\" & 'deploy'</b> ✓"}`), Mail: mail}
}

// readEvent is e as a read returns it: whom it mailed is not kept.
func readEvent(e *autho.Event) *autho.Event {
	c := *e
	c.Mail = nil
	return &c
}

// mustEvent writes e with a change that needs nothing else stored: a
// signing key added.
func mustEvent(t *testing.T, s autho.Store, e *autho.Event) {
	t.Helper()
	wantErr(t, "AddSigningKey with an event", s.AddSigningKey(t.Context(), newKey("ES256", e.CreatedAt), e.CreatedAt.Add(48*time.Hour), e), nil)
}

func recipient() autho.Recipient {
	return autho.Recipient{UserID: secret.NewID("usr"), Email: secret.Random(8) + "@Example.COM"}
}

// globalAudit is an audit entry of no account, so that it needs no
// fixture.
func globalAudit(when time.Time) *autho.AuditEvent {
	return autho.OperatorCLI.Audit(secret.NewID("aud"), autho.AuditSigningKeyRotate, when)
}

func eventID(e *autho.Event) string { return e.ID }

func storedEvents(t *testing.T, s autho.Store) []*autho.Event {
	t.Helper()
	es, err := s.Events(t.Context(), 0)
	wantErr(t, "Events", err, nil)
	return es
}

func testEvents(t *testing.T, newStore newStoreFunc) {
	t.Run("stored with its change, without whom it mailed", func(t *testing.T) {
		s := newStore(t)
		a, pt := newAccount()
		e := newEvent(a.ID, autho.EventAccountCreated, t0, recipient())
		aud := globalAudit(t0)
		wantErr(t, "CreateAccount", s.CreateAccount(t.Context(), a, pt, e, aud), nil)
		check(t, "Events", storedEvents(t, s), []*autho.Event{readEvent(e)})
		check(t, "AuditEvents", allEvents(t, s), []*autho.AuditEvent{aud})
	})
	t.Run("undone with its change", func(t *testing.T) {
		s := newStore(t)
		old := globalAudit(t0)
		wantErr(t, "AddAuditEvent", s.AddAuditEvent(t.Context(), old), nil)
		mustEndpoint(t, s, newEndpoint(t0))
		a, pt := newAccount()
		e := newEvent(a.ID, autho.EventAccountCreated, t0, recipient())
		dup := globalAudit(t0)
		dup.ID = old.ID
		wantErr(t, "CreateAccount", s.CreateAccount(t.Context(), a, pt, e, dup), autho.ErrConflict)
		_, err := s.Account(t.Context(), a.ID)
		wantErr(t, "Account of the refused create", err, autho.ErrNotFound)
		check(t, "Events", storedEvents(t, s), []*autho.Event(nil))
		ds, err := s.Deliveries(t.Context(), autho.DeliveryFilter{})
		wantErr(t, "Deliveries", err, nil)
		check(t, "Deliveries", ds, []*autho.Delivery(nil))
	})
	t.Run("a duplicate id undoes the change", func(t *testing.T) {
		s := newStore(t)
		e := newEvent("", autho.EventSigningKeyRotated, t0)
		mustEvent(t, s, e)
		a, pt := newAccount()
		again := newEvent(a.ID, autho.EventAccountCreated, at(time.Minute))
		again.ID = e.ID
		wantErr(t, "CreateAccount", s.CreateAccount(t.Context(), a, pt, again), autho.ErrConflict)
		_, err := s.Account(t.Context(), a.ID)
		wantErr(t, "Account of the refused create", err, autho.ErrNotFound)
		check(t, "Events", storedEvents(t, s), []*autho.Event{readEvent(e)})
	})
	// Every write method takes an event as it takes an audit event.
	for _, w := range entryWrites() {
		t.Run("with "+w.name, func(t *testing.T) {
			s := newStore(t)
			f := mustFixture(t, s)
			e := newEvent(f.a.ID, autho.EventUserCreated, at(time.Minute))
			wantErr(t, w.name, w.write(t, s, f, e), nil)
			if !w.done(t, s, f) {
				t.Fatalf("%s: the change is not stored", w.name)
			}
			check(t, "Events", storedEvents(t, s), []*autho.Event{readEvent(e)})
		})
	}
	t.Run("newest first, ties by id, at most limit", func(t *testing.T) {
		s := newStore(t)
		var want []*autho.Event
		for _, d := range []time.Duration{time.Minute, 0, time.Minute, time.Hour, 0} {
			e := newEvent("", autho.EventSigningKeyRotated, at(d))
			mustEvent(t, s, e)
			want = append(want, readEvent(e))
		}
		slices.SortFunc(want, func(x, y *autho.Event) int {
			return cmp.Or(y.CreatedAt.Compare(x.CreatedAt), cmp.Compare(y.ID, x.ID))
		})
		check(t, "Events", ids(storedEvents(t, s), eventID), ids(want, eventID))
		got, err := s.Events(t.Context(), 2)
		wantErr(t, "Events", err, nil)
		check(t, "Events limit 2", got, want[:2])
	})
}

func testNotices(t *testing.T, newStore newStoreFunc) {
	n := autho.Notice{ThingID: secret.NewID("acc"), Kind: "account.expiring:7d", Due: at(7 * 24 * time.Hour)}
	t.Run("stored once, with its entries the first time only", func(t *testing.T) {
		s := newStore(t)
		first, e := globalAudit(t0), newEvent("", autho.EventAccountExpiring, t0, recipient())
		ok, err := s.RecordNotice(t.Context(), n, first, e)
		wantErr(t, "RecordNotice", err, nil)
		if !ok {
			t.Fatal("first RecordNotice = false")
		}
		second := globalAudit(at(time.Minute))
		ok, err = s.RecordNotice(t.Context(), n, second, newEvent("", autho.EventAccountExpiring, t0))
		wantErr(t, "RecordNotice again", err, nil)
		if ok {
			t.Fatal("second RecordNotice = true")
		}
		check(t, "AuditEvents", allEvents(t, s), []*autho.AuditEvent{first})
		check(t, "Events", storedEvents(t, s), []*autho.Event{readEvent(e)})
		// The same threshold of another expiry, or another threshold, is
		// another notice.
		for _, other := range []autho.Notice{
			{ThingID: n.ThingID, Kind: n.Kind, Due: n.Due.Add(time.Microsecond)},
			{ThingID: n.ThingID, Kind: "account.expiring:1d", Due: n.Due},
			{ThingID: secret.NewID("acc"), Kind: n.Kind, Due: n.Due},
		} {
			ok, err := s.RecordNotice(t.Context(), other)
			if err != nil || !ok {
				t.Errorf("RecordNotice(%+v) = %v, %v; want true", other, ok, err)
			}
		}
	})
	t.Run("an entry refused stores nothing", func(t *testing.T) {
		s := newStore(t)
		old := globalAudit(t0)
		wantErr(t, "AddAuditEvent", s.AddAuditEvent(t.Context(), old), nil)
		dup := globalAudit(t0)
		dup.ID = old.ID
		_, err := s.RecordNotice(t.Context(), n, newEvent("", autho.EventAccountExpiring, t0), dup)
		wantErr(t, "RecordNotice", err, autho.ErrConflict)
		check(t, "Events", storedEvents(t, s), []*autho.Event(nil))
		ok, err := s.RecordNotice(t.Context(), n)
		if err != nil || !ok {
			t.Fatalf("RecordNotice after the refused one = %v, %v; want true", ok, err)
		}
	})
	t.Run("parallel", func(t *testing.T) {
		TestNoticeAcrossStores(t, newStore(t))
	})
}

// TestNoticeAcrossStores records one notice 20 times at once, round-robin
// over stores (one, or several on one database, as several nodes would;
// they must hold nothing yet), each call with an audit entry of its own,
// and fails unless exactly one call stored it and only that call's entry
// is stored.
func TestNoticeAcrossStores(t *testing.T, stores ...autho.Store) {
	t.Helper()
	const calls = 20
	n := autho.Notice{ThingID: secret.NewID("tok"), Kind: "api_token.expired", Due: t0}
	var (
		wg    sync.WaitGroup
		begin = make(chan struct{})
		oks   = make([]bool, calls)
		errs  = make([]error, calls)
		auds  = make([]*autho.AuditEvent, calls)
	)
	for i := range calls {
		auds[i] = globalAudit(at(time.Duration(i) * time.Second))
		wg.Go(func() {
			<-begin
			oks[i], errs[i] = stores[i%len(stores)].RecordNotice(t.Context(), n, auds[i])
		})
	}
	close(begin)
	wg.Wait()
	var stored []*autho.AuditEvent
	for i, err := range errs {
		wantErr(t, "RecordNotice", err, nil)
		if oks[i] {
			stored = append(stored, auds[i])
		}
	}
	if len(stored) != 1 {
		t.Fatalf("%d calls at once for one notice: %d stored it, want 1", calls, len(stored))
	}
	check(t, "AuditEvents", allEvents(t, stores[0]), stored)
}

func newEndpoint(created time.Time, types ...autho.EventType) *autho.WebhookEndpoint {
	return &autho.WebhookEndpoint{
		ID:           secret.NewID("whk"),
		URL:          "https://hooks.example.com/autho/" + secret.Random(6) + "?a=1&b=%20",
		Events:       types,
		SealedSecret: []byte("sealed\x00\xff" + secret.Random(32)),
		CreatedAt:    created,
	}
}

func mustEndpoint(t *testing.T, s autho.Store, e *autho.WebhookEndpoint) *autho.WebhookEndpoint {
	t.Helper()
	wantErr(t, "CreateWebhookEndpoint", s.CreateWebhookEndpoint(t.Context(), e), nil)
	return e
}

func endpointID(e *autho.WebhookEndpoint) string { return e.ID }

func testWebhookEndpoints(t *testing.T, newStore newStoreFunc) {
	t.Run("create and read", func(t *testing.T) {
		s := newStore(t)
		for _, e := range []*autho.WebhookEndpoint{
			newEndpoint(t0),
			newEndpoint(t0, autho.EventAPITokenLeaked),
			newEndpoint(t0, autho.EventAccountCreated, autho.EventAccountExpiring),
		} {
			mustEndpoint(t, s, e)
			got, err := s.WebhookEndpoint(t.Context(), e.ID)
			wantErr(t, "WebhookEndpoint", err, nil)
			check(t, "WebhookEndpoint", got, e)
		}
		// Disabled and failing as created.
		e := newEndpoint(t0, autho.EventUserCreated)
		e.DisabledAt, e.FailingSince = at(time.Hour), at(-time.Hour)
		mustEndpoint(t, s, e)
		got, err := s.WebhookEndpoint(t.Context(), e.ID)
		wantErr(t, "WebhookEndpoint", err, nil)
		check(t, "WebhookEndpoint", got, e)
	})
	t.Run("every type is nil", func(t *testing.T) {
		s := newStore(t)
		e := newEndpoint(t0)
		e.Events = []autho.EventType{}
		mustEndpoint(t, s, e)
		got, err := s.WebhookEndpoint(t.Context(), e.ID)
		wantErr(t, "WebhookEndpoint", err, nil)
		if got.Events != nil {
			t.Errorf("Events = %#v, want nil", got.Events)
		}
	})
	t.Run("not found, duplicate id", func(t *testing.T) {
		s := newStore(t)
		e := mustEndpoint(t, s, newEndpoint(t0))
		_, err := s.WebhookEndpoint(t.Context(), secret.NewID("whk"))
		wantErr(t, "WebhookEndpoint", err, autho.ErrNotFound)
		dup := newEndpoint(at(time.Minute))
		dup.ID = e.ID
		wantErr(t, "CreateWebhookEndpoint", s.CreateWebhookEndpoint(t.Context(), dup), autho.ErrConflict)
		got, err := s.WebhookEndpoint(t.Context(), e.ID)
		wantErr(t, "WebhookEndpoint", err, nil)
		check(t, "WebhookEndpoint after the refused create", got, e)
	})
	t.Run("created with its entries, or not at all", func(t *testing.T) {
		s := newStore(t)
		aud := globalAudit(t0)
		e := newEndpoint(t0)
		wantErr(t, "CreateWebhookEndpoint", s.CreateWebhookEndpoint(t.Context(), e, aud), nil)
		dup := globalAudit(t0)
		dup.ID = aud.ID
		refused := newEndpoint(t0)
		wantErr(t, "CreateWebhookEndpoint", s.CreateWebhookEndpoint(t.Context(), refused, dup), autho.ErrConflict)
		_, err := s.WebhookEndpoint(t.Context(), refused.ID)
		wantErr(t, "WebhookEndpoint of the refused create", err, autho.ErrNotFound)
		check(t, "AuditEvents", allEvents(t, s), []*autho.AuditEvent{aud})
	})
	t.Run("newest first, ties by id", func(t *testing.T) {
		s := newStore(t)
		var want []*autho.WebhookEndpoint
		for _, d := range []time.Duration{0, time.Minute, 0, -time.Hour, time.Minute} {
			want = append(want, mustEndpoint(t, s, newEndpoint(at(d))))
		}
		slices.SortFunc(want, func(x, y *autho.WebhookEndpoint) int {
			return cmp.Or(y.CreatedAt.Compare(x.CreatedAt), cmp.Compare(y.ID, x.ID))
		})
		got, err := s.WebhookEndpoints(t.Context())
		wantErr(t, "WebhookEndpoints", err, nil)
		check(t, "WebhookEndpoints ids", ids(got, endpointID), ids(want, endpointID))
		check(t, "WebhookEndpoints", got, want)
	})
	t.Run("update writes DisabledAt and FailingSince", func(t *testing.T) {
		s := newStore(t)
		cur := mustEndpoint(t, s, newEndpoint(t0, autho.EventUserCreated))
		next := newEndpoint(at(time.Hour), autho.EventAccountCreated, autho.EventAccountExpired)
		next.DisabledAt, next.FailingSince = at(2*time.Hour), at(3*time.Hour)
		checkUpdateWrites(t, cur.ID, cur, next, s.UpdateWebhookEndpoint, s.WebhookEndpoint, func(dst, src *autho.WebhookEndpoint) {
			dst.DisabledAt, dst.FailingSince = src.DisabledAt, src.FailingSince
		})
		// And back to zero: enabled, not failing.
		got, err := s.UpdateWebhookEndpoint(t.Context(), cur.ID, func(e *autho.WebhookEndpoint) error {
			e.DisabledAt, e.FailingSince = time.Time{}, time.Time{}
			return nil
		})
		wantErr(t, "UpdateWebhookEndpoint", err, nil)
		check(t, "UpdateWebhookEndpoint to zero", got, cur)
		read, err := s.WebhookEndpoint(t.Context(), cur.ID)
		wantErr(t, "WebhookEndpoint", err, nil)
		check(t, "WebhookEndpoint after update to zero", read, cur)
	})
	t.Run("update: fn's error, ErrUnchanged, entries, not found", func(t *testing.T) {
		s := newStore(t)
		e := mustEndpoint(t, s, newEndpoint(t0))
		_, err := s.UpdateWebhookEndpoint(t.Context(), e.ID, func(e *autho.WebhookEndpoint) error {
			e.DisabledAt = at(time.Hour)
			return errAbort
		}, globalAudit(t0))
		if err != errAbort {
			t.Fatalf("UpdateWebhookEndpoint = %v, want fn's error as is", err)
		}
		got, err := s.UpdateWebhookEndpoint(t.Context(), e.ID, func(e *autho.WebhookEndpoint) error {
			e.DisabledAt = at(time.Hour)
			return autho.ErrUnchanged
		}, globalAudit(t0))
		wantErr(t, "UpdateWebhookEndpoint", err, nil)
		check(t, "UpdateWebhookEndpoint unchanged", got, e)
		read, err := s.WebhookEndpoint(t.Context(), e.ID)
		wantErr(t, "WebhookEndpoint", err, nil)
		check(t, "WebhookEndpoint after fn's error and ErrUnchanged", read, e)
		check(t, "AuditEvents", allEvents(t, s), []*autho.AuditEvent(nil))
		aud := globalAudit(t0)
		_, err = s.UpdateWebhookEndpoint(t.Context(), e.ID, func(e *autho.WebhookEndpoint) error { e.DisabledAt = at(time.Hour); return nil }, aud)
		wantErr(t, "UpdateWebhookEndpoint", err, nil)
		check(t, "AuditEvents", allEvents(t, s), []*autho.AuditEvent{aud})
		_, err = s.UpdateWebhookEndpoint(t.Context(), secret.NewID("whk"), func(*autho.WebhookEndpoint) error { return nil })
		wantErr(t, "UpdateWebhookEndpoint of none", err, autho.ErrNotFound)
	})
	t.Run("delete removes its deliveries and their attempts", func(t *testing.T) {
		s := newStore(t)
		gone, kept := mustEndpoint(t, s, newEndpoint(t0)), mustEndpoint(t, s, newEndpoint(t0))
		mustEvent(t, s, newEvent("", autho.EventSigningKeyRotated, t0, recipient()))
		// Each of the three deliveries attempted once.
		byEndpoint := map[string]string{}
		for range 3 {
			d := mustClaim(t, s, at(time.Minute), at(2*time.Minute))
			byEndpoint[d.EndpointID] = d.ID
			mustFinish(t, s, d, autho.DeliveryPending, at(time.Hour), at(time.Minute))
		}
		dup := globalAudit(t0)
		wantErr(t, "AddAuditEvent", s.AddAuditEvent(t.Context(), dup), nil)
		refused := globalAudit(t0)
		refused.ID = dup.ID
		wantErr(t, "DeleteWebhookEndpoint with a refused entry", s.DeleteWebhookEndpoint(t.Context(), gone.ID, refused), autho.ErrConflict)
		if _, err := s.Delivery(t.Context(), byEndpoint[gone.ID]); err != nil {
			t.Fatalf("the refused delete removed a delivery: %v", err)
		}
		aud := globalAudit(t0)
		wantErr(t, "DeleteWebhookEndpoint", s.DeleteWebhookEndpoint(t.Context(), gone.ID, aud), nil)
		_, err := s.WebhookEndpoint(t.Context(), gone.ID)
		wantErr(t, "WebhookEndpoint of the deleted", err, autho.ErrNotFound)
		_, err = s.Delivery(t.Context(), byEndpoint[gone.ID])
		wantErr(t, "Delivery of the deleted", err, autho.ErrNotFound)
		as, err := s.DeliveryAttempts(t.Context(), byEndpoint[gone.ID])
		wantErr(t, "DeliveryAttempts", err, nil)
		check(t, "attempts of the deleted", as, []*autho.DeliveryAttempt(nil))
		for _, id := range []string{byEndpoint[kept.ID], byEndpoint[""]} {
			as, err := s.DeliveryAttempts(t.Context(), id)
			if _, derr := s.Delivery(t.Context(), id); derr != nil || err != nil || len(as) != 1 {
				t.Errorf("another delivery: %v; %d attempts, %v; want it and its attempt kept", derr, len(as), err)
			}
		}
		if _, err := s.WebhookEndpoint(t.Context(), kept.ID); err != nil {
			t.Errorf("the other endpoint: %v", err)
		}
		want := []*autho.AuditEvent{aud, dup}
		slices.SortFunc(want, func(x, y *autho.AuditEvent) int { return cmp.Compare(y.ID, x.ID) })
		check(t, "AuditEvents", allEvents(t, s), want)
		wantErr(t, "DeleteWebhookEndpoint again", s.DeleteWebhookEndpoint(t.Context(), gone.ID), autho.ErrNotFound)
	})
}
