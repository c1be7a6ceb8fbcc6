package main

import (
	"strings"
	"testing"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// TestCLI_OperatorKeys: operator-key create shows the key once (under "key"
// and "secret"), list never shows it, revoke ends it, and each change is
// audited as operator:cli in the log of no account; on both backends.
func TestCLI_OperatorKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		var made map[string]any
		ts.mustCLI(&made, "operator-key", "create", "--name", "crm", "--read-only")
		plain := opStr(made, "key")
		if secret.Check(secret.OperatorKey, plain) != nil || opStr(made, "secret") != plain {
			t.Fatalf("create answered %v; want an autho_adm_ key under key and secret", made)
		}
		if made["read_only"] != true || opStr(made, "status") != "active" || opStr(made, "name") != "crm" {
			t.Fatalf("create answered %v", made)
		}
		out, _, code := ts.cli("operator-key", "list", "--json")
		if code != 0 || strings.Contains(out, plain) || !strings.Contains(out, opStr(made, "id")) {
			t.Fatalf("list: exit %d, %q; want the key listed without its secret", code, out)
		}
		var revoked map[string]any
		ts.mustCLI(&revoked, "operator-key", "revoke", opStr(made, "id"))
		if opStr(revoked, "status") != "revoked" || revoked["revoked_at"] == nil || revoked["key"] != nil {
			t.Fatalf("revoke answered %v", revoked)
		}
		ts.mustCLI(nil, "operator-key", "revoke", opStr(made, "id")) // harmless, and not audited again

		for _, m := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"operator-key", "create", "--name", "crm"}, 1, "exists already"},
			{[]string{"operator-key", "create", "--name", "CLI"}, 1, "command line"},
			{[]string{"operator-key", "create"}, 2, "needs --name"},
			{[]string{"operator-key", "revoke", "opk_nope"}, 1, "not found"},
		} {
			_, errs, code := ts.cli(m.args...)
			if code != m.code || !strings.Contains(errs, m.msg) {
				t.Errorf("autho %s: exit %d, %q; want exit %d with %q", strings.Join(m.args, " "), code, errs, m.code, m.msg)
			}
		}

		es, err := ts.store().AuditEvents(t.Context(), autho.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			if e.TargetID == opStr(made, "id") {
				got = append(got, string(e.Action)+" by "+e.ActorID+" in "+e.AccountID+"-")
			}
		}
		want := []string{"operator_key.revoke by operator:cli in -", "operator_key.create by operator:cli in -"}
		if strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Fatalf("audit: %q, want %q", got, want)
		}
	})
}
