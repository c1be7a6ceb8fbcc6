package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autho/autho"
)

func testIdempotency(t *testing.T, newStore newStoreFunc) {
	req := func(k *autho.OperatorKey, key string, created time.Time) *autho.IdempotentRequest {
		return &autho.IdempotentRequest{OperatorKeyID: k.ID, Key: key, Fingerprint: "fp-" + key, CreatedAt: created, Body: []byte{}}
	}
	expiry := at(-24 * time.Hour)
	t.Run("the first is recorded, a repeat gets it back, then its answer", func(t *testing.T) {
		s := newStore(t)
		k := mustOperatorKey(t, s, t0)
		prev, err := s.StartIdempotent(t.Context(), req(k, "a", t0), expiry)
		wantErr(t, "StartIdempotent", err, nil)
		if prev != nil {
			t.Fatalf("first attempt found %+v", prev)
		}
		prev, err = s.StartIdempotent(t.Context(), req(k, "a", at(time.Second)), expiry)
		wantErr(t, "StartIdempotent", err, nil)
		check(t, "the pending record", prev, &autho.IdempotentRequest{OperatorKeyID: k.ID, Key: "a", Fingerprint: "fp-a", CreatedAt: t0.UTC(), Body: []byte{}})
		wantErr(t, "FinishIdempotent", s.FinishIdempotent(t.Context(), k.ID, "a", 201, []byte(`{"id":"x"}`)), nil)
		prev, err = s.StartIdempotent(t.Context(), req(k, "a", at(time.Second)), expiry)
		wantErr(t, "StartIdempotent", err, nil)
		if prev == nil || prev.Status != 201 || string(prev.Body) != `{"id":"x"}` || prev.Pending() {
			t.Fatalf("finished record %+v", prev)
		}
		// Another operator key's "a" is another request.
		other := mustOperatorKey(t, s, t0)
		prev, err = s.StartIdempotent(t.Context(), req(other, "a", t0), expiry)
		if err != nil || prev != nil {
			t.Fatalf("another key's first attempt: %+v, %v", prev, err)
		}
	})
	t.Run("an expired record makes room, a forgotten one too", func(t *testing.T) {
		s := newStore(t)
		k := mustOperatorKey(t, s, t0)
		s.StartIdempotent(t.Context(), req(k, "old", at(-25*time.Hour)), at(-48*time.Hour))
		prev, err := s.StartIdempotent(t.Context(), req(k, "old", t0), expiry)
		if err != nil || prev != nil {
			t.Fatalf("after expiry: %+v, %v; want recorded anew", prev, err)
		}
		wantErr(t, "ForgetIdempotent", s.ForgetIdempotent(t.Context(), k.ID, "old"), nil)
		wantErr(t, "ForgetIdempotent of none", s.ForgetIdempotent(t.Context(), k.ID, "never"), nil)
		prev, err = s.StartIdempotent(t.Context(), req(k, "old", t0), expiry)
		if err != nil || prev != nil {
			t.Fatalf("after forget: %+v, %v; want recorded anew", prev, err)
		}
	})
	t.Run("of attempts at once, exactly one is recorded", func(t *testing.T) {
		s := newStore(t)
		k := mustOperatorKey(t, s, t0)
		var first atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				prev, err := s.StartIdempotent(t.Context(), req(k, "race", t0), expiry)
				if err != nil {
					t.Error(err)
					return
				}
				if prev == nil {
					first.Add(1)
				}
			})
		}
		wg.Wait()
		if n := first.Load(); n != 1 {
			t.Fatalf("%d attempts were recorded as the first, want 1", n)
		}
	})
}
