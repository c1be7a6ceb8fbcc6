package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339 in UTC; "" means refused
	}{
		{"2027-03-31T12:00:00Z", time.UTC, "2027-03-31T12:00:00Z"},
		{"2027-03-31T12:00:00+02:00", time.UTC, "2027-03-31T10:00:00Z"},
		{"2027-03-31T12:00:00.123456Z", time.UTC, "2027-03-31T12:00:00.123456Z"},
		{" 2027-03-31T12:00:00Z ", time.UTC, "2027-03-31T12:00:00Z"},
		{"2027-03-31", time.UTC, "2027-03-31T23:59:59Z"},
		{"2027-03-31", berlin, "2027-03-31T21:59:59Z"}, // summer time, UTC+2
		{"2027-01-31", berlin, "2027-01-31T22:59:59Z"}, // winter time, UTC+1
		{"2027-02-29", time.UTC, ""},
		{"2027-13-01", time.UTC, ""},
		{"2027-3-31", time.UTC, ""},
		{"31.03.2027", time.UTC, ""},
		{"2027-03-31 12:00:00", time.UTC, ""},
		{"2027-03-31T12:00:00", time.UTC, ""}, // no offset: ambiguous
		{"tomorrow", time.UTC, ""},
		{"", time.UTC, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTime(tt.in, tt.loc)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseTime(%q) = %v, want an error", tt.in, got)
				}
				if !strings.Contains(err.Error(), "RFC 3339") {
					t.Fatalf("error %q does not say what is expected", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := got.UTC().Format(time.RFC3339Nano); s != tt.want {
				t.Fatalf("ParseTime(%q) = %s, want %s", tt.in, s, tt.want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * day, true},
		{"1d", day, true},
		{"0d", 0, true},
		{"1d12h", 36 * time.Hour, true},
		{"2d30m", 2*day + 30*time.Minute, true},
		{"36h", 36 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"0", 0, true},
		{"-1h", -time.Hour, true},
		{"-2d", -2 * day, true},
		{" 7d ", 7 * day, true},
		{"106751d", 106751 * day, true},
		{"106752d", 0, false}, // beyond time.Duration
		{"106751d24h", 0, false},
		{"1.5d", 0, false},
		{"d", 0, false},
		{"1dd", 0, false},
		{"1h2d", 0, false},
		{"1d-2h", 0, false},
		{"1D", 0, false},
		{"90", 0, false},
		{"1w", 0, false},
		{"abc", 0, false},
		{"", 0, false},
		{"--1d", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if !tt.ok {
				if err == nil {
					t.Fatalf("ParseDuration(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}
