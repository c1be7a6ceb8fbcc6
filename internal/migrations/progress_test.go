package migrations

import (
	"testing"
	"time"
)

// TestReportSlow: a migration done within the threshold is not
// mentioned; a longer one is announced once it passes it and reported when
// done.
func TestReportSlow(t *testing.T) {
	type said struct {
		m    string
		took time.Duration
	}
	for _, tc := range []struct {
		name  string
		after time.Duration
		wait  bool // wait for the announcement before finishing
		want  []said
	}{
		{name: "quick", after: time.Hour},
		{name: "slow", after: time.Millisecond, wait: true,
			want: []said{{"0005_login_keys", -1}, {"0005_login_keys", 3 * time.Second}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			heard := make(chan said, 10)
			p := ReportSlow(tc.after, func(m Migration, took time.Duration) { heard <- said{m.String(), took} })
			m := Migration{Version: 5, Name: "login_keys"}
			p(m, false, 0)
			var got []said
			if tc.wait {
				got = append(got, <-heard) // bounded by the test's own timeout
			}
			p(m, true, 3*time.Second)
			// What p says when done it says before returning, and the
			// announcement either came before or was stopped.
		drain:
			for {
				select {
				case s := <-heard:
					got = append(got, s)
				default:
					break drain
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("said %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("said %v, want %v", got, tc.want)
				}
			}
		})
	}
}
