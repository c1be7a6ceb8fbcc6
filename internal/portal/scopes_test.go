package portal_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

var scopeBox = regexp.MustCompile(`<input type="checkbox" name="scope" value="([^"]+)"[^>]*>`)

// scopeBoxes are the create form's scope checkboxes: each value, and
// whether it is ticked.
func scopeBoxes(body string) (values []string, checked []string) {
	for _, m := range scopeBox.FindAllStringSubmatch(body, -1) {
		values = append(values, m[1])
		if strings.Contains(m[0], " checked") {
			checked = append(checked, m[1])
		}
	}
	return values, checked
}

// The create form offers the scopes the operator allows the account, and
// only those are stored.
func TestTokens_Scopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ann := e.browser("192.0.2.1")
	ann.mustLogin(e.ann)

	t.Run("none allowed: no scope section", func(t *testing.T) {
		p := ann.get("/portal/tokens")
		wantPage(t, p, http.StatusOK, "Create a token")
		if v, _ := scopeBoxes(p.body); len(v) != 0 || strings.Contains(p.body, "Scopes</legend>") {
			t.Fatalf("an account allowing no scopes is offered %q", v)
		}
	})

	t.Run("none allowed: a tampered form is refused above the form", func(t *testing.T) {
		form := ann.createForm()
		form.Set("name", "tampered")
		form.Set("expiry", "7")
		form.Set("scope", "orders:read")
		before := e.tokens()
		p, plain := ann.createToken(form)
		wantPage(t, p, http.StatusBadRequest, `<div class="error" role="alert" id="create-error">Scope &#34;orders:read&#34; is not allowed for this account (it allows none).</div>`)
		if plain != "" || e.tokens() != before {
			t.Fatal("a refused form made a token")
		}
	})

	allowed := []string{"orders:read", "orders:write", "invoices:read"}
	if _, err := e.admin.SetAccountScopes(context.Background(), autho.OperatorCLI, e.account.ID, allowed); err != nil {
		t.Fatal(err)
	}

	t.Run("the account's audit log names the change", func(t *testing.T) {
		boss := e.browser("192.0.2.9")
		boss.mustLogin(e.boss)
		wantPage(t, boss.get("/portal/audit"), http.StatusOK, "set the scopes the account may give its tokens")
	})

	t.Run("one box per allowed scope, none ticked", func(t *testing.T) {
		p := ann.get("/portal/tokens")
		wantPage(t, p, http.StatusOK, "Scopes</legend>")
		v, c := scopeBoxes(p.body)
		if !slices.Equal(v, allowed) || len(c) != 0 {
			t.Fatalf("boxes %q, ticked %q; want %q, none ticked", v, c, allowed)
		}
		// Each box has its label, so a screen reader names it.
		for _, s := range allowed {
			if !regexp.MustCompile(`<label[^>]*><input type="checkbox" name="scope" value="` + regexp.QuoteMeta(s) + `"[^>]*> <code>` + regexp.QuoteMeta(s) + `</code></label>`).MatchString(p.body) {
				t.Errorf("the box of %s has no label naming it", s)
			}
		}
	})

	tests := []struct {
		name   string
		scopes []string
		stored []string // nil: refused
		msg    string
	}{
		{"no scope", nil, []string{}, ""},
		{"chosen scopes", []string{"orders:read", "invoices:read"}, []string{"orders:read", "invoices:read"}, ""},
		{"a scope not allowed (a tampered form)", []string{"orders:read", "admin"}, nil, `Scope &#34;admin&#34; is not allowed for this account`},
		{"a malformed scope", []string{"orders read"}, nil, `Invalid scope &#34;orders read&#34;`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := ann.createForm()
			form.Set("name", "scoped "+tt.name)
			form.Set("expiry", "7")
			form["scope"] = tt.scopes
			before := e.tokens()
			p, plain := ann.createToken(form)
			if tt.stored == nil {
				wantPage(t, p, http.StatusBadRequest, `<p class="field-error" id="scopes-error">`+tt.msg)
				if plain != "" || e.tokens() != before {
					t.Fatalf("a refused form made a token:\n%s", e.tokens())
				}
				// The form comes back as it was sent, its allowed choices
				// still ticked.
				var want []string
				for _, s := range tt.scopes {
					if slices.Contains(allowed, s) {
						want = append(want, s)
					}
				}
				if _, c := scopeBoxes(p.body); !slices.Equal(c, want) {
					t.Fatalf("ticked after the error %q, want %q", c, want)
				}
				return
			}
			wantPage(t, p, http.StatusOK, "You will not see it again")
			cred, err := e.store.APICredential(context.Background(), secret.Hash(plain))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cred.Token.Scopes, tt.stored) && len(cred.Token.Scopes)+len(tt.stored) != 0 {
				t.Fatalf("stored scopes %q, want %q", cred.Token.Scopes, tt.stored)
			}
			// The new token's page and the list both name its scopes.
			row := regexp.MustCompile(`(?s)<tr class="row-active" id="` + cred.Token.ID + `">.*?</tr>`).FindString(ann.get("/portal/tokens").body)
			if row == "" {
				t.Fatal("the list lacks the new token")
			}
			for _, s := range tt.stored {
				if !strings.Contains(row, `<span class="scope">`+s+`</span>`) || !strings.Contains(p.body, `<span class="scope">`+s+`</span>`) {
					t.Errorf("scope %s not shown in the list row %q or on the new token's page", s, row)
				}
			}
			// A reload of the answer (the form sent again) makes nothing.
			made := e.tokens()
			again, shown := ann.createToken(form)
			wantPage(t, again, http.StatusConflict)
			if shown != "" || e.tokens() != made {
				t.Fatal("sending the form again made another token")
			}
		})
	}
}
