package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

func testCreateAPITokenCapped(t *testing.T, newStore newStoreFunc) {
	t.Run("below the cap", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		mustAPIToken(t, s, u, t0)
		tk := newAPIToken(u, at(time.Minute))
		wantErr(t, "CreateAPITokenCapped", s.CreateAPITokenCapped(t.Context(), tk, 2), nil)
		got, err := s.APIToken(t.Context(), tk.ID)
		wantErr(t, "APIToken", err, nil)
		check(t, "APIToken", got, tk)
	})
	t.Run("at the cap", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		mustAPIToken(t, s, u, t0)
		mustAPIToken(t, s, u, t0)
		tk := newAPIToken(u, at(time.Minute))
		wantErr(t, "CreateAPITokenCapped", s.CreateAPITokenCapped(t.Context(), tk, 2), autho.ErrLimit)
		_, err := s.APIToken(t.Context(), tk.ID)
		wantErr(t, "APIToken of refused create", err, autho.ErrNotFound)
	})
	t.Run("only the user's active tokens count", func(t *testing.T) {
		s := newStore(t)
		a, u := mustAll(t, s)
		now := at(time.Hour)
		revoked := mustAPIToken(t, s, u, t0)
		if _, err := s.UpdateAPIToken(t.Context(), revoked.ID, func(tk *autho.APIToken) error { tk.RevokedAt = at(time.Minute); return nil }); err != nil {
			t.Fatal(err)
		}
		// Expiring at the very instant of the create: expired, as
		// APIToken.Expired says.
		expired := newAPIToken(u, t0)
		expired.ExpiresAt = now
		wantErr(t, "CreateAPIToken", s.CreateAPIToken(t.Context(), expired), nil)
		mustAPIToken(t, s, mustUser(t, s, a.ID), t0) // a colleague's
		tk := newAPIToken(u, now)
		wantErr(t, "CreateAPITokenCapped", s.CreateAPITokenCapped(t.Context(), tk, 1), nil)
		tk2 := newAPIToken(u, now)
		wantErr(t, "CreateAPITokenCapped past the cap", s.CreateAPITokenCapped(t.Context(), tk2, 1), autho.ErrLimit)
	})
	t.Run("unknown user", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAll(t, s)
		tk := newAPIToken(&autho.User{ID: secret.NewID("usr"), AccountID: a.ID}, t0)
		wantErr(t, "CreateAPITokenCapped", s.CreateAPITokenCapped(t.Context(), tk, 5), autho.ErrNotFound)
	})
	t.Run("duplicate hash", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		dup := newAPIToken(u, t0)
		dup.Hash = tk.Hash
		err := s.CreateAPITokenCapped(t.Context(), dup, 5)
		wantErr(t, "CreateAPITokenCapped", err, autho.ErrConflict)
		noLeak(t, err, tk.Hash)
	})
	t.Run("parallel", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		raceCap(t, []autho.Store{s}, u)
	})
}

// TestTokenCapAcrossStores is the parallel case of CreateAPITokenCapped
// with the calls spread over several stores on one database, as several
// nodes (or a node and the CLI) would be; stores[0] must already hold
// nothing of its own.
func TestTokenCapAcrossStores(t *testing.T, stores ...autho.Store) {
	t.Helper()
	_, u := mustAll(t, stores[0])
	raceCap(t, stores, u)
}

// raceCap sends 30 creates for u at once against a cap of 5, round-robin
// over stores, and fails unless exactly 5 are stored and the rest refused
// with ErrLimit.
func raceCap(t *testing.T, stores []autho.Store, u *autho.User) {
	t.Helper()
	const (
		maxActive = 5
		calls     = 30
	)
	var (
		wg    sync.WaitGroup
		begin = make(chan struct{})
		errs  = make([]error, calls)
	)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-begin
			errs[i] = stores[i%len(stores)].CreateAPITokenCapped(t.Context(), newAPIToken(u, t0), maxActive)
		}()
	}
	close(begin)
	wg.Wait()
	made := 0
	for i, err := range errs {
		switch {
		case err == nil:
			made++
		case !errors.Is(err, autho.ErrLimit):
			t.Errorf("call %d: %v, want nil or ErrLimit", i, err)
		}
	}
	ts, err := stores[0].APITokens(t.Context(), autho.TokenFilter{UserID: u.ID})
	wantErr(t, "APITokens", err, nil)
	if made != maxActive || len(ts) != maxActive {
		t.Fatalf("%d creates at once against a cap of %d: %d succeeded, %d stored", calls, maxActive, made, len(ts))
	}
}
