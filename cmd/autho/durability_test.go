package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSecrets_NotAtRest reads the raw bytes of every SQLite file (the WAL
// and shared-memory files included) and finds no secret in them.
func TestSecrets_NotAtRest(t *testing.T) {
	ts := startServer(t, nil)
	var secrets []string
	for i := 0; i < 3; i++ {
		p := ts.newPartner()
		wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
		var rot map[string]any
		ts.mustCLI(&rot, "account", "rotate-partner-token", p.AccountID, "--grace", "1h")
		secrets = append(secrets, p.APIToken, p.PartnerToken, rot["partner_token"].(string))
	}
	files, _ := filepath.Glob(ts.db + "*")
	var checked int
	for _, f := range files {
		if strings.HasSuffix(f, ".masterkey") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checked += len(b)
		for _, s := range secrets {
			// The random middle is what must never be stored; the
			// prefix and the hint's characters are not secret.
			if bytes.Contains(b, []byte(s[14:42])) {
				t.Fatalf("%s holds a secret in plaintext", filepath.Base(f))
			}
		}
	}
	if len(files) < 2 || checked == 0 {
		t.Fatalf("expected the database and its WAL, found %v", files)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// autho builds the real binary once, for tests that need a process to kill.
func authoBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "autho-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "autho")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

// runAndKill starts the binary, reads stdout until a whole JSON object has
// arrived, SIGKILLs the process at once, and returns the object.
func runAndKill(t *testing.T, db string, args ...string) map[string]any {
	t.Helper()
	cmd := exec.Command(authoBinary(t), append([]string{"--db", db, "--json"}, args...)...)
	cmd.Env = append(os.Environ(), "AUTHO_DATABASE=", "AUTHO_MASTER_KEY=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	decErr := json.NewDecoder(bufio.NewReader(out)).Decode(&v)
	cmd.Process.Signal(syscall.SIGKILL) // may already have exited: that is fine
	cmd.Wait()
	if decErr != nil {
		t.Fatalf("autho %v: %v (stderr %s)", args, decErr, stderr.String())
	}
	return v
}

// TestSecrets_SurviveKill9 kills the CLI the moment it has printed a secret,
// then logs in with it: what was shown had been committed.
func TestSecrets_SurviveKill9(t *testing.T) {
	db := filepath.Join(t.TempDir(), "autho.db")
	run := func(args ...string) {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"--db", db}, args...), strings.NewReader(""), &out, &errb, func(string) string { return "" }); code != 0 {
			t.Fatalf("%v: %s", args, errb.String())
		}
	}
	run("migrate")
	for i := 0; i < 3; i++ {
		acc := runAndKill(t, db, "account", "create", "--name", "Killed")
		run("user", "create", "--account", acc["id"].(string), "--email", "k"+string(rune('a'+i))+"@example.com")
		tok := runAndKill(t, db, "token", "create", "--email", "k"+string(rune('a'+i))+"@example.com", "--name", "k")
		rot := runAndKill(t, db, "account", "rotate-partner-token", acc["id"].(string))

		ts := startServerAt(t, db, nil)
		wantSuccess(t, ts.login(tok["token"].(string), rot["partner_token"].(string)))
		wantError(t, ts.login(tok["token"].(string), acc["partner_token"].(string)), 401, "02")
		ts.d.Close(context.Background())
	}
}

// TestCLI_ChangesApplyToNextLogin changes state with the CLI while the server
// runs; the very next login is refused, with no cache in between.
// It runs on each backend.
func TestCLI_ChangesApplyToNextLogin(t *testing.T) {
	forEachBackend(t, testCLIChangesApplyToNextLogin)
}

func testCLIChangesApplyToNextLogin(t *testing.T, b backend) {
	ts := startServerOn(t, b, nil)
	tests := []struct {
		name   string
		change func(p partner)
		status int
		code   string
		undo   func(p partner)
	}{
		{"revoke", func(p partner) { ts.mustCLI(nil, "token", "revoke", p.TokenID) }, 401, "04", nil},
		{"suspend", func(p partner) { ts.mustCLI(nil, "account", "suspend", p.AccountID) }, 403, "07",
			func(p partner) { ts.mustCLI(nil, "account", "reactivate", p.AccountID) }},
		{"deactivate user", func(p partner) { ts.mustCLI(nil, "user", "deactivate", "--email", p.Email) }, 403, "07",
			func(p partner) { ts.mustCLI(nil, "user", "activate", "--email", p.Email) }},
		{"rotate partner token", func(p partner) { ts.mustCLI(nil, "account", "rotate-partner-token", p.AccountID) }, 401, "02", nil},
		{"account expiry", func(p partner) {
			at := time.Now().Add(1500 * time.Millisecond).UTC()
			ts.mustCLI(nil, "account", "renew", p.AccountID, "--expires", at.Format(time.RFC3339Nano))
			// Wait for the new expiry to pass (bounded: 3 s at most).
			for i := 0; i < 30 && time.Now().Before(at); i++ {
				time.Sleep(100 * time.Millisecond)
			}
		}, 403, "03", func(p partner) {
			ts.mustCLI(nil, "account", "renew", p.AccountID, "--expires", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ts.newPartner()
			wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
			tt.change(p)
			wantError(t, ts.login(p.APIToken, p.PartnerToken), tt.status, tt.code)
			if tt.undo != nil {
				tt.undo(p)
				wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
			}
		})
	}
}

// TestServeDemo runs "serve --demo" as a newcomer would and follows the
// printed curl line.
func TestServeDemo(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "autho.db")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw, _ := os.Pipe()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--db", db}, strings.NewReader(""), pw, &stderr, func(string) string { return "" })
		pw.Close()
	}()
	curlRE := regexp.MustCompile(`curl -s -X POST (\S+) -H 'Content-Type: application/json' -d '(\{.*\})'`)
	sc := bufio.NewScanner(pr)
	var printed []string
	var m []string
	for sc.Scan() {
		printed = append(printed, sc.Text())
		if m = curlRE.FindStringSubmatch(sc.Text()); m != nil {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if m == nil {
		cancel()
		t.Fatalf("no curl line in:\n%s\n%s", strings.Join(printed, "\n"), stderr.String())
	}
	out := strings.Join(printed, "\n")
	for _, want := range []string{"/portal/", "demo@example.com", "password", "partner_token  autho_ptn_", "api_token      autho_api_"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	curl, err := exec.LookPath("curl")
	var body []byte
	if err == nil {
		body, err = exec.Command(curl, "-s", "-X", "POST", m[1], "-H", "Content-Type: application/json", "-d", m[2]).Output()
	} else {
		t.Log("curl not installed; following the line with net/http")
		res, herr := client.Post(m[1], "application/json", strings.NewReader(m[2]))
		if herr == nil {
			body, err = readAll(res)
		} else {
			err = herr
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	json.Unmarshal(body, &env)
	if env["result"] != "00" {
		t.Fatalf("the printed curl line answered %s", body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), "draining") {
		t.Fatalf("no drain log line: %s", stderr.String())
	}
}
