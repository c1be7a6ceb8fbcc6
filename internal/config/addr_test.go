package config

import "testing"

func TestAddrKinds(t *testing.T) {
	for _, tc := range []struct {
		addr                  string
		unspecified, loopback bool
	}{
		{":8080", true, false},
		{"0.0.0.0:8080", true, false},
		{"[::]:8080", true, false},
		{"127.0.0.1:8080", false, true},
		{"127.0.0.2:8080", false, true},
		{"[::1]:8080", false, true},
		{"localhost:8080", false, true},
		{"10.0.0.5:8080", false, false},
		{"auth.internal:8080", false, false},
		{"nowhere", false, false},
	} {
		if got := Unspecified(tc.addr); got != tc.unspecified {
			t.Errorf("Unspecified(%q) = %v, want %v", tc.addr, got, tc.unspecified)
		}
		if got := Loopback(tc.addr); got != tc.loopback {
			t.Errorf("Loopback(%q) = %v, want %v", tc.addr, got, tc.loopback)
		}
	}
}
