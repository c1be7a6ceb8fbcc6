package gateway

import (
	"context"
	"encoding/base64"
	"github.com/autho/autho"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/signer"
)

// TestGateway_HS256Reread: with an HS256 secret file the gateway re-reads
// it every period by itself: a key the new file drops stops verifying, a
// bad file is reported and leaves the last good one in use.
func TestGateway_HS256Reread(t *testing.T) {
	is := newIssuerAlg(t, signer.HS256)
	c := caller{user: "usr_1", account: "acc_1", token: "tok_1"}
	old := is.jwt(t, c)
	if _, err := is.keys.Rotate(context.Background(), autho.OperatorCLI); err != nil {
		t.Fatal(err)
	}
	current := is.jwt(t, c)
	file := filepath.Join(t.TempDir(), "hs256.jwks")
	if _, err := is.keys.ExportHS256(file, false); err != nil {
		t.Fatal(err)
	}
	keys, err := bearer.NewSecretFile(file)
	if err != nil {
		t.Fatal(err)
	}
	up := newUpstream(t)
	u, _ := url.Parse(up.URL)
	cfg := &Config{Upstream: u, Listen: "127.0.0.1:0", Issuer: is.URL, Audience: "autho",
		HS256Keys: keys, HS256Reload: 10 * time.Millisecond}
	g, err := Start(context.Background(), cfg, slog.New(slog.NewJSONHandler(is.log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	status := func(token string) int { return get(t, g.URL()+"/echo", "Bearer "+token).Status }
	if status(old) != 200 || status(current) != 200 {
		t.Fatal("the exported file does not verify both keys' tokens")
	}

	// Once the old key's tokens have expired, the export leaves it out.
	cur, _ := is.keys.Current()
	secret, _ := is.keys.HS256Secret(cur.ID)
	replace(t, file, `{"keys":[{"kty":"oct","kid":"`+cur.ID+`","k":"`+base64.RawURLEncoding.EncodeToString(secret)+`"}]}`)
	waitUntil(t, 5*time.Second, "the gateway to re-read the file", func() bool { return status(old) == 401 })

	replace(t, file, "short")
	waitUntil(t, 5*time.Second, "the gateway to warn of the bad file", func() bool {
		return strings.Contains(is.log.String(), "keeping the secrets read before")
	})
	if status(current) != 200 {
		t.Fatal("after a bad file, the last good secrets are not in use")
	}
}

func replace(t *testing.T, file, content string) {
	t.Helper()
	if err := os.WriteFile(file+".new", []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".new", file); err != nil {
		t.Fatal(err)
	}
}
