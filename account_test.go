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
