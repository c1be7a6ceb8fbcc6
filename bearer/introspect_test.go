package bearer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const introspectSecret = "introspection-secret-for-tests"

// introspectServer plays autho's introspection endpoint: a token is active
// until the test revokes it.
type introspectServer struct {
	*httptest.Server
	hits    atomic.Int32
	mu      sync.Mutex
	revoked map[string]bool
	answer  string // if set, served verbatim
	status  int
	delay   time.Duration
	hang    bool // answer only once the client gives up
}

func newIntrospectServer(t *testing.T) *introspectServer {
	s := &introspectServer{revoked: map[string]bool{}, status: 200}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+introspectSecret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		token := r.PostFormValue("token")
		s.mu.Lock()
		revoked, answer, status, delay, hang := s.revoked[token], s.answer, s.status, s.delay, s.hang
		s.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		switch {
		case answer != "":
			fmt.Fprint(w, answer)
		case revoked:
			fmt.Fprint(w, `{"active":false}`)
		default:
			fmt.Fprint(w, `{"active":true,"sub":"usr_1","acc":"acc_1","tok":"tok_1"}`)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *introspectServer) set(f func(*introspectServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func strictVerifier(t *testing.T, srv *introspectServer, clock *fakeClock, secret string) *Verifier {
	return mustVerifier(t, Config{
		Keys:          standardKeys(mustKeys(t)),
		Introspection: &IntrospectionConfig{URL: srv.URL, Secret: secret, CacheTTL: time.Second},
		Now:           clock.Now,
	})
}

// Acceptance criterion 5, on the package's side: in strict mode a revoked
// token stops being accepted within CacheTTL; without it, it is accepted
// until exp.
func TestVerifier_strictMode_revocation(t *testing.T) {
	srv := newIntrospectServer(t)
	clock := &fakeClock{t: testNow}
	strict := strictVerifier(t, srv, clock, introspectSecret)
	lax := mustVerifier(t, Config{Keys: standardKeys(mustKeys(t)), Now: clock.Now})
	tok := mustSign(t, ES256, "es", goodClaims())
	verify := func(v *Verifier) error { _, err := v.Verify(context.Background(), tok); return err }

	if err := verify(strict); err != nil {
		t.Fatalf("active token refused: %v", err)
	}
	if err := verify(strict); err != nil {
		t.Fatal(err)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("%d introspection requests, want 1 (the second answer is cached)", n)
	}

	srv.set(func(s *introspectServer) { s.revoked[tok] = true })
	clock.Add(500 * time.Millisecond)
	if err := verify(strict); err != nil {
		t.Fatalf("refused within the cache time: %v (the answer should still be cached)", err)
	}
	clock.Add(600 * time.Millisecond)
	wantRefused(t, nil, verify(strict), "not active")
	if err := verify(lax); err != nil {
		t.Fatalf("non-strict mode should accept a revoked token until exp: %v", err)
	}

	// The "inactive" answer is cached too.
	before := srv.hits.Load()
	wantRefused(t, nil, verify(strict), "not active")
	if srv.hits.Load() != before {
		t.Fatal("inactive answer not cached")
	}
}

// An answer is cached for the JWT, not for one string of it: another
// signature of the same claims (same jti) gets the cached "inactive" answer
// rather than a second entry and a second chance.
func TestVerifier_strictMode_cachedByJTI(t *testing.T) {
	srv := newIntrospectServer(t)
	v := strictVerifier(t, srv, &fakeClock{t: testNow}, introspectSecret)
	first := mustSign(t, ES256, "es", goodClaims())
	second := mustSign(t, ES256, "es", goodClaims()) // ECDSA is randomised: another string
	if first == second {
		t.Fatal("two signatures of the same claims are equal")
	}
	srv.set(func(s *introspectServer) { s.revoked[first] = true })
	_, err := v.Verify(context.Background(), first)
	wantRefused(t, nil, err, "not active")
	_, err = v.Verify(context.Background(), second)
	wantRefused(t, nil, err, "not active")
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("%d introspection requests for one JWT, want 1", n)
	}
}

// wantUnavailable asserts strict mode's "no answer": an *Error of kind
// ErrUnavailable (503 14), not a refusal of the token.
func wantUnavailable(tb testing.TB, id *Identity, err error) {
	tb.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalidToken) {
		tb.Fatalf("got %+v, %v (%T); want an *Error of kind ErrUnavailable", id, err, err)
	}
	if !strings.Contains(e.Error(), "introspection failed") {
		tb.Fatalf("reason %q", e.Error())
	}
}

// Strict mode fails closed, but without an answer from autho it does not
// refuse the token: unreachable, a timeout, a 5xx or any answer that is
// not a definite one is ErrUnavailable (503 14, retry); only a definite
// {"active":false} is ErrInvalidToken (401 16).
func TestVerifier_strictMode_noAnswerIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		set    func(*introspectServer)
		secret string
		down   bool
		client *http.Client
	}{
		{name: "connection refused", down: true},
		{name: "timeout", set: func(s *introspectServer) { s.hang = true }, client: &http.Client{Timeout: 50 * time.Millisecond}},
		{name: "500", set: func(s *introspectServer) { s.status = 500 }},
		{name: "502", set: func(s *introspectServer) { s.status = 502 }},
		{name: "503", set: func(s *introspectServer) { s.status = 503 }},
		{name: "not JSON", set: func(s *introspectServer) { s.answer = "<html>" }},
		{name: "no active member", set: func(s *introspectServer) { s.answer = `{"sub":"usr_1"}` }},
		{name: "active as a string", set: func(s *introspectServer) { s.answer = `{"active":"true"}` }},
		{name: "active null", set: func(s *introspectServer) { s.answer = `{"active":null}` }},
		{name: "redirect", set: func(s *introspectServer) { s.status, s.answer = 302, `{"active":true}` }},
		// A wrong secret is the verifier's misconfiguration, not the
		// token's fault: the client must not drop its token for it.
		{name: "wrong secret (401 from autho)", secret: "not-the-secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newIntrospectServer(t)
			if tc.set != nil {
				srv.set(tc.set)
			}
			if tc.down {
				srv.Close()
			}
			secret := introspectSecret
			if tc.secret != "" {
				secret = tc.secret
			}
			v := mustVerifier(t, Config{
				Keys:          standardKeys(mustKeys(t)),
				Introspection: &IntrospectionConfig{URL: srv.URL, Secret: secret, Client: tc.client},
				Logger:        slog.New(slog.DiscardHandler),
				Now:           (&fakeClock{t: testNow}).Now,
			})
			id, err := v.Verify(context.Background(), mustSign(t, ES256, "es", goodClaims()))
			wantUnavailable(t, id, err)
		})
	}
	t.Run("inactive stays a refusal", func(t *testing.T) {
		srv := newIntrospectServer(t)
		srv.set(func(s *introspectServer) { s.answer = `{"active":false}` })
		v := strictVerifier(t, srv, &fakeClock{t: testNow}, introspectSecret)
		id, err := v.Verify(context.Background(), mustSign(t, ES256, "es", goodClaims()))
		wantRefused(t, id, err, "not active")
		if errors.Is(err, ErrUnavailable) {
			t.Fatal("a definite inactive answer is ErrUnavailable")
		}
	})
	t.Run("failures are not cached", func(t *testing.T) {
		srv := newIntrospectServer(t)
		srv.set(func(s *introspectServer) { s.status = 500 })
		v := strictVerifier(t, srv, &fakeClock{t: testNow}, introspectSecret)
		tok := mustSign(t, ES256, "es", goodClaims())
		_, err := v.Verify(context.Background(), tok)
		wantUnavailable(t, nil, err)
		srv.set(func(s *introspectServer) { s.status = 200 })
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("refused after autho recovered: %v", err)
		}
	})
}

// Middleware answers "no answer" with 503 14, Retry-After and no challenge,
// and "inactive" with 401 16 and the challenge.
func TestMiddleware_strictMode(t *testing.T) {
	for _, tc := range []struct {
		name      string
		set       func(*introspectServer)
		status    int
		body      string
		retry     string
		challenge string
	}{
		{"unavailable", func(s *introspectServer) { s.status = 503 }, 503,
			`{"data":{"message":"Service unavailable"},"meta":{},"result":"14","status":"ERROR"}`, "5", ""},
		{"inactive", func(s *introspectServer) { s.answer = `{"active":false}` }, 401,
			`{"data":{"message":"Invalid or expired token"},"meta":{},"result":"16","status":"ERROR"}`, "", `Bearer realm="autho", error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newIntrospectServer(t)
			srv.set(tc.set)
			v := mustVerifier(t, Config{
				Keys:          standardKeys(mustKeys(t)),
				Introspection: &IntrospectionConfig{URL: srv.URL, Secret: introspectSecret},
				Logger:        slog.New(slog.DiscardHandler),
				Now:           (&fakeClock{t: testNow}).Now,
			})
			h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("passed") }))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Authorization", "Bearer "+mustSign(t, ES256, "es", goodClaims()))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || rec.Body.String() != tc.body ||
				rec.Header().Get("Retry-After") != tc.retry || rec.Header().Get("WWW-Authenticate") != tc.challenge ||
				rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("got %d %v %s", rec.Code, rec.Header(), rec.Body)
			}
		})
	}
}

// While autho cannot be asked the verifier warns at most once every 10 s,
// on its clock, and each warning counts the failures it stands for; no line
// holds the token or the secret.
func TestVerifier_strictMode_unreachableWarningRateLimited(t *testing.T) {
	srv := newIntrospectServer(t)
	srv.Close()
	clock := &fakeClock{t: testNow}
	var log bytes.Buffer
	var logMu sync.Mutex
	v := mustVerifier(t, Config{
		Keys:          standardKeys(mustKeys(t)),
		Introspection: &IntrospectionConfig{URL: srv.URL, Secret: introspectSecret},
		Logger:        slog.New(slog.NewJSONHandler(lockedWriter{&logMu, &log}, nil)),
		Now:           clock.Now,
	})
	tok := mustSign(t, ES256, "es", goodClaims())
	burst := func(n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, err := v.Verify(context.Background(), tok)
				if !errors.Is(err, ErrUnavailable) {
					t.Errorf("err %v, want ErrUnavailable", err)
				}
			})
		}
		wg.Wait()
	}
	type line struct {
		Level, Msg string
		Failures   int
	}
	lines := func() []line {
		logMu.Lock()
		defer logMu.Unlock()
		var out []line
		for _, s := range strings.Split(strings.TrimSpace(log.String()), "\n") {
			if s == "" {
				continue
			}
			if strings.Contains(s, tok) || strings.Contains(s, introspectSecret) {
				t.Fatalf("log line holds a secret: %s", s)
			}
			var l line
			if err := json.Unmarshal([]byte(s), &l); err != nil {
				t.Fatal(err)
			}
			out = append(out, l)
		}
		return out
	}

	burst(50)
	if got := lines(); len(got) != 1 || got[0].Level != "WARN" || got[0].Failures != 1 {
		t.Fatalf("after a burst of 50: %+v, want one warning for the first failure", got)
	}
	clock.Add(10*time.Second - time.Millisecond)
	burst(50)
	if got := lines(); len(got) != 1 {
		t.Fatalf("within 10 s: %d warnings, want 1", len(got))
	}
	clock.Add(time.Millisecond)
	burst(1)
	got := lines()
	if len(got) != 2 || got[1].Failures != 100 {
		t.Fatalf("10 s later: %+v, want a second warning standing for 100 failures", got)
	}
}

// lockedWriter serializes writes to a buffer the test reads meanwhile.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Only tokens that verify locally are sent to autho: a forged token must not
// make the service query autho for it.
func TestVerifier_strictMode_onlyVerifiedTokens(t *testing.T) {
	srv := newIntrospectServer(t)
	v := strictVerifier(t, srv, &fakeClock{t: testNow}, introspectSecret)
	for _, tok := range []string{"garbage", mustSign(t, ES256, "es", goodClaims()) + "A", mustSign(t, ES256, "nope", goodClaims())} {
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Fatalf("accepted %q", tok)
		}
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("%d introspection requests for refused tokens", n)
	}
}

// A burst of requests with the same token costs one round trip.
func TestVerifier_strictMode_concurrent(t *testing.T) {
	srv := newIntrospectServer(t)
	srv.set(func(s *introspectServer) { s.delay = 50 * time.Millisecond })
	v := strictVerifier(t, srv, &fakeClock{t: testNow}, introspectSecret)
	tok := mustSign(t, ES256, "es", goodClaims())
	var wg sync.WaitGroup
	var refused atomic.Int32
	for range 50 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if refused.Load() != 0 {
		t.Fatalf("%d refused", refused.Load())
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("%d introspection requests for one token, want 1", n)
	}
	in := v.introspect
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.cache) != 1 {
		t.Fatalf("%d cached answers for one token, want 1", len(in.cache))
	}
}

func TestIntrospector_cacheBounded(t *testing.T) {
	clock := &fakeClock{t: testNow}
	in, err := newIntrospector(IntrospectionConfig{URL: "http://unused.test/", Secret: "s"}, clock.Now, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := range maxIntrospectCacheSize + 10 {
		var key [32]byte
		key[0], key[1], key[2] = byte(i), byte(i>>8), byte(i>>16)
		in.storeLocked(key, answer{true, clock.Now().Add(time.Hour)})
	}
	if n := len(in.cache); n > maxIntrospectCacheSize {
		t.Fatalf("cache holds %d answers", n)
	}
}
