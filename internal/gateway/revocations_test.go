package gateway

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/signer"
)

// withFeed turns the revocation feed on, polled every 10 ms, the copy good
// for maxAge.
func withFeed(is *issuer, maxAge time.Duration) func(*Config) {
	return func(c *Config) {
		c.Revocations, c.RevocationsURL = true, is.URL+"/v1/autho/revocations"
		c.RevocationsEvery, c.RevocationsMaxAge = 10*time.Millisecond, maxAge
	}
}

// TestGateway_Revocations: a JWT whose API token, user or account the feed
// revokes is refused with 401 16 soon after the feed changes, and never
// reaches the upstream; other JWTs pass. Without the feed it passes.
func TestGateway_Revocations(t *testing.T) {
	for _, alg := range []string{signer.ES256, signer.HS256} {
		t.Run(alg, func(t *testing.T) {
			is := newIssuerAlg(t, alg)
			up := newUpstream(t)
			keys := func(*Config) {}
			if alg == signer.HS256 {
				// The feed is verified with the secrets the tokens are.
				keys = func(c *Config) { c.JWKSURL, c.HS256Keys = "", exportedSecrets(t, is) }
			}
			g := startGatewayWith(t, is, up.URL, func(c *Config) { keys(c); withFeed(is, time.Minute)(c) })
			off := startGatewayWith(t, is, up.URL, keys)

			revokedToken := is.jwt(t, caller{user: "usr_1", account: "acc_1", token: "tok_revoked"})
			revokedUser := is.jwt(t, caller{user: "usr_off", account: "acc_1", token: "tok_2"})
			revokedAccount := is.jwt(t, caller{user: "usr_3", account: "acc_off", token: "tok_3"})
			other := is.jwt(t, caller{user: "usr_1", account: "acc_1", token: "tok_1"})
			all := []string{revokedToken, revokedUser, revokedAccount, other}
			for _, tok := range all {
				if r := get(t, g.URL()+"/echo", "Bearer "+tok); r.Status != 200 {
					t.Fatalf("before any revocation: %d %s", r.Status, r.Body)
				}
			}

			// Changes made a second after the JWTs were issued.
			changed := time.Now().Add(time.Second).Unix()
			is.revoke(
				bearer.Revocation{Kind: bearer.RevokedToken, ID: "tok_revoked", NotBefore: bearer.RevokedForever},
				bearer.Revocation{Kind: bearer.RevokedUser, ID: "usr_off", NotBefore: changed},
				bearer.Revocation{Kind: bearer.RevokedAccount, ID: "acc_off", NotBefore: changed},
			)
			waitUntil(t, 5*time.Second, "the gateway to refuse the revoked token", func() bool {
				return get(t, g.URL()+"/echo", "Bearer "+revokedToken).Status == 401
			})
			before := up.hits.Load()
			for _, tok := range all[:3] {
				wantError(t, get(t, g.URL()+"/echo", "Bearer "+tok), 401, "16")
			}
			if up.hits.Load() != before {
				t.Fatal("a revoked token reached the upstream")
			}
			if r := get(t, g.URL()+"/echo", "Bearer "+other); r.Status != 200 {
				t.Fatalf("a token the feed does not list: %d %s", r.Status, r.Body)
			}
			for _, tok := range all {
				if r := get(t, off.URL()+"/echo", "Bearer "+tok); r.Status != 200 {
					t.Fatalf("without the feed: %d %s", r.Status, r.Body)
				}
			}
			if !strings.Contains(is.log.String(), `"revocations":true`) || !strings.Contains(is.log.String(), `"revocations":false`) {
				t.Fatalf("the start lines do not say whether the feed is polled: %s", is.log)
			}
		})
	}
}

// TestGateway_RevocationsUnreachable: without the feed the gateway keeps
// its last copy until it is older than the max age, then answers 503 14;
// and one that never got a copy answers 503 14 from the start.
func TestGateway_RevocationsUnreachable(t *testing.T) {
	is := newIssuer(t)
	up := newUpstream(t)
	tok := is.jwt(t, caller{user: "usr_1", account: "acc_1", token: "tok_1"})

	t.Run("the feed goes away", func(t *testing.T) {
		g := startGatewayWith(t, is, up.URL, withFeed(is, 300*time.Millisecond))
		if r := get(t, g.URL()+"/echo", "Bearer "+tok); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		is.setFeedDown(true)
		defer is.setFeedDown(false)
		waitUntil(t, 5*time.Second, "the gateway to fail closed", func() bool {
			return get(t, g.URL()+"/echo", "Bearer "+tok).Status == 503
		})
		r := get(t, g.URL()+"/echo", "Bearer "+tok)
		wantError(t, r, 503, "14")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
		if !strings.Contains(is.log.String(), "could not update the revocation feed") {
			t.Fatal("no warning that the feed cannot be fetched")
		}
		is.setFeedDown(false)
		waitUntil(t, 5*time.Second, "the gateway to recover with the feed", func() bool {
			return get(t, g.URL()+"/echo", "Bearer "+tok).Status == 200
		})
	})
	t.Run("never reachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + ln.Addr().String() + "/v1/autho/revocations"
		ln.Close()
		g := startGatewayWith(t, is, up.URL, func(c *Config) {
			withFeed(is, 300*time.Millisecond)(c)
			c.RevocationsURL = dead
		})
		wantError(t, get(t, g.URL()+"/echo", "Bearer "+tok), 503, "14")
	})
}

// TestGateway_ClosesFeed: closing the gateway stops its polling.
func TestGateway_ClosesFeed(t *testing.T) {
	is := newIssuer(t)
	up := newUpstream(t)
	g := startGatewayWith(t, is, up.URL, withFeed(is, time.Minute))
	tok := is.jwt(t, caller{user: "usr_1", account: "acc_1", token: "tok_1"})
	if r := get(t, g.URL()+"/echo", "Bearer "+tok); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if err := g.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	// At most one request sent just before may still be on its way in.
	n := is.feedHits.Load() + 1
	time.Sleep(200 * time.Millisecond) // 20 poll periods
	if got := is.feedHits.Load(); got > n {
		t.Fatalf("%d requests for the feed after Close, at most %d", got, n)
	}
}

// exportedSecrets is the issuer's HS256 secrets as "autho keys
// export-hs256" writes them, loaded as the gateway does.
func exportedSecrets(t *testing.T, is *issuer) *bearer.SecretFile {
	t.Helper()
	file := filepath.Join(t.TempDir(), "hs256.jwks")
	if _, err := is.keys.ExportHS256(file, false); err != nil {
		t.Fatal(err)
	}
	keys, err := bearer.NewSecretFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestParseConfig_Revocations: the feed is autho's own, at the issuer; its
// max age must outlast a poll.
func TestParseConfig_Revocations(t *testing.T) {
	env := config.Source{Getenv: func(k string) string {
		return map[string]string{"AUTHO_ISSUER": "https://auth.example.com"}[k]
	}}
	base := Flags{Upstream: "http://127.0.0.1:9000", Listen: "127.0.0.1:0"}
	for _, tc := range []struct {
		name   string
		on     bool
		maxAge time.Duration
		want   *Config // only the feed's fields
		err    string
	}{
		{"on", true, 10 * time.Minute, &Config{Revocations: true, RevocationsURL: "https://auth.example.com/v1/autho/revocations", RevocationsMaxAge: 10 * time.Minute}, ""},
		{"off", false, 10 * time.Minute, &Config{}, ""},
		{"off ignores the max age", false, 0, &Config{}, ""},
		{"max age just over a poll", true, 5*time.Second + 1, &Config{Revocations: true, RevocationsURL: "https://auth.example.com/v1/autho/revocations", RevocationsMaxAge: 5*time.Second + 1}, ""},
		{"max age a poll", true, 5 * time.Second, nil, "--revocations-max-age: 5s must be longer than the feed's poll period, 5s"},
		{"max age zero", true, 0, nil, "--revocations-max-age: 0s must be longer"},
		{"max age negative", true, -time.Minute, nil, "--revocations-max-age: -1m0s must be longer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := base
			f.Revocations, f.RevocationsMaxAge = tc.on, tc.maxAge
			c, _, err := ParseConfig(f, env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := Config{Revocations: c.Revocations, RevocationsURL: c.RevocationsURL, RevocationsMaxAge: c.RevocationsMaxAge}
			if got != *tc.want {
				t.Fatalf("got %+v, want %+v", got, *tc.want)
			}
		})
	}
}
