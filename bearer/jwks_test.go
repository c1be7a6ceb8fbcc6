package bearer

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// jwksServer serves a JWKS document the test can change, and counts fetches.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int32

	mu           sync.Mutex
	keys         []map[string]any
	status       int
	cacheControl string
	body         string // if set, served instead of the keys
}

func newJWKSServer(t *testing.T, keys ...map[string]any) *jwksServer {
	s := &jwksServer{keys: keys, status: 200}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.cacheControl != "" {
			w.Header().Set("Cache-Control", s.cacheControl)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		if s.body != "" {
			fmt.Fprint(w, s.body)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(f func(s *jwksServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// fakeClock lets tests step over the 10 s unknown-kid limit and the refresh
// interval without sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestJWKS(url string, opt JWKSOptions) (*JWKS, *fakeClock) {
	clock := &fakeClock{t: testNow}
	j := NewJWKS(url, opt)
	j.now = clock.Now
	return j, clock
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestJWKS_verifies(t *testing.T) {
	k := mustKeys(t)
	srv := newJWKSServer(t,
		jwkOf("es", &k.ec.PublicKey, ES256),
		jwkOf("ed", k.ed.Public(), EdDSA),
		jwkOf("rs", &k.rsa.PublicKey, RS256),
	)
	j, _ := newTestJWKS(srv.URL, JWKSOptions{})
	v := mustVerifier(t, Config{Keys: j})
	for _, tc := range []struct{ alg, kid string }{{ES256, "es"}, {EdDSA, "ed"}, {RS256, "rs"}} {
		if _, err := v.Verify(context.Background(), mustSign(t, tc.alg, tc.kid, goodClaims())); err != nil {
			t.Errorf("%s: %v", tc.alg, err)
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("%d fetches, want 1 (cached)", n)
	}
}

// Acceptance criterion 2: a flood of tokens with made-up kids must not turn
// into a flood of JWKS fetches.
func TestJWKS_unknownKIDFlood(t *testing.T) {
	k := mustKeys(t)
	srv := newJWKSServer(t, jwkOf("es", &k.ec.PublicKey, ES256))
	j, clock := newTestJWKS(srv.URL, JWKSOptions{})
	v := mustVerifier(t, Config{Keys: j})

	tokens := make([]string, 1000)
	for i := range tokens {
		tokens[i] = mustSign(t, ES256, fmt.Sprintf("kid-%d-%d", i, time.Now().UnixNano()), goodClaims())
	}
	var wg sync.WaitGroup
	var accepted atomic.Int32
	for _, tok := range tokens {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok); err == nil {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	for _, tok := range tokens { // and again, one after another
		if _, err := v.Verify(context.Background(), tok); err == nil {
			accepted.Add(1)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d tokens with unknown kids accepted", n)
	}
	if n := srv.hits.Load(); n > 2 {
		t.Fatalf("%d JWKS fetches for 2,000 unknown kids, want at most 2", n)
	}
	if _, err := v.Verify(context.Background(), mustSign(t, ES256, "es", goodClaims())); err != nil {
		t.Fatalf("good token refused after the flood: %v", err)
	}

	before := srv.hits.Load()
	clock.Add(unknownKIDInterval + time.Second)
	v.Verify(context.Background(), tokens[0])
	v.Verify(context.Background(), tokens[1])
	if n := srv.hits.Load() - before; n != 1 {
		t.Fatalf("%d fetches once the interval passed, want exactly 1", n)
	}
}

// Acceptance criterion 3, on the package's side: autho publishes a new key
// and signs with it; a running verifier picks it up through the unknown-kid
// refetch, and keeps accepting the old key while it is published.
func TestJWKS_rotation(t *testing.T) {
	k := mustKeys(t)
	srv := newJWKSServer(t, jwkOf("k1", &k.ec.PublicKey, ES256))
	srv.cacheControl = "max-age=300"
	j, clock := newTestJWKS(srv.URL, JWKSOptions{})
	v := mustVerifier(t, Config{Keys: j})
	old := mustSign(t, ES256, "k1", goodClaims())
	rotated := mustSign(t, EdDSA, "k2", goodClaims())
	verify := func(tok string) error { _, err := v.Verify(context.Background(), tok); return err }

	if err := verify(old); err != nil {
		t.Fatalf("old key: %v", err)
	}
	srv.set(func(s *jwksServer) { s.keys = append(s.keys, jwkOf("k2", k.ed.Public(), EdDSA)) })

	clock.Add(2 * time.Second)
	if err := verify(rotated); err == nil {
		t.Fatal("new kid accepted within 10 s of the last fetch: the refetch limit is not applied")
	}
	clock.Add(unknownKIDInterval)
	if err := verify(rotated); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
	if err := verify(old); err != nil {
		t.Fatalf("old key, still published: %v", err)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}

	// autho stops publishing k1 once its tokens have expired; the next
	// scheduled refresh drops it.
	srv.set(func(s *jwksServer) { s.keys = s.keys[1:] })
	clock.Add(301 * time.Second)
	if err := verify(rotated); err != nil { // served from cache; starts the refresh
		t.Fatal(err)
	}
	waitFor(t, "background refresh", func() bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		return srv.hits.Load() == 3 && j.inflight == nil
	})
	if err := verify(old); err == nil {
		t.Fatal("withdrawn key still accepted after a refresh")
	}
}

func TestJWKS_staleOnFailure(t *testing.T) {
	k := mustKeys(t)
	srv := newJWKSServer(t, jwkOf("es", &k.ec.PublicKey, ES256))
	j, clock := newTestJWKS(srv.URL, JWKSOptions{})
	v := mustVerifier(t, Config{Keys: j})
	tok := mustSign(t, ES256, "es", goodClaims())
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}

	for i, broken := range []func(s *jwksServer){
		func(s *jwksServer) { s.status = 500 },
		func(s *jwksServer) { s.status, s.body = 200, "<html>oops</html>" },
		func(s *jwksServer) { s.body = `{"nokeys":[]}` },
	} {
		srv.set(broken)
		clock.Add(time.Hour + time.Second)
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("case %d: refused while refreshing: %v", i, err)
		}
		waitFor(t, "failed refresh", func() bool {
			j.mu.Lock()
			defer j.mu.Unlock()
			return int(srv.hits.Load()) == i+2 && j.inflight == nil
		})
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("case %d: stale key not served after a failed refresh: %v", i, err)
		}
		j.mu.Lock()
		err := j.lastErr
		j.mu.Unlock()
		if err == nil {
			t.Fatalf("case %d: failure not recorded", i)
		}
	}
}

func TestJWKS_fetchErrors(t *testing.T) {
	huge := `{"keys":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`
	tests := []struct {
		name string
		set  func(s *jwksServer)
		want string
	}{
		{"server error", func(s *jwksServer) { s.status = 503 }, "503"},
		{"not JSON", func(s *jwksServer) { s.body = "nope" }, "JWKS"},
		{"no keys member", func(s *jwksServer) { s.body = `{}` }, `no "keys"`},
		{"larger than 1 MiB", func(s *jwksServer) { s.body = huge }, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t)
			srv.set(tt.set)
			j, _ := newTestJWKS(srv.URL, JWKSOptions{})
			if err := j.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Refresh: %v, want error containing %q", err, tt.want)
			}
			_, _, err := j.Key(context.Background(), "es")
			if err == nil || !strings.Contains(err.Error(), "not loaded") {
				t.Fatalf("Key with nothing loaded: %v", err)
			}
		})
	}

	t.Run("hanging server", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
		defer srv.Close()
		defer close(release)
		j, _ := newTestJWKS(srv.URL, JWKSOptions{Client: &http.Client{Timeout: 50 * time.Millisecond}})
		if err := j.Refresh(context.Background()); err == nil {
			t.Fatal("no timeout")
		}
	})
	t.Run("caller gives up", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
		defer srv.Close()
		defer close(release)
		j, _ := newTestJWKS(srv.URL, JWKSOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, _, err := j.Key(ctx, "es"); err != context.DeadlineExceeded {
			t.Fatalf("Key: %v, want the context's error", err)
		}
	})
	t.Run("empty kid fetches nothing", func(t *testing.T) {
		srv := newJWKSServer(t)
		j, _ := newTestJWKS(srv.URL, JWKSOptions{})
		if _, _, err := j.Key(context.Background(), ""); err == nil {
			t.Fatal("no error")
		}
		if n := srv.hits.Load(); n != 0 {
			t.Fatalf("%d fetches", n)
		}
	})
}

func TestJWKS_cacheFor(t *testing.T) {
	j := NewJWKS("http://unused.test", JWKSOptions{})
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 5 * time.Minute},
		{"max-age=120", 2 * time.Minute},
		{"public, max-age=600", 10 * time.Minute},
		{"Max-Age=600", 10 * time.Minute},
		{`max-age="600"`, 10 * time.Minute},
		{"max-age=0", time.Minute},
		{"max-age=5", time.Minute},
		{"max-age=999999999999", time.Hour},
		{"max-age=-1", 5 * time.Minute},
		{"max-age=abc", 5 * time.Minute},
		{"no-store", time.Minute},
		{"max-age=600, no-cache", time.Minute},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Cache-Control", tt.header)
		}
		if got := j.cacheFor(h); got != tt.want {
			t.Errorf("Cache-Control %q: %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestParseJWKS(t *testing.T) {
	k := mustKeys(t)
	ec, ed, rs := &k.ec.PublicKey, k.ed.Public().(ed25519.PublicKey), &k.rsa.PublicKey
	edit := func(j map[string]any, edits map[string]any) map[string]any {
		for k, v := range edits {
			if v == nil {
				delete(j, k)
			} else {
				j[k] = v
			}
		}
		return j
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	weak := weakRSA(t)
	offCurve := jwkOf("x", ec, ES256)
	offCurve["y"] = seg(make([]byte, 32))

	d, err := k.ec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		jwk     map[string]any
		wantAlg string // "" means skipped
	}{
		{"EC with alg", jwkOf("x", ec, ES256), ES256},
		{"EC without alg", jwkOf("x", ec, ""), ES256},
		{"OKP with alg", jwkOf("x", ed, EdDSA), EdDSA},
		{"OKP without alg", jwkOf("x", ed, ""), EdDSA},
		{"RSA with RS256", jwkOf("x", rs, RS256), RS256},
		{"RSA without alg", jwkOf("x", rs, ""), ""},
		{"RSA with PS256", jwkOf("x", rs, "PS256"), ""},
		{"RSA 1024 bits", jwkOf("x", weak, RS256), ""},
		{"EC claiming EdDSA", jwkOf("x", ec, EdDSA), ""},
		{"EC claiming HS256", jwkOf("x", ec, HS256), ""},
		{"EC P-384", edit(jwkOf("x", &p384.PublicKey, ""), map[string]any{"crv": "P-384"}), ""},
		{"EC point off the curve", offCurve, ""},
		{"EC short coordinate", edit(jwkOf("x", ec, ES256), map[string]any{"x": seg(make([]byte, 31))}), ""},
		{"OKP X25519", edit(jwkOf("x", ed, ""), map[string]any{"crv": "X25519"}), ""},
		{"oct (symmetric) key", map[string]any{"kid": "x", "kty": "oct", "alg": HS256, "k": seg(k.secret)}, ""},
		{"use enc", edit(jwkOf("x", ec, ES256), map[string]any{"use": "enc"}), ""},
		{"key_ops without verify", edit(jwkOf("x", ec, ES256), map[string]any{"key_ops": []string{"encrypt"}}), ""},
		{"key_ops with verify", edit(jwkOf("x", ec, ES256), map[string]any{"key_ops": []string{"verify"}}), ES256},
		{"private key published", edit(jwkOf("x", ec, ES256), map[string]any{"d": seg(d)}), ""},
		{"no kid", edit(jwkOf("x", ec, ES256), map[string]any{"kid": nil}), ""},
		{"unknown kty", map[string]any{"kid": "x", "kty": "ML-DSA"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := parseJWKS(mustJSON(t, map[string]any{"keys": []any{tt.jwk, jwkOf("other", ec, ES256)}}))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := keys["other"]; !ok {
				t.Fatal("one bad key took the others down")
			}
			got, ok := keys["x"]
			switch {
			case tt.wantAlg == "" && ok:
				t.Fatalf("accepted as %s, want skipped", got.alg)
			case tt.wantAlg != "" && !ok:
				t.Fatal("skipped")
			case ok && got.alg != tt.wantAlg:
				t.Fatalf("alg %s, want %s", got.alg, tt.wantAlg)
			case ok:
				if err := checkKey(got.alg, got.key); err != nil {
					t.Fatal(err)
				}
			}
		})
	}

	t.Run("kid given twice", func(t *testing.T) {
		keys, err := parseJWKS(mustJSON(t, map[string]any{"keys": []any{jwkOf("x", ec, ES256), jwkOf("x", ed, EdDSA)}}))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := keys["x"]; ok {
			t.Fatal("an ambiguous kid was kept")
		}
	})
}

// weakRSA is a 1024-bit key, made with the GODEBUG escape hatch the standard
// library requires for keys that small.
func weakRSA(t *testing.T) *rsa.PublicKey {
	t.Setenv("GODEBUG", "rsa1024min=0")
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}
