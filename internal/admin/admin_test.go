package admin_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/sqlite"
)

// start is the fixed "now" of every test; whole microseconds, as stored.
var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	svc   *admin.Service
	store autho.Store
	now   time.Time
}

func (f *fixture) clock() time.Time { return f.now }

// newFixture returns a Service on a fresh SQLite store, with a clock the
// test moves by setting f.now.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "autho.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st, now: start}
	f.svc = &admin.Service{Store: st, Now: f.clock, MaxTokenTTL: 30 * 24 * time.Hour}
	return f
}

func (f *fixture) mustAccount(t *testing.T, name string) (*autho.Account, string) {
	t.Helper()
	a, pt, err := f.svc.CreateAccount(t.Context(), autho.OperatorCLI, name, f.now.Add(365*24*time.Hour))
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return a, pt
}

func (f *fixture) mustUser(t *testing.T, accountID, email string) *autho.User {
	t.Helper()
	u, _, err := f.svc.CreateUser(t.Context(), autho.OperatorCLI, accountID, email, "", "")
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func (f *fixture) mustToken(t *testing.T, user string) (*autho.APIToken, string) {
	t.Helper()
	tk, plain, err := f.svc.CreateToken(t.Context(), autho.OperatorCLI, admin.NewToken{User: user, Name: "ci", ExpiresAt: f.now.Add(24 * time.Hour)})
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	return tk, plain
}

// wantInputError checks err is an *admin.Error with the given message part
// and kind (nil: invalid input).
func wantInputError(t *testing.T, err error, msgPart string, kind error) {
	t.Helper()
	var ae *admin.Error
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want *admin.Error", err, err)
	}
	if !strings.Contains(ae.Error(), msgPart) {
		t.Fatalf("err = %q, want it to contain %q", ae.Error(), msgPart)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Fatalf("err = %v, want errors.Is %v", err, kind)
	}
	if kind == nil {
		for _, k := range []error{autho.ErrNotFound, autho.ErrConflict, admin.ErrForbidden} {
			if errors.Is(err, k) {
				t.Fatalf("err = %v is %v, want plain invalid input", err, k)
			}
		}
	}
	if strings.ContainsAny(ae.Error(), "\n\r") {
		t.Fatalf("err = %q spans lines", ae.Error())
	}
}

// snapshot is everything the store holds that the service can change, to
// show that a refused request changed nothing.
func snapshot(t *testing.T, st autho.Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	as, err := st.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		b.WriteString(a.ID + " " + a.Name + " " + string(a.Status) + " " + a.ExpiresAt.String() + " " + a.UpdatedAt.String() + " " + a.PartnerTokenHint + " " + strings.Join(a.AllowedScopes, ",") + "\n")
		us, err := st.Users(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			b.WriteString("  " + u.ID + " " + u.Email + " " + string(u.Role) + " " + u.PasswordHash + " " + u.UpdatedAt.String())
			if u.Active {
				b.WriteString(" active")
			}
			b.WriteString("\n")
		}
	}
	ts, err := st.APITokens(ctx, autho.TokenFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range ts {
		b.WriteString(tk.ID + " " + tk.Name + " " + tk.ExpiresAt.String() + " " + tk.RevokedAt.String() + " " + strings.Join(tk.Scopes, ",") + "\n")
	}
	return b.String()
}
