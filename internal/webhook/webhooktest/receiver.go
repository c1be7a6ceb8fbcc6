// Package webhooktest is a real webhook receiver for tests: an HTTP server on
// 127.0.0.1 that verifies every delivery's Standard Webhooks signature with
// its own verifier, records what came, and answers as the test programs it
// (fail the first attempts, hang, succeed).
package webhooktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// maxBody bounds what one delivery may hold; events are small.
const maxBody = 1 << 20

// Delivery is one request the receiver got.
type Delivery struct {
	ID        string    // webhook-id
	Timestamp time.Time // webhook-timestamp; zero when missing or malformed
	Type      string    // the body's "type", "" when it has none
	Body      []byte
	Verified  bool
	Problem   string    // why it did not verify; "" when it did
	Arrived   time.Time // by the receiver's clock
	// Status is what the receiver answered: 401 when it did not verify, the
	// programmed failure, or 200. It is 0 while the request is in flight, and
	// when the sender hung up (or the receiver closed) before the answer.
	Status int
}

// Accepted says the receiver verified the delivery and answered it with a 2xx.
func (d Delivery) Accepted() bool { return d.Verified && d.Status >= 200 && d.Status <= 299 }

// Receiver is the test server. Its methods are safe for concurrent use.
type Receiver struct {
	secret    string
	server    *httptest.Server
	closing   chan struct{}
	closeOnce sync.Once

	mu         sync.Mutex
	deliveries []*Delivery
	inFlight   map[string]int // webhook-id → requests being handled
	concurrent int            // the most inFlight has held for one id
	failLeft   int
	failStatus int
	hangLeft   int
	hangFor    time.Duration
	changed    chan struct{} // closed and replaced whenever a delivery arrives or is answered
}

// NewReceiver starts a receiver that verifies with secret (whsec_…; "" when
// the endpoint, which makes the secret, needs the receiver's URL first:
// then SetSecret before anything is sent) and stops it when the test ends.
func NewReceiver(t testing.TB, secret string) *Receiver {
	t.Helper()
	// Refuse a bad secret now rather than have every delivery look forged.
	if _, err := decodeKey(secret); err != nil && secret != "" {
		t.Fatalf("webhooktest: the receiver's secret is not whsec_ and base64")
	}
	rc := &Receiver{
		secret:   secret,
		closing:  make(chan struct{}),
		inFlight: map[string]int{},
		changed:  make(chan struct{}),
	}
	rc.server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

// SetSecret sets the secret deliveries are verified with.
func (rc *Receiver) SetSecret(t testing.TB, secret string) {
	t.Helper()
	if _, err := decodeKey(secret); err != nil {
		t.Fatalf("webhooktest: the receiver's secret is not whsec_ and base64")
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secret = secret
}

// URL is where to send deliveries, such as http://127.0.0.1:40213; any path
// under it is accepted.
func (rc *Receiver) URL() string { return rc.server.URL }

// Close stops the receiver: hanging requests end at once without an answer,
// and later sends cannot connect. Tests need not call it; the cleanup does.
func (rc *Receiver) Close() {
	rc.closeOnce.Do(func() {
		close(rc.closing) // first, or Server.Close would wait for hanging handlers
		rc.server.Close()
	})
}

// FailFirst makes the next n verified requests get status (such as 500)
// instead of 200.
func (rc *Receiver) FailFirst(n, status int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.failLeft, rc.failStatus = n, status
}

// HangFirst makes the next n verified requests wait d before they are
// answered (200, or FailFirst's status if that applies too). A hang ends
// early, without an answer, when the sender hangs up or the receiver closes.
func (rc *Receiver) HangFirst(n int, d time.Duration) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.hangLeft, rc.hangFor = n, d
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	d := &Delivery{ID: r.Header.Get("webhook-id"), Body: body, Arrived: time.Now()}
	if unix, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64); err == nil {
		d.Timestamp = time.Unix(unix, 0)
	}
	var event struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &event) == nil {
		d.Type = event.Type
	}
	rc.mu.Lock()
	secret := rc.secret
	rc.mu.Unlock()
	switch err := Verify(secret, r.Header, body, d.Arrived); {
	case readErr != nil:
		d.Problem = "the body could not be read: " + readErr.Error()
	case r.Method != http.MethodPost:
		d.Problem = "the method is " + r.Method + ", not POST"
	case err != nil:
		d.Problem = err.Error()
	default:
		d.Verified = true
	}

	status := http.StatusUnauthorized
	var hang time.Duration
	rc.mu.Lock()
	rc.deliveries = append(rc.deliveries, d)
	rc.inFlight[d.ID]++
	rc.concurrent = max(rc.concurrent, rc.inFlight[d.ID])
	if d.Verified {
		status = http.StatusOK
		if rc.failLeft > 0 {
			rc.failLeft--
			status = rc.failStatus
		}
		if rc.hangLeft > 0 {
			rc.hangLeft--
			hang = rc.hangFor
		}
	}
	rc.notifyLocked()
	rc.mu.Unlock()

	if hang > 0 {
		timer := time.NewTimer(hang)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			status = 0
		case <-rc.closing:
			status = 0
		}
		timer.Stop()
	}

	// Recorded before the answer is written: the handler is still running, so
	// the sender cannot have the answer yet, and a retry it makes after the
	// answer never overlaps this request in Concurrent.
	rc.mu.Lock()
	d.Status = status
	rc.inFlight[d.ID]--
	rc.notifyLocked()
	rc.mu.Unlock()
	if status == 0 {
		// Returning would answer 200; this closes the connection instead,
		// and net/http logs nothing for it.
		panic(http.ErrAbortHandler)
	}
	w.WriteHeader(status)
}

func (rc *Receiver) notifyLocked() {
	close(rc.changed)
	rc.changed = make(chan struct{})
}

// Deliveries returns every request, in order of arrival, answered or not.
func (rc *Receiver) Deliveries() []Delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.copyLocked(func(*Delivery) bool { return true })
}

// Unique returns, for each webhook-id the receiver accepted (verified and
// answered 2xx), its first accepted delivery, in order of arrival: what a
// receiver that dedupes by webhook-id, as the specification advises, would
// process. Failed attempts are in Deliveries.
func (rc *Receiver) Unique() []Delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.uniqueLocked()
}

func (rc *Receiver) uniqueLocked() []Delivery {
	seen := map[string]bool{}
	return rc.copyLocked(func(d *Delivery) bool {
		if !d.Accepted() || seen[d.ID] {
			return false
		}
		seen[d.ID] = true
		return true
	})
}

// Invalid returns the requests that did not verify; a correct sender makes
// none.
func (rc *Receiver) Invalid() []Delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.copyLocked(func(d *Delivery) bool { return !d.Verified })
}

// Concurrent is the highest number of requests with the same webhook-id that
// were being handled at once: from arrival until the receiver answered or
// noticed that the sender had hung up. One node sending each attempt once, and
// waiting for it, keeps this at 1.
func (rc *Receiver) Concurrent() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.concurrent
}

// WaitFor waits until Unique holds at least n deliveries, and returns them;
// after timeout it fails the test. Call it from the test's goroutine.
func (rc *Receiver) WaitFor(t testing.TB, n int, timeout time.Duration) []Delivery {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		rc.mu.Lock()
		unique, changed := rc.uniqueLocked(), rc.changed
		all := len(rc.deliveries)
		rc.mu.Unlock()
		if len(unique) >= n {
			return unique
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("webhooktest: %d unique deliveries accepted within %s, want %d (%d requests in all)", len(unique), timeout, n, all)
			return unique
		}
	}
}

func (rc *Receiver) copyLocked(keep func(*Delivery) bool) []Delivery {
	var out []Delivery
	for _, d := range rc.deliveries {
		if keep(d) {
			c := *d
			c.Body = append([]byte(nil), d.Body...)
			out = append(out, c)
		}
	}
	return out
}
