package login_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/pgtest"
	"github.com/autho/autho/internal/postgres"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/signer"
	"github.com/autho/autho/internal/sqlite"
)

// start is the logins' fixed now; whole microseconds, as stored.
var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// backend opens an empty, migrated store in a database of the test's own,
// and returns with it a function that opens another handle on the same
// database, as a second node would.
type backend func(t *testing.T) (autho.Store, func() autho.Store)

// forEachBackend runs f as a subtest per backend. The PostgreSQL one skips
// without AUTHO_TEST_POSTGRES (and fails under CI), like every PostgreSQL
// test.
func forEachBackend(t *testing.T, f func(t *testing.T, open backend)) {
	for _, b := range []struct {
		name string
		open backend
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(b.name, func(t *testing.T) { f(t, b.open) })
	}
}

func openSQLite(t *testing.T) (autho.Store, func() autho.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "autho.db")
	open := func() *sqlite.Store {
		st, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st := open()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st, func() autho.Store { return open() }
}

func openPostgres(t *testing.T) (autho.Store, func() autho.Store) {
	t.Helper()
	u, _ := pgtest.Schema(t, "autho_login_")
	open := func() *postgres.Store {
		st, err := postgres.Open(context.Background(), u, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st := open()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st, func() autho.Store { return open() }
}

// fixture is a login service on a real store, with a fixed clock.
type fixture struct {
	store  autho.Store
	reopen func() autho.Store
	keys   *signer.Keyring
	svc    *login.Service
	usage  *login.Recorder
	n      int // partners made, for unique emails
}

// newFixture wires a Service as serve does, allowing limit refusals per key
// and minute (0: no limit).
func newFixture(t *testing.T, open backend, limit int) *fixture {
	t.Helper()
	st, reopen := open(t)
	f := &fixture{store: st, reopen: reopen, keys: mustKeyring(t, st, true)}
	f.usage = login.NewRecorder(st, nil)
	f.svc = f.service(st, f.keys, login.NewLimiter(limit))
	return f
}

// service is a login Service on st, as a node of its own.
func (f *fixture) service(st login.Store, keys login.Signer, limiter *login.Limiter) *login.Service {
	return login.NewService(st, keys, limiter, f.usage, login.Config{
		Issuer: "http://x", Audience: "autho", TTL: 24 * time.Hour, Now: func() time.Time { return start },
	})
}

// mustKeyring is an ES256 keyring on st; with a signing key, or none.
func mustKeyring(t *testing.T, st autho.Store, withKey bool) *signer.Keyring {
	t.Helper()
	sealer, err := signer.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := signer.NewKeyring(st, sealer, signer.Options{Algorithm: "ES256", TokenTTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if withKey {
		if err := keys.EnsureKey(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// partner is one account's secrets and ids, as a partner's software holds
// them: its partner token, and one API token of one of its users.
type partner struct {
	AccountID, UserID, TokenID string
	PartnerToken, APIToken     string
}

func (p partner) creds() login.Credentials {
	return login.Credentials{APIToken: p.APIToken, PartnerToken: p.PartnerToken}
}

// newPartner stores an active account expiring at accountExpires, with an
// active user and one API token of that user expiring at tokenExpires.
// Rows are written with the store's own Create methods, which apply no
// rules, so that any state can be set up at start.
func (f *fixture) newPartner(t *testing.T, accountExpires, tokenExpires time.Time) partner {
	t.Helper()
	ctx := t.Context()
	created := start.Add(-48 * time.Hour)
	ptn := secret.New(secret.PartnerToken)
	a := &autho.Account{ID: secret.NewID("acc"), Name: "Partner", Status: autho.AccountActive,
		ExpiresAt: accountExpires, CreatedAt: created, UpdatedAt: created}
	pt := &autho.PartnerToken{ID: secret.NewID("ptk"), AccountID: a.ID, Hash: secret.Hash(ptn), Hint: secret.Hint(ptn), CreatedAt: created}
	if err := f.store.CreateAccount(ctx, a, pt); err != nil {
		t.Fatal(err)
	}
	f.n++
	u := &autho.User{ID: secret.NewID("usr"), AccountID: a.ID, Email: fmt.Sprintf("p%d@example.com", f.n),
		Role: autho.RoleMember, Active: true, CreatedAt: created, UpdatedAt: created}
	if err := f.store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	p := partner{AccountID: a.ID, UserID: u.ID, PartnerToken: ptn}
	return f.newToken(t, p, tokenExpires, nil)
}

// goodPartner is a partner whose account expires in 30 days and its token
// in one hour.
func (f *fixture) goodPartner(t *testing.T) partner {
	t.Helper()
	return f.newPartner(t, start.Add(30*24*time.Hour), start.Add(time.Hour))
}

// newToken gives p's user another API token and returns p holding it.
func (f *fixture) newToken(t *testing.T, p partner, expires time.Time, scopes []string) partner {
	t.Helper()
	api := secret.New(secret.APIToken)
	tk := &autho.APIToken{ID: secret.NewID("tok"), UserID: p.UserID, AccountID: p.AccountID, Name: "t",
		Hash: secret.Hash(api), Hint: secret.Hint(api), Scopes: scopes, CreatedAt: start.Add(-48 * time.Hour), ExpiresAt: expires}
	if err := f.store.CreateAPIToken(t.Context(), tk); err != nil {
		t.Fatal(err)
	}
	p.TokenID, p.APIToken = tk.ID, api
	return p
}

// wantCode fails unless err is the contract's answer code ("00": none).
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if code == "00" {
		if err != nil {
			t.Fatalf("err = %v, want a login", err)
		}
		return
	}
	var ae *autho.Error
	switch {
	case code == autho.ErrTooManyRequests.Code:
		var rl *login.RateLimitError
		if !errors.As(err, &rl) || rl.RetryAfter <= 0 {
			t.Fatalf("err = %v, want 09 with a Retry-After", err)
		}
	case !errors.As(err, &ae) || ae.Code != code:
		t.Fatalf("err = %v, want %s", err, code)
	}
}

func (p partner) withAPI(api string) login.Credentials {
	return login.Credentials{APIToken: api, PartnerToken: p.PartnerToken}
}

func (p partner) withPartner(ptn string) partner {
	p.PartnerToken = ptn
	return p
}
