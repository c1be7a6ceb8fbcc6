package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/gateway"
)

// upstream is the API behind the gateway: /echo reports the X-Autho-*
// headers that reached it, and /slow answers once released.
type upstream struct {
	*httptest.Server
	slowIn  chan struct{}
	release chan struct{}
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{slowIn: make(chan struct{}, 1), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		autho := map[string][]string{}
		for k, v := range r.Header {
			if strings.HasPrefix(k, "X-Autho-") {
				autho[k] = v
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"autho": autho})
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		u.slowIn <- struct{}{}
		<-u.release
		io.WriteString(w, "done")
	})
	u.Server = httptest.NewServer(mux)
	t.Cleanup(u.Close)
	return u
}

// startTestGateway boots the gateway in-process on 127.0.0.1:0 in front of
// up, configured as the command would be from f and env (AUTHO_ISSUER is
// the test server's unless env says otherwise). The gateway's own tests,
// on a stand-in issuer, are in internal/gateway.
func startTestGateway(t *testing.T, ts *testServer, up string, f gateway.Flags, env map[string]string) *gateway.Gateway {
	t.Helper()
	full := map[string]string{"AUTHO_ISSUER": ts.url}
	for k, v := range env {
		full[k] = v
	}
	f.Upstream, f.Listen = up, "127.0.0.1:0"
	cfg, level, err := gateway.ParseConfig(f, config.Source{Getenv: func(k string) string { return full[k] }})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.Start(context.Background(), cfg, slog.New(slog.NewJSONHandler(ts.log, &slog.HandlerOptions{Level: level})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Close(ctx); err != nil {
			t.Errorf("closing gateway: %v", err)
		}
	})
	return g
}

// TestGateway_Strict: with --strict the gateway asks autho, so a JWT whose
// API token was revoked is refused although its signature is fine.
func TestGateway_Strict(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_INTROSPECTION_SECRET": testIntrospectionSecret})
	p := ts.newPartner()
	good := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	other := ts.newToken(p.Email)
	revoked := wantSuccess(t, ts.login(other.APIToken, p.PartnerToken))
	ts.mustCLI(nil, "token", "revoke", other.TokenID)
	up := newUpstream(t)
	g := startTestGateway(t, ts, up.URL, gateway.Flags{Strict: true}, map[string]string{"AUTHO_INTROSPECTION_SECRET": testIntrospectionSecret})

	if r := get(t, g.URL()+"/echo", "Bearer "+good); r.Status != 200 {
		t.Fatalf("active token: %d %s", r.Status, r.Body)
	}
	wantError(t, get(t, g.URL()+"/echo", "Bearer "+revoked), 401, "16")
}

// TestGateway_HS256: with --hs256-secret-file the gateway verifies the
// tokens of an HS256 deployment with the exported shared secret.
func TestGateway_HS256(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_JWT_ALG": "HS256"})
	p := ts.newPartner()
	jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	file := ts.exportHS256()
	up := newUpstream(t)
	g := startTestGateway(t, ts, up.URL, gateway.Flags{HS256File: file}, nil)

	r := get(t, g.URL()+"/echo", "Bearer "+jwt)
	var got struct{ Autho map[string][]string }
	json.Unmarshal(r.Body, &got)
	if r.Status != 200 || got.Autho[gateway.HeaderUser][0] != p.UserID {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	wantError(t, get(t, g.URL()+"/echo", "Bearer "+jwt[:len(jwt)-2]+"AA"), 401, "16")
}

// TestGateway_BoundedLogFields: the gateway logs a made-up method as
// "other", whether it refuses the request (logged at debug), forwards it, or
// cannot reach the upstream.
func TestGateway_BoundedLogFields(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	debug := map[string]string{"AUTHO_LOG_LEVEL": "debug"}
	live := startTestGateway(t, ts, newUpstream(t).URL, gateway.Flags{}, debug)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	down := startTestGateway(t, ts, dead, gateway.Flags{}, debug)

	paths := []string{"/", "/echo"}
	var sent []oddRequest
	for _, g := range []*gateway.Gateway{live, down} {
		for _, auth := range []string{"", "Bearer " + jwt} {
			reqs := oddRequests(paths, 25)
			sendAll(t, g.URL(), auth, reqs)
			sent = append(sent, reqs...)
		}
	}
	log := ts.log.String()
	wantNoneIn(t, "the log", log, madeUp(sent))
	for _, msg := range []string{"request", "bearer refused", "upstream failed"} {
		if !strings.Contains(log, `"msg":"`+msg+`","method":"other"`) {
			t.Errorf(`no %q line with method "other"`, msg)
		}
	}
}

// TestGateway_Command runs `autho gateway` as the binary's main does, and
// stops it as SIGTERM would (its context ends): an in-flight request is
// finished, then the command exits 0.
func TestGateway_Command(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	up := newUpstream(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	env := map[string]string{"AUTHO_ISSUER": ts.url}
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"gateway", "--upstream", up.URL, "--listen", "127.0.0.1:0"},
			strings.NewReader(""), io.Discard, stderr, func(k string) string { return env[k] })
	}()
	var addr string
	waitUntil(t, 10*time.Second, "the gateway to listen", func() bool {
		for _, line := range strings.Split(stderr.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "autho gateway listening" {
				addr = rec.Addr
				return true
			}
		}
		return false
	})

	type answer struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan answer, 1)
	go func() { // not the test's goroutine: report, don't fail, from here
		req, _ := http.NewRequest("GET", "http://"+addr+"/slow", nil)
		req.Header.Set("Authorization", "Bearer "+jwt)
		res, err := client.Do(req)
		if err != nil {
			inflight <- answer{err: err}
			return
		}
		b, err := readAll(res)
		inflight <- answer{res.StatusCode, string(b), err}
	}()
	select {
	case <-up.slowIn:
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not reach the upstream")
	}
	cancel()
	waitUntil(t, 5*time.Second, "the gateway to stop accepting", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	close(up.release)
	if r := <-inflight; r.err != nil || r.status != 200 || r.body != "done" {
		t.Fatalf("in-flight request: %d %q %v", r.status, r.body, r.err)
	}
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the gateway did not exit")
	}
	if strings.Contains(stderr.String(), jwt) {
		t.Fatal("the gateway logged a bearer")
	}
}

// TestGateway_CommandErrors: each mistake is one clear line, before anything
// listens.
func TestGateway_CommandErrors(t *testing.T) {
	short := filepath.Join(t.TempDir(), "short.key")
	if err := os.WriteFile(short, []byte("too short"), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "do-not-print-this-introspection-secret"
	issuer := map[string]string{"AUTHO_ISSUER": "http://127.0.0.1:8080"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"no upstream", nil, issuer, 2, "needs --upstream"},
		{"no issuer", []string{"--upstream", "http://127.0.0.1:9000"}, nil, 1, "AUTHO_ISSUER is required"},
		{"issuer not a URL", []string{"--upstream", "http://127.0.0.1:9000"}, map[string]string{"AUTHO_ISSUER": "auth.example"}, 1, `AUTHO_ISSUER: "auth.example" is not an http(s) URL`},
		{"upstream not a URL", []string{"--upstream", "ftp://x"}, issuer, 1, `--upstream: "ftp://x" is not an http(s) URL`},
		{"jwks and secret file", []string{"--upstream", "http://127.0.0.1:9000", "--jwks", "http://x/j", "--hs256-secret-file", short}, issuer, 2, "not both"},
		{"short secret file", []string{"--upstream", "http://127.0.0.1:9000", "--hs256-secret-file", short}, issuer, 1, "at least 32 bytes"},
		{"missing secret file", []string{"--upstream", "http://127.0.0.1:9000", "--hs256-secret-file", short + ".nope"}, issuer, 1, "--hs256-secret-file:"},
		{"strict without secret", []string{"--upstream", "http://127.0.0.1:9000", "--strict"}, issuer, 1, "--strict needs AUTHO_INTROSPECTION_SECRET"},
		{"bad listen", []string{"--upstream", "http://127.0.0.1:9000", "--listen", "nonsense"}, map[string]string{"AUTHO_ISSUER": "http://127.0.0.1:8080", "AUTHO_INTROSPECTION_SECRET": secret}, 1, `--listen: "nonsense" is not host:port`},
		{"positional argument", []string{"http://127.0.0.1:9000"}, issuer, 2, "takes no arguments"},
		{"revocations not a bool", []string{"--upstream", "http://127.0.0.1:9000", "--revocations=maybe"}, issuer, 2, `invalid argument "maybe" for "--revocations"`},
		{"revocations max age not a duration", []string{"--upstream", "http://127.0.0.1:9000", "--revocations-max-age", "ten"}, issuer, 2, `invalid argument "ten" for "--revocations-max-age"`},
		{"revocations max age zero", []string{"--upstream", "http://127.0.0.1:9000", "--revocations-max-age", "0"}, issuer, 1, "--revocations-max-age: 0s must be longer than the feed's poll period, 5s"},
		{"revocations max age negative", []string{"--upstream", "http://127.0.0.1:9000", "--revocations-max-age=-1m"}, issuer, 1, "--revocations-max-age: -1m0s must be longer"},
		{"revocations max age the poll period", []string{"--upstream", "http://127.0.0.1:9000", "--revocations-max-age", "5s"}, issuer, 1, "--revocations-max-age: 5s must be longer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Already cancelled: should a case wrongly pass validation, the
			// gateway would stop at once rather than hang the test.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var stderr strings.Builder
			code := run(ctx, append([]string{"gateway"}, tc.args...), strings.NewReader(""), io.Discard, &stderr,
				func(k string) string { return tc.env[k] })
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), tc.code, tc.want)
			}
			if strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Fatalf("more than one line: %q", stderr.String())
			}
			if strings.Contains(stderr.String(), secret) {
				t.Fatal("the error repeats a secret")
			}
		})
	}
}
