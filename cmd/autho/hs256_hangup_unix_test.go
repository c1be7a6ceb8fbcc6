//go:build unix

package main

import (
	"encoding/base64"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGateway_HS256ReloadOnHangup: SIGHUP makes the gateway re-read its
// secret file at once, so a key the new file drops stops verifying; a file
// that does not load is reported and the last good one stays in use.
func TestGateway_HS256ReloadOnHangup(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_JWT_ALG": "HS256"})
	p := ts.newPartner()
	old := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	file := ts.exportHS256()
	var rot struct{ ID string }
	ts.mustCLI(&rot, "keys", "rotate")
	var current string
	waitUntil(t, 10*time.Second, "the server to sign with the new key", func() bool {
		current = wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
		return kidOf(t, current) == rot.ID
	})
	ts.mustCLI(nil, "keys", "export-hs256", "--force", "--out", file)
	up := newUpstream(t)
	addr, log := startGatewayCommand(t, map[string]string{"AUTHO_ISSUER": ts.url},
		"--upstream", up.URL, "--hs256-secret-file", file)
	status := func(token string) int { return get(t, "http://"+addr+"/echo", "Bearer "+token).Status }
	if status(old) != 200 || status(current) != 200 {
		t.Fatal("the exported file does not verify both keys' tokens")
	}

	// A file without the old key: as if its tokens had all expired.
	only := `{"keys":[{"kty":"oct","kid":"` + rot.ID + `","alg":"HS256","k":"` +
		base64.RawURLEncoding.EncodeToString(hs256SecretOf(t, file, rot.ID)) + `"}]}`
	writeReplacing(t, file, only)
	if status(old) != 200 {
		t.Fatal("the gateway re-read the file before SIGHUP")
	}
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitUntil(t, 5*time.Second, "SIGHUP to drop the old key", func() bool { return status(old) == 401 })
	if status(current) != 200 {
		t.Fatal("the current key's token is refused after SIGHUP")
	}

	writeReplacing(t, file, "not a secret file")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitUntil(t, 5*time.Second, "the gateway to warn of the bad file", func() bool {
		return strings.Contains(log.String(), "keeping the secrets read before")
	})
	if status(current) != 200 {
		t.Fatal("after a bad file, the last good secrets are not in use")
	}
}
