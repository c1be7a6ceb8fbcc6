package admin

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what people type. Names are for display in lists; 200
// characters is generous and keeps a page readable.
const (
	maxNameLen  = 200
	maxEmailLen = 254 // RFC 5321's limit on a forward path, less the brackets
	maxScopes   = 50
	maxScopeLen = 128
)

// cleanName trims a display name and checks its length and that it holds no
// control characters (which would break one-line CLI output and logs).
func cleanName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", invalid(field, "%s must not be empty", field)
	}
	if !utf8.ValidString(name) {
		return "", invalid(field, "%s must be valid UTF-8 text", field)
	}
	if n := utf8.RuneCountInString(name); n > maxNameLen {
		return "", invalid(field, "%s must be at most %d characters (got %d)", field, maxNameLen, n)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", invalid(field, "%s must not contain control characters", field)
	}
	if err := refuseInvisible(field, name); err != nil {
		return "", err
	}
	return name, nil
}

// refuseInvisible refuses Unicode's format characters (category Cf):
// they show nothing themselves but change how the text around them reads.
// The bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E,
// U+200F, U+061C) can make a list show a name backwards or out of place
// ("Trojan Source", CVE-2021-42574); the invisible ones (U+200B, U+2060,
// U+FEFF, U+00AD, the tag characters) make two different names or emails
// look alike, or hide text in one. The two joiners (U+200C, U+200D) stay
// allowed: Persian, the Indic scripts and emoji sequences need them.
func refuseInvisible(field, s string) error {
	i := strings.IndexFunc(s, func(r rune) bool {
		return unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d'
	})
	if i < 0 {
		return nil
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return invalid(field, "%s must not contain invisible or text-direction characters (%U)", field, r)
}

// cleanEmail trims an email address and checks it is one bare address
// (no display name, no angle brackets). It is stored with its letter case as
// given; uniqueness ignores case (autho.EmailKey).
func cleanEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", invalid("email", "email must not be empty")
	}
	if len(email) > maxEmailLen {
		return "", invalid("email", "email must be at most %d characters", maxEmailLen)
	}
	if err := refuseInvisible("email", email); err != nil {
		return "", err
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return "", invalid("email", "invalid email address: %q", email)
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(email, " \t") {
		return "", invalid("email", "invalid email address: %q", email)
	}
	return email, nil
}

// cleanScopes checks each scope against RFC 6749 section 3.3 (scope-token =
// 1*( %x21 / %x23-5B / %x5D-7E )) and drops repeats, keeping the order given.
func cleanScopes(scopes []string) ([]string, error) {
	out := make([]string, 0, len(scopes))
	seen := make(map[string]bool, len(scopes))
	for _, s := range scopes {
		if s == "" {
			return nil, invalid("scopes", "a scope must not be empty")
		}
		if len(s) > maxScopeLen {
			return nil, invalid("scopes", "a scope must be at most %d characters", maxScopeLen)
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return nil, invalid("scopes", "invalid scope %q: a scope is printable ASCII without spaces, quotes or backslashes", s)
			}
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) > maxScopes {
		return nil, invalid("scopes", "at most %d scopes may be given", maxScopes)
	}
	return out, nil
}

// checkFuture refuses a zero or past expiry.
func checkFuture(field string, t, now time.Time) error {
	if t.IsZero() {
		return invalid(field, "expiry is required")
	}
	if !t.After(now) {
		return invalid(field, "expiry must be in the future")
	}
	return nil
}

// checkID refuses an id that is empty or carries the wrong type prefix, so
// that "account show usr_…" says what went wrong instead of "not found".
func checkID(field, prefix, id string) (string, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return "", invalid(field, "%s id must not be empty", field)
	}
	if !strings.HasPrefix(id, prefix+"_") {
		return "", notFound(field, "%s %s not found", field, id)
	}
	return id, nil
}

// formatTTL writes a duration in days when it is whole days, the unit
// operators set the limit in.
func formatTTL(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}
