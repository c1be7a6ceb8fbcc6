package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autho/autho"
)

func testLoginFailures(t *testing.T, newStore newStoreFunc) {
	var attempts atomic.Int64
	// add reserves an attempt under keys that nothing refuses: one failure
	// each, until it is forgotten.
	add := func(t *testing.T, s autho.Store, keys []string, when time.Time) string {
		t.Helper()
		id := fmt.Sprintf("att_%d", attempts.Add(1))
		ok, err := s.ReserveLoginAttempt(t.Context(), id, keys, time.Time{}, when, func([]autho.LoginFailures) bool { return true })
		wantErr(t, "ReserveLoginAttempt", err, nil)
		if !ok {
			t.Fatal("ReserveLoginAttempt refused what allow let through")
		}
		return id
	}
	// count reads one key's failures through a reservation that allow
	// refuses, which must record nothing.
	count := func(t *testing.T, s autho.Store, key string, since time.Time) autho.LoginFailures {
		t.Helper()
		var got []autho.LoginFailures
		ok, err := s.ReserveLoginAttempt(t.Context(), "att_refused", []string{key}, since, since,
			func(lf []autho.LoginFailures) bool { got = lf; return false })
		wantErr(t, "ReserveLoginAttempt", err, nil)
		if ok || len(got) != 1 {
			t.Fatalf("a refused reservation: ok %v, %d summaries for one key", ok, len(got))
		}
		return got[0]
	}
	t.Run("count", func(t *testing.T) {
		s := newStore(t)
		for _, when := range []time.Time{t0, at(time.Minute), at(3 * time.Minute)} {
			add(t, s, []string{"email:x", "ip:192.0.2.1"}, when)
		}
		add(t, s, []string{"ip:192.0.2.1"}, at(2*time.Minute))
		for _, tc := range []struct {
			name, key string
			since     time.Time
			want      autho.LoginFailures
		}{
			{"all of a key", "email:x", t0, autho.LoginFailures{Count: 3, Last: at(3 * time.Minute)}},
			{"since is inclusive", "email:x", at(time.Minute), autho.LoginFailures{Count: 2, Last: at(3 * time.Minute)}},
			{"another key", "ip:192.0.2.1", t0, autho.LoginFailures{Count: 4, Last: at(3 * time.Minute)}},
			{"nothing recent", "email:x", at(4 * time.Minute), autho.LoginFailures{}},
			{"unknown key", "email:y", t0, autho.LoginFailures{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				check(t, "CountLoginFailures", count(t, s, tc.key, tc.since), tc.want)
			})
		}
	})
	t.Run("summaries in the order of keys", func(t *testing.T) {
		s := newStore(t)
		add(t, s, []string{"b"}, t0)
		add(t, s, []string{"b", "c"}, at(time.Minute))
		var got []autho.LoginFailures
		s.ReserveLoginAttempt(t.Context(), "att_order", []string{"c", "a", "b"}, t0, at(2*time.Minute),
			func(lf []autho.LoginFailures) bool { got = lf; return false })
		check(t, "summaries", got, []autho.LoginFailures{{Count: 1, Last: at(time.Minute)}, {}, {Count: 2, Last: at(time.Minute)}})
	})
	t.Run("same moment counts twice", func(t *testing.T) {
		s := newStore(t)
		for range 2 {
			add(t, s, []string{"k"}, t0)
		}
		if got := count(t, s, "k", t0).Count; got != 2 {
			t.Fatalf("two failures at one moment counted %d times", got)
		}
	})
	t.Run("forget", func(t *testing.T) {
		s := newStore(t)
		add(t, s, []string{"a", "b"}, t0)
		gone := add(t, s, []string{"a", "b", "c"}, at(time.Minute))
		wantErr(t, "ForgetLoginAttempt", s.ForgetLoginAttempt(t.Context(), gone), nil)
		wantErr(t, "ForgetLoginAttempt again", s.ForgetLoginAttempt(t.Context(), gone), nil)
		wantErr(t, "ForgetLoginAttempt none", s.ForgetLoginAttempt(t.Context(), ""), nil)
		for key, want := range map[string]autho.LoginFailures{"a": {Count: 1, Last: t0}, "b": {Count: 1, Last: t0}, "c": {}} {
			check(t, "after forgetting "+key, count(t, s, key, t0), want)
		}
	})
	t.Run("parallel reservations see each other", func(t *testing.T) {
		s := newStore(t)
		const limit, tries = 5, 24
		var (
			wg      sync.WaitGroup
			granted atomic.Int64
		)
		for i := range tries {
			wg.Go(func() {
				ok, err := s.ReserveLoginAttempt(t.Context(), fmt.Sprintf("att_p%d", i), []string{"email:p", fmt.Sprintf("ip:%d", i%3)},
					t0, at(time.Second), func(lf []autho.LoginFailures) bool { return lf[0].Count < limit })
				if err != nil {
					t.Error(err)
				}
				if ok {
					granted.Add(1)
				}
			})
		}
		wg.Wait()
		if got := granted.Load(); got != limit {
			t.Fatalf("%d parallel reservations against a limit of %d: %d granted", tries, limit, got)
		}
		if got := count(t, s, "email:p", t0).Count; got != limit {
			t.Fatalf("%d attempts recorded, want %d", got, limit)
		}
	})
	t.Run("clear", func(t *testing.T) {
		s := newStore(t)
		add(t, s, []string{"a", "b", "c"}, t0)
		wantErr(t, "ClearLoginFailures", s.ClearLoginFailures(t.Context(), []string{"a", "b", "unknown"}), nil)
		wantErr(t, "ClearLoginFailures none", s.ClearLoginFailures(t.Context(), nil), nil)
		for key, want := range map[string]int{"a": 0, "b": 0, "c": 1} {
			if got := count(t, s, key, t0).Count; got != want {
				t.Errorf("%s: %d failures after clearing, want %d", key, got, want)
			}
		}
	})
	t.Run("prune", func(t *testing.T) {
		s := newStore(t)
		for _, when := range []time.Time{t0, at(time.Minute), at(2 * time.Minute)} {
			add(t, s, []string{"a", "b"}, when)
		}
		n, err := s.DeleteLoginFailuresBefore(t.Context(), at(2*time.Minute))
		wantErr(t, "DeleteLoginFailuresBefore", err, nil)
		if n != 4 {
			t.Fatalf("DeleteLoginFailuresBefore removed %d, want 4", n)
		}
		check(t, "CountLoginFailures", count(t, s, "a", time.Time{}), autho.LoginFailures{Count: 1, Last: at(2 * time.Minute)})
	})
}
