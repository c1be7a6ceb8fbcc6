package webhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// request is what a test server saw.
type request struct {
	method string
	header http.Header
	body   string
}

// recorder is an httptest server on 127.0.0.1 that keeps what it got and
// answers with handle.
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	newConns atomic.Int32
}

func newRecorder(t *testing.T, handle http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.requests = append(rec.requests, request{r.Method, r.Header.Clone(), string(body)})
		rec.mu.Unlock()
		handle(w, r)
	}))
	rec.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			rec.newConns.Add(1)
		}
	}
	rec.Start()
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) got() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.requests...)
}

var vectorTime = time.Unix(vectorTimestamp, 0)

// A path that stands for a receiver's own token: no error may quote it.
const secretPath = "/hooks/tok_receiverSecret123"

func TestSender_Send(t *testing.T) {
	t.Run("2xx is success with the Standard Webhooks headers", func(t *testing.T) {
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
		s := &Sender{AllowPrivate: true}

		res := s.Send(context.Background(), rec.URL+secretPath, vectorSecret, vectorID, vectorTime, []byte(vectorBody))
		if res.Err != nil || res.Status != http.StatusNoContent {
			t.Fatalf("Send = %+v, want 204 and no error", res)
		}
		reqs := rec.got()
		if len(reqs) != 1 {
			t.Fatalf("the receiver got %d requests, want 1", len(reqs))
		}
		got := reqs[0]
		want := map[string]string{
			"Content-Type":      "application/json",
			"User-Agent":        "autho-webhooks",
			"webhook-id":        vectorID,
			"webhook-timestamp": strconv.Itoa(vectorTimestamp),
			"webhook-signature": vectorSignature,
		}
		for name, value := range want {
			if v := got.header.Get(name); v != value {
				t.Errorf("header %s = %q, want %q", name, v, value)
			}
		}
		if got.method != http.MethodPost || got.body != vectorBody {
			t.Errorf("the receiver got %s %q, want POST %q", got.method, got.body, vectorBody)
		}
	})

	t.Run("every 2xx is success", func(t *testing.T) {
		for _, code := range []int{200, 201, 202, 299} {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
			res := (&Sender{AllowPrivate: true}).Send(context.Background(), rec.URL, vectorSecret, vectorID, time.Now(), []byte("{}"))
			if res.Err != nil || res.Status != code {
				t.Errorf("answer %d: Send = %+v, want success", code, res)
			}
		}
	})

	t.Run("failures keep their status and say one line without secrets", func(t *testing.T) {
		for _, code := range []int{400, 401, 404, 410, 429, 500, 502, 503, 599} {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(code)
				io.WriteString(w, "stack trace: internal detail of the receiver\nline two")
			})
			res := (&Sender{AllowPrivate: true}).Send(context.Background(), rec.URL+secretPath, vectorSecret, vectorID, time.Now(), []byte("{}"))
			if res.Status != code || res.Err == nil {
				t.Fatalf("answer %d: Send = %+v, want that status and an error", code, res)
			}
			if !strings.HasPrefix(res.Err.Error(), "answered "+strconv.Itoa(code)) {
				t.Errorf("answer %d: error %q does not say the status", code, res.Err)
			}
			assertCleanError(t, res.Err)
		}
	})

	t.Run("a redirect is a failure and is not followed", func(t *testing.T) {
		var targetHits atomic.Int32
		target := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { targetHits.Add(1) })
		for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/elsewhere", code)
			})
			res := (&Sender{AllowPrivate: true}).Send(context.Background(), rec.URL+secretPath, vectorSecret, vectorID, time.Now(), []byte("{}"))
			if res.Status != code || res.Err == nil || !strings.Contains(res.Err.Error(), "redirects are not followed") {
				t.Errorf("answer %d: Send = %+v, want that status and a redirect error", code, res)
			}
			assertCleanError(t, res.Err)
		}
		if n := targetHits.Load(); n != 0 {
			t.Fatalf("the redirect's target got %d requests, want 0", n)
		}
	})

	t.Run("no answer within Timeout is a failure", func(t *testing.T) {
		release := make(chan struct{})
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done(): // the sender gave up
			case <-release:
			}
		})
		// Registered after the server's Close, so it runs first and lets a
		// stuck handler go.
		t.Cleanup(func() { close(release) })
		s := &Sender{AllowPrivate: true, Timeout: 100 * time.Millisecond}

		res := s.Send(context.Background(), rec.URL+secretPath, vectorSecret, vectorID, time.Now(), []byte("{}"))
		if res.Status != 0 || res.Err == nil || !strings.Contains(res.Err.Error(), "no answer within 100ms") {
			t.Fatalf("Send = %+v, want no status and a timeout error", res)
		}
		assertCleanError(t, res.Err)
	})

	t.Run("a huge answer is read only up to the cap", func(t *testing.T) {
		const limit = 512 << 20 // what the server would send if the client kept reading
		var written atomic.Int64
		done := make(chan struct{})
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			defer close(done)
			w.WriteHeader(http.StatusOK)
			chunk := []byte(strings.Repeat("x", 32<<10))
			for written.Load() < limit {
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return // the client closed the connection
				}
			}
		})
		s := &Sender{AllowPrivate: true, Timeout: time.Minute}

		res := s.Send(context.Background(), rec.URL, vectorSecret, vectorID, time.Now(), []byte("{}"))
		if res.Err != nil || res.Status != http.StatusOK {
			t.Fatalf("Send = %+v, want success", res)
		}
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("the server is still writing a minute after Send returned")
		}
		// The 64 KiB read, plus what the kernel's socket buffers took in
		// before the connection was closed.
		if n := written.Load(); n >= 64<<20 {
			t.Fatalf("the server wrote %d bytes before the client hung up; the client read far past its cap", n)
		}
	})

	t.Run("connections are reused", func(t *testing.T) {
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
		s := &Sender{AllowPrivate: true}
		for range 5 {
			if res := s.Send(context.Background(), rec.URL, vectorSecret, vectorID, time.Now(), []byte("{}")); res.Err != nil {
				t.Fatal(res.Err)
			}
		}
		if n := rec.newConns.Load(); n != 1 {
			t.Fatalf("5 sends made %d connections, want 1", n)
		}
	})

	t.Run("without AllowPrivate the dial to 127.0.0.1 is refused", func(t *testing.T) {
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {})
		s := &Sender{}

		res := s.Send(context.Background(), rec.URL+secretPath, vectorSecret, vectorID, time.Now(), []byte("{}"))
		if res.Status != 0 || !errors.Is(res.Err, ErrPrivateAddress) {
			t.Fatalf("Send = %+v, want no status and ErrPrivateAddress", res)
		}
		if !strings.Contains(res.Err.Error(), "127.0.0.1 is a loopback address") || !strings.Contains(res.Err.Error(), AllowPrivateSetting) {
			t.Errorf("error %q does not say why nor what allows it", res.Err)
		}
		assertCleanError(t, res.Err)
		if n := rec.newConns.Load(); n != 0 {
			t.Fatalf("the server saw %d connections, want 0", n)
		}
	})

	t.Run("without AllowPrivate a name resolving to loopback is refused at dial", func(t *testing.T) {
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {})
		_, port, _ := net.SplitHostPort(rec.Listener.Addr().String())

		res := (&Sender{}).Send(context.Background(), "http://localhost:"+port+secretPath, vectorSecret, vectorID, time.Now(), []byte("{}"))
		if !errors.Is(res.Err, ErrPrivateAddress) {
			t.Fatalf("Send = %+v, want ErrPrivateAddress", res)
		}
		if n := rec.newConns.Load(); n != 0 {
			t.Fatalf("the server saw %d connections, want 0", n)
		}
	})

	t.Run("a malformed secret sends nothing", func(t *testing.T) {
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {})
		res := (&Sender{AllowPrivate: true}).Send(context.Background(), rec.URL, "whsec_short", vectorID, time.Now(), []byte("{}"))
		if !errors.Is(res.Err, ErrMalformedSecret) || strings.Contains(res.Err.Error(), "short") {
			t.Fatalf("Send = %+v, want ErrMalformedSecret without the secret", res)
		}
		if n := len(rec.got()); n != 0 {
			t.Fatalf("the server got %d requests, want 0", n)
		}
	})

	t.Run("a canceled context stops the attempt", func(t *testing.T) {
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res := (&Sender{AllowPrivate: true}).Send(ctx, rec.URL, vectorSecret, vectorID, time.Now(), []byte("{}"))
		if !errors.Is(res.Err, context.Canceled) {
			t.Fatalf("Send = %+v, want context.Canceled", res)
		}
	})

	t.Run("a closed connection is a failure", func(t *testing.T) {
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		})
		res := (&Sender{AllowPrivate: true}).Send(context.Background(), rec.URL+secretPath, vectorSecret, vectorID, time.Now(), []byte("{}"))
		if res.Status != 0 || res.Err == nil {
			t.Fatalf("Send = %+v, want a failure", res)
		}
		assertCleanError(t, res.Err)
	})
}

// The environment's proxy would make the connection in autho's place, and
// the dial check would see only the proxy's address.
func TestSender_noProxy(t *testing.T) {
	s := &Sender{}
	s.init()
	if tr := s.client.Transport.(*http.Transport); tr.Proxy != nil {
		t.Fatal("the Sender's transport uses a proxy")
	}
}

// assertCleanError fails when err is more than one line or holds the
// secret, the URL's path or the answer's body.
func assertCleanError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return // the caller has already failed on it
	}
	msg := err.Error()
	for _, leak := range []string{"\n", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "tok_receiverSecret123", "internal detail"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error %q holds %q", msg, leak)
		}
	}
}
