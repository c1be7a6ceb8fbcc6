package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/password"
	"github.com/autho/autho/internal/secret"
)

// oneStderrLine checks that stderr is exactly one line and returns it.
func oneStderrLine(t *testing.T, stderr string) string {
	t.Helper()
	if !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("stderr %q, want exactly one line", stderr)
	}
	return strings.TrimSuffix(stderr, "\n")
}

// TestCLI_UserList lists an account's users, on both backends: --json as
// {"users": [...]} without any password, text one line a user.
func TestCLI_UserList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		var acc, other, empty map[string]any
		ts.mustCLI(&acc, "account", "create", "--name", "Listed")
		ts.mustCLI(&other, "account", "create", "--name", "Other")
		ts.mustCLI(&empty, "account", "create", "--name", "Empty")
		accID := opStr(acc, "id")
		for _, e := range []string{"ann@listed.example", "bob@listed.example"} {
			ts.mustCLI(nil, "user", "create", "--account", accID, "--email", e)
		}
		ts.mustCLI(nil, "user", "create", "--account", opStr(other, "id"), "--email", "carl@other.example")

		tests := []struct {
			account string
			want    []string // emails, in any order
		}{
			{accID, []string{"ann@listed.example", "bob@listed.example"}},
			{opStr(other, "id"), []string{"carl@other.example"}},
			{opStr(empty, "id"), nil},
		}
		for _, tt := range tests {
			var out struct {
				Users []map[string]any `json:"users"`
			}
			ts.mustCLI(&out, "user", "list", "--account", tt.account)
			if out.Users == nil {
				t.Fatalf("user list --account %s: users missing or null", tt.account)
			}
			var got []string
			for _, u := range out.Users {
				if _, ok := u["password"]; ok {
					t.Fatal("a list shows a password")
				}
				if _, ok := u["secret"]; ok {
					t.Fatal("a list shows a secret")
				}
				if opStr(u, "account_id") != tt.account || !strings.HasPrefix(opStr(u, "id"), "usr_") {
					t.Fatalf("user = %v", u)
				}
				got = append(got, opStr(u, "email"))
			}
			if strings.Join(slices.Sorted(slices.Values(got)), " ") != strings.Join(tt.want, " ") {
				t.Fatalf("users of %s = %v, want %v", tt.account, got, tt.want)
			}

			stdout, stderr, code := ts.cli("user", "list", "--account", tt.account)
			if code != 0 || stderr != "" {
				t.Fatalf("text: exit %d, stderr %q", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			if len(tt.want) == 0 {
				if stdout != "No users.\n" {
					t.Fatalf("text for no users: %q", stdout)
				}
				continue
			}
			if len(lines) != len(tt.want) {
				t.Fatalf("text %q, want one line a user", stdout)
			}
			for _, e := range tt.want {
				if !strings.Contains(stdout, e) {
					t.Fatalf("text %q lacks %s", stdout, e)
				}
			}
		}

		stdout, stderr, code := ts.cli("user", "list", "--account", "acc_nope")
		if code != 1 || stdout != "" {
			t.Fatalf("unknown account: exit %d, stdout %q", code, stdout)
		}
		if line := oneStderrLine(t, stderr); line != "autho: account acc_nope not found" {
			t.Fatalf("unknown account: %q", line)
		}
		if _, stderr, code := ts.cli("user", "list"); code != 2 || !strings.Contains(stderr, "user list needs --account") {
			t.Fatalf("no --account: exit %d, %q", code, stderr)
		}
	})
}

// TestCLI_ResetPassword gives a locked-out user a new password, on both
// backends: shown once, the old one stops, the user's portal sessions end,
// and the change is audited as the CLI's.
func TestCLI_ResetPassword(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		st := ts.store()
		svc := &admin.Service{Store: st, Now: time.Now}
		var acc, usr map[string]any
		ts.mustCLI(&acc, "account", "create", "--name", "Locked out")
		ts.mustCLI(&usr, "user", "create", "--account", opStr(acc, "id"), "--email", "sole@admin.example", "--role", "admin")
		old := opStr(usr, "password")
		session := func() string {
			u, err := st.UserByEmail(context.Background(), "sole@admin.example")
			if err != nil {
				t.Fatal(err)
			}
			id, err := svc.NewSession(context.Background(), u, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			return id
		}

		sess := session()
		var m map[string]any
		ts.mustCLI(&m, "user", "reset-password", "--email", "SOLE@admin.example")
		pw := opStr(m, "password")
		if err := password.Validate(pw); err != nil || pw == old {
			t.Fatalf("new password %q: %v", pw, err)
		}
		if opStr(m, "id") != opStr(usr, "id") || opStr(m, "email") != "sole@admin.example" || opStr(m, "secret") != pw {
			t.Fatalf("reset-password = %v", m)
		}
		u, err := st.UserByEmail(context.Background(), "sole@admin.example")
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := password.Verify(pw, u.PasswordHash); !ok {
			t.Fatal("the new password does not verify")
		}
		if ok, _, _ := password.Verify(old, u.PasswordHash); ok {
			t.Fatal("the old password still verifies")
		}
		if _, err := svc.Session(context.Background(), sess); err == nil {
			t.Fatal("a portal session outlived the reset")
		}
		es := auditLog(t, st)
		if e := es[0]; e.Action != autho.AuditUserPassword || e.ActorID != operatorCLI || e.TargetID != opStr(usr, "id") {
			t.Fatalf("last event %s by %s on %s, want %s by %s on the user", e.Action, e.ActorID, e.TargetID, autho.AuditUserPassword, operatorCLI)
		}

		sess = session()
		stdout, stderr, code := ts.cli("user", "reset-password", "--email", "sole@admin.example")
		if code != 0 || stderr != "" {
			t.Fatalf("text: exit %d, stderr %q", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		last := lines[len(lines)-1]
		if err := password.Validate(last); err != nil || !strings.Contains(stdout, "shown once") || !strings.Contains(stdout, "sessions") {
			t.Fatalf("text %q: want the password last, said to be shown once, and the sessions ended", stdout)
		}
		if _, err := svc.Session(context.Background(), sess); err == nil {
			t.Fatal("a portal session outlived the second reset")
		}

		stdout, stderr, code = ts.cli("user", "reset-password", "--email", "nobody@admin.example")
		if code != 1 || stdout != "" {
			t.Fatalf("unknown user: exit %d, stdout %q", code, stdout)
		}
		if line := oneStderrLine(t, stderr); line != "autho: user nobody@admin.example not found" {
			t.Fatalf("unknown user: %q", line)
		}
		if _, stderr, code := ts.cli("user", "reset-password"); code != 2 || !strings.Contains(stderr, "needs --email") {
			t.Fatalf("no --email: exit %d, %q", code, stderr)
		}
	})
}

// TestCLI_Version: "autho version" and "autho --version" say the same, from
// the build information; a go build of a git checkout names its commit.
func TestCLI_Version(t *testing.T) {
	db := filepath.Join(t.TempDir(), "never.db")
	var objs []map[string]any
	for _, args := range [][]string{{"version"}, {"--version"}} {
		m := mustOpJSON(t, db, nil, "", args...)
		if opStr(m, "go") != runtime.Version() || opStr(m, "version") == "" || opStr(m, "commit") == "" {
			t.Fatalf("autho %v = %v", args, m)
		}
		objs = append(objs, m)
		r := runOp(t, db, nil, "", args...)
		if r.code != 0 || r.stderr != "" || strings.Count(r.stdout, "\n") != 1 ||
			!strings.Contains(r.stdout, opStr(m, "version")) || !strings.Contains(r.stdout, runtime.Version()) {
			t.Fatalf("autho %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if a, _ := json.Marshal(objs[0]); string(a) != string(mustMarshal(t, objs[1])) {
		t.Fatalf("version %s, --version %s", a, mustMarshal(t, objs[1]))
	}

	// The built binary says what the Go tool recorded in it. (Whether a
	// commit is recorded depends on the build: -buildvcs, and a .git
	// directory rather than a worktree's .git file.)
	bin := authoBinary(t)
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	want := map[string]string{"version": "unknown", "commit": "unknown", "go": ""}
	dirty := false
	for _, line := range strings.Split(string(meta), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && strings.HasSuffix(f[0], ":"):
			want["go"] = f[1]
		case len(f) >= 3 && f[0] == "mod":
			want["version"] = f[2]
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			want["commit"] = strings.TrimPrefix(f[1], "vcs.revision=")
		case len(f) == 2 && f[0] == "build" && f[1] == "vcs.modified=true":
			dirty = true
		}
	}
	if dirty {
		want["commit"] += "-dirty"
	}
	for k, w := range want {
		if opStr(m, k) != w {
			t.Errorf("binary's %s = %q, go version -m says %q", k, opStr(m, k), w)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCLI_SecretKey: every --json answer that shows a secret has it under
// "secret" too, beside the contract's own name for it.
func TestCLI_SecretKey(t *testing.T) {
	db := newDB(t)
	acc := mustOpJSON(t, db, nil, "", "account", "create", "--name", "Acme")
	accID := opStr(acc, "id")
	if opStr(acc, "secret") != opStr(acc, "partner_token") || opStr(acc, "secret") == "" {
		t.Fatalf("account create: %v", acc)
	}
	tests := []struct {
		name, key string // key: the contract's name; "" when no secret is shown
		stdin     string
		args      []string
	}{
		{"rotate", "partner_token", "", []string{"account", "rotate-partner-token", accID}},
		{"user create, generated", "password", "", []string{"user", "create", "--account", accID, "--email", "ann@example.com"}},
		{"user create, from stdin", "", "a long enough pass phrase\n", []string{"user", "create", "--account", accID, "--email", "bob@example.com", "--password-stdin"}},
		{"reset-password", "password", "", []string{"user", "reset-password", "--email", "bob@example.com"}},
		{"token create", "token", "", []string{"token", "create", "--email", "ann@example.com", "--name", "ci"}},
		{"account show", "", "", []string{"account", "show", accID}},
		{"token list", "", "", []string{"token", "list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustOpJSON(t, db, nil, tt.stdin, tt.args...)
			if tt.key == "" {
				if _, ok := m["secret"]; ok {
					t.Fatalf("no secret shown, yet %v", m)
				}
				return
			}
			if s := opStr(m, "secret"); s == "" || s != opStr(m, tt.key) {
				t.Fatalf("secret %q, %s %q", s, tt.key, opStr(m, tt.key))
			}
		})
	}
}

// TestCLI_RotateGraceEnd: rotate-partner-token says until when the old
// partner token works: previous_valid_until is the end stored for it, or
// null when there is no grace and it stopped at once.
func TestCLI_RotateGraceEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		st := ts.store()
		var acc map[string]any
		ts.mustCLI(&acc, "account", "create", "--name", "Rotated")
		accID, old := opStr(acc, "id"), opStr(acc, "partner_token")

		var m map[string]any
		ts.mustCLI(&m, "account", "rotate-partner-token", accID, "--grace", "1d")
		until := opTime(t, m, "previous_valid_until")
		opNear(t, "previous_valid_until", until, time.Now().Add(24*time.Hour))
		cred, err := st.PartnerCredential(context.Background(), secret.Hash(old))
		if err != nil {
			t.Fatal(err)
		}
		if !cred.TokenExpiresAt.Equal(until) {
			t.Fatalf("previous_valid_until %v, stored end %v", until, cred.TokenExpiresAt)
		}

		ts.mustCLI(&m, "account", "rotate-partner-token", accID)
		if v, ok := m["previous_valid_until"]; !ok || v != nil {
			t.Fatalf("previous_valid_until = %v (present %v), want null without grace", v, ok)
		}

		stdout, _, code := ts.cli("account", "rotate-partner-token", accID, "--grace", "2h")
		if code != 0 || !strings.Contains(stdout, "keeps working until") {
			t.Fatalf("text: exit %d, %q", code, stdout)
		}
		stdout, _, code = ts.cli("account", "rotate-partner-token", accID)
		if code != 0 || !strings.Contains(stdout, "no longer works") {
			t.Fatalf("text: exit %d, %q", code, stdout)
		}
	})
}
