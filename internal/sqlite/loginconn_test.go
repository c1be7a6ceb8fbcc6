package sqlite

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/autho/autho"
)

// TestLoginConn_QueryOnly: the login's own connections refuse writes, like
// the read pool's.
func TestLoginConn_QueryOnly(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "autho.db"))
	c, err := s.login.get()
	if err != nil {
		t.Fatal(err)
	}
	defer s.login.put(c)
	err = c.exec("CREATE TABLE intruder (a)")
	var re *resultError
	if !errors.As(err, &re) || re.Code()&0xff != sqlite3.SQLITE_READONLY {
		t.Fatalf("write on a login connection: %v, want SQLITE_READONLY", err)
	}
}

// TestLoginPool_Close: Close waits for connections in use and closes them
// all; a login after Close, or waiting when it came, fails instead of
// hanging or reaching a closed connection.
func TestLoginPool_Close(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "autho.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, pt := seedAccount(t, s)
	// Take every connection the pool may open, so the next login waits.
	var held []*loginConn
	for range cap(s.login.free) {
		c, err := s.login.get()
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	var wg sync.WaitGroup
	waited := make(chan error, 1)
	wg.Go(func() {
		_, _, err := s.LoginCredentials(t.Context(), pt.Hash, nil)
		waited <- err
	})
	closed := make(chan error, 1)
	wg.Go(func() { closed <- s.Close() })
	// The waiting login gives up once Close starts; Close waits for the
	// held connections.
	if err := <-waited; err == nil || errors.Is(err, autho.ErrNotFound) {
		t.Fatalf("login waiting for a connection during Close: %v, want an error", err)
	}
	for _, c := range held {
		s.login.put(c)
	}
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, _, err := s.LoginCredentials(t.Context(), pt.Hash, nil); err == nil {
		t.Fatal("login after Close succeeded")
	}
}
