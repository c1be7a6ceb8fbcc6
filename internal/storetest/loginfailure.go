package storetest

import (
	"testing"
	"time"

	"github.com/autho/autho"
)

func testLoginFailures(t *testing.T, newStore newStoreFunc) {
	count := func(t *testing.T, s autho.Store, key string, since time.Time) autho.LoginFailures {
		t.Helper()
		lf, err := s.CountLoginFailures(t.Context(), key, since)
		wantErr(t, "CountLoginFailures", err, nil)
		return lf
	}
	t.Run("count", func(t *testing.T) {
		s := newStore(t)
		for _, when := range []time.Time{t0, at(time.Minute), at(3 * time.Minute)} {
			wantErr(t, "AddLoginFailure", s.AddLoginFailure(t.Context(), []string{"email:x", "ip:192.0.2.1"}, when), nil)
		}
		wantErr(t, "AddLoginFailure", s.AddLoginFailure(t.Context(), []string{"ip:192.0.2.1"}, at(2*time.Minute)), nil)
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
	t.Run("same moment counts twice", func(t *testing.T) {
		s := newStore(t)
		for range 2 {
			wantErr(t, "AddLoginFailure", s.AddLoginFailure(t.Context(), []string{"k"}, t0), nil)
		}
		if got := count(t, s, "k", t0).Count; got != 2 {
			t.Fatalf("two failures at one moment counted %d times", got)
		}
	})
	t.Run("clear", func(t *testing.T) {
		s := newStore(t)
		wantErr(t, "AddLoginFailure", s.AddLoginFailure(t.Context(), []string{"a", "b", "c"}, t0), nil)
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
			wantErr(t, "AddLoginFailure", s.AddLoginFailure(t.Context(), []string{"a", "b"}, when), nil)
		}
		n, err := s.DeleteLoginFailuresBefore(t.Context(), at(2*time.Minute))
		wantErr(t, "DeleteLoginFailuresBefore", err, nil)
		if n != 4 {
			t.Fatalf("DeleteLoginFailuresBefore removed %d, want 4", n)
		}
		check(t, "CountLoginFailures", count(t, s, "a", time.Time{}), autho.LoginFailures{Count: 1, Last: at(2 * time.Minute)})
	})
}
