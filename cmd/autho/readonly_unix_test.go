//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCLI_ReadOnlyFile: on a SQLite file its user may only read (mode
// 0444), the commands that look work and the ones that change are refused
// in one line saying the file must be writable, with nothing changed. Root
// writes any file whatever its mode, so as root the binary runs as nobody,
// the owner of the files here.
func TestCLI_ReadOnlyFile(t *testing.T) {
	bin := authoBinary(t)
	dir, err := os.MkdirTemp("", "autho-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "autho.db")
	runOp(t, db, nil, "", "migrate")
	acc := mustOpJSON(t, db, nil, "", "account", "create", "--name", "Acme")

	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		const nobody = 65534
		cred = &syscall.Credential{Uid: nobody, Gid: nobody}
		for _, p := range []string{dir, db, db + ".masterkey"} {
			if err := os.Chown(p, nobody, nobody); err != nil {
				t.Fatal(err)
			}
		}
		// The binary is shared by the package's tests: it is only made
		// reachable.
		if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	autho := func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, append([]string{"--db", db}, args...)...)
		cmd.Env = append(os.Environ(), "AUTHO_DATABASE=", "AUTHO_MASTER_KEY=")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	for _, args := range [][]string{{"account", "list"}, {"account", "show", opStr(acc, "id")}, {"token", "list"}, {"keys", "list"}} {
		out, errs, err := autho(args...)
		if err != nil {
			t.Errorf("autho %s on a read-only file: %v: %s", strings.Join(args, " "), err, errs)
		} else if args[0] == "account" && !strings.Contains(out, opStr(acc, "id")) {
			t.Errorf("autho %s: %q does not show the account", strings.Join(args, " "), out)
		}
	}
	for _, args := range [][]string{{"account", "create", "--name", "Other"}, {"account", "suspend", opStr(acc, "id")}} {
		_, errs, err := autho(args...)
		if err == nil {
			t.Fatalf("autho %s on a read-only file succeeded", strings.Join(args, " "))
		}
		if line := strings.TrimSpace(errs); strings.Contains(line, "\n") || !strings.Contains(line, "must be writable") {
			t.Errorf("autho %s: stderr %q, want one line saying the file must be writable", strings.Join(args, " "), errs)
		}
	}
	os.Chmod(db, 0o600)
	if got := opStr(mustOpJSON(t, db, nil, "", "account", "show", opStr(acc, "id")), "status"); got != "active" {
		t.Fatalf("status %q after refused changes", got)
	}
}
