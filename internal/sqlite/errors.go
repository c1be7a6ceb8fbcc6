package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/autho/autho"
)

// wrap translates a driver error into the Store's sentinels, by result code.
// The driver's message names tables and columns, never values, so it is kept
// for the log; no query argument (a hash) ever reaches an error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", op, autho.ErrNotFound)
	}
	// The driver's *sqlite.Error, or loginConn's resultError.
	var se interface{ Code() int }
	if errors.As(err, &se) {
		if sentinel := sentinelFor(se.Code()); sentinel != nil {
			return fmt.Errorf("sqlite: %s: %w (%w)", op, sentinel, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

func sentinelFor(code int) error {
	switch code {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return autho.ErrConflict
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return autho.ErrNotFound
	}
	// Extended codes carry the primary code in their low byte.
	switch code & 0xff {
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
		sqlite3.SQLITE_PERM, sqlite3.SQLITE_PROTOCOL:
		return autho.ErrUnavailable
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		// Still locked after busy_timeout: another process holds the file.
		return autho.ErrUnavailable
	}
	return nil
}

// constError is an error that quotes nothing it was given: a stored value
// that fails to decode is a hash or sealed key material.
type constError string

func (e constError) Error() string { return string(e) }

const (
	errBadHash   = constError("stored hash is not hex")
	errBadBase64 = constError("stored key is not base64")
)
