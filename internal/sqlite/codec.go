package sqlite

import (
	"database/sql"
	"encoding/base64"
	"strings"
	"time"
)

// Values are stored as internal/migrations says for both engines' schemas:
// times as Unix microseconds, with "never" (the zero time.Time) as NULL in
// nullable columns; hashes as hex, binary values as base64, booleans as 0/1.

func micros(t time.Time) int64 { return t.UnixMicro() }

func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// nullString stores "" as NULL, for optional references.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// stored is t as a read will return it: microseconds, in UTC. Updates return
// their result through it, so it equals the next read.
func stored(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return fromMicros(micros(t))
}

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// Scopes are one space-separated TEXT column; none is the empty string.
func joinScopes(s []string) string { return strings.Join(s, " ") }

func splitScopes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, " ")
}

// decode64 reads a base64 column; empty is nil.
func decode64(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		// Not err itself: it quotes the offending input, which may be
		// sealed key material.
		return nil, errBadBase64
	}
	return b, nil
}

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

// storedZero is stored for a column of zeroMicros.
func storedZero(t time.Time) time.Time { return fromZeroMicros(zeroMicros(t)) }
