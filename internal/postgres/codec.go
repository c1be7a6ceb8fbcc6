package postgres

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Values are stored as internal/migrations says for both engines' schemas:
// times as Unix microseconds, hashes as hex, binary values as base64,
// booleans as 0/1. Scopes are one space-separated TEXT.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// nullMicros maps the zero time, which the domain uses for "never" or "no
// end", to NULL.
func nullMicros(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

func fromNullMicros(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromMicros(*v)
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func fromHex(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		// The value itself is a hash: not repeated in the error.
		return nil, fmt.Errorf("corrupt hex column (%d characters)", len(s))
	}
	return b, nil
}

func base64Of(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func fromBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("corrupt base64 column (%d characters)", len(s))
	}
	return b, nil
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func joinScopes(s []string) string { return strings.Join(s, " ") }

func splitScopes(s string) []string { return strings.Fields(s) }

// scanner is a pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// Columns of internal/migrations' 0011 store "never" as 0, not NULL, so
// that every column of the delivery queue is NOT NULL on both engines.
func zeroMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromZeroMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMicros(v)
}
