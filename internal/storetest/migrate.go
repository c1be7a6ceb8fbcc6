package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/migrations"
)

// Migrator is how a backend applies the schema, telling its progress.
type Migrator interface {
	MigrateProgress(ctx context.Context, progress migrations.Progress) error
}

// TestMigrateProgress checks m, a store on an empty database: every
// migration of dialect d is reported once as started and once as done, in
// version order, and a second run applies and reports nothing.
func TestMigrateProgress(t *testing.T, m Migrator, d migrations.Dialect) {
	t.Helper()
	var got []string
	record := func(mg migrations.Migration, done bool, took time.Duration) {
		if took < 0 || (!done && took != 0) {
			t.Errorf("%s: done %v, took %v", mg, done, took)
		}
		got = append(got, fmt.Sprintf("%s done=%v", mg, done))
	}
	if err := m.MigrateProgress(t.Context(), record); err != nil {
		t.Fatalf("MigrateProgress: %v", err)
	}
	var want []string
	for _, mg := range migrations.All(d) {
		want = append(want, mg.String()+" done=false", mg.String()+" done=true")
	}
	if !slices.Equal(got, want) {
		t.Errorf("first run reported\n%v\nwant\n%v", got, want)
	}
	got = nil
	if err := m.MigrateProgress(t.Context(), record); err != nil {
		t.Fatalf("second MigrateProgress: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("second run reported %v, want nothing", got)
	}
}

// Pre0013SQL stores, in a database at migration 0012 of either engine,
// what TestRevocationsBackfill expects 0013 to stamp: a suspended account
// and a deactivated user, last updated at 2026-01-01 and -02, beside an
// active account and an active user.
const Pre0013SQL = `
INSERT INTO accounts (id, name, status, expires_at, created_at, updated_at)
	VALUES ('acc_active', 'A', 'active', 4102444800000000, 0, 1767225600000000),
	       ('acc_suspended', 'S', 'suspended', 4102444800000000, 0, 1767225600000000);
INSERT INTO users (id, account_id, email, email_key, password_hash, role, active, created_at, updated_at)
	VALUES ('usr_active', 'acc_active', 'active-0012@example.com', 'active-0012@example.com', '', 'admin', 1, 0, 1767312000000000),
	       ('usr_deactivated', 'acc_active', 'deactivated-0012@example.com', 'deactivated-0012@example.com', '', 'member', 0, 0, 1767312000000000);`

// TestRevocationsBackfill checks s, migrated from Pre0013SQL: the stopped
// rows carry their updated_at as the time of the stop (at or after the
// real one, so a JWT from before it is refused), the others none, and the
// feed lists the stopped ones.
func TestRevocationsBackfill(t *testing.T, s autho.Store) {
	t.Helper()
	ctx := t.Context()
	jan1, jan2 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for id, want := range map[string]time.Time{"acc_active": {}, "acc_suspended": jan1} {
		a, err := s.Account(ctx, id)
		wantErr(t, "Account "+id, err, nil)
		check(t, id+".SuspendedAt", a.SuspendedAt, want)
	}
	for id, want := range map[string]time.Time{"usr_active": {}, "usr_deactivated": jan2} {
		u, err := s.User(ctx, id)
		wantErr(t, "User "+id, err, nil)
		check(t, id+".DeactivatedAt", u.DeactivatedAt, want)
	}
	check(t, "Revocations", revocations(t, s, jan1.Add(-time.Hour), jan2.Add(time.Hour)), []autho.Revocation{
		{Kind: autho.RevokedAccount, ID: "acc_suspended", At: jan1},
		{Kind: autho.RevokedUser, ID: "usr_deactivated", At: jan2},
	})
	version(t, s) // readable: the migration made its row
}
