package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/gateway"
)

const revocationsPath = "/v1/autho/revocations"

// feedEntry is an entry of the feed as a client outside autho reads it.
type feedEntry struct {
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	NotBefore int64  `json:"not_before"`
}

// feed is a fetched feed, its signature checked with go-jose against the
// server's JWKS: never with autho's own code on both ends.
type feed struct {
	etag    string
	header  jose.Header
	Issuer  string      `json:"iss"`
	Iat     int64       `json:"iat"`
	Exp     int64       `json:"exp"`
	Revoked []feedEntry `json:"revoked"`
}

func (f *feed) has(kind, id string) (feedEntry, bool) {
	for _, e := range f.Revoked {
		if e.Kind == kind && e.ID == id {
			return e, true
		}
	}
	return feedEntry{}, false
}

// fetchFeed GETs the feed and verifies it as a stranger would.
func (ts *testServer) fetchFeed(t *testing.T) *feed {
	t.Helper()
	res, err := client.Get(ts.url + revocationsPath)
	if err != nil {
		t.Fatal(err)
	}
	body, err := readAll(res)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/jwt" ||
		res.Header.Get("Cache-Control") != "no-cache" || !strings.HasPrefix(res.Header.Get("ETag"), `"`) {
		t.Fatalf("GET %s: %d %v %s", revocationsPath, res.StatusCode, res.Header, body)
	}
	sig, err := jose.ParseSignedCompact(string(body), []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256})
	if err != nil {
		t.Fatalf("go-jose cannot parse the feed: %v", err)
	}
	jwksRes, err := client.Get(ts.url + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	jwksBody, _ := readAll(jwksRes)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwksBody, &set); err != nil {
		t.Fatal(err)
	}
	h := sig.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in the JWKS", h.KeyID, len(keys))
	}
	payload, err := sig.Verify(keys[0])
	if err != nil {
		t.Fatalf("go-jose: the feed does not verify with the JWKS: %v", err)
	}
	f := &feed{etag: res.Header.Get("ETag"), header: h}
	if err := json.Unmarshal(payload, f); err != nil {
		t.Fatal(err)
	}
	if h.ExtraHeaders["typ"] != "revocations+jwt" || f.Issuer != ts.env["AUTHO_ISSUER"] && f.Issuer != ts.url ||
		f.Exp != f.Iat+300 || f.Revoked == nil || time.Since(time.Unix(f.Iat, 0)) > 2*time.Minute {
		t.Fatalf("feed header %+v claims %+v", h, f)
	}
	return f
}

// TestRevocations_Feed: the document itself. It lists what the CLI just
// revoked, deactivated and suspended, each with its not_before, verifies
// with an independent JOSE library against the JWKS, and answers 304 to
// the ETag of the current document.
func TestRevocations_Feed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		p := ts.newPartner()
		q := ts.newPartner()
		first := ts.fetchFeed(t)
		if len(first.Revoked) != 0 {
			t.Fatalf("a new server's feed lists %v", first.Revoked)
		}

		before := time.Now().Unix()
		ts.mustCLI(nil, "token", "revoke", p.TokenID)
		ts.mustCLI(nil, "user", "deactivate", "--email", q.Email)
		ts.mustCLI(nil, "account", "suspend", q.AccountID)
		after := time.Now().Unix()
		var f *feed
		waitUntil(t, 5*time.Second, "the feed to list the three changes", func() bool {
			f = ts.fetchFeed(t)
			return len(f.Revoked) == 3
		})
		if e, _ := f.has("token", p.TokenID); e.NotBefore != bearer.RevokedForever {
			t.Fatalf("revoked token: %+v in %+v, want not_before far in the future", e, f.Revoked)
		}
		for _, w := range []struct{ kind, id string }{{"user", q.UserID}, {"account", q.AccountID}} {
			// The second of the change, plus one: a JWT's iat is rounded down.
			if e, ok := f.has(w.kind, w.id); !ok || e.NotBefore < before+1 || e.NotBefore > after+1 {
				t.Fatalf("%s %s: %+v, want not_before in [%d, %d]; feed %+v", w.kind, w.id, e, before+1, after+1, f.Revoked)
			}
		}
		if f.etag == first.etag {
			t.Fatal("the ETag did not change with the document")
		}

		// Reactivation keeps the entries: the JWTs issued before the
		// change stay refused.
		ts.mustCLI(nil, "user", "activate", "--email", q.Email)
		ts.mustCLI(nil, "account", "reactivate", q.AccountID)
		time.Sleep(time.Second)
		if g := ts.fetchFeed(t); len(g.Revoked) != 3 {
			t.Fatalf("after reactivation the feed lists %+v, want the same 3", g.Revoked)
		}

		req, _ := http.NewRequest("GET", ts.url+revocationsPath, nil)
		cur := ts.fetchFeed(t)
		req.Header.Set("If-None-Match", cur.etag)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := readAll(res)
		if res.StatusCode != http.StatusNotModified || len(body) != 0 || res.Header.Get("ETag") != cur.etag {
			t.Fatalf("If-None-Match of the current ETag: %d %q %v", res.StatusCode, body, res.Header)
		}
		// Compressed for a client that accepts it, with its own ETag;
		// the same document once decompressed.
		fetch := func(encoding, etag string) (*http.Response, []byte) {
			req, _ := http.NewRequest("GET", ts.url+revocationsPath, nil)
			req.Header.Set("Accept-Encoding", encoding) // set, so the transport does not decompress
			if etag != "" {
				req.Header.Set("If-None-Match", etag)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := readAll(res)
			return res, b
		}
		plainRes, plain := fetch("identity", "")
		gzRes, gz := fetch("gzip", "")
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("gzip answer: %v (Content-Encoding %q)", err, gzRes.Header.Get("Content-Encoding"))
		}
		unzipped, _ := io.ReadAll(zr)
		if plainRes.Header.Get("Content-Encoding") != "" || gzRes.Header.Get("Content-Encoding") != "gzip" ||
			string(unzipped) != string(plain) || len(gz) >= len(plain) ||
			gzRes.Header.Get("ETag") == plainRes.Header.Get("ETag") || gzRes.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("identity %v (%d bytes), gzip %v (%d bytes)", plainRes.Header, len(plain), gzRes.Header, len(gz))
		}
		for _, enc := range []string{"identity", "gzip"} {
			first, _ := fetch(enc, "")
			if res, b := fetch(enc, first.Header.Get("ETag")); res.StatusCode != 304 || len(b) != 0 {
				t.Fatalf("%s: If-None-Match of its ETag: %d", enc, res.StatusCode)
			}
		}
		wantError(t, ts.do("POST", revocationsPath, "", nil), 405, "10")
	})
}

// introspectCalls counts the introspection requests in autho's own log.
func (ts *testServer) routeCalls(route string) int {
	n := 0
	for _, line := range strings.Split(ts.log.String(), "\n") {
		var rec struct{ Msg, Route string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "request" && strings.HasPrefix(rec.Route, route) {
			n++
		}
	}
	return n
}

// TestRevocations_LocalVerifiers is the feed end to end: a service using
// the bearer package with Revocations (its defaults) and a plain
// `autho gateway` refuse, within 6 s and without a single introspection
// call, the JWTs of a revoked API token, a deactivated user and a suspended
// account; every other JWT keeps working; after reactivation a fresh
// login's JWT is accepted while the old one stays refused.
func TestRevocations_LocalVerifiers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, map[string]string{"AUTHO_INTROSPECTION_SECRET": testIntrospectionSecret})
		revoked := ts.newPartner()            // its token is revoked
		sibling := ts.newToken(revoked.Email) // the same user's other token keeps working
		deactivated := ts.newPartner()        // its user is deactivated
		suspended := ts.newPartner()          // its account is suspended
		control := ts.newPartner()            // nothing happens to it
		login := func(p partner, api string) string { return wantSuccess(t, ts.login(api, p.PartnerToken)) }
		jwts := map[string]string{
			"revoked":     login(revoked, revoked.APIToken),
			"sibling":     login(revoked, sibling.APIToken),
			"deactivated": login(deactivated, deactivated.APIToken),
			"suspended":   login(suspended, suspended.APIToken),
			"control":     login(control, control.APIToken),
		}

		cfg := jwksConfig(ts, ts.url+"/.well-known/jwks.json")
		cfg.Revocations = &bearer.RevocationsConfig{URL: ts.url + revocationsPath}
		svc := newProtected(t, cfg)
		t.Cleanup(func() { svc.v.Close() })
		up := newUpstream(t)
		g := startTestGateway(t, ts, up.URL, gateway.Flags{Revocations: true, RevocationsMaxAge: 10 * time.Minute}, nil)
		verifiers := map[string]string{"bearer": svc.URL + "/", "gateway": g.URL() + "/echo"}
		status := func(where, name string) int { return get(t, verifiers[where], "Bearer "+jwts[name]).Status }
		for where := range verifiers {
			for name := range jwts {
				if s := status(where, name); s != 200 {
					t.Fatalf("%s before any change: %s answered %d", where, name, s)
				}
			}
		}

		began := time.Now()
		ts.mustCLI(nil, "token", "revoke", revoked.TokenID)
		ts.mustCLI(nil, "user", "deactivate", "--email", deactivated.Email)
		ts.mustCLI(nil, "account", "suspend", suspended.AccountID)
		changed := time.Since(began)
		for where, u := range verifiers {
			for _, name := range []string{"revoked", "deactivated", "suspended"} {
				waitUntil(t, 6*time.Second-changed, where+" to refuse the "+name+" JWT", func() bool {
					return get(t, u, "Bearer "+jwts[name]).Status == 401
				})
			}
		}
		t.Logf("%s: all three refused by both verifiers %v after the first change", b, time.Since(began).Round(time.Millisecond))
		for where := range verifiers {
			for _, name := range []string{"revoked", "deactivated", "suspended"} {
				wantError(t, get(t, verifiers[where], "Bearer "+jwts[name]), 401, "16")
			}
			for _, name := range []string{"sibling", "control"} {
				if s := status(where, name); s != 200 {
					t.Fatalf("%s: the %s JWT, whose token, user and account are fine, answered %d", where, name, s)
				}
			}
		}

		ts.mustCLI(nil, "user", "activate", "--email", deactivated.Email)
		ts.mustCLI(nil, "account", "reactivate", suspended.AccountID)
		// A JWT of the second of the change is refused (its iat may
		// predate the change); one of the next second is not.
		time.Sleep(time.Second)
		jwts["deactivated again"] = login(deactivated, deactivated.APIToken)
		jwts["suspended again"] = login(suspended, suspended.APIToken)
		// The feed now changes no more; give both verifiers a poll.
		time.Sleep(6 * time.Second)
		for where := range verifiers {
			for _, name := range []string{"deactivated again", "suspended again", "sibling", "control"} {
				if s := status(where, name); s != 200 {
					t.Fatalf("%s after reactivation: the %s JWT answered %d", where, name, s)
				}
			}
			for _, name := range []string{"revoked", "deactivated", "suspended"} {
				wantError(t, get(t, verifiers[where], "Bearer "+jwts[name]), 401, "16")
			}
		}
		if n := ts.routeCalls("/v1/autho/token/introspect"); n != 0 {
			t.Fatalf("%d introspection calls reached autho, want none", n)
		}
		if n := ts.routeCalls(revocationsPath); n < 4 {
			t.Fatalf("%d feed requests in autho's log, want the two verifiers' polls", n)
		}
	})
}

// tamperer sits between verifiers and autho's feed: it passes the feed
// through until told to tamper, then serves it with one entry removed
// (its signature no longer matches) or with the signature's bytes changed.
type tamperer struct {
	*httptest.Server
	mode atomic.Value // "", "drop entry", "bad signature"
}

func newTamperer(t *testing.T, ts *testServer) *tamperer {
	t.Helper()
	target, _ := url.Parse(ts.url)
	tp := &tamperer{}
	tp.mode.Store("")
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Header.Del("If-None-Match") // always the whole document, to tamper with
	}, ModifyResponse: func(res *http.Response) error {
		mode := tp.mode.Load().(string)
		if res.Request.URL.Path != revocationsPath || mode == "" || res.StatusCode != 200 {
			return nil
		}
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		parts := strings.Split(string(b), ".")
		switch mode {
		case "drop entry":
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			var claims map[string]any
			json.Unmarshal(payload, &claims)
			claims["revoked"] = []any{}
			parts[1] = b64(mustJSONBytes(t, claims))
		case "bad signature":
			parts[2] = flipMiddle(parts[2])
		}
		out := strings.Join(parts, ".")
		sum := sha256.Sum256([]byte(out))
		res.Body = io.NopCloser(strings.NewReader(out))
		res.ContentLength = int64(len(out))
		res.Header.Set("Content-Length", strconv.Itoa(len(out)))
		res.Header.Set("ETag", `"t`+b64(sum[:9])+`"`)
		return nil
	}}
	tp.Server = httptest.NewServer(proxy)
	t.Cleanup(tp.Close)
	return tp
}

// TestRevocations_Outage: with autho stopped, verifiers keep the last feed
// (a token revoked before stays refused, others accepted) until its age
// passes the bound, then answer 503 14 with Retry-After; when autho is
// back they accept again. A feed whose signature fails is ignored and
// logged, never trusted: the entry it dropped stays in force.
func TestRevocations_Outage(t *testing.T) {
	ts, sw := startBehindSwitch(t)
	good := ts.newPartner()
	bad := ts.newPartner()
	goodJWT := wantSuccess(t, ts.login(good.APIToken, good.PartnerToken))
	badJWT := wantSuccess(t, ts.login(bad.APIToken, bad.PartnerToken))
	ts.mustCLI(nil, "token", "revoke", bad.TokenID)
	waitUntil(t, 5*time.Second, "the feed to list the revoked token", func() bool {
		_, ok := ts.fetchFeed(t).has("token", bad.TokenID)
		return ok
	})

	// The bearer verifier polls every 200 ms with a bound of 3 s; the
	// gateway polls every 5 s, so its bound must be longer.
	log := &syncBuffer{}
	cfg := bearer.Config{
		Issuer: sw.URL(), Audience: "autho",
		Keys:        bearer.NewJWKS(ts.url+"/.well-known/jwks.json", bearer.JWKSOptions{}),
		Revocations: &bearer.RevocationsConfig{URL: sw.URL() + revocationsPath, Every: 200 * time.Millisecond, MaxAge: 3 * time.Second},
		Logger:      slog.New(slog.NewJSONHandler(log, nil)),
	}
	svc := newProtected(t, cfg)
	t.Cleanup(func() { svc.v.Close() })
	up := newUpstream(t)
	g := startTestGateway(t, ts, up.URL, gateway.Flags{Revocations: true, RevocationsMaxAge: 7 * time.Second}, map[string]string{"AUTHO_ISSUER": sw.URL()})
	verifiers := []struct {
		url    string
		maxAge time.Duration
	}{{svc.URL + "/", 3 * time.Second}, {g.URL() + "/echo", 7 * time.Second}}
	for _, v := range verifiers {
		if r := get(t, v.url, "Bearer "+goodJWT); r.Status != 200 {
			t.Fatalf("%s before the outage: %d %s", v.url, r.Status, r.Body)
		}
		wantError(t, get(t, v.url, "Bearer "+badJWT), 401, "16")
	}

	sw.down()
	down := time.Now()
	for _, v := range verifiers {
		if r := get(t, v.url, "Bearer "+goodJWT); r.Status != 200 && time.Since(down) < v.maxAge {
			t.Fatalf("%s just after autho stopped: %d %s, want the last copy used", v.url, r.Status, r.Body)
		}
		if r := get(t, v.url, "Bearer "+badJWT); r.Status != 401 {
			t.Fatalf("%s: the revoked JWT answered %d while autho is down", v.url, r.Status)
		}
	}
	for _, v := range verifiers {
		waitUntil(t, v.maxAge+10*time.Second, v.url+" to fail closed", func() bool {
			return get(t, v.url, "Bearer "+goodJWT).Status == 503
		})
		// The copy was last confirmed before autho stopped, at most one
		// poll before: failing closed earlier than that would be wrong.
		if took := time.Since(down); took < v.maxAge-5*time.Second {
			t.Fatalf("%s failed closed %v after autho stopped, before its bound of %v", v.url, took, v.maxAge)
		}
		wantUnavailable(t, bearerBurst(v.url, goodJWT, 5))
	}
	if !strings.Contains(log.String(), `"level":"WARN"`) || !strings.Contains(log.String(), "revocation") {
		t.Fatalf("no warning that the feed cannot be fetched:\n%s", log.String())
	}

	sw.up()
	for _, v := range verifiers {
		waitUntil(t, 10*time.Second, v.url+" to accept again once autho is back", func() bool {
			return get(t, v.url, "Bearer "+goodJWT).Status == 200
		})
		wantError(t, get(t, v.url, "Bearer "+badJWT), 401, "16")
	}
}

// TestRevocations_TamperedFeed: a feed that fails verification is ignored
// and logged: the copy the verifier had stays in force, so the entry the
// tampered feed dropped still refuses its JWT.
func TestRevocations_TamperedFeed(t *testing.T) {
	ts := startServer(t, nil)
	good := ts.newPartner()
	bad := ts.newPartner()
	goodJWT := wantSuccess(t, ts.login(good.APIToken, good.PartnerToken))
	badJWT := wantSuccess(t, ts.login(bad.APIToken, bad.PartnerToken))
	ts.mustCLI(nil, "token", "revoke", bad.TokenID)
	waitUntil(t, 5*time.Second, "the feed to list the revoked token", func() bool {
		_, ok := ts.fetchFeed(t).has("token", bad.TokenID)
		return ok
	})
	tp := newTamperer(t, ts)
	for _, mode := range []string{"drop entry", "bad signature"} {
		t.Run(mode, func(t *testing.T) {
			log := &syncBuffer{}
			cfg := jwksConfig(ts, ts.url+"/.well-known/jwks.json")
			cfg.Revocations = &bearer.RevocationsConfig{URL: tp.URL + revocationsPath, Every: 100 * time.Millisecond}
			cfg.Logger = slog.New(slog.NewJSONHandler(log, nil))
			tp.mode.Store("")
			svc := newProtected(t, cfg)
			defer svc.v.Close()
			wantError(t, get(t, svc.URL+"/", "Bearer "+badJWT), 401, "16")

			tp.mode.Store(mode)
			waitUntil(t, 5*time.Second, "a warning that the feed was ignored", func() bool {
				return strings.Contains(log.String(), `"level":"WARN"`)
			})
			wantError(t, get(t, svc.URL+"/", "Bearer "+badJWT), 401, "16")
			if r := get(t, svc.URL+"/", "Bearer "+goodJWT); r.Status != 200 {
				t.Fatalf("good JWT: %d", r.Status)
			}
			if lines := strings.Count(log.String(), "\n"); lines > 2 {
				t.Fatalf("%d log lines in under a second of tampered polls, want one per 10 s:\n%s", lines, log.String())
			}
			if !slices.ContainsFunc(strings.Split(log.String(), "\n"), func(l string) bool {
				return strings.Contains(l, "WARN") && !strings.Contains(l, badJWT) && !strings.Contains(l, goodJWT)
			}) {
				t.Fatalf("log:\n%s", log.String())
			}
		})
	}
}
