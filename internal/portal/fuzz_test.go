package portal_test

import (
	"context"
	"io"
	"net/http"

	"strings"
	"testing"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// FuzzTokenForm posts arbitrary bodies to the token-creation form of a
// signed-in admin, through the real handler and a real SQLite store. No
// input may cause a server error; an answer that shows no new token must
// have created none, and one that does must have created exactly that one.
func FuzzTokenForm(f *testing.F) {
	e := newEnv(f)
	b := e.browser("127.0.0.1")
	b.mustLogin(e.boss)
	cookie := b.cookie()
	for _, s := range []string{
		"name=ci&expiry=30",
		"name=ci&expiry=date&date=2026-04-01",
		"name=&expiry=7",
		"name=%3Cscript%3E&expiry=90",
		"name=x&expiry=date&date=1999-01-01",
		"name=x&expiry=date&date=9999-12-31",
		"name=x&expiry=-1",
		"name=x&name=y&expiry=30",
		"name=%ff&expiry=30",
		"expiry=30&date=2026-13-45",
		";;;&&&==",
	} {
		f.Add(s)
	}
	count := func(t *testing.T) int {
		toks, err := e.store.APITokens(context.Background(), autho.TokenFilter{AccountID: e.account.ID})
		if err != nil {
			t.Fatal(err)
		}
		return len(toks)
	}
	f.Fuzz(func(t *testing.T, body string) {
		before := count(t)
		req, _ := http.NewRequest("POST", e.srv.URL+"/portal/tokens", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "autho_session", Value: cookie})
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%q: status %d", body, res.StatusCode)
		}
		created := count(t) - before
		var shown string
		if m := shownToken.FindStringSubmatch(string(page)); m != nil {
			shown = m[1]
		}
		switch {
		case shown == "" && created != 0:
			t.Fatalf("%q: %d tokens created but none shown", body, created)
		case shown != "" && created != 1:
			t.Fatalf("%q: a token shown but %d created", body, created)
		case shown != "":
			if secret.Check(secret.APIToken, shown) != nil {
				t.Fatalf("shown token is malformed")
			}
			// Keep the user under the active-token cap, so the fuzzer
			// keeps reaching the creation path.
			toks, _ := e.store.APITokens(context.Background(), autho.TokenFilter{AccountID: e.account.ID})
			for _, tk := range toks {
				if !tk.Revoked() {
					e.admin.Revoke(context.Background(), autho.OperatorCLI, tk.ID)
				}
			}
		}
	})
}
