package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe_ReadOnlyDatabase: serve on a SQLite file that is read-only
// (mode bits without the owner's write, which even root's serve heeds)
// refuses to start, in one line saying the file must be writable, rather
// than serve and then fail every write.
func TestServe_ReadOnlyDatabase(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode os.FileMode
	}{
		{"owner read only", 0o400},
		{"read only for all", 0o444},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "autho.db")
			if r := runOp(t, db, nil, "", "migrate"); r.code != 0 {
				t.Fatalf("migrate: exit %d: %s", r.code, r.stderr)
			}
			if err := os.Chmod(db, tc.mode); err != nil {
				t.Fatal(err)
			}
			line := serveRefused(t, db)
			if !strings.Contains(line, db) || !strings.Contains(line, "must be writable") {
				t.Fatalf("refusal %q: want it to say that %s must be writable", line, db)
			}
		})
	}
}

// TestServe_UnspecifiedAddrNeedsIssuer: listening on every interface
// without AUTHO_ISSUER would derive an issuer like http://[::]:8080, which
// every verifier refuses; serve refuses to start instead, in one line
// saying what to set. With the issuer given, or on a loopback address, it
// starts.
func TestServe_UnspecifiedAddrNeedsIssuer(t *testing.T) {
	for _, tc := range []struct {
		addr, issuer string
		refused      bool
	}{
		{"0.0.0.0:0", "", true},
		{"[::]:0", "", true},
		{":0", "", true},
		{"0.0.0.0:0", "https://auth.example.com", false},
		{"127.0.0.1:0", "", false},
	} {
		t.Run(tc.addr+" "+tc.issuer, func(t *testing.T) {
			env := map[string]string{"AUTHO_ADDR": tc.addr, "AUTHO_ISSUER": tc.issuer, "AUTHO_LOGIN_FAILURES_PER_MINUTE": "0"}
			// A started serve is stopped as soon as it says so (a loaded
			// machine may take seconds to migrate a new database).
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var out bytes.Buffer
			errb := &syncBuffer{}
			go func() {
				for ctx.Err() == nil && !strings.Contains(errb.String(), `"msg":"autho serving"`) {
					time.Sleep(20 * time.Millisecond)
				}
				cancel()
			}()
			db := filepath.Join(t.TempDir(), "autho.db")
			code := run(ctx, []string{"serve", "--db", db}, strings.NewReader(""), &out, errb, func(k string) string { return env[k] })
			stderr := strings.TrimSpace(errb.String())
			if !tc.refused {
				if code != 0 || !strings.Contains(stderr, `"msg":"autho serving"`) {
					t.Fatalf("exit %d, stderr %q: want serve to start", code, stderr)
				}
				return
			}
			if code == 0 || strings.Contains(stderr, "\n") || !strings.Contains(stderr, "AUTHO_ADDR") ||
				!strings.Contains(stderr, "AUTHO_ISSUER=https://") {
				t.Fatalf("exit %d, stderr %q: want one line saying to set AUTHO_ISSUER=https://…", code, stderr)
			}
			if _, err := os.Stat(db); err == nil {
				t.Fatal("a refused serve made the database")
			}
		})
	}
}

// TestServe_RootPointsToPortal: GET / answers, in the contract's envelope,
// where the portal is, and that address serves it; any other unknown path
// is still 404 12.
func TestServe_RootPointsToPortal(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.do("GET", "/", "", nil)
	var env struct {
		Data   struct{ Portal, Message string }
		Result string
		Status string
	}
	if err := json.Unmarshal(r.Body, &env); err != nil || r.Status != 200 || env.Result != "00" || env.Status != "OK" ||
		env.Data.Portal != "/portal/" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /: %d %q (%v), want 200 and the envelope pointing to /portal/", r.Status, r.Body, err)
	}
	if p := ts.do("GET", env.Data.Portal, "", nil); p.Status != 200 && p.Status != 303 {
		t.Fatalf("GET %s: %d", env.Data.Portal, p.Status)
	}
	wantError(t, ts.do("GET", "/nope", "", nil), 404, "12")
}

// TestServe_RequestLogRoute: the request log names a route as a person
// would write its path, without ServeMux's {$}; an unknown path is
// "unmatched".
func TestServe_RequestLogRoute(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	for _, tc := range []struct {
		do    func() *response
		route string
	}{
		{func() *response { return ts.login(p.APIToken, p.PartnerToken) }, "/v1/autho/apitoken/login/"},
		{func() *response { return ts.do("GET", "/", "", nil) }, "/"},
		{func() *response { return ts.do("GET", "/nope", "", nil) }, "unmatched"},
	} {
		before := ts.log.String()
		tc.do()
		var line string
		for _, l := range strings.Split(strings.TrimPrefix(ts.log.String(), before), "\n") {
			if strings.Contains(l, `"msg":"request"`) {
				line = l
			}
		}
		if !strings.Contains(line, `"route":"`+tc.route+`"`) {
			t.Errorf("request log line %q: want route %q", line, tc.route)
		}
	}
	if strings.Contains(ts.log.String(), "{$}") {
		t.Error("the log holds a route with {$}")
	}
}
