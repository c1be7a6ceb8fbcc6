package main

import (
	"testing"
	"time"
)

// me calls GET /v1/autho/me/ with jwt as the bearer.
func (ts *testServer) me(jwt string) *response {
	ts.t.Helper()
	return ts.do("GET", "/v1/autho/me/", "", nil, "Authorization", "Bearer "+jwt)
}

func wantMe(t *testing.T, r *response, p partner) {
	t.Helper()
	if r.Status != 200 || r.result() != "00" || r.data()["user_id"] != p.UserID || r.data()["account_id"] != p.AccountID {
		t.Fatalf("/me: %d %s", r.Status, r.Body)
	}
}

// wantRefusedMe asserts /me's refusal of a JWT that verifies by its
// signature: 401 16 with the whole envelope and the bearer challenge.
func wantRefusedMe(t *testing.T, r *response) {
	t.Helper()
	wantError(t, r, 401, "16")
	if got, want := r.Header.Get("WWW-Authenticate"), `Bearer realm="autho", error="invalid_token"`; got != want {
		t.Fatalf("WWW-Authenticate %q, want %q", got, want)
	}
}

// TestMe_CurrentState: /me checks the current state as introspection does,
// whether or not introspection is turned on. A JWT obtained before its API
// token is revoked, its user deactivated or its account suspended or
// expired is refused at once with 401 16; a JWT of another token keeps
// working; after the reactivation a fresh login's JWT works, while one from
// before a deactivation or suspension stays refused.
func TestMe_CurrentState(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ts := startServerOn(t, b, nil)
		bystander := ts.newPartner()
		bystanderJWT := wantSuccess(t, ts.login(bystander.APIToken, bystander.PartnerToken))
		renew := time.Now().AddDate(0, 6, 0).UTC().Format(time.RFC3339)

		for _, tc := range []struct {
			name       string
			apply      func(p partner)
			reactivate func(p partner) // nil: nothing undoes it
		}{
			{"API token revoked",
				func(p partner) { ts.mustCLI(nil, "token", "revoke", p.TokenID) }, nil},
			{"user deactivated",
				func(p partner) { ts.mustCLI(nil, "user", "deactivate", "--email", p.Email) },
				func(p partner) { ts.mustCLI(nil, "user", "activate", "--email", p.Email) }},
			{"account suspended",
				func(p partner) { ts.mustCLI(nil, "account", "suspend", p.AccountID) },
				func(p partner) { ts.mustCLI(nil, "account", "reactivate", p.AccountID) }},
			{"account expired",
				func(p partner) { ts.expireAccount(p.AccountID) },
				func(p partner) { ts.mustCLI(nil, "account", "renew", p.AccountID, "--expires", renew) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := ts.newPartner()
				sibling := ts.newToken(p.Email) // another token of the same user
				jwt := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
				siblingJWT := wantSuccess(t, ts.login(sibling.APIToken, p.PartnerToken))
				wantMe(t, ts.me(jwt), p)

				tc.apply(p)
				wantRefusedMe(t, ts.me(jwt))
				wantMe(t, ts.me(bystanderJWT), bystander)
				if tc.reactivate == nil {
					// Only that token is revoked: the user's other one is fine.
					wantMe(t, ts.me(siblingJWT), p)
					return
				}
				wantRefusedMe(t, ts.me(siblingJWT)) // the user or account, not the token
				tc.reactivate(p)
				// A JWT's iat is in whole seconds: one of the second of
				// the change may predate it, so the fresh login waits for
				// the next second.
				time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
				fresh := wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
				wantMe(t, ts.me(fresh), p)
				if tc.name != "account expired" {
					// As the revocation feed says: the JWTs from before a
					// deactivation or suspension stay refused.
					wantRefusedMe(t, ts.me(jwt))
				}
			})
		}
	})
}
