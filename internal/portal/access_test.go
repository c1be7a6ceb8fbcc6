package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
)

// Members see and revoke only their own tokens; another's token answers
// exactly like a token that does not exist. Admin pages answer 403.
func TestAccess_Member(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	annTok := e.mustToken(e.ann, "ann-ci")
	bobTok := e.mustToken(e.bob, "bob-secret-project")
	other, _, err := e.admin.CreateAccount(context.Background(), autho.OperatorCLI, "Other Co", start.Add(90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	stranger := e.mustUserIn(other.ID, "eve@other.example", autho.RoleAdmin)
	strangerTok := e.mustToken(stranger, "other-account")

	ann := e.browser("192.0.2.1")
	ann.mustLogin(e.ann)
	list := ann.get("/portal/tokens")
	wantPage(t, list, http.StatusOK, "ann-ci", "Your tokens")
	for _, hidden := range []string{"bob-secret-project", bobTok.ID, "other-account", "Owner"} {
		if strings.Contains(list.body, hidden) {
			t.Errorf("a member's token list shows %q", hidden)
		}
	}
	wantPage(t, ann.get("/portal/tokens/"+annTok.ID+"/revoke"), http.StatusOK, "Revoke this token?")

	before := e.tokens()
	missing := "tok_" + strings.Repeat("x", 20)
	for _, id := range []string{bobTok.ID, strangerTok.ID, missing, "usr_" + e.bob.ID[4:], "nonsense"} {
		t.Run("token "+id, func(t *testing.T) {
			get := ann.get("/portal/tokens/" + id + "/revoke")
			wantPage(t, get, http.StatusNotFound, "Token not found")
			post := ann.post("/portal/tokens/"+id+"/revoke", url.Values{})
			wantPage(t, post, http.StatusNotFound, "Token not found")
			if get.body != ann.get("/portal/tokens/"+missing+"/revoke").body {
				t.Error("another's token answers differently from a missing one")
			}
		})
	}
	if e.tokens() != before {
		t.Fatal("a refused revocation changed a token")
	}

	usersBefore := e.users()
	for _, tc := range []struct{ method, path string }{
		{"GET", "/portal/users"},
		{"POST", "/portal/users"},
		{"POST", "/portal/users/" + e.bob.ID + "/deactivate"},
		{"POST", "/portal/users/" + e.bob.ID + "/activate"},
		{"POST", "/portal/users/" + e.bob.ID + "/sessions"},
		{"GET", "/portal/users/" + e.bob.ID + "/password"},
		{"POST", "/portal/users/" + e.bob.ID + "/password"},
		{"GET", "/portal/audit"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var p *page
			if tc.method == "POST" {
				p = ann.post(tc.path, url.Values{"email": {"new@acme.example"}, "role": {"admin"}})
			} else {
				p = ann.get(tc.path)
			}
			wantPage(t, p, http.StatusForbidden, "Admins only")
		})
	}
	if e.users() != usersBefore {
		t.Fatal("a member changed users")
	}
	for _, nav := range []string{`href="/portal/users"`, `href="/portal/audit"`} {
		if strings.Contains(list.body, nav) {
			t.Errorf("a member's menu links to %s", nav)
		}
	}
}

func TestAccess_Admin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bobTok := e.mustToken(e.bob, "bob-ci")
	other, _, err := e.admin.CreateAccount(context.Background(), autho.OperatorCLI, "Other Co", start.Add(90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	stranger := e.mustUserIn(other.ID, "eve@other.example", autho.RoleMember)
	strangerTok := e.mustToken(stranger, "other-account")

	boss := e.browser("192.0.2.1")
	boss.mustLogin(e.boss)
	list := boss.get("/portal/tokens")
	wantPage(t, list, http.StatusOK, "All tokens of the account", "bob-ci", e.bob.Email)
	if strings.Contains(list.body, "other-account") {
		t.Fatal("an admin sees another account's token")
	}
	wantPage(t, boss.get("/portal/tokens/"+strangerTok.ID+"/revoke"), http.StatusNotFound, "Token not found")
	wantPage(t, boss.post("/portal/users/"+stranger.ID+"/deactivate", url.Values{}), http.StatusNotFound, "User not found")
	if u, _ := e.store.User(context.Background(), stranger.ID); !u.Active {
		t.Fatal("an admin deactivated a user of another account")
	}

	// An admin may revoke any token of the account.
	wantPage(t, boss.get("/portal/tokens/"+bobTok.ID+"/revoke"), http.StatusOK, "bob-ci", e.bob.Email)
	p := boss.post("/portal/tokens/"+bobTok.ID+"/revoke", url.Values{})
	if p.location() != "/portal/tokens?done=revoked" {
		t.Fatalf("revoke: %d %q", p.status, p.location())
	}
	if tk, _ := e.store.APIToken(context.Background(), bobTok.ID); !tk.Revoked() {
		t.Fatal("not revoked")
	}
	wantPage(t, boss.get("/portal/tokens?done=revoked"), http.StatusOK, "The token was revoked", "Revoked")
}
