package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

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
