package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/autho/autho/internal/admin"

	// The zone database is compiled in so that AUTHO_TIMEZONE works in a
	// minimal container image that has no /usr/share/zoneinfo.
	_ "time/tzdata"
)

// ParseTime reads an expiry: RFC 3339 ("2027-03-31T12:00:00Z", with any
// offset), or a date ("2027-03-31") meaning the last second of that day
// in loc, which is what an operator means by "valid until the 31st".
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, loc), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want RFC 3339 (2027-03-31T12:00:00Z) or a date (2027-03-31)", admin.Redact(s))
}

// maxDays keeps N*24h within a time.Duration (about 292 years).
const maxDays = 106751

// ParseDuration reads a Go duration ("36h", "90m") with a leading count of
// days allowed ("90d", "1d12h"): the unit expiries are thought in, which
// time.ParseDuration lacks. Days are 24 hours; fractional days ("1.5d") are
// refused rather than guessed.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not a duration: want e.g. 90d, 1d12h, 36h or 30m", admin.Redact(s))
	neg := false
	rest := s
	if len(rest) > 0 && (rest[0] == '-' || rest[0] == '+') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	var d time.Duration
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		digits := rest[:i]
		if digits == "" || strings.Trim(digits, "0123456789") != "" || len(digits) > 6 {
			return 0, bad
		}
		n, err := strconv.Atoi(digits)
		if err != nil || n > maxDays {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
		rest = rest[i+1:]
		if rest == "" {
			return sign(d, neg), nil
		}
	}
	if rest == "" || rest[0] == '-' || rest[0] == '+' {
		return 0, bad
	}
	more, err := time.ParseDuration(rest)
	if err != nil || more > time.Duration(1<<63-1)-d {
		return 0, bad
	}
	return sign(d+more, neg), nil
}

func sign(d time.Duration, neg bool) time.Duration {
	if neg {
		return -d
	}
	return d
}
