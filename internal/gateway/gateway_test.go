package gateway

import (
	"bufio"
	"bytes"
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
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/signer"
	"github.com/autho/autho/internal/sqlite"
)

// issuer stands in for autho: a keyring on a real SQLite database signs
// login JWTs, and its JWKS is served where the gateway looks for it.
type issuer struct {
	*httptest.Server
	keys *signer.Keyring
	log  *syncBuffer // the gateways' log

	// The revocation feed it serves, signed by keys at each request, with
	// an ETag of its version; while feedDown, requests for it get their
	// connection closed, as by a node that went away.
	mu          sync.Mutex
	revoked     []bearer.Revocation
	feedVersion int
	feedDown    bool
	feedHits    atomic.Int64
}

func newIssuer(t *testing.T) *issuer { t.Helper(); return newIssuerAlg(t, signer.ES256) }

// newIssuerAlg is newIssuer signing with alg.
func newIssuerAlg(t *testing.T, alg string) *issuer {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "autho.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, signer.MasterKeyLen)
	rand.Read(master)
	sealer, err := signer.NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := signer.NewKeyring(st, sealer, signer.Options{Algorithm: alg, TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.EnsureKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	is := &issuer{keys: keys, log: &syncBuffer{}, revoked: []bearer.Revocation{}}
	is.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/jwks.json":
			w.Header().Set("Content-Type", "application/json")
			w.Write(keys.JWKS())
		case "/v1/autho/revocations":
			is.serveFeed(t, w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(is.Close)
	return is
}

// serveFeed answers as autho's GET /v1/autho/revocations does.
func (is *issuer) serveFeed(t *testing.T, w http.ResponseWriter, r *http.Request) {
	is.feedHits.Add(1)
	is.mu.Lock()
	revoked, etag, down := slices.Clone(is.revoked), fmt.Sprintf(`"%d"`, is.feedVersion), is.feedDown
	is.mu.Unlock()
	if down {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
		return
	}
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	now := time.Now()
	doc, err := is.keys.SignRevocations(&bearer.RevocationList{
		Issuer: is.URL, IssuedAt: bearer.NumericDate{Time: now}, ExpiresAt: bearer.NumericDate{Time: now.Add(5 * time.Minute)},
		Revoked: revoked,
	})
	if err != nil {
		t.Error(err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	io.WriteString(w, doc)
}

// revoke adds entries to the feed.
func (is *issuer) revoke(entries ...bearer.Revocation) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.revoked = append(is.revoked, entries...)
	is.feedVersion++
}

func (is *issuer) setFeedDown(down bool) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.feedDown = down
}

// caller is who a JWT says is calling: the ids the login puts in it.
type caller struct {
	user, account, token string
	scopes               []string
}

// jwt is the login JWT of c, as autho's login endpoint signs it.
func (is *issuer) jwt(t *testing.T, c caller) string {
	t.Helper()
	now := time.Now()
	at := func(t time.Time) bearer.NumericDate { return bearer.NumericDate{Time: t} }
	tok, err := is.keys.Sign(&bearer.Claims{
		Issuer: is.URL, Subject: c.user, Audience: bearer.Audience{"autho"},
		IssuedAt: at(now), NotBefore: at(now), ExpiresAt: at(now.Add(time.Hour)),
		ID: signer.NewJTI(), Account: c.account, Token: c.token, Scope: strings.Join(c.scopes, " "),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// startTestGateway boots the gateway on 127.0.0.1:0 in front of up,
// verifying with the issuer's JWKS.
func startTestGateway(t *testing.T, is *issuer, up string) *Gateway {
	t.Helper()
	return startGatewayWith(t, is, up, nil)
}

// startGatewayWith is startTestGateway with the configuration changed by
// edit.
func startGatewayWith(t *testing.T, is *issuer, up string, edit func(*Config)) *Gateway {
	t.Helper()
	u, err := url.Parse(up)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Upstream: u, Listen: "127.0.0.1:0", Issuer: is.URL, Audience: "autho", JWKSURL: is.URL + "/.well-known/jwks.json"}
	if edit != nil {
		edit(cfg)
	}
	g, err := Start(context.Background(), cfg, slog.New(slog.NewJSONHandler(is.log, &slog.HandlerOptions{Level: slog.LevelDebug})))
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

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var client = &http.Client{Timeout: 10 * time.Second}

func readAll(res *http.Response) ([]byte, error) {
	defer res.Body.Close()
	return io.ReadAll(res.Body)
}

// response is an HTTP answer with its body decoded as the envelope.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	Env    map[string]any
}

// get calls url with an optional Authorization header.
func get(t *testing.T, url, auth string) *response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := readAll(res)
	if err != nil {
		t.Fatal(err)
	}
	r := &response{Status: res.StatusCode, Header: res.Header, Body: b}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(b) > 0 {
		json.Unmarshal(b, &r.Env)
	}
	return r
}

// wantError asserts an error answer: status, and the contract's envelope
// of code, exactly.
func wantError(t *testing.T, r *response, status int, code string) {
	t.Helper()
	messages := map[string]string{}
	for _, e := range []*autho.Error{autho.ErrServiceUnavailable, autho.ErrNoCredentials, autho.ErrInvalidBearer} {
		messages[e.Code] = e.Message
	}
	want := map[string]any{
		"data":   map[string]any{"message": messages[code]},
		"meta":   map[string]any{},
		"result": code,
		"status": "ERROR",
	}
	gotJSON, _ := json.Marshal(r.Env)
	wantJSON, _ := json.Marshal(want)
	if r.Status != status || !bytes.Equal(gotJSON, wantJSON) {
		t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, wantJSON)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
}

// waitUntil polls cond every 20 ms until it holds or d has passed.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// upstream is the API behind the gateway. It has no authentication code:
// it reports what reached it.
type upstream struct {
	*httptest.Server
	hits     atomic.Int64
	received atomic.Int64 // bytes of the upload read so far
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
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
			"content_length": r.ContentLength, "user": r.Header.Get(HeaderUser),
		})
	})
	mux.HandleFunc("/ws", wsEcho)
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

// TestGateway_IdentityHeaders (AC6): the upstream sees the caller's identity
// in X-Autho-* headers and never one the client made up; a request without
// a valid bearer never reaches it.
func TestGateway_IdentityHeaders(t *testing.T) {
	is := newIssuer(t)
	p := caller{user: "usr_1", account: "acc_1", token: "tok_plain"}
	scoped := caller{user: p.user, account: p.account, token: "tok_scoped", scopes: []string{"orders:read", "orders:write"}}
	jwt := is.jwt(t, scoped)
	plain := is.jwt(t, p)
	up := newUpstream(t)
	g := startTestGateway(t, is, up.URL)

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
			"X-Autho-User": {p.user}, "X-Autho-Account": {p.account}, "X-Autho-Token": {scoped.token},
			"X-Autho-Scope": {"orders:read orders:write"},
		}},
		{name: "bearer without scopes", auth: "Bearer " + plain, status: 200, want: map[string][]string{
			"X-Autho-User": {p.user}, "X-Autho-Account": {p.account}, "X-Autho-Token": {p.token},
		}},
		{name: "Connection naming our headers", auth: "Bearer " + jwt, connection: "X-Autho-User, X-Autho-Token", status: 200, want: map[string][]string{
			"X-Autho-User": {p.user}, "X-Autho-Account": {p.account}, "X-Autho-Token": {scoped.token},
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
	is := newIssuer(t)
	p := caller{user: "usr_1", account: "acc_1", token: "tok_1"}
	jwt := is.jwt(t, p)
	up := newUpstream(t)
	g := startTestGateway(t, is, up.URL)

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
	if r.res.StatusCode != 200 || got.Bytes != chunk*chunks || got.SHA256 != hex.EncodeToString(sum.Sum(nil)) || got.User != p.user {
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
		wsAccept(r.Header.Get("Sec-WebSocket-Key")), r.Header.Get(HeaderUser))
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
	is := newIssuer(t)
	p := caller{user: "usr_1", account: "acc_1", token: "tok_1"}
	jwt := is.jwt(t, p)
	up := newUpstream(t)
	g := startTestGateway(t, is, up.URL)

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
		if got := res.Header.Get("X-Seen-User"); got != p.user {
			t.Fatalf("upstream saw X-Autho-User %q, want %q", got, p.user)
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

// TestGateway_UpstreamDown: the gateway answers in the envelope, and says
// nothing of the upstream's address.
func TestGateway_UpstreamDown(t *testing.T) {
	is := newIssuer(t)
	p := caller{user: "usr_1", account: "acc_1", token: "tok_1"}
	jwt := is.jwt(t, p)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	g := startTestGateway(t, is, dead)
	r := get(t, g.URL()+"/echo?secret=x", "Bearer "+jwt)
	wantError(t, r, 503, "14")
	if strings.Contains(is.log.String(), "secret=x") {
		t.Fatal("the log repeats the request's query")
	}
}
