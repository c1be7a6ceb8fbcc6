package migrations

import "testing"

func TestAll(t *testing.T) {
	ms := All()
	if len(ms) == 0 || ms[0].Version != 1 || ms[0].SQL == "" {
		t.Fatalf("All() = %+v", ms)
	}
}
