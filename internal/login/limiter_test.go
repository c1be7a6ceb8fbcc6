package login

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLimiter_Full: when distinct keys fill the limiter, the buckets it
// drops are those closest to full, so spraying fresh keys (each with one
// refusal) cannot hand an exhausted key its limit back.
func TestLimiter_Full(t *testing.T) {
	const perMinute = 30
	now := time.Unix(1_800_000_000, 0)
	exhaust := func(l *Limiter, key string, at time.Time) {
		t.Helper()
		for range perMinute {
			l.Refused(key, at)
		}
		if l.Wait(key, at) <= 0 {
			t.Fatalf("%s: not limited after %d refusals", key, perMinute)
		}
	}
	spray := func(l *Limiter, n int, at time.Time) {
		t.Helper()
		for i := range n {
			l.Refused("ip:spray"+strconv.Itoa(i), at)
		}
	}

	t.Run("an exhausted bucket stays exhausted through a flood of fresh keys", func(t *testing.T) {
		l := NewLimiter(perMinute)
		exhaust(l, "ip:victim", now)
		exhaust(l, "ptn:victim", now)
		spray(l, 2*maxBuckets+1, now.Add(time.Millisecond))
		for _, key := range []string{"ip:victim", "ptn:victim"} {
			if d := l.Wait(key, now.Add(time.Second)); d <= 0 {
				t.Errorf("%s: limit lifted by %d other keys", key, 2*maxBuckets+1)
			}
		}
	})

	t.Run("the number of buckets stays within the cap", func(t *testing.T) {
		l := NewLimiter(perMinute)
		spray(l, 3*maxBuckets, now)
		if n := len(l.buckets); n > maxBuckets {
			t.Errorf("%d buckets, cap %d", n, maxBuckets)
		}
	})

	t.Run("refilled buckets are the first to go", func(t *testing.T) {
		l := NewLimiter(perMinute)
		exhaust(l, "ip:old", now)
		later := now.Add(time.Hour)
		spray(l, maxBuckets, later)
		if _, ok := l.buckets["ip:old"]; ok {
			t.Errorf("a bucket full again an hour later was kept over fresh ones")
		}
	})
}

func TestRateKey(t *testing.T) {
	tests := []struct {
		name, ip, want string
	}{
		{"IPv4 is its own key", "192.0.2.7", "192.0.2.7"},
		{"IPv4-mapped IPv6 is the IPv4", "::ffff:192.0.2.7", "192.0.2.7"},
		{"IPv6 is its /64", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"another address of that /64 shares the key", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"the next /64 does not", "2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"IPv6 loopback", "::1", "::/64"},
		{"a zone does not make another key", "fe80::1%eth0", "fe80::/64"},
		{"not an address is kept as given", "@", "@"},
		{"empty stays empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RateKey(tt.ip); got != tt.want {
				t.Errorf("RateKey(%q) = %q, want %q", tt.ip, got, tt.want)
			}
		})
	}
}

// TestLimiter_TakeInParallel: attempts let through while others are still
// being checked never exceed the bucket, however many run at once; a good
// attempt spends nothing.
func TestLimiter_TakeInParallel(t *testing.T) {
	const perMinute, callers = 5, 64
	l := NewLimiter(perMinute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var through atomic.Int32
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if _, wait := l.Take("ip:192.0.2.1", now); wait == 0 {
				through.Add(1)
			}
		})
	}
	wg.Wait()
	if got := through.Load(); got != perMinute {
		t.Fatalf("%d of %d parallel attempts went through, want exactly %d", got, callers, perMinute)
	}
	if _, wait := l.Take("ip:192.0.2.1", now); wait <= 0 {
		t.Fatal("an empty bucket let one more through")
	}
	other := NewLimiter(1)
	done, _ := other.Take("k", now)
	if _, wait := other.Take("k", now); wait <= 0 {
		t.Fatal("a second attempt went through while the first was being checked")
	}
	done(false)
	if _, wait := other.Take("k", now); wait != 0 {
		t.Fatalf("after a good attempt, its token is not back: wait %v", wait)
	}
}
