package main

import (
	"maps"
	"testing"
	"time"

	"github.com/autho/autho/internal/daemon"
	"github.com/autho/autho/internal/outbox"
	"github.com/autho/autho/internal/webhook/webhooktest"
)

// cliDeliveryView is a delivery as `webhook deliveries --json` shows it.
type cliDeliveryView struct {
	ID, State   string
	Attempts    int
	AttemptList []struct {
		N      int
		At     time.Time
		Status int
		Error  string
	} `json:"attempt_list"`
}

// deliveriesOf lists an endpoint's deliveries with their attempts, through
// the CLI.
func deliveriesOf(ts *testServer, endpoint string) []cliDeliveryView {
	ts.t.Helper()
	var out struct{ Deliveries []cliDeliveryView }
	ts.mustCLI(&out, "webhook", "deliveries", endpoint)
	return out.Deliveries
}

// TestEvents_Retried: a receiver that answers 500 to the first three
// attempts, and one that hangs past the 10 s bound on the first, each get
// the event in the end, with every attempt listed, and the waits between
// attempts no shorter than the schedule's (shrunk 1000 times).
func TestEvents_Retried(t *testing.T) {
	// Mostly waiting (for leases to run out, for the 10 s bound): it runs
	// beside the other waiting tests.
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		env := eventsEnv("off")
		ts := startEventsServer(t, b, env)
		failing := webhooktest.NewReceiver(t, "")
		failing.FailFirst(3, 500)
		hanging := webhooktest.NewReceiver(t, "")
		hanging.HangFirst(1, 15*time.Second)
		fe := newWebhook(ts, failing, "account.created")
		he := newWebhook(ts, hanging, "account.created")
		ts.mustCLI(nil, "account", "create", "--name", "Acme")
		failing.WaitFor(t, 1, 30*time.Second)
		hanging.WaitFor(t, 1, 30*time.Second)

		const scale = 0.001
		for _, tc := range []struct {
			endpoint string
			statuses []int
		}{
			{fe, []int{500, 500, 500, 200}},
			{he, []int{0, 200}},
		} {
			var ds = deliveriesOf(ts, tc.endpoint)
			// The answer is recorded just after the receiver saw it.
			for i := 0; i < 50 && (len(ds) != 1 || ds[0].State != "delivered"); i++ {
				time.Sleep(100 * time.Millisecond)
				ds = deliveriesOf(ts, tc.endpoint)
			}
			if len(ds) != 1 || ds[0].State != "delivered" || ds[0].Attempts != len(tc.statuses) {
				t.Fatalf("%s: deliveries %+v, want one delivered after %d attempts", tc.endpoint, ds, len(tc.statuses))
			}
			as := ds[0].AttemptList
			for i, a := range as {
				if a.N != i+1 || a.Status != tc.statuses[i] || (a.Status == 200) != (a.Error == "") {
					t.Errorf("%s: attempt %d: %+v, want status %d", tc.endpoint, i+1, a, tc.statuses[i])
				}
				if i > 0 {
					gap, wait := a.At.Sub(as[i-1].At), time.Duration(float64(outbox.Retries[i-1])*scale)
					if gap < wait {
						t.Errorf("%s: attempt %d came %v after the one before, before the schedule's %v", tc.endpoint, i+1, gap, wait)
					}
					t.Logf("%s: attempt %d %v after attempt %d (schedule: %v)", tc.endpoint, i+1, gap, i, wait)
				}
			}
			if tc.endpoint == he && as[0].Error == "" {
				t.Errorf("the hung attempt has no error")
			}
		}
		if c := maps.Collect(func(yield func(string, int) bool) {
			yield("failing", failing.Concurrent())
			yield("hanging", hanging.Concurrent())
		}); c["failing"] > 1 || c["hanging"] > 1 {
			t.Errorf("an event was in flight more than once at a time: %v", c)
		}
	})
}

// TestEvents_TwoNodes: two nodes on one PostgreSQL share the deliveries:
// the receiver never has one event in flight twice, and gets each once
// (no crash, so no repeat at all), and the sweep of both makes each
// expiring event once.
func TestEvents_TwoNodes(t *testing.T) {
	db, _ := pgTestSchema(t)
	env := eventsEnv("off")
	env["AUTHO_MASTER_KEY"] = pgTestMasterKey()
	fast := func(c *daemon.Config) { c.NoticeEvery = 100 * time.Millisecond }
	a := startServerAt(t, db, env, fast)
	startServerAt(t, db, env, fast)
	rc := webhooktest.NewReceiver(t, "")
	rc.HangFirst(10, 300*time.Millisecond) // attempts long enough to overlap
	newWebhook(a, rc, "account.created", "account.expiring")
	for range 19 {
		a.mustCLI(nil, "account", "create", "--name", "Acme")
	}
	a.mustCLI(nil, "account", "create", "--name", "Soon", "--expires", time.Now().Add(20*time.Hour).Format(time.RFC3339))
	rc.WaitFor(t, 21, 30*time.Second)
	time.Sleep(time.Second) // more sweeps by both nodes, more polls
	types := map[string]int{}
	for _, d := range rc.Unique() {
		types[d.Type]++
	}
	if types["account.created"] != 20 || types["account.expiring"] != 1 {
		t.Fatalf("events %v, want 20 account.created and 1 account.expiring", types)
	}
	if n, u := len(rc.Deliveries()), len(rc.Unique()); n != u {
		t.Errorf("%d requests for %d events: some were sent twice", n, u)
	}
	if c := rc.Concurrent(); c > 1 {
		t.Errorf("one event in flight %d times at once", c)
	}
}
