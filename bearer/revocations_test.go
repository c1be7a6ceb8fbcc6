package bearer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// feedClaims is a revocation feed as autho writes it, issued at iat with
// entries (kind, id, not_before); nil entries is the empty list.
func feedClaims(iat time.Time, entries []Revocation) map[string]any {
	if entries == nil {
		entries = []Revocation{}
	}
	return map[string]any{
		"iss":     testIssuer,
		"iat":     iat.Unix(),
		"exp":     iat.Add(5 * time.Minute).Unix(),
		"revoked": entries,
	}
}

// mustSignFeed signs claims as autho signs its feed, with typ (the feed's
// own, unless a test wants another; "" leaves it out).
func mustSignFeed(tb testing.TB, alg, kid, typ string, claims map[string]any) string {
	tb.Helper()
	h := map[string]any{"alg": alg, "kid": kid}
	if typ != "" {
		h["typ"] = typ
	}
	return mustSignRaw(tb, alg, signingKey(mustKeys(tb), alg), mustJSON(tb, h), mustJSON(tb, claims))
}

// feedServer plays autho's GET /v1/autho/revocations: the document the
// test set, its ETag, and 304 for If-None-Match of it.
type feedServer struct {
	*httptest.Server
	hits, full, notModified atomic.Int32 // requests; answered 200; answered 304

	mu      sync.Mutex
	doc     string
	etag    string
	version int
	status  int           // if set, answered instead
	hold    chan struct{} // if set, a request waits for it to close
}

func newFeedServer(t *testing.T, doc string) *feedServer {
	t.Helper()
	s := &feedServer{}
	s.setDoc(doc)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		doc, etag, status, hold := s.doc, s.etag, s.status, s.hold
		s.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		if r.Method != http.MethodGet || r.URL.Path != "/v1/autho/revocations" {
			http.NotFound(w, r)
			return
		}
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			s.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.full.Add(1)
		w.Header().Set("Content-Type", "application/jwt")
		fmt.Fprint(w, doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *feedServer) feedURL() string { return s.URL + "/v1/autho/revocations" }

// setDoc serves doc from now on, under a new ETag.
func (s *feedServer) setDoc(doc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doc = doc
	s.version++
	s.etag = fmt.Sprintf(`"v%d"`, s.version)
}

func (s *feedServer) set(f func(*feedServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// servedMore waits until the server has been asked n more times (so that
// whatever it serves now has been read, and acted on, at least n-1 times).
func (s *feedServer) servedMore(t *testing.T, n int32) {
	t.Helper()
	want := s.hits.Load() + n
	waitFor(t, fmt.Sprintf("%d more requests for the feed", n), func() bool { return s.hits.Load() >= want })
}

// feedVerifier verifies with the standard keys and polls s every 2 ms;
// the copy may be a minute old.
func feedVerifier(t *testing.T, s *feedServer, clock *fakeClock, log *slog.Logger) *Verifier {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return mustVerifier(t, Config{
		Keys:        standardKeys(mustKeys(t)),
		Revocations: &RevocationsConfig{URL: s.feedURL(), Every: 2 * time.Millisecond, MaxAge: time.Minute},
		Logger:      log,
		Now:         clock.Now,
	})
}

// jwtOf is a login JWT of user, account and API token, issued at iat.
func jwtOf(t *testing.T, user, account, token string, iat time.Time) string {
	return mustSign(t, ES256, "es", with(map[string]any{"sub": user, "acc": account, "tok": token, "iat": iat.Unix(), "nbf": nil}))
}

// A JWT matching an entry of the feed is refused with 401 16 by Middleware,
// if issued before the entry's not_before; everything else passes.
func TestFeed_revokes(t *testing.T) {
	changed := testNow.Add(-time.Hour) // when the user was deactivated, the account suspended
	srv := newFeedServer(t, mustSignFeed(t, ES256, "es", RevocationsType, feedClaims(testNow.Add(-time.Second), []Revocation{
		{Kind: RevokedToken, ID: "tok_revoked", NotBefore: RevokedForever},
		{Kind: RevokedUser, ID: "usr_off", NotBefore: changed.Unix()},
		{Kind: RevokedAccount, ID: "acc_off", NotBefore: changed.Unix()},
		// Two entries for one id: the later counts.
		{Kind: RevokedUser, ID: "usr_twice", NotBefore: changed.Add(-time.Hour).Unix()},
		{Kind: RevokedUser, ID: "usr_twice", NotBefore: changed.Unix()},
		{Kind: RevokedUser, ID: "usr_twice", NotBefore: changed.Add(-2 * time.Hour).Unix()},
		// An id is matched only against the claim of its kind.
		{Kind: RevokedAccount, ID: "usr_1", NotBefore: RevokedForever},
		{Kind: RevokedToken, ID: "acc_1", NotBefore: RevokedForever},
	})))
	v := feedVerifier(t, srv, &fakeClock{t: testNow}, nil)
	var refusals []error
	var mu sync.Mutex
	v.onError = func(_ *http.Request, err error) { mu.Lock(); refusals = append(refusals, err); mu.Unlock() }
	h := v.Middleware(echoIdentity)
	before, after := changed.Add(-time.Second), changed.Add(time.Second)

	for _, tc := range []struct {
		name                 string
		user, account, token string
		iat                  time.Time
		status               int
	}{
		{"other token", "usr_1", "acc_1", "tok_1", before, 200},
		{"revoked API token", "usr_1", "acc_1", "tok_revoked", before, 401},
		{"revoked API token, JWT issued now", "usr_1", "acc_1", "tok_revoked", testNow, 401},
		{"deactivated user, JWT from before", "usr_off", "acc_1", "tok_1", before, 401},
		{"deactivated user, JWT issued at the change", "usr_off", "acc_1", "tok_1", changed, 200},
		{"deactivated user, JWT from after reactivation", "usr_off", "acc_1", "tok_1", after, 200},
		{"suspended account, JWT from before", "usr_1", "acc_off", "tok_1", before, 401},
		{"suspended account, JWT issued at the change", "usr_1", "acc_off", "tok_1", changed, 200},
		{"suspended account, JWT from after reactivation", "usr_1", "acc_off", "tok_1", after, 200},
		{"user listed twice, JWT between the entries", "usr_twice", "acc_1", "tok_1", before, 401},
		{"user listed twice, JWT after the latest", "usr_twice", "acc_1", "tok_1", after, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			refusals = nil
			mu.Unlock()
			w := serve(h, "Bearer "+jwtOf(t, tc.user, tc.account, tc.token, tc.iat))
			want := tc.user + " " + tc.account + " " + tc.token + " orders:read,orders:write"
			if tc.status == 401 {
				want = want16
			}
			if w.Code != tc.status || w.Body.String() != want {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, tc.status, want)
			}
			if tc.status == 401 {
				if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="autho", error="invalid_token"` {
					t.Fatalf("WWW-Authenticate %q", got)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(refusals) != 1 || !errors.Is(refusals[0], ErrInvalidToken) || !strings.Contains(refusals[0].Error(), "revoked (revocation feed)") {
					t.Fatalf("OnError got %v", refusals)
				}
			}
		})
	}

	t.Run("a JWT without iat matching an entry", func(t *testing.T) {
		tok := mustSign(t, ES256, "es", with(map[string]any{"sub": "usr_off", "iat": nil}))
		_, err := v.Verify(context.Background(), tok)
		wantRefused(t, nil, err, "revoked (revocation feed)")
	})
	t.Run("a revocation the feed adds later", func(t *testing.T) {
		tok := jwtOf(t, "usr_1", "acc_1", "tok_later", before)
		if w := serve(h, "Bearer "+tok); w.Code != 200 {
			t.Fatalf("before the revocation: %d", w.Code)
		}
		srv.setDoc(mustSignFeed(t, ES256, "es", RevocationsType, feedClaims(testNow, []Revocation{{Kind: RevokedToken, ID: "tok_later", NotBefore: RevokedForever}})))
		waitFor(t, "the feed to refuse the token", func() bool { return serve(h, "Bearer "+tok).Code == 401 })
		// The new copy replaced the old one: what it no longer lists passes.
		if w := serve(h, "Bearer "+jwtOf(t, "usr_1", "acc_1", "tok_revoked", before)); w.Code != 200 {
			t.Fatalf("a token the new feed no longer lists: %d %s", w.Code, w.Body)
		}
	})
}

// The feed is verified with the keys and algorithms login JWTs are, each
// of them.
func TestFeed_algorithms(t *testing.T) {
	k := mustKeys(t)
	keys := standardKeys(k)
	keys["hs"] = verifyKey{HS256, k.secret}
	for _, tc := range []struct{ alg, kid string }{{ES256, "es"}, {EdDSA, "ed"}, {RS256, "rs"}, {HS256, "hs"}} {
		t.Run(tc.alg, func(t *testing.T) {
			srv := newFeedServer(t, mustSignFeed(t, tc.alg, tc.kid, RevocationsType, feedClaims(testNow, []Revocation{{Kind: RevokedToken, ID: "tok_1", NotBefore: RevokedForever}})))
			v := mustVerifier(t, Config{Keys: keys, Algorithms: []string{tc.alg},
				Revocations: &RevocationsConfig{URL: srv.feedURL(), Every: time.Hour, MaxAge: 2 * time.Hour}})
			_, err := v.Verify(context.Background(), mustSign(t, tc.alg, tc.kid, goodClaims()))
			wantRefused(t, nil, err, "revoked (revocation feed)")
		})
	}
}

// An unchanged feed is answered 304 and is not downloaded again, yet each
// 304 counts as contact: a copy confirmed that way never ages into MaxAge.
func TestFeed_etag(t *testing.T) {
	srv := newFeedServer(t, mustSignFeed(t, ES256, "es", RevocationsType, feedClaims(testNow, []Revocation{{Kind: RevokedToken, ID: "tok_revoked", NotBefore: RevokedForever}})))
	clock := &fakeClock{t: testNow}
	v := feedVerifier(t, srv, clock, nil)
	good, revoked := jwtOf(t, "usr_1", "acc_1", "tok_1", testNow), jwtOf(t, "usr_1", "acc_1", "tok_revoked", testNow)
	verify := func(tok string) error { _, err := v.Verify(context.Background(), tok); return err }
	if err := verify(good); err != nil {
		t.Fatal(err)
	}
	// Five MaxAges go by, each confirmed by 304s within it.
	for range 5 {
		srv.servedMore(t, 2)
		clock.Add(50 * time.Second)
	}
	srv.servedMore(t, 2)
	if err := verify(good); err != nil {
		t.Fatalf("after 250 s of 304s: %v", err)
	}
	wantRefused(t, nil, verify(revoked), "revoked (revocation feed)")
	if full, nm := srv.full.Load(), srv.notModified.Load(); full != 1 || nm < 10 {
		t.Fatalf("%d answers 200 and %d answers 304; want 1 and at least 10", full, nm)
	}

	// A change is a new ETag: downloaded once, then 304 again.
	srv.setDoc(mustSignFeed(t, ES256, "es", RevocationsType, feedClaims(testNow, []Revocation{{Kind: RevokedToken, ID: "tok_1", NotBefore: RevokedForever}})))
	waitFor(t, "the changed feed", func() bool { return verify(good) != nil })
	wantRefused(t, nil, verify(good), "revoked (revocation feed)")
	nm := srv.notModified.Load()
	srv.servedMore(t, 3)
	if full := srv.full.Load(); full != 2 || srv.notModified.Load() < nm+2 {
		t.Fatalf("after the change: %d answers 200, 304s from %d to %d", full, nm, srv.notModified.Load())
	}
}

// Without autho, the last copy is used, unrevoked tokens pass and revoked
// ones stay refused, with a warning; once the last contact is older than
// MaxAge, every token gets 503 14 with Retry-After.
func TestFeed_unreachable(t *testing.T) {
	srv := newFeedServer(t, mustSignFeed(t, ES256, "es", RevocationsType, feedClaims(testNow, []Revocation{{Kind: RevokedToken, ID: "tok_revoked", NotBefore: RevokedForever}})))
	clock := &fakeClock{t: testNow}
	var log syncLog
	v := feedVerifier(t, srv, clock, slog.New(slog.NewJSONHandler(&log, nil)))
	h := v.Middleware(echoIdentity)
	good, revoked := "Bearer "+jwtOf(t, "usr_1", "acc_1", "tok_1", testNow), "Bearer "+jwtOf(t, "usr_1", "acc_1", "tok_revoked", testNow)
	if w := serve(h, good); w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}

	srv.Close()
	waitFor(t, "a warning that the feed cannot be fetched", func() bool { return len(log.warnings(t)) > 0 })
	clock.Add(time.Minute)
	if w := serve(h, good); w.Code != 200 {
		t.Fatalf("at MaxAge: %d %s", w.Code, w.Body)
	}
	if w := serve(h, revoked); w.Code != 401 || w.Body.String() != want16 {
		t.Fatalf("revoked token at MaxAge: %d %s", w.Code, w.Body)
	}
	clock.Add(time.Second)
	for _, auth := range []string{good, revoked} {
		w := serve(h, auth)
		if w.Code != 503 || w.Body.String() != want14 || w.Header().Get("Retry-After") != "5" || w.Header().Get("WWW-Authenticate") != "" {
			t.Fatalf("past MaxAge: %d %v %s", w.Code, w.Header(), w.Body)
		}
	}
	_, err := v.Verify(context.Background(), strings.TrimPrefix(good, "Bearer "))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "revocation feed older than MaxAge") {
		t.Fatalf("past MaxAge: %v", err)
	}
	for _, w := range log.warnings(t) {
		if !strings.Contains(w.Msg, "revocation feed") || w.URL != srv.feedURL() {
			t.Fatalf("warning %+v", w)
		}
	}
}

const want14 = `{"data":{"message":"Service unavailable"},"meta":{},"result":"14","status":"ERROR"}`

// A document that does not verify is ignored and the last good copy stays
// in use: it is no contact with autho, and it is warned of at most once
// every 10 s. A valid document older than the copy (a node behind a load
// balancer that re-signed earlier) is not taken either, but it is autho
// answering, so it counts as contact and is no warning.
func TestFeed_badDocumentIgnored(t *testing.T) {
	k := mustKeys(t)
	// What each bad document says, if it were believed: tok_kept is no
	// longer revoked, tok_new is.
	entries := []Revocation{{Kind: RevokedToken, ID: "tok_new", NotBefore: RevokedForever}}
	claims := func(edits map[string]any) map[string]any {
		c := feedClaims(testNow, entries)
		for name, v := range edits {
			if v == nil {
				delete(c, name)
			} else {
				c[name] = v
			}
		}
		return c
	}
	sign := func(edits map[string]any) string { return mustSignFeed(t, ES256, "es", RevocationsType, claims(edits)) }
	header := func(h map[string]any) string {
		return mustSignRaw(t, ES256, k.ec, mustJSON(t, h), mustJSON(t, claims(nil)))
	}
	flip := func(tok string) string {
		i := strings.LastIndexByte(tok, '.') + 5
		b := []byte(tok)
		b[i] ^= 1
		return string(b)
	}
	for _, tc := range []struct {
		name    string
		doc     string
		contact bool // counts as contact with autho, and no warning
	}{
		{"bad signature", flip(sign(nil)), false},
		{"signed by another key", mustSignRaw(t, ES256, mustOtherEC(t), mustJSON(t, map[string]any{"alg": ES256, "kid": "es", "typ": RevocationsType}), mustJSON(t, claims(nil))), false},
		{"typ JWT", mustSignFeed(t, ES256, "es", "JWT", claims(nil)), false},
		{"no typ", mustSignFeed(t, ES256, "es", "", claims(nil)), false},
		{"typ in capitals", mustSignFeed(t, ES256, "es", "REVOCATIONS+JWT", claims(nil)), false},
		{"a login JWT", mustSign(t, ES256, "es", goodClaims()), false},
		{"alg none", seg(mustJSON(t, map[string]any{"alg": "none", "kid": "es", "typ": RevocationsType})) + "." + seg(mustJSON(t, claims(nil))) + ".", false},
		{"alg not the key's", mustSignFeed(t, HS256, "es", RevocationsType, claims(nil)), false},
		{"unknown kid", mustSignFeed(t, ES256, "nope", RevocationsType, claims(nil)), false},
		{"jku in the header", header(map[string]any{"alg": ES256, "kid": "es", "typ": RevocationsType, "jku": "http://127.0.0.1:1/"}), false},
		{"wrong iss", sign(map[string]any{"iss": "https://evil.test"}), false},
		{"no iss", sign(map[string]any{"iss": nil}), false},
		{"expired", sign(map[string]any{"iat": testNow.Add(-10 * time.Minute).Unix(), "exp": testNow.Add(-5 * time.Minute).Unix()}), false},
		{"no exp", sign(map[string]any{"exp": nil}), false},
		{"iat in the future", sign(map[string]any{"iat": testNow.Add(5 * time.Minute).Unix(), "exp": testNow.Add(10 * time.Minute).Unix()}), false},
		{"no iat", sign(map[string]any{"iat": nil}), false},
		{"exp as a string", sign(map[string]any{"exp": fmt.Sprint(testNow.Add(time.Minute).Unix())}), false},
		{"no revoked", sign(map[string]any{"revoked": nil}), false},
		{"revoked null", mustSignRaw(t, ES256, k.ec, mustJSON(t, map[string]any{"alg": ES256, "kid": "es", "typ": RevocationsType}),
			[]byte(fmt.Sprintf(`{"iss":%q,"iat":%d,"exp":%d,"revoked":null}`, testIssuer, testNow.Unix(), testNow.Add(time.Minute).Unix()))), false},
		{"unknown kind", sign(map[string]any{"revoked": []Revocation{{Kind: "session", ID: "s_1", NotBefore: 1}}}), false},
		{"entry without id", sign(map[string]any{"revoked": []Revocation{{Kind: RevokedUser, NotBefore: 1}}}), false},
		{"a name twice", mustSignRaw(t, ES256, k.ec, mustJSON(t, map[string]any{"alg": ES256, "kid": "es", "typ": RevocationsType}),
			[]byte(fmt.Sprintf(`{"iss":%q,"iat":%d,"exp":%d,"revoked":[],"REVOKED":[]}`, testIssuer, testNow.Unix(), testNow.Add(time.Minute).Unix()))), false},
		{"not a JWT", "<html>maintenance</html>", false},
		{"empty body", "", false},
		{"older than the copy", sign(map[string]any{"iat": testNow.Add(-20 * time.Second).Unix()}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The good copy, issued 10 s ago, revokes tok_kept.
			srv := newFeedServer(t, mustSignFeed(t, ES256, "es", RevocationsType, feedClaims(testNow.Add(-10*time.Second),
				[]Revocation{{Kind: RevokedToken, ID: "tok_kept", NotBefore: RevokedForever}})))
			clock := &fakeClock{t: testNow}
			var log syncLog
			v := feedVerifier(t, srv, clock, slog.New(slog.NewJSONHandler(&log, nil)))
			verify := func(token string) error {
				_, err := v.Verify(context.Background(), jwtOf(t, "usr_1", "acc_1", token, testNow))
				return err
			}
			wantRefused(t, nil, verify("tok_kept"), "revoked (revocation feed)")

			srv.setDoc(tc.doc)
			srv.servedMore(t, 3)
			wantRefused(t, nil, verify("tok_kept"), "revoked (revocation feed)")
			if err := verify("tok_new"); err != nil {
				t.Fatalf("the ignored document was believed: %v", err)
			}
			warnings := log.warnings(t)
			if tc.contact {
				if len(warnings) != 0 {
					t.Fatalf("warned: %+v", warnings)
				}
			} else if len(warnings) != 1 || warnings[0].Failures != 1 || !strings.Contains(warnings[0].Err, "revocation feed refused") {
				// The clock stands still: one warning however many polls.
				t.Fatalf("warnings %+v, want one for the first failure", warnings)
			}

			// Past MaxAge of the good copy's fetch: only contact keeps it.
			clock.Add(61 * time.Second)
			srv.servedMore(t, 3)
			err := verify("tok_new")
			if tc.contact {
				if err != nil {
					t.Fatalf("a document older than the copy is no contact: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("an ignored document counted as contact: %v", err)
			}
			warnings = log.warnings(t)
			if len(warnings) != 2 || warnings[1].Failures < 2 {
				t.Fatalf("warnings %+v, want a second one 10 s later, for the failures since", warnings)
			}
		})
	}
}

// The failures that are no document at all: kept copy, warning.
func TestFeed_fetchErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*feedServer)
		want string
	}{
		{"500", func(s *feedServer) { s.status = 500 }, "answered 500"},
		{"404", func(s *feedServer) { s.status = 404 }, "answered 404"},
		{"redirect", func(s *feedServer) { s.status = 302 }, "answered 302"},
		{"too large", func(s *feedServer) { s.doc = strings.Repeat("A", maxFeedBytes+1); s.etag = `"big"` }, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFeedServer(t, mustSignFeed(t, ES256, "es", RevocationsType, feedClaims(testNow, []Revocation{{Kind: RevokedToken, ID: "tok_kept", NotBefore: RevokedForever}})))
			var log syncLog
			v := feedVerifier(t, srv, &fakeClock{t: testNow}, slog.New(slog.NewJSONHandler(&log, nil)))
			tok := jwtOf(t, "usr_1", "acc_1", "tok_kept", testNow)
			_, err := v.Verify(context.Background(), tok)
			wantRefused(t, nil, err, "revoked (revocation feed)")
			srv.set(tc.set)
			srv.servedMore(t, 3)
			_, err = v.Verify(context.Background(), tok)
			wantRefused(t, nil, err, "revoked (revocation feed)")
			if w := log.warnings(t); len(w) != 1 || !strings.Contains(w[0].Err, tc.want) {
				t.Fatalf("warnings %+v, want one with %q", w, tc.want)
			}
		})
	}
}

// The first requests wait for the first fetch instead of being refused;
// if it fails, they get 503, as they do when their context ends first.
func TestFeed_firstFetch(t *testing.T) {
	doc := mustSignFeed(t, ES256, "es", RevocationsType, feedClaims(testNow, nil))
	tok := jwtOf(t, "usr_1", "acc_1", "tok_1", testNow)

	t.Run("waits and succeeds", func(t *testing.T) {
		srv := newFeedServer(t, doc)
		release := make(chan struct{})
		srv.set(func(s *feedServer) { s.hold = release })
		v := feedVerifier(t, srv, &fakeClock{t: testNow}, nil)
		done := make(chan error, 3)
		for range 3 {
			go func() { _, err := v.Verify(context.Background(), tok); done <- err }()
		}
		waitFor(t, "the first fetch to reach the server", func() bool { return srv.hits.Load() > 0 })
		select {
		case err := <-done:
			t.Fatalf("answered before the first fetch ended: %v", err)
		default:
		}
		close(release)
		for range 3 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("context ends first", func(t *testing.T) {
		srv := newFeedServer(t, doc)
		release := make(chan struct{})
		defer close(release)
		srv.set(func(s *feedServer) { s.hold = release })
		v := feedVerifier(t, srv, &fakeClock{t: testNow}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := v.Verify(ctx, tok)
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
	})
	t.Run("first fetch fails", func(t *testing.T) {
		srv := newFeedServer(t, doc)
		srv.set(func(s *feedServer) { s.status = 503 })
		v := feedVerifier(t, srv, &fakeClock{t: testNow}, nil)
		_, err := v.Verify(context.Background(), tok)
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no revocation feed fetched yet") {
			t.Fatalf("got %v", err)
		}
		srv.set(func(s *feedServer) { s.status = 0 })
		waitFor(t, "the feed to be fetched", func() bool { _, err := v.Verify(context.Background(), tok); return err == nil })
	})
	t.Run("a bad first document", func(t *testing.T) {
		srv := newFeedServer(t, mustSignFeed(t, ES256, "es", "JWT", feedClaims(testNow, nil)))
		v := feedVerifier(t, srv, &fakeClock{t: testNow}, nil)
		_, err := v.Verify(context.Background(), tok)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("got %v", err)
		}
	})
}

// Close stops the poller: no request reaches autho afterwards. It is
// idempotent, safe alongside requests, and a no-op without a feed.
func TestVerifier_Close(t *testing.T) {
	srv := newFeedServer(t, mustSignFeed(t, ES256, "es", RevocationsType, feedClaims(testNow, nil)))
	v := feedVerifier(t, srv, &fakeClock{t: testNow}, nil)
	tok := jwtOf(t, "usr_1", "acc_1", "tok_1", testNow)
	srv.servedMore(t, 3)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := v.Verify(context.Background(), tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-v.feed.done:
	default:
		t.Fatal("Close returned while the poller runs")
	}
	// A request the poller sent just before may still be on its way in.
	n := srv.hits.Load() + 1
	for range 50 {
		time.Sleep(2 * time.Millisecond) // the poll period
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("after Close, the last copy is no longer used: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	if got := srv.hits.Load(); got > n {
		t.Fatalf("%d requests for the feed after Close (at most %d)", got, n)
	}
	if err := v.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	plain := mustVerifier(t, Config{Keys: standardKeys(mustKeys(t))})
	for range 2 { // twice: Close is idempotent
		if err := plain.Close(); err != nil {
			t.Fatalf("Close of a verifier without a feed: %v", err)
		}
	}
}

// Every wait is Every less at most 20 %, never more.
func TestFeed_wait(t *testing.T) {
	f := &feed{every: 5 * time.Second}
	lo, hi := f.every, time.Duration(0)
	for range 1000 {
		w := f.wait()
		lo, hi = min(lo, w), max(hi, w)
	}
	if lo < 4*time.Second || hi > 5*time.Second || hi-lo < 500*time.Millisecond {
		t.Fatalf("waits between %v and %v", lo, hi)
	}
}

// syncLog collects a verifier's JSON log lines.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

type logLine struct {
	Level, Msg, URL, Err string
	Failures             int
}

// warnings are the WARN lines so far.
func (l *syncLog) warnings(t *testing.T) []logLine {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logLine
	for _, s := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if s == "" {
			continue
		}
		var line logLine
		if err := json.Unmarshal([]byte(s), &line); err != nil {
			t.Fatal(err)
		}
		if line.Level == "WARN" {
			out = append(out, line)
		}
	}
	return out
}
