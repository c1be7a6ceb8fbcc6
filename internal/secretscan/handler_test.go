package secretscan

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho/internal/secret"
)

// reporter is the Reporter of these tests: it knows a set of live tokens,
// records every call, and fails when told to.
type reporter struct {
	mu     sync.Mutex
	live   map[string]bool
	calls  []string // tokens, in call order
	urls   []string
	failAt int // fail the failAt-th call (1-based); 0 never
}

func (r *reporter) Report(ctx context.Context, token, url string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, token)
	r.urls = append(r.urls, url)
	if r.failAt == len(r.calls) {
		// Against its contract, to prove the handler's log still hides it.
		return false, errors.New("database unavailable while looking up " + token)
	}
	return r.live[token], nil
}

func (r *reporter) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

// fixture is a Handler behind a real server on 127.0.0.1, with a real keys
// server beside it and a log kept for inspection.
type fixture struct {
	keys  *keyServer
	clock *clock
	rep   *reporter
	srv   *httptest.Server
	log   *bytes.Buffer
	logMu *sync.Mutex
	key   signingKey
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{key: newSigningKey(t, "key-a"), clock: newClock(), rep: &reporter{live: map[string]bool{}},
		log: new(bytes.Buffer), logMu: new(sync.Mutex)}
	f.keys = newKeyServer(t, f.key)
	h := &Handler{
		Keys:     newTestKeys(f.keys, f.clock),
		Reporter: f.rep,
		Log:      slog.New(slog.NewTextHandler(lockedWriter{f.logMu, f.log}, nil)),
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (f *fixture) Log() string {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.log.String()
}

func sign(tb testing.TB, k signingKey, body []byte) string {
	tb.Helper()
	digest := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// post sends body with the given key id and signature headers ("" leaves a
// header out) and returns the answer with its body read.
func (f *fixture) post(tb testing.TB, body []byte, keyID, sig string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+Path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if keyID != "" {
		req.Header.Set("Github-Public-Key-Identifier", keyID)
	}
	if sig != "" {
		req.Header.Set("Github-Public-Key-Signature", sig)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, b
}

// postSigned sends body signed by the fixture's published key.
func (f *fixture) postSigned(tb testing.TB, body []byte) (*http.Response, []byte) {
	tb.Helper()
	return f.post(tb, body, f.key.id, sign(tb, f.key, body))
}

func reportOf(tb testing.TB, tokens ...string) []byte {
	tb.Helper()
	var ms []map[string]string
	for i, tok := range tokens {
		ms = append(ms, map[string]string{"token": tok, "type": "autho_api_token", "source": "content",
			"url": "https://github.com/octocat/repo/blob/main/f" + string(rune('0'+i%10))})
	}
	b, err := json.Marshal(ms)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// badChecksum is an autho_api_ string of the right length and alphabet
// whose checksum is wrong.
func badChecksum(tb testing.TB) string {
	tb.Helper()
	tok := secret.New(secret.APIToken)
	last := byte('0')
	if tok[len(tok)-1] == '0' {
		last = '1'
	}
	bad := tok[:len(tok)-1] + string(last)
	if secret.Check(secret.APIToken, bad) == nil {
		tb.Fatal("checksum still good")
	}
	return bad
}

func TestHandler_GoodReport(t *testing.T) {
	f := newFixture(t)
	liveAPI := secret.New(secret.APIToken)
	livePartner := secret.New(secret.PartnerToken)
	unknown := secret.New(secret.APIToken) // well-formed, but not ours
	forged := badChecksum(t)
	other := "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
	f.rep.live[liveAPI] = true
	f.rep.live[livePartner] = true

	body := []byte(`[
	  {"token":"` + liveAPI + `","type":"autho_api_token","url":"https://github.com/o/r/blob/1/a.env","source":"content"},
	  {"token":"` + forged + `","type":"autho_api_token","url":"","source":"commit"},
	  {"token":"` + livePartner + `","type":"autho_partner_token","url":"https://github.com/o/r/blob/1/b","source":"content"},
	  {"token":"` + other + `","type":"autho_api_token","url":"","source":"issue_comment"},
	  {"token":"` + unknown + `","type":"autho_api_token","url":"","source":"gist_content"},
	  {"token":"` + liveAPI + `","type":"autho_api_token","url":"https://github.com/o/r/blob/2/a.env","source":"content"}
	]`)
	resp, b := f.postSigned(t, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, body %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var got []map[string]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	want := []map[string]string{
		{"token_hash": hashOf(liveAPI), "token_type": "autho_api_token", "label": "true_positive"},
		{"token_hash": hashOf(forged), "token_type": "autho_api_token", "label": "false_positive"},
		{"token_hash": hashOf(livePartner), "token_type": "autho_partner_token", "label": "true_positive"},
		{"token_hash": hashOf(other), "token_type": "autho_api_token", "label": "false_positive"},
		{"token_hash": hashOf(unknown), "token_type": "autho_api_token", "label": "false_positive"},
		{"token_hash": hashOf(liveAPI), "token_type": "autho_api_token", "label": "true_positive"},
	}
	if len(got) != len(want) {
		t.Fatalf("answer has %d entries, want %d: %s", len(got), len(want), b)
	}
	for i := range want {
		for k, v := range want[i] {
			if got[i][k] != v {
				t.Errorf("answer[%d].%s = %q, want %q", i, k, got[i][k], v)
			}
		}
		if len(got[i]) != 3 {
			t.Errorf("answer[%d] = %v, want exactly token_hash, token_type, label", i, got[i])
		}
	}
	// The hash is SHA-256 in lowercase hex, independently of hashOf.
	if h := got[0]["token_hash"]; len(h) != 64 || strings.ToLower(h) != h {
		t.Errorf("token_hash %q is not lowercase hex SHA-256", h)
	}

	// One call per distinct token of autho's shape, in the order met; the
	// forged and foreign strings never reach the Reporter.
	calls := f.rep.Calls()
	if wantCalls := []string{liveAPI, livePartner, unknown}; !equal(calls, wantCalls) {
		t.Fatalf("Reporter calls = %d %q, want %d", len(calls), hints(calls), len(wantCalls))
	}
	if f.rep.urls[0] != "https://github.com/o/r/blob/1/a.env" {
		t.Errorf("Reporter url = %q", f.rep.urls[0])
	}

	log := f.Log()
	if n := strings.Count(log, "\n"); n != 1 {
		t.Errorf("log has %d lines, want 1:\n%s", n, log)
	}
	for _, want := range []string{"tokens=6", "true_positives=2", "key_id=key-a"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	assertNoSecrets(t, log, liveAPI, livePartner, unknown, forged, other)
}

func TestHandler_EmptyReport(t *testing.T) {
	f := newFixture(t)
	resp, b := f.postSigned(t, []byte(`[]`))
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("status %d, body %s; want 200 []", resp.StatusCode, b)
	}
}

// A report that fails verification answers 401 and never reaches the
// Reporter, whatever it holds.
func TestHandler_Unverified(t *testing.T) {
	f := newFixture(t)
	live := secret.New(secret.APIToken)
	f.rep.live[live] = true
	body := reportOf(t, live)
	good := sign(t, f.key, body)
	stranger := newSigningKey(t, "key-a") // same id, never published
	tampered := bytes.Replace(body, []byte("octocat"), []byte("octodog"), 1)
	sigBytes, _ := base64.StdEncoding.DecodeString(good)
	flipped := append([]byte(nil), sigBytes...)
	flipped[len(flipped)-1] ^= 1

	for _, tc := range []struct {
		name       string
		body       []byte
		keyID, sig string
	}{
		{"no headers", body, "", ""},
		{"no key id", body, "", good},
		{"no signature", body, f.key.id, ""},
		{"unknown key id", body, "key-zzz", good},
		{"signature not base64", body, f.key.id, "not*base64!"},
		{"signature not DER", body, f.key.id, base64.StdEncoding.EncodeToString([]byte("hello"))},
		{"signature bit flipped", body, f.key.id, base64.StdEncoding.EncodeToString(flipped)},
		{"signature of another body", body, f.key.id, sign(t, f.key, reportOf(t, secret.New(secret.APIToken)))},
		{"body changed after signing", tampered, f.key.id, good},
		{"signed by an unpublished key", body, f.key.id, sign(t, stranger, body)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := f.post(t, tc.body, tc.keyID, tc.sig)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401; body %s", resp.StatusCode, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type = %q", ct)
			}
			if calls := f.rep.Calls(); len(calls) != 0 {
				t.Fatalf("Reporter called %d times for an unverified report", len(calls))
			}
		})
	}
	assertNoSecrets(t, f.Log(), live)

	// The same report, signed properly, is handled: the refusals above were
	// for the signature alone.
	if resp, b := f.post(t, body, f.key.id, good); resp.StatusCode != 200 {
		t.Fatalf("good signature: status %d, body %s", resp.StatusCode, b)
	}
	if calls := f.rep.Calls(); len(calls) != 1 {
		t.Fatalf("Reporter calls = %d, want 1", len(calls))
	}
}

// GitHub rotates its key: a report signed with a key it has just begun to
// publish is verified after one refetch.
func TestHandler_KeyRotation(t *testing.T) {
	f := newFixture(t)
	body := reportOf(t, "not-ours")
	if resp, b := f.postSigned(t, body); resp.StatusCode != 200 {
		t.Fatalf("first key: status %d, body %s", resp.StatusCode, b)
	}
	next := newSigningKey(t, "key-b")
	f.keys.publish(t, f.key, next)
	f.clock.Advance(2 * time.Hour)
	if resp, b := f.post(t, body, next.id, sign(t, next, body)); resp.StatusCode != 200 {
		t.Fatalf("rotated key: status %d, body %s", resp.StatusCode, b)
	}
	if resp, b := f.postSigned(t, body); resp.StatusCode != 200 {
		t.Fatalf("old key still published: status %d, body %s", resp.StatusCode, b)
	}
	if n := f.keys.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

// Reports with made-up key ids, however many, refetch at most once a
// minute, through the handler as through Keys.
func TestHandler_UnknownKeyIDsRateLimited(t *testing.T) {
	f := newFixture(t)
	body := reportOf(t, secret.New(secret.APIToken))
	if resp, _ := f.postSigned(t, body); resp.StatusCode != 200 {
		t.Fatal("warm-up report refused")
	}
	f.clock.Advance(time.Hour)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			id := hashOf(string(rune(i)))
			if resp, _ := f.post(t, body, id, sign(t, f.key, body)); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("made-up key id: status %d, want 401", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if n := f.keys.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (the warm-up and one refetch)", n)
	}
	if calls := f.rep.Calls(); len(calls) != 1 {
		t.Fatalf("Reporter calls = %d, want 1 (the warm-up)", len(calls))
	}
}

// With GitHub's keys out of reach and the id not cached, the report may be
// genuine: 503 asks GitHub to send it again.
func TestHandler_KeysUnavailable(t *testing.T) {
	f := newFixture(t)
	f.keys.serve(http.StatusBadGateway, nil)
	body := reportOf(t, secret.New(secret.APIToken))
	resp, b := f.postSigned(t, body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q, body %s; want 503 with Retry-After",
			resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if calls := f.rep.Calls(); len(calls) != 0 {
		t.Fatalf("Reporter called %d times", len(calls))
	}
}

// A verified body that is not an array of objects with a string token is
// 400, and nothing of it is reported.
func TestHandler_Malformed(t *testing.T) {
	f := newFixture(t)
	tok := secret.New(secret.APIToken)
	for _, body := range []string{
		``,
		`null`,
		`{}`,
		`{"token":"` + tok + `"}`,
		`[1]`,
		`[null]`,
		`["` + tok + `"]`,
		`[{"type":"autho_api_token"}]`,
		`[{"token":null}]`,
		`[{"token":5}]`,
		`[{"token":"` + tok + `","type":7}]`,
		`[{"token":"` + tok + `"}] []`,
		`[{"token":"` + tok + `"}`,
	} {
		t.Run(body, func(t *testing.T) {
			resp, b := f.postSigned(t, []byte(body))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", resp.StatusCode, b)
			}
		})
	}
	if calls := f.rep.Calls(); len(calls) != 0 {
		t.Fatalf("Reporter called %d times", len(calls))
	}
	assertNoSecrets(t, f.Log(), tok)
}

func TestHandler_BodyLimit(t *testing.T) {
	f := newFixture(t)
	// Exactly 1 MiB, signed and valid: handled.
	atLimit := []byte("[" + strings.Repeat(" ", maxBody-2) + "]")
	if resp, b := f.postSigned(t, atLimit); resp.StatusCode != 200 {
		t.Fatalf("1 MiB body: status %d, body %.200s", resp.StatusCode, b)
	}
	// One byte more: 413, whether signed or not.
	over := []byte("[" + strings.Repeat(" ", maxBody-1) + "]")
	for _, sig := range []string{sign(t, f.key, over), ""} {
		resp, b := f.post(t, over, f.key.id, sig)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("1 MiB + 1 body: status %d, want 413; body %.200s", resp.StatusCode, b)
		}
	}
}

func TestHandler_Method(t *testing.T) {
	f := newFixture(t)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, f.srv.URL+Path, nil)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Fatalf("%s: status %d, Allow %q; want 405 with Allow: POST", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// The Reporter failing (the database down) is 503 with Retry-After, and no
// token after the failed one is reported: GitHub sends the whole report
// again.
func TestHandler_ReporterError(t *testing.T) {
	f := newFixture(t)
	a, b, c := secret.New(secret.APIToken), secret.New(secret.PartnerToken), secret.New(secret.APIToken)
	f.rep.live[a] = true
	f.rep.failAt = 2
	resp, body := f.postSigned(t, reportOf(t, a, b, c))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q; want 503 with Retry-After; body %s",
			resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if calls := f.rep.Calls(); !equal(calls, []string{a, b}) {
		t.Fatalf("Reporter calls = %q, want the first two only", hints(calls))
	}
	log := f.Log()
	if !strings.Contains(log, "database unavailable") {
		t.Errorf("log lacks the Reporter's error:\n%s", log)
	}
	assertNoSecrets(t, log, a, b, c)
}

func assertNoSecrets(t *testing.T, log string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(log, s) || strings.Contains(log, s[:20]) {
			t.Errorf("log holds a reported token (%s):\n%s", secret.Hint(s), log)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// hints shows tokens in a failure message without writing them out.
func hints(toks []string) []string {
	var h []string
	for _, t := range toks {
		h = append(h, secret.Hint(t))
	}
	return h
}
