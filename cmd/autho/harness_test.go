package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/daemon"
	"github.com/autho/autho/internal/testskip"
)

// testServer is a real autho daemon on a loopback port, with its database,
// environment and log, for black-box tests over HTTP.
type testServer struct {
	t   *testing.T
	db  string
	env map[string]string
	d   *daemon.Daemon
	cfg *daemon.Config
	url string
	log *syncBuffer
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

// startServer boots the daemon on 127.0.0.1:0 with env over the defaults.
// The login rate limit is off unless env sets it, since every test client
// shares one IP.
func startServer(t *testing.T, env map[string]string) *testServer {
	t.Helper()
	return startServerAt(t, filepath.Join(t.TempDir(), "autho.db"), env)
}

func startServerAt(t *testing.T, db string, env map[string]string, tweak ...func(*daemon.Config)) *testServer {
	t.Helper()
	full := map[string]string{
		"AUTHO_ADDR":                      "127.0.0.1:0",
		"AUTHO_LOGIN_FAILURES_PER_MINUTE": "0",
		"AUTHO_LOG_LEVEL":                 "debug",
	}
	for k, v := range env {
		full[k] = v
	}
	set, err := config.Load(nil, config.Source{ReadFile: os.ReadFile, Getenv: func(k string) string {
		if k == "AUTHO_DATABASE" {
			return db
		}
		return full[k]
	}})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cfg := &daemon.Config{Config: set}
	for _, f := range tweak {
		f(cfg)
	}
	ts := &testServer{t: t, db: db, env: full, log: &syncBuffer{}}
	leaks.watchLog(ts.log)
	logger := slog.New(slog.NewJSONHandler(ts.log, &slog.HandlerOptions{Level: cfg.LogLevel}))
	d, err := daemon.Start(context.Background(), cfg, logger)
	if err != nil {
		t.Fatalf("daemon.Start: %v", err)
	}
	ts.d, ts.cfg, ts.url = d, cfg, d.URL()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Close(ctx); err != nil {
			t.Errorf("closing daemon: %v", err)
		}
	})
	return ts
}

func (ts *testServer) getenv(k string) string { return ts.env[k] }

// cli runs one autho command in-process against the server's database, as
// an operator would in another terminal.
func (ts *testServer) cli(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"--db", ts.db}, args...), strings.NewReader(""), &out, &errb, ts.getenv)
	return out.String(), errb.String(), code
}

// exportHS256 writes the deployment's HS256 secret to a new file, as an
// operator does for a verifier, and returns the file's path.
func (ts *testServer) exportHS256() string {
	ts.t.Helper()
	file := filepath.Join(ts.t.TempDir(), "hs256.key")
	ts.mustCLI(nil, "keys", "export-hs256", "--out", file)
	return file
}

// mustCLI runs a command with --json and decodes its output into v.
func (ts *testServer) mustCLI(v any, args ...string) {
	ts.t.Helper()
	out, errs, code := ts.cli(append(args, "--json")...)
	if code != 0 {
		ts.t.Fatalf("autho %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	leaks.secretsIn(out)
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			ts.t.Fatalf("autho %s: output %q: %v", strings.Join(args, " "), out, err)
		}
	}
}

// partner is one account with a user and an API token, made through the CLI.
type partner struct {
	AccountID, PartnerToken string
	UserID, Email           string
	TokenID, APIToken       string
}

var partnerSeq struct {
	sync.Mutex
	n int
}

func (ts *testServer) newPartner() partner {
	ts.t.Helper()
	partnerSeq.Lock()
	partnerSeq.n++
	n := partnerSeq.n
	partnerSeq.Unlock()
	var acc struct{ ID, PartnerToken string }
	var accRaw map[string]any
	ts.mustCLI(&accRaw, "account", "create", "--name", "Partner "+string(rune('A'+n%26)))
	acc.ID, _ = accRaw["id"].(string)
	acc.PartnerToken, _ = accRaw["partner_token"].(string)
	email := "user" + strings.Repeat("x", n%5) + string(rune('a'+n%26)) + time.Now().Format("150405.000000000") + "@example.com"
	var usr map[string]any
	ts.mustCLI(&usr, "user", "create", "--account", acc.ID, "--email", email)
	tok := ts.newToken(email)
	return partner{
		AccountID: acc.ID, PartnerToken: acc.PartnerToken,
		UserID: usr["id"].(string), Email: email,
		TokenID: tok.TokenID, APIToken: tok.APIToken,
	}
}

// newToken makes another API token for the user with that email.
func (ts *testServer) newToken(email string, extra ...string) partner {
	ts.t.Helper()
	var tok map[string]any
	ts.mustCLI(&tok, append([]string{"token", "create", "--email", email, "--name", "t"}, extra...)...)
	return partner{TokenID: tok["id"].(string), APIToken: tok["token"].(string)}
}

// store opens a second handle on the server's database (SQLite or
// PostgreSQL), for arranging states the CLI deliberately cannot make (an
// expiry already past).
func (ts *testServer) store() autho.Store {
	ts.t.Helper()
	st, err := openTestStore(ts.db)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { st.Close() })
	return st
}

func (ts *testServer) expireAccount(id string) {
	ts.t.Helper()
	_, err := ts.store().UpdateAccount(context.Background(), id, func(a *autho.Account) error {
		a.ExpiresAt = time.Now().Add(-time.Hour).UTC()
		return nil
	})
	if err != nil {
		ts.t.Fatal(err)
	}
}

func (ts *testServer) expireToken(id string) {
	ts.t.Helper()
	_, err := ts.store().UpdateAPIToken(context.Background(), id, func(tk *autho.APIToken) error {
		tk.ExpiresAt = time.Now().Add(-time.Hour).UTC()
		return nil
	})
	if err != nil {
		ts.t.Fatal(err)
	}
}

// response is an HTTP answer with its body decoded as the envelope.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	Env    map[string]any
}

func (r *response) result() string { s, _ := r.Env["result"].(string); return s }

func (r *response) message() string {
	d, _ := r.Env["data"].(map[string]any)
	s, _ := d["message"].(string)
	return s
}

func (r *response) data() map[string]any { d, _ := r.Env["data"].(map[string]any); return d }

var client = &http.Client{Timeout: 10 * time.Second}

func (ts *testServer) do(method, path, contentType string, body io.Reader, header ...string) *response {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.url+path, body)
	if err != nil {
		ts.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	r := &response{Status: res.StatusCode, Header: res.Header, Body: b}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(b) > 0 {
		json.Unmarshal(b, &r.Env)
	}
	return r
}

// login posts the two tokens as JSON to the login endpoint.
func (ts *testServer) login(api, ptn string) *response {
	ts.t.Helper()
	b, _ := json.Marshal(map[string]string{"api_token": api, "partner_token": ptn})
	return ts.do("POST", "/v1/autho/apitoken/login/", "application/json", bytes.NewReader(b))
}

// wantError asserts an error answer: status, code and message, and the
// envelope's exact shape.
func wantError(t *testing.T, r *response, status int, code string) {
	t.Helper()
	if r.Status != status || r.result() != code {
		t.Fatalf("got %d %s %q, want %d %s; body %s", r.Status, r.result(), r.message(), status, code, r.Body)
	}
	want := map[string]any{
		"data":   map[string]any{"message": messageOf(code)},
		"meta":   map[string]any{},
		"result": code,
		"status": "ERROR",
	}
	gotJSON, _ := json.Marshal(r.Env)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Fatalf("envelope %s, want %s", gotJSON, wantJSON)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
}

func messageOf(code string) string {
	for _, e := range []*autho.Error{
		autho.ErrMissingTokens, autho.ErrInvalidPartnerToken, autho.ErrAccountExpired, autho.ErrInvalidAPIToken,
		autho.ErrAPITokenExpired, autho.ErrWrongAccount, autho.ErrInvalidUser, autho.ErrMalformedBody,
		autho.ErrTooManyRequests, autho.ErrMethodNotAllowed, autho.ErrBodyTooLarge, autho.ErrNotFoundRoute,
		autho.ErrUnsupportedMedia, autho.ErrServiceUnavailable, autho.ErrNoCredentials, autho.ErrInvalidBearer,
		autho.ErrInternal,
	} {
		if e.Code == code {
			return e.Message
		}
	}
	return "?"
}

// wantSuccess asserts a 200 login answer and returns its JWT.
func wantSuccess(t *testing.T, r *response) string {
	t.Helper()
	if r.Status != 200 || r.result() != "00" {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	tok, _ := r.data()["token"].(string)
	leaks.add(tok)
	return tok
}

func TestMain(m *testing.M) {
	// The master key file of each test database is made beside it; nothing
	// here reads the developer's environment.
	for _, k := range []string{"AUTHO_DATABASE", "AUTHO_MASTER_KEY"} {
		os.Unsetenv(k)
	}
	code := testskip.Main(m)
	if n := openAPI.checked.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "admin API: %d answers validated against its OpenAPI document\n", n)
	}
	if n := leaks.check(os.Stderr); n > 0 {
		code = 1
	}
	if binPath != "" {
		// The binary built once for process tests (authoBinary).
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// leaks collects every secret the tests saw (tokens, passwords, JWTs) and
// every server log written at debug level, and after all tests have run
// checks that no log line holds any of them.
var leaks leakWatch

type leakWatch struct {
	mu      sync.Mutex
	secrets map[string]bool
	// codes are secrets too short to look for as they are (a 6-digit TOTP
	// code is in many a timestamp): they are looked for as a quoted
	// string, which is how a log attribute would carry one.
	codes map[string]bool
	logs  []*syncBuffer
}

// addCode registers a short secret, such as a TOTP code.
func (l *leakWatch) addCode(code string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.codes == nil {
		l.codes = map[string]bool{}
	}
	l.codes[code] = true
}

func (l *leakWatch) add(secret string) {
	if len(secret) < 12 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.secrets == nil {
		l.secrets = map[string]bool{}
	}
	l.secrets[secret] = true
}

func (l *leakWatch) watchLog(b *syncBuffer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.logs = append(l.logs, b)
}

// secretsIn registers the secret fields of a command's JSON output.
func (l *leakWatch) secretsIn(out string) {
	var v map[string]any
	if json.Unmarshal([]byte(out), &v) != nil {
		return
	}
	for _, k := range []string{"token", "partner_token", "password", "secret"} {
		if s, ok := v[k].(string); ok {
			l.add(s)
		}
	}
}

// check reports each log line holding a secret, and returns their number.
func (l *leakWatch) check(w io.Writer) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	found, lines := 0, 0
	for _, b := range l.logs {
		for _, line := range strings.Split(b.String(), "\n") {
			lines++
			for s := range l.secrets {
				// A JWT's signature part alone is secret enough to flag.
				needle := s
				if i := strings.LastIndexByte(s, '.'); i > 0 {
					needle = s[i+1:]
				}
				if strings.Contains(line, needle) {
					found++
					fmt.Fprintf(w, "LEAK: a secret appears in a server log line (%d bytes)\n", len(line))
				}
			}
			for c := range l.codes {
				if strings.Contains(line, `"`+c+`"`) || strings.Contains(line, "="+c+" ") {
					found++
					fmt.Fprintf(w, "LEAK: a code appears in a server log line (%d bytes)\n", len(line))
				}
			}
		}
	}
	if testing.Verbose() {
		fmt.Fprintf(w, "leak check: %d secrets and %d codes against %d log lines from %d servers\n", len(l.secrets), len(l.codes), lines, len(l.logs))
	}
	return found
}

func readAll(res *http.Response) ([]byte, error) {
	defer res.Body.Close()
	return io.ReadAll(res.Body)
}
