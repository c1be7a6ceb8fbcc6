package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// While an account is suspended or expired, its admins cannot change its
// users in the portal, and the operator still can with the CLI.
func TestClosedAccount_UsersChangedByTheOperatorOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, state := range []struct {
			name  string
			close func(ts *testServer, accountID string)
			why   string
		}{
			{"suspended", func(ts *testServer, id string) { ts.mustCLI(nil, "account", "suspend", id) }, "until it is reactivated"},
			{"expired", func(ts *testServer, id string) { ts.expireAccount(id) }, "until it is renewed"},
		} {
			t.Run(state.name, func(t *testing.T) {
				ts := startServerOn(t, b, nil)
				pa := portalSetup(t, ts)
				state.close(ts, pa.id)

				browser := portalSignInHTTP(t, ts, pa.admin)
				status, body := browser.post(ts, "/portal/users", url.Values{"email": {"new@acme.example"}, "role": {"admin"}})
				if status != http.StatusForbidden || !strings.Contains(body, state.why) {
					t.Fatalf("portal add user: %d, want 403 saying %q\n%.2000s", status, state.why, body)
				}

				for _, args := range [][]string{
					{"user", "create", "--account", pa.id, "--email", "new@acme.example", "--role", "admin"},
					{"user", "deactivate", "--email", pa.member.email},
					{"user", "activate", "--email", pa.member.email},
				} {
					t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
						var out map[string]any
						ts.mustCLI(&out, args...)
						if out["email"] == nil {
							t.Fatalf("autho %s: %v", strings.Join(args, " "), out)
						}
					})
				}
			})
		}
	})
}
