package sqlite

import (
	"database/sql"
	"encoding/hex"
	"errors"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
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
		_, err := s.LoginCredentials(t.Context(), pt.Hash, nil)
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
	if _, err := s.LoginCredentials(t.Context(), pt.Hash, nil); err == nil {
		t.Fatal("login after Close succeeded")
	}
}

// TestLoginPool_ReadMatchesDriver: what loginPool reads of
// loginCredentialsSQL through the C API is, column by column, what
// database/sql and the driver read of the same statement over the same
// rows, with each column NULL and not, scopes empty and several.
func TestLoginPool_ReadMatchesDriver(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "autho.db"))
	ctx := t.Context()
	now := time.Now()
	a, old := seedAccount(t, s)
	user := func(email string, active bool) *autho.User {
		u := &autho.User{ID: secret.NewID("usr"), AccountID: a.ID, Email: email, Role: autho.RoleMember, Active: active,
			CreatedAt: now, UpdatedAt: now}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	token := func(u *autho.User, scopes []string) *autho.APIToken {
		plain := secret.New(secret.APIToken)
		tk := &autho.APIToken{ID: secret.NewID("tok"), UserID: u.ID, AccountID: a.ID, Name: "t", Hash: secret.Hash(plain),
			Hint: secret.Hint(plain), Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateAPIToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	scoped := token(user("a@example.com", true), []string{"orders:read", "orders:write"})
	bare := token(user("b@example.com", false), nil)
	if _, err := s.UpdateAPIToken(ctx, bare.ID, func(tk *autho.APIToken) error { tk.RevokedAt = now; return nil }); err != nil {
		t.Fatal(err)
	}
	plain := secret.New(secret.PartnerToken)
	current := &autho.PartnerToken{ID: secret.NewID("ptk"), AccountID: a.ID, Hash: secret.Hash(plain), Hint: secret.Hint(plain), CreatedAt: now}
	if err := s.RotatePartnerToken(ctx, current, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	noToken := func(r *autho.LoginRecord) bool { return r.Token == nil }
	for _, tc := range []struct {
		name     string
		ptn, api []byte
		// reached tells that the rows are in the case's state, so that
		// agreement is not over columns that never left NULL.
		reached func(*autho.LoginRecord) bool
	}{
		{"token with scopes", current.Hash, scoped.Hash, func(r *autho.LoginRecord) bool {
			return r.PartnerTokenEnds.IsZero() && r.Token != nil && len(r.Token.Scopes) == 2 && r.Token.RevokedAt.IsZero() && r.Token.UserActive
		}},
		{"revoked token without scopes, user deactivated", current.Hash, bare.Hash, func(r *autho.LoginRecord) bool {
			return r.Token != nil && len(r.Token.Scopes) == 0 && !r.Token.RevokedAt.IsZero() && !r.Token.UserActive
		}},
		{"partner token rotated out, in grace", old.Hash, scoped.Hash, func(r *autho.LoginRecord) bool {
			return !r.PartnerTokenEnds.IsZero() && r.Token != nil
		}},
		{"unknown API token", current.Hash, secret.Hash(secret.New(secret.APIToken)), noToken},
		{"no API token hash", current.Hash, nil, noToken},
		{"unknown partner token", secret.Hash(secret.New(secret.PartnerToken)), scoped.Hash, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := s.login.read(tc.ptn, tc.api)

			var ptEnds, accExpires, tokExpires, revoked, active sql.NullInt64
			var accID, status, tokID, userID, tokAccount, scopes sql.NullString
			api := tc.api
			if api == nil {
				api = []byte{} // what read binds for no hash: an empty blob
			}
			derr := s.r.QueryRowContext(ctx, loginCredentialsSQL, hex.EncodeToString(tc.ptn), loginKey(tc.api), api).Scan(
				&ptEnds, &accID, &status, &accExpires, &tokID, &userID, &tokAccount, &scopes, &tokExpires, &revoked, &active)
			if errors.Is(derr, sql.ErrNoRows) {
				if !errors.Is(err, autho.ErrNotFound) || rec != nil {
					t.Fatalf("read = %+v, %v; the driver found no row", rec, err)
				}
				return
			}
			if derr != nil || err != nil {
				t.Fatalf("driver: %v; read: %v", derr, err)
			}
			if !tc.reached(rec) {
				t.Fatalf("the rows are not in the case's state: %+v", rec)
			}
			if (rec.Token != nil) != tokID.Valid {
				t.Fatalf("read an API token: %v; the driver's x.id is NULL: %v", rec.Token != nil, !tokID.Valid)
			}
			micros := func(v sql.NullInt64) time.Time {
				if !v.Valid {
					return time.Time{}
				}
				return fromMicros(v.Int64)
			}
			cols := []struct {
				col       string
				got, want any
			}{
				{"p.expires_at", rec.PartnerTokenEnds, micros(ptEnds)},
				{"a.id", rec.Account.ID, accID.String},
				{"a.status", string(rec.Account.Status), status.String},
				{"a.expires_at", rec.Account.ExpiresAt, micros(accExpires)},
			}
			if tk := rec.Token; tk != nil {
				cols = append(cols, []struct {
					col       string
					got, want any
				}{
					{"x.id", tk.ID, tokID.String},
					{"x.user_id", tk.UserID, userID.String},
					{"x.account_id", tk.AccountID, tokAccount.String},
					{"x.scopes", tk.Scopes, splitScopes(scopes.String)},
					{"x.expires_at", tk.ExpiresAt, micros(tokExpires)},
					{"x.revoked_at", tk.RevokedAt, micros(revoked)},
					{"x.active", tk.UserActive, active.Int64 != 0},
				}...)
			}
			for _, c := range cols {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s: C API read %v, database/sql %v", c.col, c.got, c.want)
				}
			}
		})
	}
}
