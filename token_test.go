package autho

import (
	"testing"
	"time"
)

// TestAPIToken_State: revoked wins over expired, and a token has expired
// from its expiry instant on; a LoginToken with the same times agrees.
func TestAPIToken_State(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name               string
		expires, revokedAt time.Time
		want               TokenState
	}{
		{"active", now.Add(time.Microsecond), time.Time{}, TokenActive},
		{"expired at its instant", now, time.Time{}, TokenExpired},
		{"expired", now.Add(-time.Hour), time.Time{}, TokenExpired},
		{"revoked", now.Add(time.Hour), now.Add(-time.Minute), TokenRevoked},
		{"revoked later than now", now.Add(time.Hour), now.Add(time.Minute), TokenRevoked},
		{"revoked and expired", now.Add(-time.Hour), now.Add(-time.Minute), TokenRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := &APIToken{ExpiresAt: tc.expires, RevokedAt: tc.revokedAt}
			narrow := &LoginToken{ExpiresAt: tc.expires, RevokedAt: tc.revokedAt}
			if got := full.State(now); got != tc.want {
				t.Errorf("APIToken.State = %q, want %q", got, tc.want)
			}
			if got := narrow.State(now); got != tc.want {
				t.Errorf("LoginToken.State = %q, want %q", got, tc.want)
			}
			if full.Revoked() != (tc.want == TokenRevoked) || (tc.want == TokenExpired && !full.Expired(now)) {
				t.Errorf("Revoked %v, Expired %v: disagree with State %q", full.Revoked(), full.Expired(now), tc.want)
			}
		})
	}
}
