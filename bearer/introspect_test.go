package bearer

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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
		revoked, answer, status, delay := s.revoked[token], s.answer, s.status, s.delay
		s.mu.Unlock()
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

// Strict mode fails closed: any doubt is a refusal.
func TestVerifier_strictMode_failsClosed(t *testing.T) {
	tests := []struct {
		name string
		set  func(*introspectServer)
	}{
		{"server error", func(s *introspectServer) { s.status = 500 }},
		{"not JSON", func(s *introspectServer) { s.answer = "<html>" }},
		{"no active member", func(s *introspectServer) { s.answer = `{"sub":"usr_1"}` }},
		{"active as a string", func(s *introspectServer) { s.answer = `{"active":"true"}` }},
		{"active null", func(s *introspectServer) { s.answer = `{"active":null}` }},
		{"redirect", func(s *introspectServer) { s.status, s.answer = 302, `{"active":true}` }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newIntrospectServer(t)
			srv.set(tt.set)
			v := strictVerifier(t, srv, &fakeClock{t: testNow}, introspectSecret)
			id, err := v.Verify(context.Background(), mustSign(t, ES256, "es", goodClaims()))
			wantRefused(t, id, err, "introspection failed")
		})
	}
	t.Run("wrong secret", func(t *testing.T) {
		srv := newIntrospectServer(t)
		v := strictVerifier(t, srv, &fakeClock{t: testNow}, "not-the-secret")
		id, err := v.Verify(context.Background(), mustSign(t, ES256, "es", goodClaims()))
		wantRefused(t, id, err, "401")
	})
	t.Run("autho down", func(t *testing.T) {
		srv := newIntrospectServer(t)
		srv.Close()
		v := strictVerifier(t, srv, &fakeClock{t: testNow}, introspectSecret)
		id, err := v.Verify(context.Background(), mustSign(t, ES256, "es", goodClaims()))
		wantRefused(t, id, err, "introspection failed")
	})
	t.Run("failures are not cached", func(t *testing.T) {
		srv := newIntrospectServer(t)
		srv.set(func(s *introspectServer) { s.status = 500 })
		v := strictVerifier(t, srv, &fakeClock{t: testNow}, introspectSecret)
		tok := mustSign(t, ES256, "es", goodClaims())
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Fatal("accepted")
		}
		srv.set(func(s *introspectServer) { s.status = 200 })
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("refused after autho recovered: %v", err)
		}
	})
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
	in, err := newIntrospector(IntrospectionConfig{URL: "http://unused.test/", Secret: "s"}, clock.Now)
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
