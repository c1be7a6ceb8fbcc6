package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho/internal/daemon"
	"github.com/autho/autho/internal/webhook/webhooktest"
)

// eventsEnv is what an events test's server runs with: endpoints on
// loopback allowed, retry waits shrunk, GitHub's keys served by the test.
func eventsEnv(keysURL string) map[string]string {
	return map[string]string{
		"AUTHO_WEBHOOK_ALLOW_PRIVATE":    "true",
		"AUTHO_DELIVERY_TIME_SCALE":      "0.001",
		"AUTHO_SECRET_SCANNING_KEYS_URL": keysURL,
	}
}

// startEventsServer is startServerOn with a sweep every 200 ms.
func startEventsServer(t *testing.T, b backend, env map[string]string) *testServer {
	t.Helper()
	fast := func(c *daemon.Config) { c.NoticeEvery = 200 * time.Millisecond }
	if b == backendSQLite {
		return startServerAt(t, t.TempDir()+"/autho.db", env, fast)
	}
	db, _ := pgTestSchema(t)
	full := map[string]string{"AUTHO_MASTER_KEY": pgTestMasterKey()}
	maps.Copy(full, env)
	return startServerAt(t, db, full, fast)
}

// githubKeys is a stand-in for GitHub's secret-scanning key document, with
// the key that signs the test's reports.
type githubKeys struct {
	key *ecdsa.PrivateKey
	id  string
	url string
}

func newGitHubKeys(t *testing.T) *githubKeys {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	g := &githubKeys{key: k, id: "test-key-1"}
	doc, _ := json.Marshal(map[string]any{"public_keys": []map[string]any{{
		"key_identifier": g.id, "key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "is_current": true,
	}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}))
	t.Cleanup(srv.Close)
	g.url = srv.URL
	return g
}

// report posts a signed secret-scanning alert of the tokens, as GitHub
// does.
func (g *githubKeys) report(ts *testServer, tokens ...string) *http.Response {
	ts.t.Helper()
	res, err := g.post(ts.url, tokens...)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { res.Body.Close() })
	return res
}

// post is report without the test: safe to call from several goroutines.
func (g *githubKeys) post(base string, tokens ...string) (*http.Response, error) {
	var alerts []map[string]string
	for _, tk := range tokens {
		alerts = append(alerts, map[string]string{"token": tk, "type": "autho_api_token", "url": "https://github.com/acme/app/blob/main/.env", "source": "content"})
	}
	body, _ := json.Marshal(alerts)
	sum := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, g.key, sum[:])
	if err != nil {
		return nil, err
	}
	req, _ := http.NewRequest("POST", base+"/v1/autho/secret-scanning", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Github-Public-Key-Identifier", g.id)
	req.Header.Set("Github-Public-Key-Signature", base64.StdEncoding.EncodeToString(sig))
	return client.Do(req)
}

// newWebhook makes an endpoint at the receiver through the CLI and gives
// the receiver its secret.
func newWebhook(ts *testServer, rc *webhooktest.Receiver, events ...string) string {
	ts.t.Helper()
	args := []string{"webhook", "create", "--url", rc.URL() + "/hook"}
	for _, e := range events {
		args = append(args, "--event", e)
	}
	var w map[string]any
	ts.mustCLI(&w, args...)
	sec := opStr(w, "secret")
	if !strings.HasPrefix(sec, "whsec_") {
		ts.t.Fatalf("webhook create gave secret %q", sec)
	}
	rc.SetSecret(ts.t, sec)
	return opStr(w, "id")
}

// TestEvents_EveryTypeOnce: one change of each kind, made through the CLI,
// the expiry sweep and the secret-scanning endpoint, reaches a real
// receiver as exactly one event of its type (deduplicated by webhook-id),
// every delivery signed as Standard Webhooks says, none holding a secret.
func TestEvents_EveryTypeOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		gh := newGitHubKeys(t)
		ts := startEventsServer(t, b, eventsEnv(gh.url))
		rc := webhooktest.NewReceiver(t, "")
		newWebhook(ts, rc)

		var acc, usr, tok map[string]any
		ts.mustCLI(&acc, "account", "create", "--name", "Acme")
		a := opStr(acc, "id")
		ts.mustCLI(&usr, "user", "create", "--account", a, "--email", "admin@acme.example", "--role", "admin")
		ts.mustCLI(&tok, "token", "create", "--email", "admin@acme.example", "--name", "ci")
		ts.mustCLI(nil, "account", "renew", a, "--expires", time.Now().AddDate(2, 0, 0).Format(time.RFC3339))
		ts.mustCLI(nil, "account", "suspend", a)
		ts.mustCLI(nil, "account", "reactivate", a)
		ts.mustCLI(nil, "account", "rotate-partner-token", a)
		ts.mustCLI(nil, "user", "deactivate", "--email", "admin@acme.example")
		ts.mustCLI(nil, "user", "activate", "--email", "admin@acme.example")
		ts.mustCLI(nil, "token", "revoke", opStr(tok, "id"))
		// The sweep's: an account a day from its end, one past it, a token
		// a day from its end, one past it.
		ts.mustCLI(nil, "account", "create", "--name", "Soon", "--expires", time.Now().Add(20*time.Hour).Format(time.RFC3339))
		var ended map[string]any
		ts.mustCLI(&ended, "account", "create", "--name", "Ended")
		ts.expireAccount(opStr(ended, "id"))
		ts.mustCLI(nil, "token", "create", "--email", "admin@acme.example", "--name", "soon", "--expires-in", "20h")
		var old map[string]any
		ts.mustCLI(&old, "token", "create", "--email", "admin@acme.example", "--name", "old")
		ts.expireToken(opStr(old, "id"))
		ts.mustCLI(nil, "keys", "rotate")
		var leaked map[string]any
		ts.mustCLI(&leaked, "token", "create", "--email", "admin@acme.example", "--name", "leaked")
		if res := gh.report(ts, opStr(leaked, "token")); res.StatusCode != 200 {
			t.Fatalf("secret-scanning report: %d", res.StatusCode)
		}

		secrets := []string{opStr(acc, "partner_token"), opStr(tok, "token"), opStr(old, "token"), opStr(leaked, "token"), opStr(ended, "partner_token"), "whsec_"}
		want := map[string]int{
			"account.created": 3, "account.renewed": 1, "account.suspended": 1, "account.reactivated": 1,
			"account.expiring": 1, "account.expired": 1, "partner_token.rotated": 1,
			"user.created": 1, "user.deactivated": 1, "user.activated": 1,
			"api_token.created": 4, "api_token.revoked": 2, "api_token.expiring": 1, "api_token.expired": 1,
			"api_token.leaked": 1, "signing_key.rotated": 1,
		}
		total := 0
		for _, n := range want {
			total += n
		}
		rc.WaitFor(t, total, 30*time.Second)
		// A few more sweeps and polls: nothing more may come.
		time.Sleep(time.Second)
		got := map[string]int{}
		for _, d := range rc.Unique() {
			got[d.Type]++
			// Hints ("autho_api_Ab3x…9fQk") are in the data; no secret is.
			for _, s := range secrets {
				if strings.Contains(string(d.Body), s) {
					t.Errorf("a %s delivery holds a secret: %s", d.Type, d.Body)
				}
			}
		}
		if !maps.Equal(got, want) {
			keys := slices.Sorted(maps.Keys(want))
			for _, k := range keys {
				if got[k] != want[k] {
					t.Errorf("%s: %d events, want %d", k, got[k], want[k])
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: %d events, want none", k, got[k])
				}
			}
		}
		if inv := rc.Invalid(); len(inv) > 0 {
			t.Errorf("%d deliveries did not verify: first %s", len(inv), inv[0].Problem)
		}
		if c := rc.Concurrent(); c > 1 {
			t.Errorf("one event was in flight %d times at once", c)
		}
	})
}
