package admin

import (
	"strings"
	"testing"
	"time"
)

func TestDelayAfter(t *testing.T) {
	tests := []struct {
		failures, free int
		want           time.Duration
	}{
		{0, 5, 0},
		{4, 5, 0},
		{5, 5, 30 * time.Second},
		{6, 5, time.Minute},
		{7, 5, 2 * time.Minute},
		{9, 5, 8 * time.Minute},
		{10, 5, 15 * time.Minute},
		{1000, 5, 15 * time.Minute},
		{20, 20, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := delayAfter(tt.failures, tt.free); got != tt.want {
			t.Errorf("delayAfter(%d, %d) = %v, want %v", tt.failures, tt.free, got, tt.want)
		}
	}
}

func TestWaitText(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Millisecond, "1 second"},
		{time.Second, "1 second"},
		{1500 * time.Millisecond, "2 seconds"},
		{30 * time.Second, "30 seconds"},
		{119 * time.Second, "119 seconds"},
		{2 * time.Minute, "2 minutes"},
		{2*time.Minute + time.Second, "3 minutes"},
		{15 * time.Minute, "15 minutes"},
	}
	for _, tt := range tests {
		if got := waitText(tt.d); got != tt.want {
			t.Errorf("waitText(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestKeysFor(t *testing.T) {
	a := keysFor("Ann@Example.com ", "192.0.2.1")
	b := keysFor("ann@example.com", "192.0.2.1")
	c := keysFor("ann@example.com", "192.0.2.2")
	if a != b {
		t.Fatal("keys depend on the email's letter case")
	}
	if c.email != a.email || c.pair == a.pair || c.ip == a.ip {
		t.Fatalf("keys %+v and %+v: want the same email key, different pair and IP keys", a, c)
	}
	for _, k := range []string{a.email, a.pair} {
		if len(k) > 80 || strings.Contains(strings.ToLower(k), "ann") {
			t.Fatalf("key %q holds the email", k)
		}
	}
}
