package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/gateway"
)

// switchable is autho as a verifier sees it, on a loopback address of its
// own that the test takes down (connections refused, as while autho is
// stopped) and brings back on the same port. Everything reaches the real
// server behind it.
type switchable struct {
	t      *testing.T
	addr   string
	target *url.URL // set once the server behind it has started

	mu  sync.Mutex
	srv *http.Server
}

func newSwitchable(t *testing.T) *switchable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &switchable{t: t, addr: ln.Addr().String()}
	s.serve(ln)
	t.Cleanup(s.down)
	return s
}

func (s *switchable) URL() string { return "http://" + s.addr }

func (s *switchable) serve(ln net.Listener) {
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(s.target) }}
	srv := &http.Server{Handler: proxy}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

// down closes the listener and every connection: from now on a dial is
// refused.
func (s *switchable) down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// up listens on the same address again.
func (s *switchable) up() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.serve(ln)
}

// startBehindSwitch starts autho with the switch's URL as its issuer, so
// that the JWKS and introspection URLs a verifier derives from the issuer go
// through the switch.
func startBehindSwitch(t *testing.T) (*testServer, *switchable) {
	t.Helper()
	sw := newSwitchable(t)
	ts := startServer(t, map[string]string{"AUTHO_ISSUER": sw.URL(), "AUTHO_INTROSPECTION_SECRET": testIntrospectionSecret})
	target, err := url.Parse(ts.url)
	if err != nil {
		t.Fatal(err)
	}
	sw.target = target
	return ts, sw
}

// burstAnswer is one answer of a burst, reported rather than failed on
// from the goroutine that got it.
type burstAnswer struct {
	status                  int
	result, retryAfter, www string
	body                    string
	err                     error
}

// bearerBurst sends n requests with the bearer at once.
func bearerBurst(url, jwt string, n int) []burstAnswer {
	out := make([]burstAnswer, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+jwt)
			res, err := client.Do(req)
			if err != nil {
				out[i].err = err
				return
			}
			b, err := readAll(res)
			var env struct{ Result string }
			json.Unmarshal(b, &env)
			out[i] = burstAnswer{res.StatusCode, env.Result, res.Header.Get("Retry-After"), res.Header.Get("WWW-Authenticate"), string(b), err}
		})
	}
	wg.Wait()
	return out
}

// wantUnavailable asserts every answer is 503 14 with Retry-After and the
// contract's envelope, and no bearer challenge (the token is not refused).
func wantUnavailable(t *testing.T, answers []burstAnswer) {
	t.Helper()
	const want = `{"data":{"message":"Service unavailable"},"meta":{},"result":"14","status":"ERROR"}`
	for _, a := range answers {
		if a.err != nil || a.status != 503 || a.result != "14" || a.retryAfter == "" || a.www != "" ||
			strings.TrimSpace(a.body) != want {
			t.Fatalf("got %d %s Retry-After %q WWW-Authenticate %q %v; body %s; want 503 14 with Retry-After",
				a.status, a.result, a.retryAfter, a.www, a.err, a.body)
		}
	}
}

// unreachableWarnings counts the warnings that introspection cannot be
// reached in a JSON log.
func unreachableWarnings(log string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		var rec struct{ Level, Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Level == "WARN" && strings.Contains(rec.Msg, "introspection") {
			n++
		}
	}
	return n
}

// wantRateLimitedWarnings: at least one warning, and at most one per 10 s
// window the burst spanned.
func wantRateLimitedWarnings(t *testing.T, log string, began time.Time) {
	t.Helper()
	n := unreachableWarnings(log)
	if most := 1 + int(time.Since(began)/(10*time.Second)); n < 1 || n > most {
		t.Fatalf("%d warnings that introspection cannot be reached, want 1 to %d; log:\n%s", n, most, log)
	}
}

// TestStrict_IntrospectionDown: a service using the bearer package in strict
// mode, while autho's introspection refuses connections, answers a JWT that
// verifies by its signature with 503 14 and Retry-After, not 401 16 (the
// client must not throw a good token away); a burst of 50 logs one warning;
// once autho is back the JWT is accepted again, and a definite "inactive"
// stays 401 16.
func TestStrict_IntrospectionDown(t *testing.T) {
	ts, sw := startBehindSwitch(t)
	p := ts.newPartner()
	jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	other := ts.newToken(p.Email)
	revoked := wantSuccess(t, ts.login(other.APIToken, p.PartnerToken))
	ts.mustCLI(nil, "token", "revoke", other.TokenID)

	log := &syncBuffer{}
	cfg := bearer.Config{
		Issuer:   sw.URL(),
		Audience: "autho",
		Keys:     bearer.NewJWKS(ts.url+"/.well-known/jwks.json", bearer.JWKSOptions{}),
		Introspection: &bearer.IntrospectionConfig{
			URL:      sw.URL() + "/v1/autho/token/introspect/",
			Secret:   testIntrospectionSecret,
			CacheTTL: time.Millisecond, // every request asks: nothing answers from a cache
		},
		Logger: slog.New(slog.NewJSONHandler(log, nil)),
	}
	svc := newProtected(t, cfg)
	if r := get(t, svc.URL+"/", "Bearer "+jwt); r.Status != 200 {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}

	sw.down()
	began := time.Now()
	wantUnavailable(t, bearerBurst(svc.URL+"/", jwt, 50))
	wantRateLimitedWarnings(t, log.String(), began)
	if _, err := svc.v.Verify(context.Background(), jwt); !errors.Is(err, bearer.ErrUnavailable) {
		t.Fatalf("Verify: %v, want ErrUnavailable", err)
	}

	sw.up()
	if r := get(t, svc.URL+"/", "Bearer "+jwt); r.Status != 200 {
		t.Fatalf("after autho is back: %d %s", r.Status, r.Body)
	}
	wantError(t, get(t, svc.URL+"/", "Bearer "+revoked), 401, "16")
}

// TestGateway_StrictIntrospectionDown: the same with `autho gateway
// --strict`, whose JWKS and introspection both come from AUTHO_ISSUER.
func TestGateway_StrictIntrospectionDown(t *testing.T) {
	ts, sw := startBehindSwitch(t)
	p := ts.newPartner()
	jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	other := ts.newToken(p.Email)
	revoked := wantSuccess(t, ts.login(other.APIToken, p.PartnerToken))
	ts.mustCLI(nil, "token", "revoke", other.TokenID)
	up := newUpstream(t)
	g := startTestGateway(t, ts, up.URL, gateway.Flags{Strict: true},
		map[string]string{"AUTHO_ISSUER": sw.URL(), "AUTHO_INTROSPECTION_SECRET": testIntrospectionSecret})
	if r := get(t, g.URL()+"/echo", "Bearer "+jwt); r.Status != 200 {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}
	// A fresh JWT of the same token: the gateway's cached answer (5 s by
	// default) is for the first one's jwti, so this one must ask.
	fresh := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))

	sw.down()
	began := time.Now()
	wantUnavailable(t, bearerBurst(g.URL()+"/echo", fresh, 50))
	wantRateLimitedWarnings(t, ts.log.String(), began)

	sw.up()
	if r := get(t, g.URL()+"/echo", "Bearer "+fresh); r.Status != 200 {
		t.Fatalf("after autho is back: %d %s", r.Status, r.Body)
	}
	wantError(t, get(t, g.URL()+"/echo", "Bearer "+revoked), 401, "16")
}
