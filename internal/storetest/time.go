package storetest

import (
	"testing"
	"time"

	"github.com/autho/autho"
)

func testTimes(t *testing.T, newStore newStoreFunc) {
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"microseconds", t0},
		{"utc", t0.UTC()},
		{"local", t0.Local()},
		{"one microsecond", time.Date(2026, 1, 1, 0, 0, 0, 1000, time.UTC)},
		{"before 1970", time.Date(1969, 12, 31, 23, 59, 59, 999999000, zone)},
		{"far future", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// check insists on the same instant, and on UTC.
			s := newStore(t)
			a, pt := newAccount()
			a.ExpiresAt, a.CreatedAt, a.UpdatedAt = tc.at, tc.at, tc.at
			wantErr(t, "CreateAccount", s.CreateAccount(t.Context(), a, pt), nil)
			got, err := s.Account(t.Context(), a.ID)
			wantErr(t, "Account", err, nil)
			a.PartnerTokenHint = pt.Hint
			check(t, "Account", got, a)

			u := mustUser(t, s, a.ID)
			tk := newAPIToken(u, tc.at)
			tk.ExpiresAt, tk.RevokedAt = tc.at, tc.at
			wantErr(t, "CreateAPIToken", s.CreateAPIToken(t.Context(), tk), nil)
			wantErr(t, "RecordTokenUse", s.RecordTokenUse(t.Context(), []autho.TokenUse{{TokenID: tk.ID, At: tc.at, IP: "192.0.2.1"}}), nil)
			tk.LastUsedAt, tk.LastUsedIP = tc.at, "192.0.2.1"
			gotTok, err := s.APIToken(t.Context(), tk.ID)
			wantErr(t, "APIToken", err, nil)
			check(t, "APIToken", gotTok, tk)
		})
	}
	t.Run("zero times", func(t *testing.T) {
		// Nullable columns hold "never": a zero time written reads back
		// zero, including when it replaces a set time.
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := newAPIToken(u, t0)
		tk.RevokedAt = at(time.Minute)
		wantErr(t, "CreateAPIToken", s.CreateAPIToken(t.Context(), tk), nil)
		got, err := s.UpdateAPIToken(t.Context(), tk.ID, func(tk *autho.APIToken) error { tk.RevokedAt = time.Time{}; return nil })
		wantErr(t, "UpdateAPIToken", err, nil)
		read, err := s.APIToken(t.Context(), tk.ID)
		wantErr(t, "APIToken", err, nil)
		for _, x := range []*autho.APIToken{got, read} {
			if !x.RevokedAt.IsZero() || !x.LastUsedAt.IsZero() {
				t.Errorf("RevokedAt = %v, LastUsedAt = %v, want zero", x.RevokedAt, x.LastUsedAt)
			}
		}
		k := newKey("ES256", t0)
		mustKey(t, s, k, at(time.Hour))
		keys, err := s.SigningKeys(t.Context())
		wantErr(t, "SigningKeys", err, nil)
		if !keys[0].RetiredAt.IsZero() || !keys[0].VerifyUntil.IsZero() {
			t.Errorf("RetiredAt = %v, VerifyUntil = %v, want zero", keys[0].RetiredAt, keys[0].VerifyUntil)
		}
	})
}
