package main

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAccount_SetScopes: the operator sets the scopes an account's people
// may give their tokens; show, list and set-scopes itself print them, in
// text and JSON, and a mistake changes nothing.
func TestAccount_SetScopes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		var acc map[string]any
		ts.mustCLI(&acc, "account", "create", "--name", "Scoped")
		id := opStr(acc, "id")
		if got := jsonScopes(t, acc); got == nil || len(got) != 0 {
			t.Fatalf("a new account's allowed_scopes = %#v, want []", acc["allowed_scopes"])
		}

		steps := []struct {
			name string
			args []string // after "account set-scopes ID"
			want []string
			text string // in the text output of account show; "" for none
		}{
			{"set, repeats dropped", []string{"orders:read", "orders:write", "orders:read"}, []string{"orders:read", "orders:write"}, "allowed scopes orders:read orders:write"},
			{"replace", []string{"invoices:read"}, []string{"invoices:read"}, "allowed scopes invoices:read"},
			{"none clears", nil, []string{}, ""},
			{"again", []string{"orders:read", "orders:write"}, []string{"orders:read", "orders:write"}, "allowed scopes orders:read orders:write"},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				var set, shown map[string]any
				ts.mustCLI(&set, append([]string{"account", "set-scopes", id}, st.args...)...)
				ts.mustCLI(&shown, "account", "show", id)
				var list struct {
					Accounts []map[string]any `json:"accounts"`
				}
				ts.mustCLI(&list, "account", "list")
				i := slices.IndexFunc(list.Accounts, func(a map[string]any) bool { return opStr(a, "id") == id })
				if i < 0 {
					t.Fatal("account list lacks the account")
				}
				for what, m := range map[string]map[string]any{"set-scopes": set, "show": shown, "list": list.Accounts[i]} {
					if got := jsonScopes(t, m); !slices.Equal(got, st.want) || got == nil {
						t.Errorf("%s --json: allowed_scopes = %#v, want %q", what, m["allowed_scopes"], st.want)
					}
				}
				for _, args := range [][]string{{"account", "show", id}, {"account", "list"}, append([]string{"account", "set-scopes", id}, st.args...)} {
					out, errs, code := ts.cli(args...)
					if code != 0 {
						t.Fatalf("autho %v: exit %d: %s", args, code, errs)
					}
					line := accountLine(out, id)
					if st.text == "" && strings.Contains(line, "scopes") || st.text != "" && !strings.HasSuffix(line, "  "+st.text) {
						t.Errorf("autho %v: line %q, want it to end with %q", args, line, st.text)
					}
				}
			})
		}

		before := accountState(t, ts, id)
		mistakes := []struct {
			name string
			args []string
			msg  string
			code int
		}{
			{"no id", []string{"account", "set-scopes"}, "account set-scopes needs ACCOUNT_ID", 2},
			{"unknown account", []string{"account", "set-scopes", "acc_nope", "x"}, "account acc_nope not found", 1},
			{"a user id", []string{"account", "set-scopes", "usr_x", "x"}, "account usr_x not found", 1},
			{"space in a scope", []string{"account", "set-scopes", id, "orders read"}, `invalid scope "orders read"`, 1},
			{"empty scope", []string{"account", "set-scopes", id, "a", ""}, "a scope must not be empty", 1},
		}
		for _, m := range mistakes {
			t.Run(m.name, func(t *testing.T) {
				for _, asJSON := range []bool{false, true} {
					args := m.args
					if asJSON {
						args = append(slices.Clone(args), "--json")
					}
					out, errs, code := ts.cli(args...)
					// With --json the failure is also stdout's one object.
					wantOut := ""
					if asJSON {
						wantOut = "{\n  \"error\": " + strconv.Quote(strings.TrimPrefix(strings.TrimSpace(errs), "autho: ")) + "\n}\n"
					}
					if code != m.code || out != wantOut || !strings.Contains(errs, m.msg) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
						t.Fatalf("autho %v: exit %d, stdout %q, stderr %q; want exit %d and one line with %q", args, code, out, errs, m.code, m.msg)
					}
				}
				if after := accountState(t, ts, id); after != before {
					t.Fatalf("account changed:\n%s\nwas:\n%s", after, before)
				}
			})
		}
	})
}

// jsonScopes reads an account object's allowed_scopes: nil when missing or
// not a list of strings.
func jsonScopes(t *testing.T, m map[string]any) []string {
	t.Helper()
	raw, ok := m["allowed_scopes"].([]any)
	if !ok {
		return nil
	}
	out := []string{}
	for _, v := range raw {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		out = append(out, s)
	}
	return out
}

// accountLine is the line of the account with that id in text output.
func accountLine(out, id string) string {
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, id+"  ") {
			return strings.TrimRight(line, "\n")
		}
	}
	return ""
}

func accountState(t *testing.T, ts *testServer, id string) string {
	t.Helper()
	var m map[string]any
	ts.mustCLI(&m, "account", "show", id)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
