package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

func TestSentinelFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		want error
	}{
		{"unique", sqlite3.SQLITE_CONSTRAINT_UNIQUE, autho.ErrConflict},
		{"primary key", sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, autho.ErrConflict},
		{"foreign key", sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, autho.ErrNotFound},
		{"not null", sqlite3.SQLITE_CONSTRAINT_NOTNULL, nil},
		{"cannot open", sqlite3.SQLITE_CANTOPEN, autho.ErrUnavailable},
		{"io error", sqlite3.SQLITE_IOERR, autho.ErrUnavailable},
		{"io error on fsync", sqlite3.SQLITE_IOERR | 4<<8, autho.ErrUnavailable},
		{"disk full", sqlite3.SQLITE_FULL, autho.ErrUnavailable},
		{"busy past the timeout", sqlite3.SQLITE_BUSY, autho.ErrUnavailable},
		{"generic error", sqlite3.SQLITE_ERROR, nil},
		{"corrupt", sqlite3.SQLITE_CORRUPT, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sentinelFor(tc.code); got != tc.want {
				t.Fatalf("sentinelFor(%d) = %v, want %v", tc.code, got, tc.want)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "autho.db"))
	t.Run("not found", func(t *testing.T) {
		_, err := s.Account(t.Context(), secret.NewID("acc"))
		if !errors.Is(err, autho.ErrNotFound) || errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("err = %v, want ErrNotFound and not sql.ErrNoRows", err)
		}
	})
	t.Run("conflict keeps the driver's code", func(t *testing.T) {
		a, _ := seedAccount(t, s)
		_, err := s.w.ExecContext(t.Context(), `INSERT INTO accounts (id, name, status, expires_at, created_at, updated_at)
			VALUES (?, 'x', 'active', 0, 0, 0)`, a.ID)
		err = wrap("test", err)
		var se *sqlite.Error
		if !errors.Is(err, autho.ErrConflict) || !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			t.Fatalf("err = %v, want ErrConflict wrapping SQLITE_CONSTRAINT_PRIMARYKEY", err)
		}
	})
}
