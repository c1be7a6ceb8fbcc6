package webhooktest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho/internal/webhook"
)

// waitLimit bounds every wait; the tests never need that long.
const waitLimit = 10 * time.Second

func newSecret(t *testing.T) string {
	t.Helper()
	s, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func event(id, typ string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"type":%q,"created_at":"2026-12-07T23:00:00Z","data":{}}`, id, typ)
}

// waitUntil polls cond, failing the test after waitLimit.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after %s", what, waitLimit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReceiver(t *testing.T) {
	ctx := context.Background()

	t.Run("records and verifies a signed delivery", func(t *testing.T) {
		secret := newSecret(t)
		rc := NewReceiver(t, secret)
		s := &webhook.Sender{AllowPrivate: true}
		now := time.Now()

		res := s.Send(ctx, rc.URL()+"/hooks", secret, "evt_1", now, event("evt_1", "account.created"))
		if res.Err != nil || res.Status != http.StatusOK {
			t.Fatalf("Send = %+v, want 200", res)
		}
		got := rc.WaitFor(t, 1, waitLimit)
		d := got[0]
		if d.ID != "evt_1" || d.Type != "account.created" || !d.Verified || d.Status != 200 || d.Timestamp.Unix() != now.Unix() || d.Arrived.IsZero() || d.Problem != "" {
			t.Fatalf("delivery = %+v", d)
		}
		if len(rc.Invalid()) != 0 || len(rc.Deliveries()) != 1 || rc.Concurrent() != 1 {
			t.Fatalf("Invalid %d, Deliveries %d, Concurrent %d; want 0, 1, 1", len(rc.Invalid()), len(rc.Deliveries()), rc.Concurrent())
		}
	})

	t.Run("refuses what does not verify", func(t *testing.T) {
		secret := newSecret(t)
		rc := NewReceiver(t, secret)
		s := &webhook.Sender{AllowPrivate: true}

		tests := []struct {
			name    string
			send    func() int
			problem string
		}{
			{"another secret", func() int {
				return s.Send(ctx, rc.URL(), newSecret(t), "evt_a", time.Now(), event("evt_a", "user.created")).Status
			}, "no v1 signature"},
			{"old timestamp", func() int {
				return s.Send(ctx, rc.URL(), secret, "evt_b", time.Now().Add(-10*time.Minute), event("evt_b", "user.created")).Status
			}, "old"},
			{"unsigned", func() int {
				resp, err := http.Post(rc.URL(), "application/json", strings.NewReader(`{"type":"user.created"}`))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}, "missing"},
		}
		for i, tt := range tests {
			if status := tt.send(); status != http.StatusUnauthorized {
				t.Errorf("%s: answered %d, want 401", tt.name, status)
			}
			invalid := rc.Invalid()
			if len(invalid) != i+1 || !strings.Contains(invalid[i].Problem, tt.problem) || invalid[i].Verified {
				t.Errorf("%s: Invalid = %+v, want a new one with %q", tt.name, invalid, tt.problem)
			}
		}
		if u := rc.Unique(); len(u) != 0 {
			t.Fatalf("Unique = %+v, want none", u)
		}
	})

	t.Run("FailFirst fails the first attempts, Unique dedupes", func(t *testing.T) {
		secret := newSecret(t)
		rc := NewReceiver(t, secret)
		rc.FailFirst(2, http.StatusServiceUnavailable)
		s := &webhook.Sender{AllowPrivate: true}

		var statuses []int
		for range 4 {
			statuses = append(statuses, s.Send(ctx, rc.URL(), secret, "evt_1", time.Now(), event("evt_1", "account.renewed")).Status)
		}
		if want := []int{503, 503, 200, 200}; fmt.Sprint(statuses) != fmt.Sprint(want) {
			t.Fatalf("answers %v, want %v", statuses, want)
		}
		s.Send(ctx, rc.URL(), secret, "evt_2", time.Now(), event("evt_2", "account.expired"))
		u := rc.WaitFor(t, 2, waitLimit)
		if len(u) != 2 || u[0].ID != "evt_1" || u[1].ID != "evt_2" || u[1].Type != "account.expired" {
			t.Fatalf("Unique = %+v, want evt_1 then evt_2", u)
		}
		if n := len(rc.Deliveries()); n != 5 {
			t.Fatalf("Deliveries holds %d, want 5", n)
		}
	})

	t.Run("HangFirst outlasts a short sender timeout, then answers", func(t *testing.T) {
		secret := newSecret(t)
		rc := NewReceiver(t, secret)
		rc.HangFirst(1, time.Hour)
		s := &webhook.Sender{AllowPrivate: true, Timeout: 200 * time.Millisecond}

		if res := s.Send(ctx, rc.URL(), secret, "evt_1", time.Now(), event("evt_1", "user.created")); res.Err == nil {
			t.Fatalf("the hung attempt = %+v, want a timeout", res)
		}
		// The hang ends when the sender hangs up, without an answer.
		waitUntil(t, "the hung request to end", func() bool { return rc.Concurrent() == 1 && rc.inFlightFor("evt_1") == 0 })
		if d := rc.Deliveries()[0]; d.Status != 0 || d.Accepted() {
			t.Fatalf("the hung delivery = %+v, want no answer", d)
		}
		if res := s.Send(ctx, rc.URL(), secret, "evt_1", time.Now(), event("evt_1", "user.created")); res.Err != nil {
			t.Fatalf("the retry = %+v, want 200", res)
		}
		if u := rc.WaitFor(t, 1, waitLimit); len(u) != 1 || len(rc.Deliveries()) != 2 {
			t.Fatalf("Unique %d, Deliveries %d; want 1, 2", len(u), len(rc.Deliveries()))
		}
	})

	t.Run("a short hang answers 200 after it", func(t *testing.T) {
		secret := newSecret(t)
		rc := NewReceiver(t, secret)
		rc.HangFirst(1, 20*time.Millisecond)
		if res := (&webhook.Sender{AllowPrivate: true}).Send(ctx, rc.URL(), secret, "evt_1", time.Now(), event("evt_1", "user.created")); res.Status != 200 {
			t.Fatalf("Send = %+v, want 200", res)
		}
	})

	t.Run("Close ends a hang at once", func(t *testing.T) {
		secret := newSecret(t)
		rc := NewReceiver(t, secret)
		rc.HangFirst(1, time.Hour)
		done := make(chan webhook.Result, 1)
		go func() {
			done <- (&webhook.Sender{AllowPrivate: true, Timeout: time.Hour}).Send(ctx, rc.URL(), secret, "evt_1", time.Now(), event("evt_1", "user.created"))
		}()
		waitUntil(t, "the request to arrive", func() bool { return len(rc.Deliveries()) == 1 })
		rc.Close()
		select {
		case res := <-done:
			if res.Err == nil {
				t.Fatalf("Send = %+v, want a failure", res)
			}
		case <-time.After(waitLimit):
			t.Fatalf("Send still waiting %s after Close", waitLimit)
		}
	})

	t.Run("Concurrent counts overlapping requests of one id", func(t *testing.T) {
		secret := newSecret(t)
		rc := NewReceiver(t, secret)
		rc.HangFirst(3, time.Hour)
		s := &webhook.Sender{AllowPrivate: true, Timeout: time.Hour}
		var wg sync.WaitGroup
		for _, id := range []string{"evt_same", "evt_same", "evt_other"} {
			wg.Go(func() { s.Send(ctx, rc.URL(), secret, id, time.Now(), event(id, "user.created")) })
		}
		waitUntil(t, "three requests in flight", func() bool { return len(rc.Deliveries()) == 3 })
		if n := rc.Concurrent(); n != 2 {
			t.Fatalf("Concurrent = %d, want 2", n)
		}
		rc.Close()
		wg.Wait()
	})

	t.Run("sequential attempts of one id are not concurrent", func(t *testing.T) {
		secret := newSecret(t)
		rc := NewReceiver(t, secret)
		rc.FailFirst(3, 500)
		s := &webhook.Sender{AllowPrivate: true}
		for range 5 {
			s.Send(ctx, rc.URL(), secret, "evt_1", time.Now(), event("evt_1", "user.created"))
		}
		if n := rc.Concurrent(); n != 1 {
			t.Fatalf("Concurrent = %d, want 1", n)
		}
	})

	t.Run("WaitFor fails the test after its timeout", func(t *testing.T) {
		rc := NewReceiver(t, newSecret(t))
		ft := &fatalRecorder{TB: t}
		rc.WaitFor(ft, 1, 10*time.Millisecond)
		if !strings.Contains(ft.msg, "0 unique deliveries accepted") {
			t.Fatalf("WaitFor said %q, want it to fail the test", ft.msg)
		}
	})
}

func (rc *Receiver) inFlightFor(id string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.inFlight[id]
}

// fatalRecorder keeps a Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }
