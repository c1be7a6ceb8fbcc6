package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/daemon"
)

// clientFrom is an HTTP client whose connections come from the given
// loopback address, to act as another client IP.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

func postLogin(t *testing.T, c *http.Client, url, api, ptn string, header ...string) *response {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"api_token": api, "partner_token": ptn})
	req, _ := http.NewRequest("POST", url+"/v1/autho/apitoken/login/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	r := &response{Status: res.StatusCode, Header: res.Header, Body: body}
	json.Unmarshal(body, &r.Env)
	return r
}

// TestRateLimit_RefusedLogins: the 31st refused login from one IP inside a
// minute gets 429 09 with Retry-After, whatever X-Forwarded-For it forges,
// while a correct login from another IP succeeds at once.
func TestRateLimit_RefusedLogins(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_LOGIN_FAILURES_PER_MINUTE": "30"})
	p := ts.newPartner()
	attacker := clientFrom("127.0.0.1")
	for i := 1; i <= 30; i++ {
		r := postLogin(t, attacker, ts.url, p.APIToken, "autho_ptn_guess"+strconv.Itoa(i), "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		wantError(t, r, 401, "02")
	}
	r := postLogin(t, attacker, ts.url, p.APIToken, "autho_ptn_guess31", "X-Forwarded-For", "198.51.100.31")
	wantError(t, r, 429, "09")
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// Even a correct login from the limited IP waits...
	wantError(t, postLogin(t, attacker, ts.url, p.APIToken, p.PartnerToken), 429, "09")
	// ...but another client is not harmed.
	wantSuccess(t, postLogin(t, clientFrom("127.0.0.2"), ts.url, p.APIToken, p.PartnerToken))

	// Per partner token: refusals spread over many IPs empty its bucket.
	q := ts.newPartner()
	for i := 0; i < 30; i++ {
		c := clientFrom(fmt.Sprintf("127.0.1.%d", i+1))
		wantError(t, postLogin(t, c, ts.url, "autho_api_wrong", q.PartnerToken), 401, "04")
	}
	wantError(t, postLogin(t, clientFrom("127.0.2.1"), ts.url, q.APIToken, q.PartnerToken), 429, "09")
	// Bodies refused as 400 do not count.
	for i := 0; i < 40; i++ {
		wantError(t, postLogin(t, clientFrom("127.0.3.1"), ts.url, "", ""), 400, "01")
	}
	wantSuccess(t, postLogin(t, clientFrom("127.0.3.1"), ts.url, p.APIToken, p.PartnerToken))
}

// TestRateLimit_TrustedProxy: behind a trusted proxy the limit applies to
// the client named in X-Forwarded-For.
func TestRateLimit_TrustedProxy(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_LOGIN_FAILURES_PER_MINUTE": "2", "AUTHO_TRUSTED_PROXIES": "127.0.0.1/32"})
	p := ts.newPartner()
	proxy := clientFrom("127.0.0.1")
	for i := 0; i < 2; i++ {
		wantError(t, postLogin(t, proxy, ts.url, "x", "autho_ptn_x", "X-Forwarded-For", "203.0.113.5"), 401, "02")
	}
	wantError(t, postLogin(t, proxy, ts.url, p.APIToken, p.PartnerToken, "X-Forwarded-For", "203.0.113.5"), 429, "09")
	wantSuccess(t, postLogin(t, proxy, ts.url, p.APIToken, p.PartnerToken, "X-Forwarded-For", "203.0.113.6"))
}

// TestRateLimit_IPv6Prefix: an IPv6 client's refusals count against its
// /64, the smallest block a subscriber is given, so hopping between the
// addresses of one network buys no more tries; another /64 is untouched.
func TestRateLimit_IPv6Prefix(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_LOGIN_FAILURES_PER_MINUTE": "2", "AUTHO_TRUSTED_PROXIES": "127.0.0.1/32"})
	p := ts.newPartner()
	proxy := clientFrom("127.0.0.1")
	for _, ip := range []string{"2001:db8:1:2::a", "2001:db8:1:2:ffff:ffff:ffff:ffff"} {
		wantError(t, postLogin(t, proxy, ts.url, "x", "autho_ptn_x", "X-Forwarded-For", ip), 401, "02")
	}
	wantError(t, postLogin(t, proxy, ts.url, p.APIToken, p.PartnerToken, "X-Forwarded-For", "2001:db8:1:2::b"), 429, "09")
	wantSuccess(t, postLogin(t, proxy, ts.url, p.APIToken, p.PartnerToken, "X-Forwarded-For", "2001:db8:1:3::a"))
}

// TestMetrics_CountLogins sends a known mix of logins and reads the counts
// back from /metrics, by result code; no secret or email is in any label.
func TestMetrics_CountLogins(t *testing.T) {
	ts := startServer(t, nil)
	p := ts.newPartner()
	want := map[string]int{"00": 3, "02": 2, "04": 1, "08": 1, "01": 1, "13": 1}
	for i := 0; i < 3; i++ {
		wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
	}
	ts.login(p.APIToken, "nope")
	ts.login(p.APIToken, "autho_ptn_nope")
	ts.login("nope", p.PartnerToken)
	ts.do("POST", "/v1/autho/apitoken/login/", "application/json", strings.NewReader("{"))
	ts.do("POST", "/v1/autho/apitoken/login/", "application/json", strings.NewReader("{}"))
	ts.do("POST", "/v1/autho/apitoken/login/", "text/plain", strings.NewReader("{}"))

	r := ts.do("GET", "/metrics", "", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	body := string(r.Body)
	for code, n := range want {
		line := fmt.Sprintf(`autho_logins_total{endpoint="login",result=%q} %d`, code, n)
		if !strings.Contains(body, line+"\n") {
			t.Errorf("missing %q", line)
		}
	}
	if got := regexp.MustCompile(`(?m)^autho_logins_total`).FindAllString(body, -1); len(got) != len(want) {
		t.Errorf("%d login series, want %d", len(got), len(want))
	}
	for _, s := range []string{"autho_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/autho/apitoken/login/{$}\",status=\"200\"} 3",
		"autho_db_connections_open", "go_build_info", "process_resident_memory_bytes"} {
		if !strings.Contains(body, s) {
			t.Errorf("/metrics lacks %q", s)
		}
	}
	for _, s := range []string{p.APIToken, p.PartnerToken, p.Email, "autho_ptn_nope"} {
		if strings.Contains(body, s) {
			t.Errorf("/metrics holds a secret or email")
		}
	}
}

// TestMetrics_SeparateListener: with AUTHO_METRICS_ADDR, /metrics is served
// there and not on the public listener.
func TestMetrics_SeparateListener(t *testing.T) {
	ts := startServer(t, map[string]string{"AUTHO_METRICS_ADDR": "127.0.0.1:0"})
	wantError(t, ts.do("GET", "/metrics", "", nil), 404, "12")
	res, err := client.Get("http://" + ts.d.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("metrics listener: %d", res.StatusCode)
	}
}

// TestMetrics_OffPublicListener: on a listen address that is not loopback,
// /metrics is not served there unless AUTHO_METRICS_ADDR says where, and
// the log says so in one line; on loopback it stays on the main listener.
func TestMetrics_OffPublicListener(t *testing.T) {
	for _, tc := range []struct {
		name           string
		env            map[string]string
		onMain, logged bool
	}{
		{"every interface", map[string]string{"AUTHO_ADDR": "0.0.0.0:0", "AUTHO_ISSUER": "https://auth.example.com"}, false, true},
		{"every interface, metrics address", map[string]string{"AUTHO_ADDR": "0.0.0.0:0", "AUTHO_ISSUER": "https://auth.example.com",
			"AUTHO_METRICS_ADDR": "127.0.0.1:0"}, false, false},
		{"loopback", nil, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, tc.env)
			r := ts.do("GET", "/metrics", "", nil)
			if tc.onMain && r.Status != 200 {
				t.Fatalf("/metrics on the main listener: %d, want 200", r.Status)
			}
			if !tc.onMain {
				wantError(t, r, 404, "12")
			}
			if n := strings.Count(ts.log.String(), "AUTHO_METRICS_ADDR"); (n == 1) != tc.logged || n > 1 {
				t.Fatalf("%d log lines name AUTHO_METRICS_ADDR, want %v (one line)", n, tc.logged)
			}
		})
	}
}

// TestSlowLoris: a client dribbling its headers is dropped after the
// read-header timeout, while other clients' logins keep succeeding.
func TestSlowLoris(t *testing.T) {
	ts := startServerAt(t, filepath.Join(t.TempDir(), "autho.db"), nil, func(c *daemon.Config) { c.ReadHeaderTimeout = time.Second })
	p := ts.newPartner()
	conn, err := net.Dial("tcp", ts.d.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan int, 1)
	go func() {
		// Dribble one byte every 200 ms for at most 30 s (ten times the
		// bound we expect); count the bytes the server took.
		req := "POST /v1/autho/apitoken/login/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 150)
		for i := 0; i < len(req); i++ {
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := conn.Write([]byte{req[i]}); err != nil {
				closed <- i
				return
			}
			conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := conn.Read(make([]byte, 512)); err != nil && !isTimeout(err) {
				closed <- i
				return
			}
		}
		closed <- -1
	}()
	logins := 0
	for {
		select {
		case n := <-closed:
			if n < 0 {
				t.Fatal("the slow client was never dropped")
			}
			if logins == 0 {
				t.Fatal("no login completed while the slow client was connected")
			}
			t.Logf("slow client dropped after %d bytes; %d logins meanwhile", n, logins)
			return
		default:
			wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
			logins++
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestServe_BadSettings: a bad value of every setting stops serve at start
// with one line naming the setting.
func TestServe_BadSettings(t *testing.T) {
	goodKey := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	bad := map[string]string{
		"AUTHO_DATABASE":                  filepath.Join(t.TempDir(), "missing-dir", "x.db"),
		"AUTHO_ADDR":                      "nowhere",
		"AUTHO_ISSUER":                    "ftp://x",
		"AUTHO_PUBLIC_URL":                "not a url",
		"AUTHO_AUDIENCE":                  " ",
		"AUTHO_JWT_ALG":                   "none",
		"AUTHO_TOKEN_TTL":                 "1 day",
		"AUTHO_MAX_TOKEN_TTL":             "-5h",
		"AUTHO_MASTER_KEY":                "c2hvcnQ=",
		"AUTHO_TIMEZONE":                  "Mars/Olympus",
		"AUTHO_KEY_ROTATION":              "soon",
		"AUTHO_LOGIN_FAILURES_PER_MINUTE": "-1",
		"AUTHO_TRUSTED_PROXIES":           "10.0.0.0/33",
		"AUTHO_INTROSPECTION_SECRET":      "short",
		"AUTHO_METRICS_ADDR":              "9090",
		"AUTHO_LOG_LEVEL":                 "verbose",
		"AUTHO_TLS_CERT":                  "/nonexistent/cert.pem",
		"AUTHO_TLS_KEY":                   "/nonexistent/key.pem",
		"AUTHO_DB_MAX_CONNS":              "many",
		"AUTHO_DB_ACQUIRE_TIMEOUT":        "forever",
		"AUTHO_MAX_ACTIVE_TOKENS":         "0",
		"AUTHO_PORTAL_CONTACT":            "two\nlines",
		"AUTHO_PORTAL_REQUIRE_MFA":        "sometimes",
		"AUTHO_SMTP_URL":                  "http://mail.example.com",
		"AUTHO_SMTP_FROM":                 "not an address",
		"AUTHO_WEBHOOK_ALLOW_PRIVATE":     "maybe",
		"AUTHO_SECRET_SCANNING_KEYS_URL":  "ftp://keys.example.com",
		"AUTHO_DELIVERY_TIME_SCALE":       "2",
	}
	// The table must cover every setting serve has.
	for _, env := range config.Names() {
		if _, ok := bad[env]; !ok {
			t.Errorf("no bad value tested for %s", env)
		}
	}
	for name, val := range bad {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"AUTHO_ADDR": "127.0.0.1:0", name: val}
			if name != "AUTHO_MASTER_KEY" {
				env["AUTHO_MASTER_KEY"] = goodKey
			}
			if name == "AUTHO_TLS_CERT" {
				env["AUTHO_TLS_KEY"] = "/nonexistent/key.pem"
			}
			db := filepath.Join(dir, "autho.db")
			if name == "AUTHO_DATABASE" {
				db = val
			}
			var out, errb bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			code := run(ctx, []string{"serve", "--db", db}, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
			lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
			last := lines[len(lines)-1]
			if code == 0 || !strings.HasPrefix(last, "autho: ") || !strings.Contains(last, name) {
				t.Fatalf("exit %d, last stderr line %q: want a failure naming %s", code, last, name)
			}
			if strings.Contains(last, val) && name == "AUTHO_MASTER_KEY" {
				t.Fatalf("the master key value was echoed")
			}
		})
	}
}

// TestCrash_Kill9 SIGKILLs a serving autho 20 times under mixed load (logins,
// token creations and revocations through the CLI), then checks after each
// restart: the database passes integrity_check, every acknowledged creation
// logs in, every acknowledged revocation is refused.
func TestCrash_Kill9(t *testing.T) {
	bin := authoBinary(t)
	db := newDB(t)
	cli := func(args ...string) (map[string]any, error) {
		cmd := exec.Command(bin, append([]string{"--db", db, "--json"}, args...)...)
		cmd.Env = append(os.Environ(), "AUTHO_DATABASE=", "AUTHO_MASTER_KEY=")
		out, err := cmd.Output()
		if err != nil {
			return nil, err
		}
		var v map[string]any
		return v, json.Unmarshal(out, &v)
	}
	mustCLI := func(args ...string) map[string]any {
		v, err := cli(args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return v
	}
	acc := mustCLI("account", "create", "--name", "Crash")
	ptn := acc["partner_token"].(string)
	mustCLI("user", "create", "--account", acc["id"].(string), "--email", "crash@example.com")

	var mu sync.Mutex
	created := map[string]string{} // token id -> secret, acknowledged
	revoked := map[string]string{}
	for round := 0; round < 20; round++ {
		srv, url := startBinaryServe(t, bin, db)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		// Token creations and revocations through the CLI.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tok, err := cli("token", "create", "--email", "crash@example.com", "--name", "c")
				if err != nil {
					continue // not acknowledged: may or may not exist
				}
				mu.Lock()
				created[tok["id"].(string)] = tok["token"].(string)
				var victim string
				if i%3 == 0 {
					for id := range created {
						if _, gone := revoked[id]; !gone {
							victim = id
							break
						}
					}
				}
				mu.Unlock()
				if victim != "" {
					if _, err := cli("token", "revoke", victim); err == nil {
						mu.Lock()
						revoked[victim] = created[victim]
						mu.Unlock()
					}
				}
			}
		}()
		// Logins against the server.
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 2 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				var sec string
				for _, s := range created {
					sec = s
					break
				}
				mu.Unlock()
				if sec == "" {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				b, _ := json.Marshal(map[string]string{"api_token": sec, "partner_token": ptn})
				if res, err := c.Post(url+"/v1/autho/apitoken/login/", "application/json", bytes.NewReader(b)); err == nil {
					res.Body.Close()
				}
			}
		}()
		time.Sleep(time.Duration(150+rand.IntN(250)) * time.Millisecond)
		srv.Process.Signal(syscall.SIGKILL)
		srv.Wait()
		close(stop)
		wg.Wait()

		if res := integrityCheck(t, db); res != "ok" {
			t.Fatalf("round %d: integrity_check: %s", round, res)
		}
	}
	// After the last kill: a fresh server, and every acknowledged change.
	srv, url := startBinaryServe(t, bin, db)
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	ts := &testServer{t: t, url: url}
	if len(created) < 20 || len(revoked) < 5 {
		t.Fatalf("too little load to mean anything: %d created, %d revoked", len(created), len(revoked))
	}
	for id, sec := range created {
		r := ts.login(sec, ptn)
		if _, gone := revoked[id]; gone {
			wantError(t, r, 401, "04")
		} else {
			wantSuccess(t, r)
		}
	}
	t.Logf("20 kills: %d acknowledged creations and %d acknowledged revocations all held", len(created), len(revoked))
}

// startBinaryServe starts the real binary serving db on a free loopback
// port and waits for its "serving" log line.
func startBinaryServe(t *testing.T, bin, db string) (*exec.Cmd, string) {
	t.Helper()
	return startBinaryServeEnv(t, bin, db, nil)
}

func integrityCheck(t *testing.T, db string) string {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var res string
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatal(err)
	}
	return res
}
