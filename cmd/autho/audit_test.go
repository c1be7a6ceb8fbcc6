package main

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/autho/autho"
)

// operatorCLI is the actor the audit log names for every CLI change.
const operatorCLI = "operator:cli"

// auditLog is every audit event of the database, newest first.
func auditLog(t *testing.T, st autho.Store) []*autho.AuditEvent {
	t.Helper()
	es, err := st.AuditEvents(context.Background(), autho.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestCLI_ChangesAudited runs each change command of the operator CLI and
// finds exactly one new audit event for it, by operator:cli, in the log of
// the account it changed (a key rotation in the log of no account); a
// command that changes nothing (a second suspend, a second revoke) adds
// none.
func TestCLI_ChangesAudited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		st := ts.store()
		var acc, usr, tok map[string]any
		ts.mustCLI(&acc, "account", "create", "--name", "Audited")
		accID := opStr(acc, "id")
		ts.mustCLI(&usr, "user", "create", "--account", accID, "--email", "audited@example.com")
		ts.mustCLI(&tok, "token", "create", "--email", "audited@example.com", "--name", "audited")
		usrID, tokID := opStr(usr, "id"), opStr(tok, "id")
		es := auditLog(t, st)
		seen := len(es)
		// Newest first; the server's own first key came before them.
		for i, want := range []autho.AuditAction{autho.AuditTokenCreate, autho.AuditUserCreate, autho.AuditAccountCreate} {
			if e := es[i]; e.Action != want || e.ActorID != operatorCLI || e.AccountID != accID {
				t.Fatalf("event %d is %s by %s in %q, want %s by %s in %s", i, e.Action, e.ActorID, e.AccountID, want, operatorCLI, accID)
			}
		}

		steps := []struct {
			args    []string
			action  autho.AuditAction // "": no event
			account string            // the log it lands in
			target  string
		}{
			{[]string{"account", "renew", accID, "--expires", "2099-01-01"}, autho.AuditAccountRenew, accID, accID},
			{[]string{"account", "suspend", accID}, autho.AuditAccountSuspend, accID, accID},
			{[]string{"account", "suspend", accID}, "", "", ""},
			{[]string{"account", "reactivate", accID}, autho.AuditAccountReactivate, accID, accID},
			{[]string{"account", "rotate-partner-token", accID}, autho.AuditPartnerTokenRotate, accID, accID},
			{[]string{"account", "set-scopes", accID, "orders:read"}, autho.AuditAccountScopes, accID, accID},
			{[]string{"account", "set-scopes", accID, "orders:read"}, "", "", ""},
			{[]string{"account", "set-scopes", accID}, autho.AuditAccountScopes, accID, accID},
			{[]string{"user", "deactivate", "--email", "audited@example.com"}, autho.AuditUserDeactivate, accID, usrID},
			{[]string{"user", "deactivate", "--email", "audited@example.com"}, "", "", ""},
			{[]string{"user", "activate", "--email", "audited@example.com"}, autho.AuditUserActivate, accID, usrID},
			{[]string{"token", "revoke", tokID}, autho.AuditTokenRevoke, accID, tokID},
			{[]string{"token", "revoke", tokID}, "", "", ""},
			{[]string{"keys", "rotate"}, autho.AuditSigningKeyRotate, "", ""},
		}
		for _, s := range steps {
			ts.mustCLI(nil, s.args...)
			es := auditLog(t, st)
			fresh := es[:len(es)-seen]
			seen = len(es)
			if s.action == "" {
				if len(fresh) != 0 {
					t.Errorf("autho %v changed nothing but added %d events", s.args, len(fresh))
				}
				continue
			}
			if len(fresh) != 1 {
				t.Errorf("autho %v added %d events, want 1", s.args, len(fresh))
				continue
			}
			e := fresh[0]
			if e.ActorID != operatorCLI || e.Action != s.action || e.AccountID != s.account || (s.target != "" && e.TargetID != s.target) {
				t.Errorf("autho %v: event %s by %s in %q on %s, want %s by %s in %q on %s",
					s.args, e.Action, e.ActorID, e.AccountID, e.TargetID, s.action, operatorCLI, s.account, s.target)
			}
		}
	})
}

// TestCLI_AuditRefusedUndoesChange makes the database refuse every new
// audit event (a trigger) and runs each change command through the binary:
// each fails, and its change is not there, because the change and its event
// are one transaction.
func TestCLI_AuditRefusedUndoesChange(t *testing.T) {
	bin := authoBinary(t)
	db := filepath.Join(t.TempDir(), "autho.db")
	if r := runOp(t, db, nil, "", "migrate"); r.code != 0 {
		t.Fatalf("migrate: %s", r.stderr)
	}
	acc := mustOpJSON(t, db, nil, "", "account", "create", "--name", "Refused")
	accID := opStr(acc, "id")
	mustOpJSON(t, db, nil, "", "user", "create", "--account", accID, "--email", "refused@example.com")
	tokID := opStr(mustOpJSON(t, db, nil, "", "token", "create", "--email", "refused@example.com", "--name", "r"), "id")
	mustOpJSON(t, db, nil, "", "keys", "rotate")
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END`); err != nil {
		t.Fatal(err)
	}
	// What every command below would change, read as one string.
	state := func() string {
		var s string
		err := conn.QueryRow(`SELECT (SELECT group_concat(status || expires_at) FROM accounts) || '|' ||
			(SELECT count(*) FROM partner_tokens) || '|' || (SELECT group_concat(active) FROM users) || '|' ||
			(SELECT count(*) FROM users) || '|' || (SELECT count(*) FROM api_tokens) || '|' ||
			(SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL) || '|' || (SELECT count(*) FROM signing_keys)`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := state()
	for _, args := range [][]string{
		{"account", "create", "--name", "Another"},
		{"account", "renew", accID, "--expires", "2099-01-01"},
		{"account", "suspend", accID},
		{"account", "rotate-partner-token", accID},
		{"user", "create", "--account", accID, "--email", "second@example.com"},
		{"user", "deactivate", "--email", "refused@example.com"},
		{"token", "create", "--email", "refused@example.com", "--name", "r2"},
		{"token", "revoke", tokID},
		{"keys", "rotate"},
	} {
		cmd := exec.Command(bin, append([]string{"--db", db}, args...)...)
		cmd.Env = append(os.Environ(), "AUTHO_DATABASE=", "AUTHO_MASTER_KEY=")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("autho %v succeeded although its audit event was refused: %s", args, out)
		}
		if after := state(); after != before {
			t.Errorf("autho %v changed the database (%s → %s) although its audit event was refused", args, before, after)
			before = after
		}
	}
}

// TestCrash_Kill9Audited SIGKILLs CLI change commands at random moments,
// most of them before they finish, and then finds every change that was
// made with its audit event and no audit event without its change: the two
// are one transaction. (The conformance suite, storetest's Entries, proves
// the same of every write on both backends; this is the binary on a file.)
func TestCrash_Kill9Audited(t *testing.T) {
	bin := authoBinary(t)
	db := filepath.Join(t.TempDir(), "autho.db")
	if r := runOp(t, db, nil, "", "migrate"); r.code != 0 {
		t.Fatalf("migrate: %s", r.stderr)
	}
	acc := mustOpJSON(t, db, nil, "", "account", "create", "--name", "Crash")
	accID := opStr(acc, "id")
	mustOpJSON(t, db, nil, "", "user", "create", "--account", accID, "--email", "crash@example.com")
	var tokens []string
	for range 12 {
		tokens = append(tokens, opStr(mustOpJSON(t, db, nil, "", "token", "create", "--email", "crash@example.com", "--name", "c"), "id"))
	}
	mustOpJSON(t, db, nil, "", "keys", "rotate")
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	count := func(q string, args ...any) int {
		var n int
		if err := conn.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	keysBefore := count(`SELECT count(*) FROM signing_keys`)
	partnerBefore := count(`SELECT count(*) FROM partner_tokens`)

	commands := [][]string{
		{"account", "suspend", accID}, {"account", "reactivate", accID},
		{"user", "deactivate", "--email", "crash@example.com"}, {"user", "activate", "--email", "crash@example.com"},
		{"account", "rotate-partner-token", accID}, {"keys", "rotate"},
	}
	finished, killed := 0, 0
	for i := range 60 {
		args := commands[i%len(commands)]
		if i%len(commands) == 0 && len(tokens) > 0 {
			args, tokens = []string{"token", "revoke", tokens[0]}, tokens[1:]
		}
		cmd := exec.Command(bin, append([]string{"--db", db, "--json"}, args...)...)
		cmd.Env = append(os.Environ(), "AUTHO_DATABASE=", "AUTHO_MASTER_KEY=")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("autho %v: %v", args, err)
			}
			finished++
		case <-time.After(time.Duration(rand.IntN(40)) * time.Millisecond):
			cmd.Process.Signal(syscall.SIGKILL)
			if err := <-done; err == nil {
				finished++ // it had just finished
			} else {
				killed++
			}
		}
	}
	t.Logf("%d commands finished, %d killed before they did", finished, killed)

	st, err := openTestStore(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events := auditLog(t, st)
	byAction := map[autho.AuditAction][]*autho.AuditEvent{}
	for _, e := range events {
		if e.ActorID != operatorCLI {
			t.Fatalf("event %s by %q, want %s", e.Action, e.ActorID, operatorCLI)
		}
		byAction[e.Action] = append(byAction[e.Action], e)
	}
	// Every revoked token has its one event, and every event its revoked
	// token.
	ts, err := st.APITokens(context.Background(), autho.TokenFilter{AccountID: accID})
	if err != nil {
		t.Fatal(err)
	}
	revokeEvents := map[string]int{}
	for _, e := range byAction[autho.AuditTokenRevoke] {
		revokeEvents[e.TargetID]++
	}
	for _, tk := range ts {
		if n := revokeEvents[tk.ID]; (tk.Revoked() && n != 1) || (!tk.Revoked() && n != 0) {
			t.Errorf("token %s revoked=%v with %d revoke events", tk.ID, tk.Revoked(), n)
		}
	}
	// The state the newest toggle event says is the state stored.
	latest := func(on, off autho.AuditAction) autho.AuditAction {
		for _, e := range events { // newest first
			if e.Action == on || e.Action == off {
				return e.Action
			}
		}
		return ""
	}
	a, err := st.Account(context.Background(), accID)
	if err != nil {
		t.Fatal(err)
	}
	if last := latest(autho.AuditAccountSuspend, autho.AuditAccountReactivate); (a.Status == autho.AccountSuspended) != (last == autho.AuditAccountSuspend) {
		t.Errorf("account %s after the last event %q", a.Status, last)
	}
	u, err := st.UserByEmail(context.Background(), "crash@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if last := latest(autho.AuditUserDeactivate, autho.AuditUserActivate); u.Active != (last != autho.AuditUserDeactivate) {
		t.Errorf("user active=%v after the last event %q", u.Active, last)
	}
	// One rotation event per partner token and signing key added.
	if got, want := count(`SELECT count(*) FROM partner_tokens`)-partnerBefore, len(byAction[autho.AuditPartnerTokenRotate]); got != want {
		t.Errorf("%d partner tokens added, %d rotation events", got, want)
	}
	if got, want := count(`SELECT count(*) FROM signing_keys`)-keysBefore, len(byAction[autho.AuditSigningKeyRotate])-1; got != want {
		t.Errorf("%d signing keys added, %d rotation events after the first", got, want)
	}
	if finished == 0 || killed == 0 {
		t.Logf("every command was %s: the timing did not cut any short this run", map[bool]string{true: "killed", false: "finished"}[finished == 0])
	}
}
