package portal_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/autho/autho"
)

// A hash made with weaker parameters than today's is replaced at the next
// successful sign-in.
func TestLogin_Rehash(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	salt := []byte("sixteen byte slt")
	weak := "$argon2id$v=19$m=8192,t=1,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" +
		base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte(password), salt, 1, 8192, 1, 32))
	if _, err := e.store.UpdateUser(context.Background(), e.ann.ID, func(u *autho.User) error { u.PasswordHash = weak; return nil }); err != nil {
		t.Fatal(err)
	}
	e.browser("192.0.2.1").mustLogin(e.ann)
	u, err := e.store.User(context.Background(), e.ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash == weak || !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash after sign-in: %.40s…", u.PasswordHash)
	}
	e.browser("192.0.2.2").mustLogin(e.ann)
}

func TestLogin_Answers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"nothing", url.Values{}, http.StatusBadRequest, "Enter your email address and your password."},
		{"no password", url.Values{"email": {e.ann.Email}}, http.StatusBadRequest, "Enter your email address and your password."},
		{"unknown email", url.Values{"email": {"nobody@acme.example"}, "password": {password}}, http.StatusUnauthorized, genericFailure},
		{"wrong password", url.Values{"email": {e.ann.Email}, "password": {"wrong password!"}}, http.StatusUnauthorized, genericFailure},
		{"a password too long to be anyone's", url.Values{"email": {e.ann.Email}, "password": {strings.Repeat("p", 300)}}, http.StatusUnauthorized, genericFailure},
		{"an email too long to be one", url.Values{"email": {strings.Repeat("a", 300) + "@x.example"}, "password": {password}}, http.StatusBadRequest, "longer than any email address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser("192.0.2.1")
			p := b.post("/portal/login", tt.form)
			wantPage(t, p, tt.status, htmlEscape(tt.msg))
			if p.header.Get("Set-Cookie") != "" {
				t.Fatal("a refused sign-in set a cookie")
			}
			if pw := tt.form.Get("password"); pw != "" && strings.Contains(p.body, pw) {
				t.Fatal("the page repeats the password")
			}
		})
	}
	t.Run("the email is kept, the password is not", func(t *testing.T) {
		p := e.browser("192.0.2.2").post("/portal/login", url.Values{"email": {e.bob.Email}, "password": {"wrong password!"}})
		wantPage(t, p, http.StatusUnauthorized, `value="`+e.bob.Email+`"`)
	})
}

const genericFailure = "The email address or the password is not correct."
