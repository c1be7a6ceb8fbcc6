package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/view"
)

// scratchPG is a PostgreSQL server of the test's own, from the installed
// server binaries, in a temporary directory on a free loopback port, so
// that a test may stop and start it under a running autho.
type scratchPG struct {
	t    *testing.T
	bin  string   // the server's bin directory
	dir  string   // data, socket and log, owned by the server's user
	as   []string // prefix that runs a command as that user
	port int
}

// startScratchPG makes and starts a throwaway server, or skips the test
// (fails it under CI) when that is impossible here. It is stopped and
// removed when the test ends.
func startScratchPG(t *testing.T) *scratchPG {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		pgTestSkip(t, "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) to start a throwaway server with")
	}
	sort.Slice(bins, func(i, j int) bool { return pgMajor(bins[i]) < pgMajor(bins[j]) })
	s := &scratchPG{t: t, bin: filepath.Dir(bins[len(bins)-1])}

	dir, err := os.MkdirTemp("", "autho-pgfault-")
	if err != nil {
		t.Fatal(err)
	}
	s.dir = dir
	t.Cleanup(func() {
		// Stopping a stopped server fails; that is fine.
		s.ctl(30*time.Second, "-m", "immediate", "stop")
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: the server runs as the postgres
		// user, in a directory it owns.
		u, err := user.Lookup("postgres")
		runuser, lerr := exec.LookPath("runuser")
		if err != nil || lerr != nil {
			pgTestSkip(t, "running as root, and there is no postgres user or no runuser to run initdb as someone else")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.as = []string{runuser, "-u", "postgres", "--"}
	}
	out, err := s.run(2*time.Minute, filepath.Join(s.bin, "initdb"), "-D", s.data(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	if err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// A free port can be taken between looking and binding; try a few.
	for try := 0; ; try++ {
		s.port = freePort(t)
		if err := s.start(); err == nil {
			return s
		} else if try == 2 {
			t.Fatalf("start PostgreSQL: %v", err)
		}
	}
}

func pgMajor(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *scratchPG) data() string { return filepath.Join(s.dir, "data") }

// url is the server's own postgres database, as its superuser.
func (s *scratchPG) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

func (s *scratchPG) run(limit time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	argv := append(append(append([]string{}, s.as...), name), args...)
	return exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
}

func (s *scratchPG) ctl(limit time.Duration, args ...string) ([]byte, error) {
	return s.run(limit, filepath.Join(s.bin, "pg_ctl"), append([]string{"-D", s.data()}, args...)...)
}

// start starts the server and waits until it accepts connections, which
// after an immediate stop includes crash recovery. The durability settings
// are the ones docs/deploy.md assumes, spelled out.
func (s *scratchPG) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on", s.port, s.dir)
	out, err := s.ctl(time.Minute, "-w", "-t", "50", "-l", filepath.Join(s.dir, "log"), "-o", opts, "start")
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("%v\n%s\n%s", err, out, log)
	}
	return nil
}

// crash stops the server the way a crash would: no checkpoint, every
// connection cut.
func (s *scratchPG) crash() {
	s.t.Helper()
	if out, err := s.ctl(time.Minute, "-w", "-m", "immediate", "stop"); err != nil {
		s.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// faultLogin is one login answer seen by the background login loop.
type faultLogin struct {
	at         time.Time
	took       time.Duration
	status     int
	result     string
	retryAfter string
	body       string
	err        error
}

// faultCreate is one `autho token create` run by the background loop:
// acknowledged when it exited 0 having printed the token.
type faultCreate struct {
	name      string
	at        time.Time
	acked     bool
	id, token string
	out       string
}

// faultRecord is what the loops saw, guarded for the test's goroutine.
type faultRecord struct {
	mu      sync.Mutex
	logins  []faultLogin
	creates []faultCreate
}

func (r *faultRecord) loginCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.logins)
}

// createCount counts the token creations begun after a time, acknowledged
// or not.
func (r *faultRecord) createCount(after time.Time, acked bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.creates {
		if c.acked == acked && c.at.After(after) {
			n++
		}
	}
	return n
}

// TestPostgres_DatabaseOutage runs logins and token creations against an
// autho process on a PostgreSQL server of the test's own, crashes the
// server mid-run and starts it again. While it is down, logins answer 503
// `14` with Retry-After within the pool's acquisition timeout and /readyz
// fails; afterwards autho works again without a restart, every
// acknowledged token is there and logs in, and nothing unacknowledged is
// half there.
func TestPostgres_DatabaseOutage(t *testing.T) {
	// The throwaway server needs no AUTHO_TEST_POSTGRES, but this is a
	// PostgreSQL test, run where PostgreSQL tests are asked for.
	pgTestURL(t)
	const acquire = time.Second
	// How late a 503 may come: the acquisition timeout, plus room for a
	// loaded machine to schedule the request.
	const bound = acquire + time.Second

	pg := startScratchPG(t)
	// The server trusts every local connection, so a password in the URL
	// is ignored there; it is given so that the test can look for it in
	// everything autho says while its database is down.
	password := "pgfault-pw-" + secret.Random(16)
	leaks.add(password)
	db := strings.Replace(pg.url(), "postgres@", "postgres:"+password+"@", 1)
	node := launchNode(t, db, map[string]string{
		"AUTHO_MASTER_KEY":         pgTestMasterKey(),
		"AUTHO_DB_ACQUIRE_TIMEOUT": acquire.String(),
		"AUTHO_DB_MAX_CONNS":       "4",
	})
	node.ready()
	c := node.client(t)
	p := c.newPartner()
	wantSuccess(t, c.login(p.APIToken, p.PartnerToken))

	rec := &faultRecord{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { faultLoginLoop(node.url, p, rec, stop) })
	wg.Go(func() { faultCreateLoop(authoBinary(t), db, node.env["AUTHO_MASTER_KEY"], p.Email, rec, stop) })
	finished := false
	finish := func() {
		if !finished {
			finished = true
			close(stop)
			wg.Wait()
		}
	}
	defer finish()

	faultWait(t, "3 tokens made and 10 logins before the outage", 30*time.Second, func() bool {
		return rec.createCount(time.Time{}, true) >= 3 && rec.loginCount() >= 10
	})

	pg.crash()
	down := time.Now()
	t.Logf("PostgreSQL stopped (immediate) with %d logins and %d tokens made", rec.loginCount(), rec.createCount(time.Time{}, true))

	t.Run("while down, logins answer 503 14 with Retry-After, in time", func(t *testing.T) {
		c := node.client(t)
		for range 5 {
			began := time.Now()
			r := c.login(p.APIToken, p.PartnerToken)
			took := time.Since(began)
			wantError(t, r, 503, "14")
			if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("Retry-After %q, want a positive number of seconds", r.Header.Get("Retry-After"))
			}
			if took > bound {
				t.Errorf("503 after %v, want within %v", took, bound)
			}
		}
	})
	t.Run("while down, /readyz fails", func(t *testing.T) {
		began := time.Now()
		r := node.client(t).do("GET", "/readyz", "", nil)
		wantError(t, r, 503, "14")
		if took := time.Since(began); took > bound+2*time.Second {
			t.Errorf("/readyz answered after %v", took)
		}
	})
	// Long enough for the loops to meet the outage a number of times.
	faultWait(t, "2 token creations refused during the outage", 30*time.Second, func() bool {
		return time.Since(down) > 1500*time.Millisecond && rec.createCount(down, false) >= 2
	})

	restarting := time.Now()
	if err := pg.start(); err != nil {
		t.Fatalf("start PostgreSQL again: %v", err)
	}
	up := time.Now()
	t.Logf("PostgreSQL down for %v; its start (with crash recovery) took %v",
		restarting.Sub(down).Round(time.Millisecond), up.Sub(restarting).Round(time.Millisecond))
	faultWait(t, "a login to succeed after PostgreSQL is back", 20*time.Second, func() bool {
		return c.login(p.APIToken, p.PartnerToken).Status == 200
	})
	recovered := time.Since(up)
	if r := c.do("GET", "/readyz", "", nil); r.Status != 200 {
		t.Errorf("/readyz after recovery: %d %s", r.Status, r.Body)
	}
	faultWait(t, "3 tokens made after the outage", 30*time.Second, func() bool { return rec.createCount(up, true) >= 3 })
	finish()

	if !node.running() {
		t.Fatalf("autho exited during the outage:\n%s", node.log.String())
	}
	t.Logf("autho served again %v after PostgreSQL accepted connections, without a restart", recovered.Round(time.Millisecond))
	if strings.Contains(node.log.String(), password) {
		t.Errorf("autho's log shows the database password")
	}
	for _, cr := range rec.creates {
		if strings.Contains(cr.out, password) {
			t.Errorf("autho token create shows the database password: %s", cr.out)
		}
	}

	t.Run("every login answer was 200 or a prompt 503 14", func(t *testing.T) {
		counts := map[string]int{}
		var slowest time.Duration
		duringOutage := 0
		for _, l := range rec.logins {
			key := fmt.Sprintf("%d %s", l.status, l.result)
			if l.err != nil {
				key = "no answer"
			}
			counts[key]++
			switch {
			case l.err != nil:
				t.Errorf("login at %v: %v", l.at.Sub(down).Round(time.Millisecond), l.err)
			case l.status == 200 && l.result == "00":
			case l.status == 503 && l.result == "14":
				slowest = max(slowest, l.took)
				if l.took > bound {
					t.Errorf("503 after %v, want within %v", l.took, bound)
				}
				if l.retryAfter == "" {
					t.Errorf("503 without Retry-After")
				}
				if want := `{"data":{"message":"Service unavailable"},"meta":{},"result":"14","status":"ERROR"}`; l.body != want {
					t.Errorf("503 body %s, want exactly %s", l.body, want)
				}
			default:
				t.Errorf("login answered %d %s: %s", l.status, l.result, l.body)
			}
			if l.at.After(down) && l.at.Add(l.took).Before(restarting) {
				duringOutage++
				if l.status != 503 {
					t.Errorf("login during the outage answered %d %s", l.status, l.result)
				}
			}
		}
		if duringOutage == 0 {
			t.Errorf("no login ran entirely during the outage")
		}
		t.Logf("login answers: %v; %d during the outage; slowest 503 %v", counts, duringOutage, slowest.Round(time.Millisecond))
	})

	t.Run("acknowledged tokens are all there and log in; nothing is half there", func(t *testing.T) {
		c := node.client(t)
		var list struct{ Tokens []view.Token }
		c.mustCLI(&list, "token", "list", "--account", p.AccountID)
		stored := map[string][]view.Token{}
		for _, tk := range list.Tokens {
			stored[tk.Name] = append(stored[tk.Name], tk)
		}
		attempted := map[string]bool{"t": true} // newPartner's first token
		var ackedN, refusedN, ambiguous int
		for _, cr := range rec.creates {
			attempted[cr.name] = true
			rows := stored[cr.name]
			switch {
			case cr.acked:
				ackedN++
				if len(rows) != 1 || rows[0].ID != cr.id {
					t.Errorf("acknowledged token %s (%s): stored as %+v", cr.name, cr.id, rows)
					continue
				}
				wantSuccess(t, c.login(cr.token, p.PartnerToken))
			case len(rows) == 0:
				refusedN++
			default:
				// The commit can succeed and its acknowledgement be lost
				// with the connection: then the token must be whole.
				ambiguous++
				t.Logf("unacknowledged %s was committed: %+v (%s)", cr.name, rows, strings.TrimSpace(cr.out))
			}
		}
		for name, rows := range stored {
			if !attempted[name] {
				t.Errorf("a token nobody asked for: %s %+v", name, rows)
			}
			if len(rows) != 1 {
				t.Errorf("token %s stored %d times", name, len(rows))
			}
			for _, tk := range rows {
				if !strings.HasPrefix(tk.ID, "tok_") || !strings.HasPrefix(tk.Hint, "autho_api_") || tk.UserID != p.UserID ||
					tk.AccountID != p.AccountID || tk.CreatedAt.IsZero() || !tk.ExpiresAt.After(tk.CreatedAt) {
					t.Errorf("token %s is incomplete: %+v", name, tk)
				}
			}
		}
		t.Logf("token creations: %d acknowledged (all stored, all log in), %d refused (none stored), %d unacknowledged but committed whole",
			ackedN, refusedN, ambiguous)
	})
}

// faultWait polls cond, bounded by limit.
func faultWait(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	for began := time.Now(); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Since(began) > limit {
			t.Fatalf("gave up after %v waiting for %s", limit, what)
		}
	}
}

// faultLoginLoop logs in every 20 ms until stop, at most 3000 times.
func faultLoginLoop(base string, p partner, rec *faultRecord, stop <-chan struct{}) {
	body, _ := json.Marshal(map[string]string{"api_token": p.APIToken, "partner_token": p.PartnerToken})
	for range 3000 {
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
		l := faultLogin{at: time.Now()}
		res, err := client.Post(base+"/v1/autho/apitoken/login/", "application/json", bytes.NewReader(body))
		if err == nil {
			var b []byte
			b, err = readAll(res)
			var env struct{ Result string }
			json.Unmarshal(b, &env)
			l.status, l.result, l.retryAfter, l.body = res.StatusCode, env.Result, res.Header.Get("Retry-After"), strings.TrimSpace(string(b))
		}
		l.took, l.err = time.Since(l.at), err
		rec.mu.Lock()
		rec.logins = append(rec.logins, l)
		rec.mu.Unlock()
	}
}

// faultCreateLoop runs `autho token create` (the binary, a process of its
// own each time, as an operator would) until stop, at most 300 times.
func faultCreateLoop(bin, db, masterKey, email string, rec *faultRecord, stop <-chan struct{}) {
	for i := range 300 {
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
		cr := faultCreate{name: fmt.Sprintf("fault-%03d", i), at: time.Now()}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin, "--db", db, "--json", "token", "create", "--email", email, "--name", cr.name)
		cmd.Env = append(os.Environ(), "AUTHO_DATABASE=", "AUTHO_MASTER_KEY="+masterKey)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		var out struct{ ID, Token string }
		if err == nil && json.Unmarshal(stdout.Bytes(), &out) == nil && out.ID != "" && out.Token != "" {
			cr.acked, cr.id, cr.token = true, out.ID, out.Token
			leaks.add(out.Token)
		}
		cr.out = stderr.String()
		rec.mu.Lock()
		rec.creates = append(rec.creates, cr)
		rec.mu.Unlock()
	}
}
