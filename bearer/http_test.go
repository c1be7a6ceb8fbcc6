package bearer

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
)

const (
	want15 = `{"data":{"message":"Authentication credentials were not provided."},"meta":{},"result":"15","status":"ERROR"}`
	want16 = `{"data":{"message":"Invalid or expired token"},"meta":{},"result":"16","status":"ERROR"}`
	want17 = `{"data":{"message":"Insufficient scope"},"meta":{},"result":"17","status":"ERROR"}`
)

// echoIdentity is a protected handler that writes back who called.
var echoIdentity = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, ok := FromContext(r.Context())
	if !ok {
		http.Error(w, "no identity", http.StatusInternalServerError)
		return
	}
	io.WriteString(w, id.UserID+" "+id.AccountID+" "+id.TokenID+" "+strings.Join(id.Scopes, ","))
})

func serve(h http.Handler, auth ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/thing", nil)
	for _, a := range auth {
		r.Header.Add("Authorization", a)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestVerifier_Middleware(t *testing.T) {
	k := mustKeys(t)
	var logged []error
	v := mustVerifier(t, Config{Keys: standardKeys(k), OnError: func(_ *http.Request, err error) { logged = append(logged, err) }})
	h := v.Middleware(echoIdentity)
	good := mustSign(t, ES256, "es", goodClaims())
	expired := mustSign(t, ES256, "es", with(map[string]any{"exp": testNow.Add(-time.Hour).Unix()}))

	tests := []struct {
		name      string
		auth      []string
		status    int
		body      string
		challenge string
		kind      error
	}{
		{"ok", []string{"Bearer " + good}, 200, "usr_1 acc_1 tok_1 orders:read,orders:write", "", nil},
		{"scheme in lower case", []string{"bearer " + good}, 200, "usr_1 acc_1 tok_1 orders:read,orders:write", "", nil},
		{"extra spaces", []string{"Bearer   " + good + " "}, 200, "usr_1 acc_1 tok_1 orders:read,orders:write", "", nil},
		{"no header", nil, 401, want15, `Bearer realm="autho"`, ErrNoCredentials},
		{"empty header", []string{""}, 401, want15, `Bearer realm="autho"`, ErrNoCredentials},
		{"Basic scheme", []string{"Basic dXNlcjpwYXNz"}, 401, want15, `Bearer realm="autho"`, ErrNoCredentials},
		{"Bearer without token", []string{"Bearer"}, 401, want16, `Bearer realm="autho", error="invalid_token"`, ErrInvalidToken},
		{"garbage", []string{"Bearer garbage"}, 401, want16, `Bearer realm="autho", error="invalid_token"`, ErrInvalidToken},
		{"expired", []string{"Bearer " + expired}, 401, want16, `Bearer realm="autho", error="invalid_token"`, ErrInvalidToken},
		{"two Authorization headers", []string{"Bearer " + good, "Bearer " + good}, 401, want16, `Bearer realm="autho", error="invalid_token"`, ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logged = nil
			w := serve(h, tt.auth...)
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, tt.status, tt.body)
			}
			if tt.status == 200 {
				if len(logged) != 0 {
					t.Errorf("OnError called on success: %v", logged)
				}
				return
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if got := w.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if len(logged) != 1 || !errors.Is(logged[0], tt.kind) {
				t.Errorf("OnError got %v, want one %v", logged, tt.kind)
			}
		})
	}
}

// The contract's bodies are fixed strings here; this pins the answers, as
// written through the envelope, to them byte for byte.
func TestEnvelopeBodies(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(http.ResponseWriter)
		want  string
	}{
		{"15", func(w http.ResponseWriter) { WriteError(w, ErrNoCredentials) }, want15},
		{"16", func(w http.ResponseWriter) { WriteError(w, ErrInvalidToken) }, want16},
		{"17", func(w http.ResponseWriter) { writeRefusal(w, autho.ErrInsufficientScope) }, want17},
	} {
		w := httptest.NewRecorder()
		tc.write(w)
		if w.Body.String() != tc.want {
			t.Fatalf("%s: envelope body drifted from the contract: %s", tc.name, w.Body)
		}
	}
}

// A request whose Authorization header is 1 MiB of dots must cost no more
// than looking at its length.
func TestVerifier_Middleware_hugeHeader(t *testing.T) {
	v := mustVerifier(t, Config{Keys: standardKeys(mustKeys(t))})
	h := v.Middleware(echoIdentity)
	dots := strings.Repeat(".", 1<<20)

	start := time.Now()
	w := serve(h, "Bearer "+dots)
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("took %v", took)
	}
	if w.Code != 401 || w.Body.String() != want16 {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := v.Verify(context.Background(), dots); err == nil {
			t.Fatal("accepted")
		}
	})
	if allocs > 0 {
		t.Errorf("refusing 1 MiB of dots allocated %v times per run, want 0", allocs)
	}
}

// A real listener, to show the refusal holds end to end and that the body
// never echoes the token.
func TestVerifier_Middleware_overHTTP(t *testing.T) {
	v := mustVerifier(t, Config{Keys: standardKeys(mustKeys(t))})
	srv := httptest.NewServer(v.Middleware(echoIdentity))
	defer srv.Close()
	tampered := mustSign(t, ES256, "es", goodClaims()) + "x"

	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Authorization", "Bearer "+tampered)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 401 || string(body) != want16 {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	for name, vals := range resp.Header {
		if strings.Contains(strings.Join(vals, " "), tampered[:20]) {
			t.Errorf("header %s echoes the token", name)
		}
	}
}

func TestRequireScope(t *testing.T) {
	v := mustVerifier(t, Config{Keys: standardKeys(mustKeys(t))})
	h := v.Middleware(RequireScope("orders:write", echoIdentity))

	t.Run("granted", func(t *testing.T) {
		w := serve(h, "Bearer "+mustSign(t, ES256, "es", goodClaims()))
		if w.Code != 200 {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
	})
	t.Run("not granted", func(t *testing.T) {
		w := serve(h, "Bearer "+mustSign(t, ES256, "es", with(map[string]any{"scope": "orders:read"})))
		if w.Code != 403 || w.Body.String() != want17 {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
		if got, want := w.Header().Get("WWW-Authenticate"), `Bearer realm="autho", error="insufficient_scope", scope="orders:write"`; got != want {
			t.Errorf("WWW-Authenticate = %q, want %q", got, want)
		}
	})
	t.Run("no scopes at all", func(t *testing.T) {
		w := serve(h, "Bearer "+mustSign(t, ES256, "es", with(map[string]any{"scope": nil})))
		if w.Code != 403 {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
	})
	t.Run("outside Middleware", func(t *testing.T) {
		w := serve(RequireScope("orders:write", echoIdentity), "Bearer whatever")
		if w.Code != 401 || w.Body.String() != want15 {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
	})
	t.Run("identity from NewContext", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r = r.WithContext(NewContext(r.Context(), &Identity{UserID: "usr_t", Scopes: []string{"orders:write"}}))
		w := httptest.NewRecorder()
		RequireScope("orders:write", echoIdentity).ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
	})
	for _, bad := range []string{"", "a b", `a"b`, "a\\b", "é"} {
		t.Run("panics on scope "+bad, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			RequireScope(bad, echoIdentity)
		})
	}
}

func TestNew_config(t *testing.T) {
	// Nothing listens there: a verifier that starts polling it fails fast.
	const feedURL = "http://127.0.0.1:1/v1/autho/revocations"
	k := mustKeys(t)
	keys := standardKeys(k)
	ok := func(c Config) Config {
		if c.Issuer == "" {
			c.Issuer = testIssuer
		}
		if c.Audience == "" {
			c.Audience = testAudience
		}
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", ok(Config{Keys: keys}), true},
		{"no issuer", Config{Audience: "a", Keys: keys}, false},
		{"no audience", Config{Issuer: "i", Keys: keys}, false},
		{"no keys", ok(Config{}), false},
		{"alg none", ok(Config{Keys: keys, Algorithms: []string{"none"}}), false},
		{"unknown alg", ok(Config{Keys: keys, Algorithms: []string{"PS256"}}), false},
		{"leeway 60s", ok(Config{Keys: keys, Leeway: 60 * time.Second}), true},
		{"leeway 61s", ok(Config{Keys: keys, Leeway: 61 * time.Second}), false},
		{"negative leeway", ok(Config{Keys: keys, Leeway: -time.Second}), false},
		{"MaxTokenBytes too big", ok(Config{Keys: keys, MaxTokenBytes: 1 << 20}), false},
		{"StaticSecret without HS256 listed", ok(Config{Keys: StaticSecret(k.secret)}), false},
		{"StaticSecret too short", ok(Config{Keys: StaticSecret([]byte("short")), Algorithms: []string{HS256}}), false},
		{"StaticSecret", ok(Config{Keys: StaticSecret(k.secret), Algorithms: []string{HS256}}), true},
		{"introspection without secret", ok(Config{Keys: keys, Introspection: &IntrospectionConfig{URL: "https://a.test/x"}}), false},
		{"introspection relative URL", ok(Config{Keys: keys, Introspection: &IntrospectionConfig{URL: "/x", Secret: "s"}}), false},
		{"introspection", ok(Config{Keys: keys, Introspection: &IntrospectionConfig{URL: "https://a.test/x", Secret: "s"}}), true},
		{"revocations", ok(Config{Keys: keys, Revocations: &RevocationsConfig{URL: feedURL}}), true},
		{"revocations without URL", ok(Config{Keys: keys, Revocations: &RevocationsConfig{}}), false},
		{"revocations relative URL", ok(Config{Keys: keys, Revocations: &RevocationsConfig{URL: "/v1/autho/revocations"}}), false},
		{"revocations ftp URL", ok(Config{Keys: keys, Revocations: &RevocationsConfig{URL: "ftp://a.test/x"}}), false},
		{"revocations negative Every", ok(Config{Keys: keys, Revocations: &RevocationsConfig{URL: feedURL, Every: -time.Second}}), false},
		{"revocations negative MaxAge", ok(Config{Keys: keys, Revocations: &RevocationsConfig{URL: feedURL, MaxAge: -time.Second}}), false},
		{"revocations MaxAge not above Every", ok(Config{Keys: keys, Revocations: &RevocationsConfig{URL: feedURL, Every: time.Minute, MaxAge: time.Minute}}), false},
		{"revocations MaxAge under the default Every", ok(Config{Keys: keys, Revocations: &RevocationsConfig{URL: feedURL, MaxAge: time.Second}}), false},
		{"revocations small", ok(Config{Keys: keys, Revocations: &RevocationsConfig{URL: feedURL, Every: time.Millisecond, MaxAge: 2 * time.Millisecond}}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New: err = %v, want ok = %v", err, tt.ok)
			}
			if v != nil {
				v.Close()
			} else if !strings.HasPrefix(err.Error(), "bearer: ") {
				t.Fatalf("error %q does not say it is the bearer package's", err)
			}
		})
	}
}

// The leeway is the configured one, not golang-jwt's default of none.
func TestVerifier_Verify_leeway(t *testing.T) {
	k := mustKeys(t)
	v := mustVerifier(t, Config{Keys: standardKeys(k), Leeway: 5 * time.Second})
	tok := mustSign(t, ES256, "es", with(map[string]any{"exp": testNow.Add(-10 * time.Second).Unix()}))
	id, err := v.Verify(context.Background(), tok)
	wantRefused(t, id, err, "expired")
}
