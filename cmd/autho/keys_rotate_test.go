package main

import (
	"strings"
	"testing"
	"time"
)

// TestKeys_RotateAlgorithm: keys rotate makes a key of the algorithm the
// servers sign with, refuses in one line (naming AUTHO_JWT_ALG) one they
// would replace at once unless --force, and what it prints is true: the
// running server signs with the new key within the time it says.
func TestKeys_RotateAlgorithm(t *testing.T) {
	for _, deployed := range []string{"HS256", "EdDSA"} {
		t.Run(deployed, func(t *testing.T) {
			ts := startServer(t, map[string]string{"AUTHO_JWT_ALG": deployed})
			p := ts.newPartner()
			keyCount := func() int {
				var l struct{ Keys []struct{ ID string } }
				ts.mustCLI(&l, "keys", "list")
				return len(l.Keys)
			}
			for _, tc := range []struct {
				name string
				env  map[string]string
				args []string
				want string // in the one-line refusal
			}{
				{"AUTHO_JWT_ALG unset here", nil, nil, "AUTHO_JWT_ALG"},
				{"AUTHO_JWT_ALG set to another", map[string]string{"AUTHO_JWT_ALG": "RS256"}, nil, "AUTHO_JWT_ALG"},
				{"--alg another", map[string]string{"AUTHO_JWT_ALG": deployed}, []string{"--alg", "ES256"}, "--alg"},
			} {
				t.Run(tc.name+" is refused", func(t *testing.T) {
					before := keyCount()
					r := runOp(t, ts.db, tc.env, "", append([]string{"keys", "rotate"}, tc.args...)...)
					if r.code == 0 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 ||
						!strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, deployed) || !strings.Contains(r.stderr, "--force") {
						t.Fatalf("exit %d, stderr %q: want one line naming %s, %s and --force", r.code, r.stderr, tc.want, deployed)
					}
					if keyCount() != before {
						t.Fatal("the refused rotation made a key")
					}
				})
			}
			t.Run("the configured algorithm", func(t *testing.T) {
				r := runOp(t, ts.db, map[string]string{"AUTHO_JWT_ALG": deployed}, "", "keys", "rotate")
				if r.code != 0 || !strings.Contains(r.stdout, "("+deployed+"); running servers sign with it within 4s") {
					t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
				}
				id := strings.Fields(r.stdout)[3]
				start := time.Now()
				waitUntil(t, 4*time.Second, "the server to sign with "+id, func() bool {
					return kidOf(t, wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))) == id
				})
				t.Logf("signing with the new key after %v", time.Since(start))
			})
			t.Run("--force", func(t *testing.T) {
				r := runOp(t, ts.db, map[string]string{"AUTHO_JWT_ALG": deployed}, "", "keys", "rotate", "--alg", "ES256", "--force")
				if r.code != 0 || strings.Contains(r.stdout, "running servers sign with it") ||
					!strings.Contains(r.stdout, "still on "+deployed+" replace it") {
					t.Fatalf("exit %d, stdout %q, stderr %q: want a key made, and no claim the servers sign with it", r.code, r.stdout, r.stderr)
				}
			})
		})
	}
}
