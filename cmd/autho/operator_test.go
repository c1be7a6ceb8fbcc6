package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho/internal/password"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/sqlite"
)

// opResult is one in-process run of the operator CLI.
type opResult struct {
	code           int
	stdout, stderr string
}

// runOp runs autho with --db db, the given environment and stdin.
func runOp(t *testing.T, db string, env map[string]string, stdin string, args ...string) opResult {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := run(t.Context(), append([]string{"--db", db}, args...), strings.NewReader(stdin), &out, &errb, getenv)
	return opResult{code, out.String(), errb.String()}
}

// mustOpJSON runs a command with --json, expects success and exactly one
// JSON object on stdout, and decodes it.
func mustOpJSON(t *testing.T, db string, env map[string]string, stdin string, args ...string) map[string]any {
	t.Helper()
	r := runOp(t, db, env, stdin, append(args, "--json")...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("autho %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return opDecodeOne(t, r.stdout)
}

// opDecodeOne decodes s as exactly one JSON object and nothing else.
func opDecodeOne(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout %q is not a JSON object: %v", s, err)
	}
	if dec.More() || strings.TrimSpace(s[dec.InputOffset():]) != "" {
		t.Fatalf("stdout %q holds more than one JSON object", s)
	}
	return m
}

func opStr(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func opTime(t *testing.T, m map[string]any, k string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, opStr(m, k))
	if err != nil {
		t.Fatalf("%s = %v: not RFC 3339: %v", k, m[k], err)
	}
	return tm
}

func opNear(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want); d < -time.Minute || d > time.Minute {
		t.Fatalf("%s = %v, want about %v", what, got, want)
	}
}

// TestOperator_HappyPaths walks an account through its life with --json,
// checking each command's output.
func TestOperator_HappyPaths(t *testing.T) {
	db := filepath.Join(t.TempDir(), "autho.db")
	vars := map[string]string{}
	expand := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			for k, v := range vars {
				a = strings.ReplaceAll(a, "{"+k+"}", v)
			}
			out[i] = a
		}
		return out
	}
	now := time.Now()
	steps := []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
		check func(t *testing.T, m map[string]any)
	}{
		{"migrate", nil, "", []string{"migrate"}, func(t *testing.T, m map[string]any) {
			if m["migrated"] != true {
				t.Fatalf("migrate = %v", m)
			}
		}},
		{"account create", nil, "", []string{"account", "create", "--name", "Acme GmbH", "--expires", "2030-06-30"}, func(t *testing.T, m map[string]any) {
			pt := opStr(m, "partner_token")
			if err := secret.Check(secret.PartnerToken, pt); err != nil {
				t.Fatalf("partner_token %q: %v", pt, err)
			}
			if !strings.HasPrefix(opStr(m, "id"), "acc_") || opStr(m, "name") != "Acme GmbH" || opStr(m, "status") != "active" ||
				opStr(m, "expires_at") != "2030-06-30T23:59:59Z" || opStr(m, "partner_token_hint") != secret.Hint(pt) {
				t.Fatalf("account = %v", m)
			}
			opNear(t, "created_at", opTime(t, m, "created_at"), now)
			vars["acc"], vars["ptn"] = opStr(m, "id"), pt
		}},
		{"account create, default expiry", nil, "", []string{"account", "create", "--name", "Beta"}, func(t *testing.T, m map[string]any) {
			opNear(t, "expires_at", opTime(t, m, "expires_at"), now.AddDate(0, 0, 365))
			vars["acc2"] = opStr(m, "id")
		}},
		{"account list", nil, "", []string{"account", "list"}, func(t *testing.T, m map[string]any) {
			as, _ := m["accounts"].([]any)
			if len(as) != 2 {
				t.Fatalf("accounts = %v", m)
			}
			for _, a := range as {
				if _, ok := a.(map[string]any)["partner_token"]; ok {
					t.Fatal("a list shows a partner token")
				}
			}
		}},
		{"account show", nil, "", []string{"account", "show", "{acc}"}, func(t *testing.T, m map[string]any) {
			if opStr(m, "id") != vars["acc"] || opStr(m, "name") != "Acme GmbH" || m["partner_token"] != nil {
				t.Fatalf("account = %v", m)
			}
		}},
		{"account renew, RFC 3339", nil, "", []string{"account", "renew", "{acc}", "--expires", "2031-01-02T03:04:05+02:00"}, func(t *testing.T, m map[string]any) {
			if opStr(m, "expires_at") != "2031-01-02T01:04:05Z" {
				t.Fatalf("expires_at = %v", m["expires_at"])
			}
		}},
		{"account renew, date in AUTHO_TIMEZONE", map[string]string{"AUTHO_TIMEZONE": "America/New_York"}, "",
			[]string{"account", "renew", "{acc}", "--expires", "2031-07-04"}, func(t *testing.T, m map[string]any) {
				if opStr(m, "expires_at") != "2031-07-05T03:59:59Z" {
					t.Fatalf("expires_at = %v, want the end of July 4th in New York", m["expires_at"])
				}
			}},
		{"account suspend", nil, "", []string{"account", "suspend", "{acc}"}, func(t *testing.T, m map[string]any) {
			if opStr(m, "status") != "suspended" {
				t.Fatalf("status = %v", m["status"])
			}
		}},
		{"account reactivate", nil, "", []string{"account", "reactivate", "{acc}"}, func(t *testing.T, m map[string]any) {
			if opStr(m, "status") != "active" {
				t.Fatalf("status = %v", m["status"])
			}
		}},
		{"account rotate-partner-token", nil, "", []string{"account", "rotate-partner-token", "{acc}", "--grace", "1d"}, func(t *testing.T, m map[string]any) {
			pt := opStr(m, "partner_token")
			if err := secret.Check(secret.PartnerToken, pt); err != nil || pt == vars["ptn"] {
				t.Fatalf("partner_token %q: %v", pt, err)
			}
			if opStr(m, "id") != vars["acc"] || opStr(m, "partner_token_hint") != secret.Hint(pt) {
				t.Fatalf("account = %v", m)
			}
		}},
		{"user create, generated password", nil, "", []string{"user", "create", "--account", "{acc}", "--email", "Ann@Example.com", "--role", "admin"}, func(t *testing.T, m map[string]any) {
			if !strings.HasPrefix(opStr(m, "id"), "usr_") || opStr(m, "email") != "Ann@Example.com" || opStr(m, "role") != "admin" ||
				m["active"] != true || opStr(m, "account_id") != vars["acc"] {
				t.Fatalf("user = %v", m)
			}
			if err := password.Validate(opStr(m, "password")); err != nil {
				t.Fatalf("password: %v", err)
			}
			vars["ann"] = opStr(m, "id")
		}},
		{"user create, password on stdin", nil, "a long enough pass phrase\n", []string{"user", "create", "--account", "{acc}", "--email", "bob@example.com", "--password-stdin"}, func(t *testing.T, m map[string]any) {
			if _, ok := m["password"]; ok || opStr(m, "role") != "member" {
				t.Fatalf("user = %v", m)
			}
		}},
		{"user deactivate", nil, "", []string{"user", "deactivate", "--email", "ann@example.com"}, func(t *testing.T, m map[string]any) {
			if m["active"] != false || opStr(m, "id") != vars["ann"] {
				t.Fatalf("user = %v", m)
			}
		}},
		{"user activate", nil, "", []string{"user", "activate", "--email", "ANN@EXAMPLE.COM"}, func(t *testing.T, m map[string]any) {
			if m["active"] != true {
				t.Fatalf("user = %v", m)
			}
		}},
		{"token create", nil, "", []string{"token", "create", "--email", "ann@example.com", "--name", "billing", "--scope", "orders:read", "--scope", "orders:write"}, func(t *testing.T, m map[string]any) {
			tok := opStr(m, "token")
			if err := secret.Check(secret.APIToken, tok); err != nil {
				t.Fatalf("token %q: %v", tok, err)
			}
			if !strings.HasPrefix(opStr(m, "id"), "tok_") || opStr(m, "name") != "billing" || opStr(m, "hint") != secret.Hint(tok) ||
				opStr(m, "account_id") != vars["acc"] || opStr(m, "user_id") != vars["ann"] || opStr(m, "status") != "active" {
				t.Fatalf("token = %v", m)
			}
			if scopes, _ := m["scopes"].([]any); len(scopes) != 2 || scopes[0] != "orders:read" || scopes[1] != "orders:write" {
				t.Fatalf("scopes = %v", m["scopes"])
			}
			if v, ok := m["last_used_at"]; !ok || v != nil {
				t.Fatalf("last_used_at = %v, want null", v)
			}
			if v, ok := m["revoked_at"]; !ok || v != nil {
				t.Fatalf("revoked_at = %v, want null", v)
			}
			opNear(t, "expires_at", opTime(t, m, "expires_at"), now.Add(90*24*time.Hour))
			vars["tok"] = opStr(m, "id")
		}},
		{"token create, days and hours", nil, "", []string{"token", "create", "--email", "bob@example.com", "--name", "b", "--expires-in", "1d12h"}, func(t *testing.T, m map[string]any) {
			opNear(t, "expires_at", opTime(t, m, "expires_at"), now.Add(36*time.Hour))
			if scopes, ok := m["scopes"].([]any); !ok || len(scopes) != 0 {
				t.Fatalf("scopes = %v, want []", m["scopes"])
			}
		}},
		{"token create, date", nil, "", []string{"token", "create", "--email", "bob@example.com", "--name", "c", "--expires", "2030-01-01"}, func(t *testing.T, m map[string]any) {
			if opStr(m, "expires_at") != "2030-01-01T23:59:59Z" {
				t.Fatalf("expires_at = %v", m["expires_at"])
			}
		}},
		{"token list", nil, "", []string{"token", "list"}, func(t *testing.T, m map[string]any) {
			ts, _ := m["tokens"].([]any)
			if len(ts) != 3 {
				t.Fatalf("tokens = %v", m)
			}
			for _, tk := range ts {
				if _, ok := tk.(map[string]any)["token"]; ok {
					t.Fatal("a list shows a token")
				}
			}
		}},
		{"token list by account", nil, "", []string{"token", "list", "--account", "{acc2}"}, func(t *testing.T, m map[string]any) {
			if ts, ok := m["tokens"].([]any); !ok || len(ts) != 0 {
				t.Fatalf("tokens = %v, want []", m["tokens"])
			}
		}},
		{"token list by user", nil, "", []string{"token", "list", "--email", "ann@example.com"}, func(t *testing.T, m map[string]any) {
			if ts, _ := m["tokens"].([]any); len(ts) != 1 {
				t.Fatalf("tokens = %v", m)
			}
		}},
		{"token revoke", nil, "", []string{"token", "revoke", "{tok}"}, func(t *testing.T, m map[string]any) {
			if m["revoked_at"] == nil || opStr(m, "status") != "revoked" {
				t.Fatalf("token = %v", m)
			}
			vars["revoked_at"] = opStr(m, "revoked_at")
		}},
		{"token revoke again", nil, "", []string{"token", "revoke", "{tok}"}, func(t *testing.T, m map[string]any) {
			if opStr(m, "revoked_at") != vars["revoked_at"] {
				t.Fatalf("revoked_at changed: %v", m["revoked_at"])
			}
		}},
		{"account suspend again", nil, "", []string{"account", "suspend", "{acc}"}, nil},
		{"operator creates beyond the cap for a suspended account", map[string]string{"AUTHO_MAX_TOKEN_TTL": "24h"}, "",
			[]string{"token", "create", "--email", "bob@example.com", "--name", "long", "--expires-in", "3000d"}, func(t *testing.T, m map[string]any) {
				opNear(t, "expires_at", opTime(t, m, "expires_at"), now.Add(3000*24*time.Hour))
			}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			m := mustOpJSON(t, db, s.env, s.stdin, expand(s.args)...)
			if s.check != nil {
				s.check(t, m)
			}
		})
		if t.Failed() {
			return
		}
	}

	// The password read from stdin is the one stored (hashed).
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByEmail(t.Context(), "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := password.Verify("a long enough pass phrase", u.PasswordHash); !ok || err != nil {
		t.Fatalf("the password from stdin does not verify: %v", err)
	}
}

// Without --json, output is for people, and a new secret comes with a line
// saying it is shown once.
func TestOperator_HumanOutput(t *testing.T) {
	db := newDB(t)
	acc := opStr(mustOpJSON(t, db, nil, "", "account", "create", "--name", "Acme"), "id")
	mustOpJSON(t, db, nil, "", "user", "create", "--account", acc, "--email", "ann@example.com")
	tests := []struct {
		name   string
		args   []string
		kind   secret.Kind // "" when no token is shown
		secret string      // a line prefix announcing a secret, or ""
	}{
		{"account create", []string{"account", "create", "--name", "Beta"}, secret.PartnerToken, "Partner token (shown once"},
		{"rotate", []string{"account", "rotate-partner-token", acc}, secret.PartnerToken, "New partner token (shown once"},
		{"user create", []string{"user", "create", "--account", acc, "--email", "bob@example.com"}, "", "Password (shown once"},
		{"token create", []string{"token", "create", "--email", "ann@example.com", "--name", "ci"}, secret.APIToken, "API token (shown once"},
		{"account list", []string{"account", "list"}, "", ""},
		{"token list", []string{"token", "list"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runOp(t, db, nil, "", tt.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if strings.HasPrefix(strings.TrimSpace(r.stdout), "{") {
				t.Fatalf("human output is JSON: %q", r.stdout)
			}
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if tt.secret == "" {
				if strings.Contains(r.stdout, "shown once") {
					t.Fatalf("no secret, yet: %q", r.stdout)
				}
				return
			}
			if len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-2], tt.secret) {
				t.Fatalf("output %q lacks %q", r.stdout, tt.secret)
			}
			last := lines[len(lines)-1]
			if tt.kind != "" {
				if err := secret.Check(tt.kind, last); err != nil {
					t.Fatalf("secret line %q: %v", last, err)
				}
			} else if err := password.Validate(last); err != nil {
				t.Fatalf("password line: %v", err)
			}
		})
	}
}

// opState is what the operator can see of a database, to prove a mistake
// changed nothing.
func opState(t *testing.T, db string) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{{"account", "list"}, {"token", "list"}} {
		r := runOp(t, db, nil, "", append(args, "--json")...)
		if r.code != 0 {
			t.Fatalf("%v: %s", args, r.stderr)
		}
		b.WriteString(r.stdout)
	}
	// Users have no list command; read them from the store.
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	as, err := st.Accounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		us, err := st.Users(t.Context(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			b.WriteString(strings.Join([]string{u.ID, u.Email, string(u.Role), u.PasswordHash, u.UpdatedAt.String()}, " "))
			if u.Active {
				b.WriteString(" active")
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// When a mistake is caught: after the database was opened (caughtLate),
// before it (caughtEarly), or as a usage mistake in the command line, before
// it and with exit code 2 (caughtUsage).
const (
	caughtLate = iota
	caughtEarly
	caughtUsage
)

// TestOperator_Mistakes: each mistake is one line on stderr, a non-zero
// exit, on stdout with --json only the one object {"error": <that line's
// message>}, and an unchanged database.
func TestOperator_Mistakes(t *testing.T) {
	db := newDB(t)
	acc := mustOpJSON(t, db, nil, "", "account", "create", "--name", "Acme")
	accID, ptn := opStr(acc, "id"), opStr(acc, "partner_token")
	mustOpJSON(t, db, nil, "", "user", "create", "--account", accID, "--email", "ann@example.com")
	tok := mustOpJSON(t, db, nil, "", "token", "create", "--email", "ann@example.com", "--name", "ci")
	tokID, apiTok := opStr(tok, "id"), opStr(tok, "token")
	before := opState(t, db)

	const shortPW = "tooshort1"
	tests := []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
		msg   string // part of the one stderr line
		when  int    // caughtLate, caughtEarly or caughtUsage
	}{
		{"account create without --name", nil, "", []string{"account", "create"}, "account create needs --name", caughtUsage},
		{"account create, empty name", nil, "", []string{"account", "create", "--name", " "}, "name must not be empty", caughtLate},
		{"account create, past date", nil, "", []string{"account", "create", "--name", "X", "--expires", "2020-01-01"}, "expiry must be in the future", caughtLate},
		{"account create, bad date", nil, "", []string{"account", "create", "--name", "X", "--expires", "2027-13-01"}, `--expires: "2027-13-01" is not a time`, caughtUsage},
		{"account create, words", nil, "", []string{"account", "create", "--name", "X", "--expires", "next year"}, "is not a time", caughtUsage},
		{"account create, bad zone", map[string]string{"AUTHO_TIMEZONE": "Mars/Base"}, "", []string{"account", "create", "--name", "X", "--expires", "2030-01-01"}, "AUTHO_TIMEZONE", caughtEarly},
		{"account create, stray argument", nil, "", []string{"account", "create", "--name", "X", "extra"}, "takes no arguments", caughtUsage},
		{"account show, unknown", nil, "", []string{"account", "show", "acc_nope"}, "account acc_nope not found", caughtLate},
		{"account show, no id", nil, "", []string{"account", "show"}, "account show needs ACCOUNT_ID", caughtUsage},
		{"account show, two ids", nil, "", []string{"account", "show", "acc_a", "acc_b"}, "account show needs ACCOUNT_ID", caughtUsage},
		{"account renew without --expires", nil, "", []string{"account", "renew", accID}, "needs --expires", caughtUsage},
		{"account renew, unknown", nil, "", []string{"account", "renew", "acc_nope", "--expires", "2030-01-01"}, "account acc_nope not found", caughtLate},
		{"account renew, past", nil, "", []string{"account", "renew", accID, "--expires", "2001-01-01T00:00:00Z"}, "expiry must be in the future", caughtLate},
		{"account suspend, unknown", nil, "", []string{"account", "suspend", "acc_nope"}, "account acc_nope not found", caughtLate},
		{"account reactivate, user id", nil, "", []string{"account", "reactivate", "usr_x"}, "account usr_x not found", caughtLate},
		{"rotate, negative grace", nil, "", []string{"account", "rotate-partner-token", accID, "--grace", "-1h"}, "--grace: must not be negative", caughtUsage},
		{"rotate, bad grace", nil, "", []string{"account", "rotate-partner-token", accID, "--grace", "1week"}, `--grace: "1week" is not a duration`, caughtUsage},
		{"rotate, unknown", nil, "", []string{"account", "rotate-partner-token", "acc_nope"}, "account acc_nope not found", caughtLate},
		{"unknown subcommand", nil, "", []string{"account", "delete", accID}, `unknown command "delete"`, caughtUsage},
		{"unknown flag", nil, "", []string{"account", "list", "--all"}, "unknown flag", caughtUsage},
		{"user create without --account", nil, "", []string{"user", "create", "--email", "x@example.com"}, "needs --account", caughtUsage},
		{"user create without flags", nil, "", []string{"user", "create"}, "needs --account and --email", caughtUsage},
		{"user create, duplicate email", nil, "", []string{"user", "create", "--account", accID, "--email", "Ann@Example.COM"}, "email already in use: Ann@Example.COM", caughtLate},
		{"user create, unknown account", nil, "", []string{"user", "create", "--account", "acc_nope", "--email", "new@example.com"}, "account acc_nope not found", caughtLate},
		{"user create, bad role", nil, "", []string{"user", "create", "--account", accID, "--email", "new@example.com", "--role", "owner"}, `role must be "admin" or "member"`, caughtLate},
		{"user create, bad email", nil, "", []string{"user", "create", "--account", accID, "--email", "not an email"}, "invalid email address", caughtLate},
		{"user create, short password", nil, shortPW + "\n", []string{"user", "create", "--account", accID, "--email", "new@example.com", "--password-stdin"}, "password must be at least 12 characters", caughtLate},
		{"user create, empty stdin", nil, "", []string{"user", "create", "--account", accID, "--email", "new@example.com", "--password-stdin"}, "holds no password", caughtEarly},
		{"user deactivate without --email", nil, "", []string{"user", "deactivate"}, "needs --email", caughtUsage},
		{"user deactivate, unknown", nil, "", []string{"user", "deactivate", "--email", "nobody@example.com"}, "user nobody@example.com not found", caughtLate},
		{"user activate, unknown", nil, "", []string{"user", "activate", "--email", "nobody@example.com"}, "user nobody@example.com not found", caughtLate},
		{"token create without --name", nil, "", []string{"token", "create", "--email", "ann@example.com"}, "needs --name", caughtUsage},
		{"token create, unknown user", nil, "", []string{"token", "create", "--email", "nobody@example.com", "--name", "x"}, "user nobody@example.com not found", caughtLate},
		{"token create, zero lifetime", nil, "", []string{"token", "create", "--email", "ann@example.com", "--name", "x", "--expires-in", "0s"}, "--expires-in: must be positive", caughtUsage},
		{"token create, no unit", nil, "", []string{"token", "create", "--email", "ann@example.com", "--name", "x", "--expires-in", "90"}, "is not a duration", caughtUsage},
		{"token create, fractional days", nil, "", []string{"token", "create", "--email", "ann@example.com", "--name", "x", "--expires-in", "1.5d"}, "is not a duration", caughtUsage},
		{"token create, both expiries", nil, "", []string{"token", "create", "--email", "ann@example.com", "--name", "x", "--expires-in", "1d", "--expires", "2030-01-01"}, "not both", caughtUsage},
		{"token create, past date", nil, "", []string{"token", "create", "--email", "ann@example.com", "--name", "x", "--expires", "2020-01-01"}, "expiry must be in the future", caughtLate},
		{"token create, bad scope", nil, "", []string{"token", "create", "--email", "ann@example.com", "--name", "x", "--scope", "a b"}, `invalid scope "a b"`, caughtLate},
		{"token list, unknown account", nil, "", []string{"token", "list", "--account", "acc_nope"}, "account acc_nope not found", caughtLate},
		{"token revoke, unknown", nil, "", []string{"token", "revoke", "tok_nope"}, "token tok_nope not found", caughtLate},
		{"token revoke, no id", nil, "", []string{"token", "revoke"}, "token revoke needs TOKEN_ID", caughtUsage},
		{"token revoke, the secret instead of the id", nil, "", []string{"token", "revoke", apiTok}, "not found", caughtLate},
		{"PostgreSQL unreachable", nil, "", []string{"--db", "postgres://autho:hunter2secret@127.0.0.1:1/autho?connect_timeout=2", "account", "list"}, "database unavailable", caughtLate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := db
			if tt.when != caughtLate {
				// A mistake found early must not even open (and so create) the
				// database.
				target = filepath.Join(t.TempDir(), "never.db")
			}
			r := runOp(t, target, tt.env, tt.stdin, append(tt.args, "--json")...)
			if r.code == 0 {
				t.Fatalf("exit 0, stdout %q", r.stdout)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "autho: ") || !strings.HasSuffix(r.stderr, "\n") {
				t.Fatalf("stderr %q, want one line starting autho: ", r.stderr)
			}
			if m := opDecodeOne(t, r.stdout); len(m) != 1 || opStr(m, "error") != strings.TrimPrefix(lines[0], "autho: ") {
				t.Fatalf("stdout %q, want only {\"error\": %q}", r.stdout, strings.TrimPrefix(lines[0], "autho: "))
			}
			if !strings.Contains(lines[0], tt.msg) {
				t.Fatalf("stderr %q, want it to contain %q", lines[0], tt.msg)
			}
			for _, s := range []string{ptn, apiTok, shortPW, "hunter2secret"} {
				if strings.Contains(r.stderr, s) || strings.Contains(r.stdout, s) {
					t.Fatalf("stderr %q repeats a secret", r.stderr)
				}
			}
			if tt.when == caughtUsage && r.code != 2 {
				t.Fatalf("exit %d, want 2 for a caughtUsage mistake", r.code)
			}
			if tt.when != caughtLate {
				if _, err := os.Stat(target); err == nil {
					t.Fatal("a mistake found before the database is needed created it")
				}
			}
			if after := opState(t, db); after != before {
				t.Fatalf("database changed:\n%s\nwas:\n%s", after, before)
			}
		})
	}

	// The token named in mistakes is still there and unrevoked.
	ts := mustOpJSON(t, db, nil, "", "token", "list")
	list, _ := ts["tokens"].([]any)
	if len(list) != 1 || opStr(list[0].(map[string]any), "id") != tokID || list[0].(map[string]any)["revoked_at"] != nil {
		t.Fatalf("tokens = %v", ts)
	}
}

func TestReadLine(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"newline", "pass phrase here\n", "pass phrase here", true},
		{"CRLF", "pass phrase here\r\n", "pass phrase here", true},
		{"no newline", "pass phrase here", "pass phrase here", true},
		{"only the first line", "first line pw\nsecond\n", "first line pw", true},
		{"spaces kept", "  padded  \n", "  padded  ", true},
		{"empty", "", "", false},
		{"blank line", "\n", "", false},
		{"too long", strings.Repeat("x", maxPasswordLine+10), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readLine(strings.NewReader(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("readLine = %q, %v; want %q, ok %v", got, err, tt.want, tt.ok)
			}
		})
	}
}
