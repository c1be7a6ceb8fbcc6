package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The demo prints a portal address and a login; both work.
func TestPortal_Demo(t *testing.T) {
	ts := startServer(t, nil)
	var out bytes.Buffer
	a := &app{db: ts.db, stdout: &out, stderr: &out, getenv: ts.getenv}
	if err := a.demo(context.Background(), ts.d, ts.cfg); err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^  ` + name + ` +(\S+)`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("the demo output has no %s line:\n%s", name, out.String())
		}
		return m[1]
	}
	portal, email, pw := field("portal"), field("login"), field("password")
	leaks.add(pw)
	if portal != ts.url+"/portal/" {
		t.Fatalf("portal address %q, want %q", portal, ts.url+"/portal/")
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(ts.url+"/portal/login", url.Values{"email": {email}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookie := res.Header.Get("Set-Cookie")
	leaks.add(strings.TrimPrefix(strings.SplitN(cookie, ";", 2)[0], "autho_session="))
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(cookie, "autho_session=") {
		t.Fatalf("demo login: %d, Set-Cookie %q", res.StatusCode, cookie)
	}
	req, _ := http.NewRequest("GET", ts.url+"/portal/tokens", nil)
	req.Header.Set("Cookie", strings.SplitN(cookie, ";", 2)[0])
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := readAll(res)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), ">demo</th>") {
		t.Fatalf("tokens page after the demo login: %d", res.StatusCode)
	}
}
