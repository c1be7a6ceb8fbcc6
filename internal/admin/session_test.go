package admin_test

import (
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

func TestService_CreateTokenCapped(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	other := f.mustUser(t, a.ID, "bob@example.com")
	req := admin.NewToken{User: u.Email, Name: "n", ExpiresAt: start.Add(24 * time.Hour)}
	for i := 0; i < 3; i++ {
		if _, _, err := f.svc.CreateTokenCapped(t.Context(), req, 3); err != nil {
			t.Fatalf("token %d: %v", i+1, err)
		}
	}
	f.mustToken(t, other.ID) // another user's tokens do not count
	before := snapshot(t, f.store)
	_, plain, err := f.svc.CreateTokenCapped(t.Context(), req, 3)
	wantInputError(t, err, "you already have 3 active tokens", admin.ErrForbidden)
	if plain != "" || snapshot(t, f.store) != before {
		t.Fatal("a token beyond the cap was made")
	}

	ts, _ := f.store.APITokens(t.Context(), autho.TokenFilter{UserID: u.ID})
	if _, err := f.svc.Revoke(t.Context(), ts[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateTokenCapped(t.Context(), req, 3); err != nil {
		t.Fatalf("after a revocation: %v", err)
	}
	// Expired tokens do not count either.
	f.now = start.Add(48 * time.Hour)
	req.ExpiresAt = f.now.Add(time.Hour)
	if _, _, err := f.svc.CreateTokenCapped(t.Context(), req, 3); err != nil {
		t.Fatalf("after the others expired: %v", err)
	}
	t.Run("portal rules still apply", func(t *testing.T) {
		_, _, err := f.svc.CreateTokenCapped(t.Context(), admin.NewToken{User: u.ID, Name: "n", ExpiresAt: f.now.Add(365 * 24 * time.Hour)}, 0)
		wantInputError(t, err, "expiry must be at most 30 days", nil)
		_, _, err = f.svc.CreateTokenCapped(t.Context(), admin.NewToken{User: "nobody@example.com", Name: "n", ExpiresAt: f.now.Add(time.Hour)}, 0)
		wantInputError(t, err, "not found", autho.ErrNotFound)
	})
}
