package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_Warnings: a likely mistake that is still a valid request is
// done, with one warning line on stderr; stdout is as without it.
func TestCLI_Warnings(t *testing.T) {
	db := newDB(t)
	acc := mustOpJSON(t, db, nil, "", "account", "create", "--name", "Acme")
	mustOpJSON(t, db, nil, "", "user", "create", "--account", opStr(acc, "id"), "--email", "ann@example.com")
	tests := []struct {
		name string
		args []string
		warn string // part of the warning; "" for none
	}{
		{"token for 30 minutes", []string{"token", "create", "--email", "ann@example.com", "--name", "a", "--expires-in", "30m"}, "expires in 30m0s, under an hour"},
		{"token for 59 minutes", []string{"token", "create", "--email", "ann@example.com", "--name", "b", "--expires-in", "59m"}, "did you mean 59d"},
		{"token for an hour", []string{"token", "create", "--email", "ann@example.com", "--name", "c", "--expires-in", "1h"}, ""},
		{"token for 90 days", []string{"token", "create", "--email", "ann@example.com", "--name", "d", "--expires-in", "90d"}, ""},
		{"account of the same name", []string{"account", "create", "--name", "Acme"}, "account " + opStr(acc, "id") + " is also named"},
		{"account of the same name in other case", []string{"account", "create", "--name", " ACME "}, opStr(acc, "id")},
		{"account of another name", []string{"account", "create", "--name", "Acme Two"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, json := range []bool{true, false} {
				args := tt.args
				if json {
					args = append(append([]string(nil), args...), "--json")
				}
				if tt.args[0] == "account" && !json {
					continue // a second account of the name would warn of the first
				}
				r := runOp(t, db, nil, "", args...)
				if r.code != 0 {
					t.Fatalf("autho %v: exit %d, %s", args, r.code, r.stderr)
				}
				if json {
					opDecodeOne(t, r.stdout)
				}
				if tt.warn == "" {
					if r.stderr != "" {
						t.Fatalf("autho %v: stderr %q, want none", args, r.stderr)
					}
					continue
				}
				line := oneStderrLine(t, r.stderr)
				if !strings.HasPrefix(line, "autho: warning: ") || !strings.Contains(line, tt.warn) {
					t.Fatalf("autho %v: warning %q, want one containing %q", args, line, tt.warn)
				}
			}
		})
	}
}

// TestCLI_FlagSuggestion: an unknown flag is a usage mistake (exit 2) whose
// line names the nearest flag the command has, when one is near.
func TestCLI_FlagSuggestion(t *testing.T) {
	tests := []struct {
		args []string
		want string // the suggestion; "" for none
	}{
		{[]string{"token", "create", "--expire", "2030-01-01"}, "--expires"},
		{[]string{"token", "create", "--expires-i=1d"}, "--expires-in"},
		{[]string{"token", "create", "--scopes", "a"}, "--scope"},
		{[]string{"user", "create", "--acount", "acc_x"}, "--account"},
		{[]string{"user", "create", "--emial", "a@b.c"}, "--email"},
		{[]string{"account", "list", "--jsn"}, "--json"},
		{[]string{"account", "list", "--databse", "x"}, ""},
		{[]string{"account", "list", "--all"}, ""},
		{[]string{"--versoin"}, "--version"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runOp(t, filepath.Join(t.TempDir(), "never.db"), nil, "", tt.args...)
			if r.code != 2 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
			}
			line := oneStderrLine(t, r.stderr)
			if !strings.Contains(line, "unknown flag") {
				t.Fatalf("%q", line)
			}
			if tt.want == "" {
				if strings.Contains(line, "did you mean") {
					t.Fatalf("%q suggests a flag, want none", line)
				}
				return
			}
			if !strings.HasSuffix(line, "(did you mean "+tt.want+"?)") {
				t.Fatalf("%q, want it to suggest %s", line, tt.want)
			}
		})
	}
}

// TestCLI_JSONErrors: --json anywhere on the command line, even after a
// flag the parser stopped at, makes a failure one {"error": ...} object on
// stdout; without it stdout stays empty. The exit code is the same.
func TestCLI_JSONErrors(t *testing.T) {
	db := newDB(t)
	mustOpJSON(t, db, nil, "", "migrate")
	tests := []struct {
		args []string
		json bool
		code int
	}{
		{[]string{"account", "list", "--all", "--json"}, true, 2},
		{[]string{"--json", "account", "list", "--all"}, true, 2},
		{[]string{"account", "list", "--all", "--json=true"}, true, 2},
		{[]string{"account", "list", "--all", "--json=false"}, false, 2},
		{[]string{"account", "list", "--all"}, false, 2},
		{[]string{"account", "show", "acc_nope", "--json"}, true, 1},
		{[]string{"account", "show", "acc_nope"}, false, 1},
		{[]string{"--json", "bogus"}, true, 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runOp(t, db, nil, "", tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d", r.code, tt.code)
			}
			msg := strings.TrimPrefix(oneStderrLine(t, r.stderr), "autho: ")
			if !tt.json {
				if r.stdout != "" {
					t.Fatalf("stdout %q, want nothing without --json", r.stdout)
				}
				return
			}
			if m := opDecodeOne(t, r.stdout); len(m) != 1 || opStr(m, "error") != msg {
				t.Fatalf("stdout %q, want only {\"error\": %q}", r.stdout, msg)
			}
		})
	}
}
