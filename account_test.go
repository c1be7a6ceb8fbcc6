package autho

import (
	"testing"
	"time"
)

// TestAccount_Usable: usable only while active and before its expiry
// instant; a LoginAccount with the same fields agrees; the state people
// are told names a suspension before an expiry.
func TestAccount_Usable(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name            string
		status          AccountStatus
		expires         time.Time
		usable, expired bool
		state           AccountState
	}{
		{"active", AccountActive, now.Add(time.Microsecond), true, false, AccountStateActive},
		{"expired at its instant", AccountActive, now, false, true, AccountStateExpired},
		{"suspended", AccountSuspended, now.Add(time.Hour), false, false, AccountStateSuspended},
		{"suspended and expired", AccountSuspended, now.Add(-time.Hour), false, true, AccountStateSuspended},
		{"another status", "closed", now.Add(time.Hour), false, false, AccountStateSuspended},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := &Account{Status: tc.status, ExpiresAt: tc.expires}
			narrow := &LoginAccount{Status: tc.status, ExpiresAt: tc.expires}
			if full.Usable(now) != tc.usable || narrow.Usable(now) != tc.usable {
				t.Errorf("Usable: Account %v, LoginAccount %v, want %v", full.Usable(now), narrow.Usable(now), tc.usable)
			}
			if full.Expired(now) != tc.expired || narrow.Expired(now) != tc.expired {
				t.Errorf("Expired: Account %v, LoginAccount %v, want %v", full.Expired(now), narrow.Expired(now), tc.expired)
			}
			if got := full.State(now); got != tc.state {
				t.Errorf("State: %s, want %s", got, tc.state)
			}
		})
	}
}

// TestLoginRecord_PartnerTokenEnded: a zero end is no end; otherwise the
// token stops at its end instant.
func TestLoginRecord_PartnerTokenEnded(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		ends  time.Time
		ended bool
	}{
		{"current token", time.Time{}, false},
		{"in its grace", now.Add(time.Microsecond), false},
		{"at its end", now, true},
		{"past its end", now.Add(-time.Hour), true},
	} {
		if got := (&LoginRecord{PartnerTokenEnds: tc.ends}).PartnerTokenEnded(now); got != tc.ended {
			t.Errorf("%s: PartnerTokenEnded = %v, want %v", tc.name, got, tc.ended)
		}
	}
}

// TestAccount_SetStatus: a move away from active stamps SuspendedAt, a
// reactivation keeps it (JWTs from before the suspension stay refused),
// and the status it has already changes nothing.
func TestAccount_SetStatus(t *testing.T) {
	before := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	now := before.Add(24 * time.Hour)
	for _, tc := range []struct {
		name          string
		from, to      AccountStatus
		stamped       time.Time
		changed       bool
		wantSuspended time.Time
	}{
		{"suspend", AccountActive, AccountSuspended, time.Time{}, true, now},
		{"suspend again after a reactivation", AccountActive, AccountSuspended, before, true, now},
		{"reactivate keeps the stamp", AccountSuspended, AccountActive, before, true, before},
		{"suspended already", AccountSuspended, AccountSuspended, before, false, before},
		{"active already", AccountActive, AccountActive, time.Time{}, false, time.Time{}},
		{"another stopped status", AccountActive, "closed", time.Time{}, true, now},
		{"suspended to another stopped status", AccountSuspended, "closed", before, true, before},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Account{Status: tc.from, SuspendedAt: tc.stamped}
			if got := a.SetStatus(tc.to, now); got != tc.changed {
				t.Errorf("SetStatus = %v, want %v", got, tc.changed)
			}
			if a.Status != tc.to || !a.SuspendedAt.Equal(tc.wantSuspended) {
				t.Errorf("status %q suspended at %v, want %q at %v", a.Status, a.SuspendedAt, tc.to, tc.wantSuspended)
			}
		})
	}
}

// TestUser_SetActive: a deactivation stamps DeactivatedAt, a reactivation
// keeps it, and the state the user is in already changes nothing.
func TestUser_SetActive(t *testing.T) {
	before := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	now := before.Add(24 * time.Hour)
	for _, tc := range []struct {
		name        string
		from, to    bool
		stamped     time.Time
		changed     bool
		wantStamped time.Time
	}{
		{"deactivate", true, false, time.Time{}, true, now},
		{"deactivate again after a reactivation", true, false, before, true, now},
		{"reactivate keeps the stamp", false, true, before, true, before},
		{"inactive already", false, false, before, false, before},
		{"active already", true, true, time.Time{}, false, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &User{Active: tc.from, DeactivatedAt: tc.stamped}
			if got := u.SetActive(tc.to, now); got != tc.changed {
				t.Errorf("SetActive = %v, want %v", got, tc.changed)
			}
			if u.Active != tc.to || !u.DeactivatedAt.Equal(tc.wantStamped) {
				t.Errorf("active %v deactivated at %v, want %v at %v", u.Active, u.DeactivatedAt, tc.to, tc.wantStamped)
			}
		})
	}
}
