package autho

import (
	"slices"
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

// TestAPIToken_Notices: the notice rule at its boundaries, with now given
// as the clock would give it.
func TestAPIToken_Notices(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	utcMinus5 := time.FixedZone("UTC-5", -5*60*60)
	// base is a token made a week ago, used an hour ago, expiring in 60
	// days: nothing to say about it.
	base := APIToken{CreatedAt: now.Add(-7 * day), LastUsedAt: now.Add(-time.Hour), ExpiresAt: now.Add(60 * day)}
	expiring := func(d int) TokenNotice { return TokenNotice{NoticeExpiring, d} }
	unused := func(d int) TokenNotice { return TokenNotice{NoticeUnused, d} }
	never := TokenNotice{Kind: NoticeNeverUsed}
	for _, tc := range []struct {
		name   string
		change func(*APIToken)
		loc    *time.Location
		want   []TokenNotice
	}{
		{"nothing to say", func(*APIToken) {}, nil, nil},
		{"expires in exactly 30 days", func(tk *APIToken) { tk.ExpiresAt = now.Add(30 * day) }, nil, []TokenNotice{expiring(30)}},
		{"expires a moment after 30 days", func(tk *APIToken) { tk.ExpiresAt = now.Add(30*day + time.Microsecond) }, nil, nil},
		{"expires in 5 days", func(tk *APIToken) { tk.ExpiresAt = now.Add(5 * day) }, nil, []TokenNotice{expiring(5)}},
		{"expires later today", func(tk *APIToken) { tk.ExpiresAt = now.Add(11 * time.Hour) }, nil, []TokenNotice{expiring(0)}},
		{"expires tomorrow morning, 13 hours away", func(tk *APIToken) { tk.ExpiresAt = now.Add(13 * time.Hour) }, nil, []TokenNotice{expiring(1)}},
		// The same instant is 20:00 today in UTC-5: today there.
		{"expires today in the zone shown", func(tk *APIToken) { tk.ExpiresAt = now.Add(13 * time.Hour) }, utcMinus5, []TokenNotice{expiring(0)}},
		{"expires at now: expired, no notice", func(tk *APIToken) { tk.ExpiresAt = now; tk.LastUsedAt = time.Time{} }, nil, nil},
		{"revoked: no notice", func(tk *APIToken) {
			tk.RevokedAt = now.Add(-time.Minute)
			tk.ExpiresAt = now.Add(day)
			tk.LastUsedAt = time.Time{}
		}, nil, nil},
		{"never used, made exactly a day ago", func(tk *APIToken) { tk.LastUsedAt = time.Time{}; tk.CreatedAt = now.Add(-day) }, nil, nil},
		{"never used, made a moment over a day ago", func(tk *APIToken) { tk.LastUsedAt = time.Time{}; tk.CreatedAt = now.Add(-day - time.Second) }, nil, []TokenNotice{never}},
		{"never used, made a minute ago", func(tk *APIToken) { tk.LastUsedAt = time.Time{}; tk.CreatedAt = now.Add(-time.Minute) }, nil, nil},
		{"last used 89 days ago", func(tk *APIToken) { tk.LastUsedAt = now.Add(-89 * day) }, nil, nil},
		{"last used a moment short of 90 days ago", func(tk *APIToken) { tk.LastUsedAt = now.Add(-90*day + time.Second) }, nil, nil},
		{"last used exactly 90 days ago", func(tk *APIToken) { tk.LastUsedAt = now.Add(-90 * day) }, nil, []TokenNotice{unused(90)}},
		{"last used 120 days ago", func(tk *APIToken) { tk.LastUsedAt = now.Add(-120*day - time.Hour) }, nil, []TokenNotice{unused(120)}},
		{"expiring and never used: the expiry first", func(tk *APIToken) {
			tk.ExpiresAt = now.Add(3 * day)
			tk.LastUsedAt = time.Time{}
		}, nil, []TokenNotice{expiring(3), never}},
		{"expiring and unused: the expiry first", func(tk *APIToken) {
			tk.ExpiresAt = now.Add(20 * day)
			tk.LastUsedAt = now.Add(-100 * day)
		}, nil, []TokenNotice{expiring(20), unused(100)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := base
			tc.change(&tk)
			loc := tc.loc
			if loc == nil {
				loc = time.UTC
			}
			got := tk.Notices(now, loc)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Notices = %v, want %v", got, tc.want)
			}
			if soon := len(tc.want) > 0 && tc.want[0].Kind == NoticeExpiring; tk.ExpiringSoon(now) != soon {
				t.Errorf("ExpiringSoon = %v, want %v", !soon, soon)
			}
		})
	}
}

func TestCalendarDays(t *testing.T) {
	berlin := time.FixedZone("CET", 60*60)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		from, to string
		loc      *time.Location
		want     int
	}{
		{"2026-03-01T00:00:00Z", "2026-03-01T23:59:59Z", time.UTC, 0},
		{"2026-03-01T23:59:59Z", "2026-03-02T00:00:00Z", time.UTC, 1},
		{"2026-03-01T23:30:00Z", "2026-03-02T22:00:00Z", berlin, 0}, // both 2 March in CET
		{"2026-03-10T09:00:00Z", "2026-03-01T09:00:00Z", time.UTC, -9},
		{"2026-02-27T09:00:00Z", "2026-03-01T09:00:00Z", time.UTC, 2}, // across the end of February
	} {
		if got := CalendarDays(at(tc.from), at(tc.to), tc.loc); got != tc.want {
			t.Errorf("CalendarDays(%s, %s, %s) = %d, want %d", tc.from, tc.to, tc.loc, got, tc.want)
		}
	}
}
