package main

import (
	"context"
	"github.com/autho/autho"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeys_WrongMasterKey: a master key that opens none of the stored
// signing keys is refused by serve and the key commands in one line that
// says where the key came from, blames AUTHO_MASTER_KEY only when it was
// given, and names the way out.
func TestKeys_WrongMasterKey(t *testing.T) {
	ts := startServer(t, nil)
	if err := ts.d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Another valid key file, as an older autho wrote after losing one.
	if err := os.WriteFile(ts.db+".masterkey", []byte(pgTestMasterKey()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve"}, {"keys", "list"}, {"keys", "rotate"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stderr := keyCommand(t, ts.db, args...)
			if code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, ts.db+".masterkey") ||
				strings.Contains(stderr, "AUTHO_MASTER_KEY") || !strings.Contains(stderr, "keys reset --i-have-lost-the-master-key") {
				t.Fatalf("exit %d, stderr %q: want one line naming the key file and keys reset, not AUTHO_MASTER_KEY", code, stderr)
			}
		})
	}
	t.Run("AUTHO_MASTER_KEY given", func(t *testing.T) {
		r := runOp(t, ts.db, map[string]string{"AUTHO_MASTER_KEY": pgTestMasterKey()}, "", "keys", "list")
		if r.code == 0 || !strings.Contains(r.stderr, "AUTHO_MASTER_KEY") || strings.Contains(r.stderr, ".masterkey") {
			t.Fatalf("exit %d, stderr %q: want the refusal to name AUTHO_MASTER_KEY", r.code, r.stderr)
		}
	})
}

// TestKeys_MissingKeyFileNamesReset: the refusal of a lost key file also
// names the way out.
func TestKeys_MissingKeyFileNamesReset(t *testing.T) {
	ts := startServer(t, nil)
	if err := ts.d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Remove(ts.db + ".masterkey")
	for _, args := range [][]string{{"serve"}, {"keys", "list"}} {
		code, stderr := keyCommand(t, ts.db, args...)
		if code == 0 || strings.Contains(stderr, "AUTHO_MASTER_KEY") || !strings.Contains(stderr, "keys reset --i-have-lost-the-master-key") {
			t.Errorf("%s: exit %d, stderr %q: want keys reset named, not AUTHO_MASTER_KEY", args, code, stderr)
		}
	}
}

// TestKeys_Reset: after the master key is lost, keys reset drops the
// signing keys it sealed and makes new ones; accounts, users and API tokens
// are intact, so the old API token logs in again, while every JWT issued
// before is refused.
func TestKeys_Reset(t *testing.T) { forEachBackend(t, testKeysReset) }

func testKeysReset(t *testing.T, b backend) {
	db := filepath.Join(t.TempDir(), "autho.db")
	env, after := map[string]string{}, map[string]string{}
	if b == backendPostgres {
		db, _ = pgTestSchema(t)
		env["AUTHO_MASTER_KEY"], after["AUTHO_MASTER_KEY"] = pgTestMasterKey(), pgTestMasterKey()
	}
	ts := startServerAt(t, db, env)
	p := ts.newPartner()
	oldJWT := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	if err := ts.d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b == backendSQLite {
		if err := os.Remove(db + ".masterkey"); err != nil {
			t.Fatal(err)
		}
	}
	r := runOp(t, db, after, "", "keys", "reset")
	if r.code != 2 || !strings.Contains(r.stderr, "--i-have-lost-the-master-key") {
		t.Fatalf("keys reset without the flag: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runOp(t, db, after, "", "keys", "reset", "--i-have-lost-the-master-key")
	if r.code != 0 || !strings.Contains(r.stdout, "every JWT issued before stops verifying") {
		t.Fatalf("keys reset: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if b == backendSQLite {
		if fi, err := os.Stat(db + ".masterkey"); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("no new key file (mode 0600): %v", err)
		}
	}
	keys, _ := mustOpJSON(t, db, after, "", "keys", "list")["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["state"] != "signing" {
		t.Fatalf("keys after reset %v: want one new signing key", keys)
	}
	// The reset is the operator's, audited with its new key.
	st, err := openTestStore(db)
	if err != nil {
		t.Fatal(err)
	}
	es := auditLog(t, st)
	st.Close()
	if len(es) < 2 || es[0].Action != autho.AuditSigningKeyRotate || es[1].Action != autho.AuditSigningKeyReset ||
		es[0].ActorID != operatorCLI || es[1].ActorID != operatorCLI {
		t.Fatalf("audit log after reset starts %v: want signing_key.rotate then signing_key.reset by %s", es[:min(2, len(es))], operatorCLI)
	}
	r = runOp(t, db, after, "", "keys", "reset", "--i-have-lost-the-master-key")
	if r.code == 0 || !strings.Contains(r.stderr, "nothing to reset") {
		t.Fatalf("a second reset: exit %d, stderr %q: want a refusal", r.code, r.stderr)
	}

	ts = startServerAt(t, db, after)
	newJWT := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	if r := ts.do("GET", "/v1/autho/me/", "", nil, "Authorization", "Bearer "+newJWT); r.Status != 200 || r.data()["user_id"] != p.UserID {
		t.Fatalf("/me with a JWT after reset: %d %s", r.Status, r.Body)
	}
	wantError(t, ts.do("GET", "/v1/autho/me/", "", nil, "Authorization", "Bearer "+oldJWT), 401, "16")
}
