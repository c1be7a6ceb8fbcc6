package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autho/autho/internal/config"
)

// upstream is the API behind the gateway. It has no authentication code:
// it reports what reached it.
type upstream struct {
	*httptest.Server
	hits     atomic.Int64
	received atomic.Int64 // bytes of the upload read so far
	slowIn   chan struct{}
	release  chan struct{}
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{slowIn: make(chan struct{}, 1), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"autho":         authoHeaders(r.Header),
			"authorization": r.Header.Get("Authorization") != "",
		})
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Body.Read(buf)
			h.Write(buf[:n])
			u.received.Add(int64(n))
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		json.NewEncoder(w).Encode(map[string]any{
			"bytes": u.received.Load(), "sha256": hex.EncodeToString(h.Sum(nil)),
			"content_length": r.ContentLength, "user": r.Header.Get(headerUser),
		})
	})
	mux.HandleFunc("/ws", wsEcho)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		u.slowIn <- struct{}{}
		<-u.release
		io.WriteString(w, "done")
	})
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

// authoHeaders is every header whose name could be read as X-Autho-*, by a
// stack that ignores case and treats "_" as "-".
func authoHeaders(h http.Header) map[string][]string {
	out := map[string][]string{}
	for k, v := range h {
		if strings.HasPrefix(strings.ReplaceAll(strings.ToLower(k), "_", "-"), "x-autho-") {
			out[k] = v
		}
	}
	return out
}

// startTestGateway boots the gateway in-process on 127.0.0.1:0 in front of
// up, configured as the command would be from f and env (AUTHO_ISSUER is
// the test server's unless env says otherwise).
func startTestGateway(t *testing.T, ts *testServer, up string, f gatewayFlags, env map[string]string) *gateway {
	t.Helper()
	full := map[string]string{"AUTHO_ISSUER": ts.url}
	for k, v := range env {
		full[k] = v
	}
	f.upstream, f.listen = up, "127.0.0.1:0"
	cfg, err := parseGatewayConfig(f, config.Source{Getenv: func(k string) string { return full[k] }})
	if err != nil {
		t.Fatal(err)
	}
	g, err := startGateway(context.Background(), cfg, slog.New(slog.NewJSONHandler(ts.log, &slog.HandlerOptions{Level: cfg.LogLevel})))
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

// TestGateway_IdentityHeaders (AC6): the upstream sees the caller's identity
// in X-Autho-* headers and never one the client made up; a request without
// a valid bearer never reaches it.
func TestGateway_IdentityHeaders(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	scoped := ts.newToken(p.Email, "--scope", "orders:read", "--scope", "orders:write")
	jwt := wantSuccess(t, ts.login(scoped.APIToken, p.PartnerToken))
	plain := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	up := newUpstream(t)
	g := startTestGateway(t, ts, up.URL, gatewayFlags{}, nil)

	spoofed := map[string]string{
		"X-Autho-User":    "usr_evil",
		"x-autho-account": "acc_evil", // any letter case
		"X_Autho_Token":   "tok_evil", // "_" for "-", as CGI and WSGI read it
		"X-AUTHO-SCOPE":   "admin",
		"X-Autho-Admin":   "true", // a name the gateway does not set
	}
	for _, tc := range []struct {
		name       string
		auth       string
		connection string // names headers as hop-by-hop, to have them dropped
		status     int
		code       string
		want       map[string][]string
	}{
		{name: "bearer with scopes", auth: "Bearer " + jwt, status: 200, want: map[string][]string{
			"X-Autho-User": {p.UserID}, "X-Autho-Account": {p.AccountID}, "X-Autho-Token": {scoped.TokenID},
			"X-Autho-Scope": {"orders:read orders:write"},
		}},
		{name: "bearer without scopes", auth: "Bearer " + plain, status: 200, want: map[string][]string{
			"X-Autho-User": {p.UserID}, "X-Autho-Account": {p.AccountID}, "X-Autho-Token": {p.TokenID},
		}},
		{name: "Connection naming our headers", auth: "Bearer " + jwt, connection: "X-Autho-User, X-Autho-Token", status: 200, want: map[string][]string{
			"X-Autho-User": {p.UserID}, "X-Autho-Account": {p.AccountID}, "X-Autho-Token": {scoped.TokenID},
			"X-Autho-Scope": {"orders:read orders:write"},
		}},
		{name: "no bearer", status: 401, code: "15"},
		{name: "Basic", auth: "Basic dTpw", status: 401, code: "15"},
		{name: "invalid bearer", auth: "Bearer " + jwt[:len(jwt)-4], status: 401, code: "16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := up.hits.Load()
			req, _ := http.NewRequest("GET", g.URL()+"/echo", nil)
			for k, v := range spoofed {
				req.Header[k] = []string{v} // as written, not canonicalised
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.connection != "" {
				req.Header.Set("Connection", tc.connection)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := readAll(res)
			if res.StatusCode != tc.status {
				t.Fatalf("%d %s", res.StatusCode, body)
			}
			if tc.status != 200 {
				r := &response{Status: res.StatusCode, Header: res.Header, Body: body}
				json.Unmarshal(body, &r.Env)
				wantError(t, r, tc.status, tc.code)
				if up.hits.Load() != before {
					t.Fatal("a refused request reached the upstream")
				}
				return
			}
			var got struct {
				Autho         map[string][]string
				Authorization bool
			}
			json.Unmarshal(body, &got)
			if !equalHeaders(got.Autho, tc.want) {
				t.Fatalf("upstream saw %v\nwant          %v", got.Autho, tc.want)
			}
			if !got.Authorization {
				t.Fatal("the bearer was not forwarded")
			}
		})
	}
}

func equalHeaders(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") || len(b[k]) != len(v) {
			return false
		}
	}
	return true
}

// TestGateway_StreamedUpload (AC6): a 10 MB upload streams through. The
// client writes 1 MiB at a time and writes the next only once the upstream
// has read everything so far; a gateway that buffered the body whole would
// deliver nothing until the end and this would time out. So at most about
// one chunk is ever in flight, whatever the body's size.
func TestGateway_StreamedUpload(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	up := newUpstream(t)
	g := startTestGateway(t, ts, up.URL, gatewayFlags{}, nil)

	const chunk, chunks = 1 << 20, 10
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.CloseWithError(io.ErrClosedPipe) })
	req, _ := http.NewRequest("POST", g.URL()+"/upload", pr) // unknown length: chunked
	req.Header.Set("Authorization", "Bearer "+jwt)
	req.Header.Set("Content-Type", "application/octet-stream")
	type result struct {
		res  *http.Response
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		res, err := client.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := readAll(res)
		done <- result{res, b, err}
	}()

	sum := sha256.New()
	buf := make([]byte, chunk)
	for i := range chunks {
		rand.Read(buf)
		sum.Write(buf)
		if _, err := pw.Write(buf); err != nil {
			t.Fatalf("writing chunk %d: %v", i, err)
		}
		want := int64(i+1) * chunk
		waitUntil(t, 15*time.Second, fmt.Sprintf("the upstream to read %d MiB while %d MiB are still unsent", i+1, chunks-i-1), func() bool {
			return up.received.Load() >= want
		})
	}
	pw.Close()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	var got struct {
		Bytes         int64
		SHA256        string
		ContentLength int64 `json:"content_length"`
		User          string
	}
	json.Unmarshal(r.body, &got)
	if r.res.StatusCode != 200 || got.Bytes != chunk*chunks || got.SHA256 != hex.EncodeToString(sum.Sum(nil)) || got.User != p.UserID {
		t.Fatalf("%d %s", r.res.StatusCode, r.body)
	}
	if got.ContentLength != -1 {
		t.Fatalf("upstream saw Content-Length %d: the body was not streamed", got.ContentLength)
	}
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// wsEcho is a minimal RFC 6455 server: it completes the handshake (telling
// the client, in X-Seen-User, who the gateway said it is) and echoes each
// frame until a close frame.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Header.Get("Sec-WebSocket-Key") == "" {
		http.Error(w, "not a websocket handshake", http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nX-Seen-User: %s\r\n\r\n",
		wsAccept(r.Header.Get("Sec-WebSocket-Key")), r.Header.Get(headerUser))
	if brw.Flush() != nil {
		return
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	for {
		op, payload, err := readFrame(brw.Reader)
		if err != nil {
			return
		}
		if writeFrame(conn, op, payload, false) != nil || op == 0x8 {
			return
		}
	}
}

// TestGateway_WebSocket (AC6): an upgrade with a valid bearer reaches the
// upstream with the identity, and frames round-trip both ways; without a
// bearer the upgrade is refused by the gateway.
func TestGateway_WebSocket(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	up := newUpstream(t)
	g := startTestGateway(t, ts, up.URL, gatewayFlags{}, nil)

	handshake := func(t *testing.T, auth string) (net.Conn, *bufio.Reader, *http.Response, string) {
		t.Helper()
		conn, err := net.DialTimeout("tcp", g.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		k := make([]byte, 16)
		rand.Read(k)
		key := base64.StdEncoding.EncodeToString(k)
		req := "GET /ws HTTP/1.1\r\nHost: " + g.Addr() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\nX-Autho-User: usr_evil\r\n"
		if auth != "" {
			req += "Authorization: " + auth + "\r\n"
		}
		if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		return conn, br, res, key
	}

	t.Run("with a bearer: echo round-trips", func(t *testing.T) {
		conn, br, res, key := handshake(t, "Bearer "+jwt)
		if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) {
			t.Fatalf("handshake answered %s %v", res.Status, res.Header)
		}
		if got := res.Header.Get("X-Seen-User"); got != p.UserID {
			t.Fatalf("upstream saw X-Autho-User %q, want %q", got, p.UserID)
		}
		for _, msg := range [][]byte{[]byte("hello through the gateway"), []byte(strings.Repeat("0123456789", 300))} {
			if err := writeFrame(conn, 0x1, msg, true); err != nil {
				t.Fatal(err)
			}
			op, got, err := readFrame(br)
			if err != nil || op != 0x1 || string(got) != string(msg) {
				t.Fatalf("echo: op %d, %d bytes, err %v", op, len(got), err)
			}
		}
		if err := writeFrame(conn, 0x8, []byte{0x03, 0xe8}, true); err != nil {
			t.Fatal(err)
		}
		if op, _, err := readFrame(br); err != nil || op != 0x8 {
			t.Fatalf("close: op %d, err %v", op, err)
		}
	})

	t.Run("without a bearer: refused before the upstream", func(t *testing.T) {
		before := up.hits.Load()
		_, _, res, _ := handshake(t, "")
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("handshake answered %s", res.Status)
		}
		if up.hits.Load() != before {
			t.Fatal("a refused upgrade reached the upstream")
		}
	})
}

// readFrame and writeFrame are the little of RFC 6455 the WebSocket test
// needs: unfragmented frames with payloads under 64 KiB.
func writeFrame(w io.Writer, opcode byte, payload []byte, mask bool) error {
	hdr := []byte{0x80 | opcode}
	m := byte(0)
	if mask {
		m = 0x80
	}
	if len(payload) < 126 {
		hdr = append(hdr, m|byte(len(payload)))
	} else {
		hdr = append(hdr, m|126, byte(len(payload)>>8), byte(len(payload)))
	}
	body := append([]byte(nil), payload...)
	if mask {
		key := make([]byte, 4)
		rand.Read(key)
		hdr = append(hdr, key...)
		for i := range body {
			body[i] ^= key[i%4]
		}
	}
	_, err := w.Write(append(hdr, body...))
	return err
}

func readFrame(r *bufio.Reader) (opcode byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = int(ext[0])<<8 | int(ext[1])
	case 127:
		return 0, nil, fmt.Errorf("64-bit frame lengths are not needed here")
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return h[0] & 0x0f, payload, nil
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
	g := startTestGateway(t, ts, up.URL, gatewayFlags{strict: true}, map[string]string{"AUTHO_INTROSPECTION_SECRET": testIntrospectionSecret})

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
	g := startTestGateway(t, ts, up.URL, gatewayFlags{hs256File: file}, nil)

	r := get(t, g.URL()+"/echo", "Bearer "+jwt)
	var got struct{ Autho map[string][]string }
	json.Unmarshal(r.Body, &got)
	if r.Status != 200 || got.Autho[headerUser][0] != p.UserID {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	wantError(t, get(t, g.URL()+"/echo", "Bearer "+jwt[:len(jwt)-2]+"AA"), 401, "16")
}

// TestGateway_UpstreamDown: the gateway answers in the envelope, and says
// nothing of the upstream's address.
func TestGateway_UpstreamDown(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	g := startTestGateway(t, ts, dead, gatewayFlags{}, nil)
	r := get(t, g.URL()+"/echo?secret=x", "Bearer "+jwt)
	wantError(t, r, 503, "14")
	if strings.Contains(ts.log.String(), "secret=x") {
		t.Fatal("the log repeats the request's query")
	}
}

// TestGateway_BoundedLogFields: the gateway logs a made-up method as
// "other", whether it refuses the request (logged at debug), forwards it, or
// cannot reach the upstream.
func TestGateway_BoundedLogFields(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	debug := map[string]string{"AUTHO_LOG_LEVEL": "debug"}
	live := startTestGateway(t, ts, newUpstream(t).URL, gatewayFlags{}, debug)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	down := startTestGateway(t, ts, dead, gatewayFlags{}, debug)

	paths := []string{"/", "/echo"}
	var sent []oddRequest
	for _, g := range []*gateway{live, down} {
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
