package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho/bearer"
)

// hs256SecretOf reads the secret of kid from a file of keys export-hs256.
func hs256SecretOf(t *testing.T, file, kid string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct{ Kty, Kid, Alg, K string }
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("%s is not a JWK set: %v", file, err)
	}
	for _, k := range set.Keys {
		if k.Kid == kid && k.Kty == "oct" && k.Alg == "HS256" {
			secret, err := base64.RawURLEncoding.DecodeString(k.K)
			if err != nil {
				t.Fatal(err)
			}
			return secret
		}
	}
	t.Fatalf("%s holds no HS256 key %s", file, kid)
	return nil
}

// startGatewayCommand runs `autho gateway` with args as the binary's main
// does, until the test ends, and returns its address and its log.
func startGatewayCommand(t *testing.T, env map[string]string, args ...string) (addr string, log *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log = &syncBuffer{}
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, append([]string{"gateway", "--listen", "127.0.0.1:0"}, args...),
			strings.NewReader(""), io.Discard, log, func(k string) string { return env[k] })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Error("the gateway did not exit")
		}
	})
	waitUntil(t, 10*time.Second, "the gateway to listen", func() bool {
		for _, line := range strings.Split(log.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "autho gateway listening" {
				addr = rec.Addr
				return true
			}
		}
		select {
		case code := <-exited:
			t.Fatalf("the gateway exited %d: %s", code, log)
		default:
		}
		return false
	})
	return addr, log
}

// kidOf is the key id in a JWT's header.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// TestGateway_HS256Rotation: an HS256 deployment rotates twice under a
// running gateway, each time with `keys rotate` then `keys export-hs256
// --force`, and no valid token is refused at any moment, old or new,
// without restarting the gateway.
func TestGateway_HS256Rotation(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_JWT_ALG": "HS256"})
	p := ts.newPartner()
	file := ts.exportHS256()
	up := newUpstream(t)
	addr, _ := startGatewayCommand(t, map[string]string{"AUTHO_ISSUER": ts.url},
		"--upstream", up.URL, "--hs256-secret-file", file)
	// A service of its own that imports bearer, on the same file.
	keys, err := bearer.NewSecretFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go keys.Run(ctx, 0, func(err error) { t.Errorf("re-reading the secret file: %v", err) })
	service := newProtected(t, bearer.Config{Issuer: ts.url, Audience: "autho", Keys: keys, Algorithms: []string{bearer.HS256}})

	var tokens []string
	accepted := func(token string) {
		t.Helper()
		if r := get(t, "http://"+addr+"/echo", "Bearer "+token); r.Status != 200 {
			t.Fatalf("gateway refused a valid token (kid %s): %d %s", kidOf(t, token), r.Status, r.Body)
		}
		if r := get(t, service.URL+"/", "Bearer "+token); r.Status != 200 {
			t.Fatalf("bearer verifier refused a valid token (kid %s): %d %s", kidOf(t, token), r.Status, r.Body)
		}
	}
	// mint logs in and checks every token so far, the new one included.
	mint := func() string {
		t.Helper()
		tok := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
		tokens = append(tokens, tok)
		for _, tok := range tokens {
			accepted(tok)
		}
		return tok
	}
	mint()
	for round := 1; round <= 2; round++ {
		var rot struct{ ID string }
		ts.mustCLI(&rot, "keys", "rotate")
		ts.mustCLI(nil, "keys", "export-hs256", "--force", "--out", file)
		waitUntil(t, 10*time.Second, "the server to sign with the new key", func() bool {
			return kidOf(t, mint()) == rot.ID
		})
	}
}

// writeReplacing replaces file with content in one step, as export-hs256
// does.
func writeReplacing(t *testing.T, file, content string) {
	t.Helper()
	if err := os.WriteFile(file+".new", []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".new", file); err != nil {
		t.Fatal(err)
	}
}
