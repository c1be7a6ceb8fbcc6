package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/migrations"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/storetest"
)

func TestStore(t *testing.T) {
	testURL(t)
	storetest.Run(t, func(t *testing.T) autho.Store { return newStore(t) })
}

// Two pools on one schema are two nodes: the cap must hold across them.
func TestStore_TokenCapAcrossStores(t *testing.T) {
	u, _ := mustSchema(t)
	first := mustOpen(t, u, Options{})
	if err := first.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	storetest.TestTokenCapAcrossStores(t, first, mustOpen(t, u, Options{}))
}

// Two nodes recording one notice at once store it once, and two nodes
// claiming at once take each delivery once.
func TestStore_NoticeAcrossStores(t *testing.T) {
	nodes := twoNodes(t)
	storetest.TestNoticeAcrossStores(t, nodes[0], nodes[1])
}

// A TOTP step, a recovery code and a pending sign-in used on two nodes at
// once are each used once.
func TestStore_MFAAcrossStores(t *testing.T) {
	nodes := twoNodes(t)
	storetest.TestMFAAcrossStores(t, nodes[0], nodes[1])
}

// A WebAuthn ceremony taken on two nodes at once by 20 calls is taken once.
func TestStore_CeremonyAcrossStores(t *testing.T) {
	nodes := twoNodes(t)
	storetest.TestCeremonyAcrossStores(t, nodes[0], nodes[1])
}

func TestStore_ClaimAcrossStores(t *testing.T) {
	nodes := twoNodes(t)
	storetest.TestClaimAcrossStores(t, nodes[0], nodes[1])
}

// Revocations made at once on two nodes each move the version both read.
func TestStore_RevocationsAcrossStores(t *testing.T) {
	nodes := twoNodes(t)
	storetest.TestRevocationsAcrossStores(t, nodes[0], nodes[1])
}

// TestMigrate_concurrent starts several nodes on one empty database at the
// same moment: all must succeed, and each version must be applied once.
func TestMigrate_concurrent(t *testing.T) {
	u, schema := mustSchema(t)
	const nodes = 4
	stores := make([]*Store, nodes)
	for i := range stores {
		stores[i] = mustOpen(t, u, Options{})
	}
	start := make(chan struct{})
	errs := make(chan error, nodes)
	for _, s := range stores {
		go func() {
			<-start
			errs <- s.Migrate(t.Context())
		}()
	}
	close(start)
	for range nodes {
		if err := <-errs; err != nil {
			t.Errorf("Migrate: %v", err)
		}
	}
	if err := stores[0].Migrate(t.Context()); err != nil {
		t.Errorf("Migrate again: %v", err)
	}

	admin := mustConn(t, u)
	var rows, versions, newest int
	err := admin.QueryRow(t.Context(),
		`SELECT count(*), count(DISTINCT version), COALESCE(max(version), 0) FROM schema_migrations`).
		Scan(&rows, &versions, &newest)
	if err != nil {
		t.Fatal(err)
	}
	all := migrations.All(migrations.Postgres)
	if rows != len(all) || versions != len(all) || newest != all[len(all)-1].Version {
		t.Errorf("schema_migrations: %d rows, %d versions, newest %d; want %d each, newest %d",
			rows, versions, newest, len(all), all[len(all)-1].Version)
	}
	tables, err := pgx.CollectRows(mustQuery(t, admin,
		`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, schema),
		pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := "accounts api_tokens audit_events deliveries delivery_attempts events idempotent_requests invitations login_failures notices operator_keys partner_tokens pending_signins portal_sessions recovery_codes revocation_version schema_migrations signing_keys totp_factors users webauthn_ceremonies webauthn_credentials webhook_endpoints"
	if got := strings.Join(tables, " "); got != want {
		t.Errorf("tables in %s: %s, want %s", schema, got, want)
	}
}

// TestUnavailable: with no database to talk to, every method fails soon,
// with an error that wraps autho.ErrUnavailable and keeps the password out.
// It needs no server, so it runs without AUTHO_TEST_POSTGRES too.
func TestUnavailable(t *testing.T) {
	const (
		password = "pw-s3cret-do-not-log"
		timeout  = 300 * time.Millisecond
		// Generous: the point is "bounded", not "fast", and CI machines
		// are slow.
		bound = timeout + 2*time.Second
	)
	// A port nobody listens on refuses at once; a listener that accepts
	// and never answers is the server that hangs, which only a timeout
	// ends.
	silent := silentServer(t)
	for _, tc := range []struct{ name, addr string }{
		{"refused", "127.0.0.1:1"},
		{"silent", silent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := fmt.Sprintf("postgres://autho:%s@%s/autho?sslmode=disable&connect_timeout=30", password, tc.addr)
			s := mustOpen(t, u, Options{AcquireTimeout: timeout, QueryTimeout: timeout})
			for _, call := range allCalls(s) {
				t.Run(call.name, func(t *testing.T) {
					t.Parallel()
					began := time.Now()
					err := call.f(t.Context())
					took := time.Since(began)
					if !errors.Is(err, autho.ErrUnavailable) {
						t.Errorf("error %v, want one wrapping autho.ErrUnavailable", err)
					}
					if took > bound {
						t.Errorf("took %v, want at most %v", took, bound)
					}
					if err != nil && strings.Contains(err.Error(), password) {
						t.Errorf("error shows the password: %v", err)
					}
					t.Logf("%v after %v", err, took.Round(time.Millisecond))
				})
			}
		})
	}
}

// silentServer accepts connections and never says a word, like a database
// host that has stopped responding.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// allCalls is every Store method, with arguments that would be fine if the
// database were there.
func allCalls(s *Store) []struct {
	name string
	f    func(context.Context) error
} {
	now := time.Now()
	noop := func(any) error { return nil }
	return []struct {
		name string
		f    func(context.Context) error
	}{
		{"Ping", func(ctx context.Context) error { return s.Ping(ctx) }},
		{"Migrate", func(ctx context.Context) error { return s.Migrate(ctx) }},
		{"CreateAccount", func(ctx context.Context) error {
			return s.CreateAccount(ctx, &autho.Account{ID: "acc_x", Status: autho.AccountActive},
				&autho.PartnerToken{ID: "ptk_x", Hash: []byte{1}})
		}},
		{"Account", func(ctx context.Context) error { _, err := s.Account(ctx, "acc_x"); return err }},
		{"Accounts", func(ctx context.Context) error { _, err := s.Accounts(ctx); return err }},
		{"UpdateAccount", func(ctx context.Context) error {
			_, err := s.UpdateAccount(ctx, "acc_x", func(a *autho.Account) error { return noop(a) })
			return err
		}},
		{"RotatePartnerToken", func(ctx context.Context) error {
			return s.RotatePartnerToken(ctx, &autho.PartnerToken{ID: "ptk_y", AccountID: "acc_x"}, now)
		}},
		{"PartnerCredential", func(ctx context.Context) error { _, err := s.PartnerCredential(ctx, []byte{1}); return err }},
		{"CreateUser", func(ctx context.Context) error { return s.CreateUser(ctx, &autho.User{ID: "usr_x"}) }},
		{"User", func(ctx context.Context) error { _, err := s.User(ctx, "usr_x"); return err }},
		{"UserByEmail", func(ctx context.Context) error { _, err := s.UserByEmail(ctx, "a@b.c"); return err }},
		{"Users", func(ctx context.Context) error { _, err := s.Users(ctx, "acc_x"); return err }},
		{"UpdateUser", func(ctx context.Context) error {
			_, err := s.UpdateUser(ctx, "usr_x", func(u *autho.User) error { return noop(u) })
			return err
		}},
		{"CreateAPIToken", func(ctx context.Context) error { return s.CreateAPIToken(ctx, &autho.APIToken{ID: "tok_x"}) }},
		{"APIToken", func(ctx context.Context) error { _, err := s.APIToken(ctx, "tok_x"); return err }},
		{"APITokens", func(ctx context.Context) error { _, err := s.APITokens(ctx, autho.TokenFilter{}); return err }},
		{"UpdateAPIToken", func(ctx context.Context) error {
			_, err := s.UpdateAPIToken(ctx, "tok_x", func(t *autho.APIToken) error { return noop(t) })
			return err
		}},
		{"APICredential", func(ctx context.Context) error { _, err := s.APICredential(ctx, []byte{1}); return err }},
		{"LoginCredentials", func(ctx context.Context) error {
			_, err := s.LoginCredentials(ctx, []byte{1}, []byte{2})
			return err
		}},
		{"RecordTokenUse", func(ctx context.Context) error {
			return s.RecordTokenUse(ctx, []autho.TokenUse{{TokenID: "tok_x", At: now}})
		}},
		{"RevocationVersion", func(ctx context.Context) error { _, err := s.RevocationVersion(ctx); return err }},
		{"Revocations", func(ctx context.Context) error { _, err := s.Revocations(ctx, now, now); return err }},
		{"AddSigningKey", func(ctx context.Context) error {
			return s.AddSigningKey(ctx, &autho.SigningKey{ID: "key_x", CreatedAt: now}, now)
		}},
		{"SigningKeys", func(ctx context.Context) error { _, err := s.SigningKeys(ctx); return err }},
		{"DeleteSigningKeys", func(ctx context.Context) error { return s.DeleteSigningKeys(ctx, []string{"key_x"}) }},
		{"Events", func(ctx context.Context) error { _, err := s.Events(ctx, 0); return err }},
		{"RecordNotice", func(ctx context.Context) error {
			_, err := s.RecordNotice(ctx, autho.Notice{ThingID: "acc_x", Kind: "k", Due: now})
			return err
		}},
		{"CreateWebhookEndpoint", func(ctx context.Context) error {
			return s.CreateWebhookEndpoint(ctx, &autho.WebhookEndpoint{ID: "whk_x", CreatedAt: now})
		}},
		{"WebhookEndpoint", func(ctx context.Context) error { _, err := s.WebhookEndpoint(ctx, "whk_x"); return err }},
		{"WebhookEndpoints", func(ctx context.Context) error { _, err := s.WebhookEndpoints(ctx); return err }},
		{"UpdateWebhookEndpoint", func(ctx context.Context) error {
			_, err := s.UpdateWebhookEndpoint(ctx, "whk_x", func(e *autho.WebhookEndpoint) error { return noop(e) })
			return err
		}},
		{"DeleteWebhookEndpoint", func(ctx context.Context) error { return s.DeleteWebhookEndpoint(ctx, "whk_x") }},
		{"ClaimDelivery", func(ctx context.Context) error { _, err := s.ClaimDelivery(ctx, now, now.Add(time.Minute)); return err }},
		{"FinishDelivery", func(ctx context.Context) error {
			return s.FinishDelivery(ctx, &autho.Delivery{ID: "dlv_x", Lease: "lse_x"}, autho.DeliveryAttempt{N: 1, At: now})
		}},
		{"Delivery", func(ctx context.Context) error { _, err := s.Delivery(ctx, "dlv_x"); return err }},
		{"Deliveries", func(ctx context.Context) error { _, err := s.Deliveries(ctx, autho.DeliveryFilter{}); return err }},
		{"DeliveryAttempts", func(ctx context.Context) error { _, err := s.DeliveryAttempts(ctx, "dlv_x"); return err }},
		{"RetryDelivery", func(ctx context.Context) error { _, err := s.RetryDelivery(ctx, "dlv_x", now); return err }},
	}
}

// TestOpen_malformedURL: a URL that cannot be parsed is an error at Open,
// and the error does not repeat the URL, which may hold a password.
func TestOpen_malformedURL(t *testing.T) {
	for _, u := range []string{
		"postgres://autho:pw-s3cret@127.0.0.1:notaport/autho",
		"postgres://autho:pw-s3cret@127.0.0.1:5432/autho?sslmode=bogus",
		"host=127.0.0.1 password=pw-s3cret connect_timeout=soon",
	} {
		s, err := Open(t.Context(), u, Options{})
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), "pw-s3cret") {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}

// TestOpen_lazy: a node can start while its database is down.
func TestOpen_lazy(t *testing.T) {
	s, err := Open(t.Context(), "postgres://autho:pw@127.0.0.1:1/autho?sslmode=disable", Options{})
	if err != nil {
		t.Fatalf("Open = %v, want success before any connection", err)
	}
	s.Close()
}

// TestCanceled: a caller that gives up gets its own context error back,
// not a claim that the database is down.
func TestCanceled(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Accounts(ctx)
	if !errors.Is(err, context.Canceled) || errors.Is(err, autho.ErrUnavailable) {
		t.Errorf("Accounts(canceled) = %v, want context.Canceled and not ErrUnavailable", err)
	}
}

// The tests below run two Stores on one schema, as two nodes would, and
// race them on the operations that must serialise across nodes.

func twoNodes(t *testing.T) [2]*Store {
	u, _ := mustSchema(t)
	nodes := [2]*Store{mustOpen(t, u, Options{}), mustOpen(t, u, Options{})}
	if err := nodes[0].Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return nodes
}

// race runs f n times, alternating between the nodes, all at once.
func race(t *testing.T, nodes [2]*Store, n int, f func(s *Store, i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs <- f(nodes[i%2], i)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestUpdateAccount_acrossNodes(t *testing.T) {
	nodes := twoNodes(t)
	a, pt := testAccount()
	a.Name = "0"
	if err := nodes[0].CreateAccount(t.Context(), a, pt); err != nil {
		t.Fatal(err)
	}
	const n = 20
	race(t, nodes, n, func(s *Store, _ int) error {
		_, err := s.UpdateAccount(t.Context(), a.ID, func(a *autho.Account) error {
			var v int
			fmt.Sscan(a.Name, &v)
			a.Name = fmt.Sprint(v + 1)
			return nil
		})
		return err
	})
	got, err := nodes[1].Account(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != fmt.Sprint(n) {
		t.Errorf("after %d concurrent increments Name = %s: an update was lost", n, got.Name)
	}
}

func TestRotatePartnerToken_acrossNodes(t *testing.T) {
	nodes := twoNodes(t)
	a, pt := testAccount()
	if err := nodes[0].CreateAccount(t.Context(), a, pt); err != nil {
		t.Fatal(err)
	}
	const n = 10
	until := a.CreatedAt.Add(time.Hour)
	race(t, nodes, n, func(s *Store, i int) error {
		next := testPartnerToken(a.ID, a.CreatedAt.Add(time.Duration(i+1)*time.Second))
		return s.RotatePartnerToken(t.Context(), next, until)
	})
	var current, total int
	err := nodes[0].pool.QueryRow(t.Context(),
		`SELECT count(*) FILTER (WHERE expires_at IS NULL), count(*) FROM partner_tokens WHERE account_id = $1`, a.ID).
		Scan(&current, &total)
	if err != nil {
		t.Fatal(err)
	}
	if current != 1 || total != n+1 {
		t.Errorf("after %d concurrent rotations: %d current tokens of %d, want 1 of %d", n, current, total, n+1)
	}
}

func TestAddSigningKey_acrossNodes(t *testing.T) {
	nodes := twoNodes(t)
	const n = 10
	now := time.Now()
	race(t, nodes, n, func(s *Store, i int) error {
		k := &autho.SigningKey{ID: secret.NewID("key"), Algorithm: "ES256", Sealed: []byte("sealed"),
			Public: []byte("public"), CreatedAt: now.Add(time.Duration(i) * time.Second)}
		return s.AddSigningKey(t.Context(), k, now.Add(48*time.Hour))
	})
	ks, err := nodes[1].SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	signing := 0
	for _, k := range ks {
		if k.RetiredAt.IsZero() {
			signing++
		}
	}
	if len(ks) != n || signing != 1 {
		t.Errorf("after %d concurrent rotations: %d keys, %d signing; want %d keys, 1 signing", n, len(ks), signing, n)
	}
}

// TestRecordTokenUse_acrossNodes: two nodes flushing overlapping batches at
// once, each in its own order, neither deadlock nor lose the newest use.
func TestRecordTokenUse_acrossNodes(t *testing.T) {
	nodes := twoNodes(t)
	a, pt := testAccount()
	if err := nodes[0].CreateAccount(t.Context(), a, pt); err != nil {
		t.Fatal(err)
	}
	u := &autho.User{ID: secret.NewID("usr"), AccountID: a.ID, Email: secret.Random(8) + "@example.com",
		Role: autho.RoleMember, Active: true, CreatedAt: a.CreatedAt, UpdatedAt: a.CreatedAt}
	if err := nodes[0].CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	const tokens, flushes = 200, 40
	ids := make([]string, tokens)
	for i := range ids {
		tok := secret.New(secret.APIToken)
		tk := &autho.APIToken{ID: secret.NewID("tok"), UserID: u.ID, AccountID: a.ID, Name: "n",
			Hash: secret.Hash(tok), Hint: secret.Hint(tok), CreatedAt: a.CreatedAt, ExpiresAt: a.CreatedAt.Add(time.Hour)}
		if err := nodes[0].CreateAPIToken(t.Context(), tk); err != nil {
			t.Fatal(err)
		}
		ids[i] = tk.ID
	}
	// Flush i uses every token at a time of its own; whichever flush
	// commits last, each token must end with the newest of them all.
	use := func(flush, token int) autho.TokenUse {
		at := a.CreatedAt.Add(time.Duration((flush*7919+token*104729)%100_003) * time.Microsecond)
		return autho.TokenUse{TokenID: ids[token], At: at, IP: fmt.Sprintf("192.0.2.%d", flush)}
	}
	race(t, nodes, flushes, func(s *Store, i int) error {
		uses := make([]autho.TokenUse, 0, tokens)
		for j := range tokens {
			k := j
			if i%2 == 1 {
				k = tokens - 1 - j // the other node's order, reversed
			}
			uses = append(uses, use(i, k))
		}
		return s.RecordTokenUse(t.Context(), uses)
	})
	for j, id := range ids {
		want := use(0, j)
		for i := 1; i < flushes; i++ {
			if u := use(i, j); u.At.After(want.At) {
				want = u
			}
		}
		got, err := nodes[1].APIToken(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastUsedAt.Equal(want.At) || got.LastUsedIP != want.IP {
			t.Fatalf("token %d: last use %v from %s, want %v from %s", j, got.LastUsedAt, got.LastUsedIP, want.At, want.IP)
		}
	}
}

func testAccount() (*autho.Account, *autho.PartnerToken) {
	now := time.Now().Truncate(time.Microsecond)
	a := &autho.Account{ID: secret.NewID("acc"), Name: "Partner", Status: autho.AccountActive,
		ExpiresAt: now.Add(365 * 24 * time.Hour), CreatedAt: now, UpdatedAt: now}
	return a, testPartnerToken(a.ID, now)
}

func testPartnerToken(accountID string, created time.Time) *autho.PartnerToken {
	tok := secret.New(secret.PartnerToken)
	return &autho.PartnerToken{ID: secret.NewID("ptk"), AccountID: accountID,
		Hash: secret.Hash(tok), Hint: secret.Hint(tok), CreatedAt: created}
}

func mustConn(t *testing.T, u string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func mustQuery(t *testing.T, c *pgx.Conn, sql string, args ...any) pgx.Rows {
	t.Helper()
	rows, err := c.Query(t.Context(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestRecovery: when the server drops the pool's connections (a restart, a
// failover), the next read succeeds on a fresh connection rather than
// failing on one that was dead before it began.
func TestRecovery(t *testing.T) {
	u, schema := mustSchema(t)
	s := mustOpen(t, u+"&application_name="+schema, Options{MinConns: 4})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	admin := mustConn(t, u)
	reads := []struct {
		name string
		f    func() error
	}{
		{"Accounts", func() error { _, err := s.Accounts(t.Context()); return err }},
		{"RecordTokenUse", func() error {
			return s.RecordTokenUse(t.Context(), []autho.TokenUse{{TokenID: "tok_x", At: time.Now()}})
		}},
		{"LoginCredentials", func() error {
			_, err := s.LoginCredentials(t.Context(), []byte{1}, []byte{2})
			if errors.Is(err, autho.ErrNotFound) {
				err = nil // an empty schema: reached, and answered
			}
			return err
		}},
		{"Ping", func() error { return s.Ping(t.Context()) }},
	}
	for _, read := range reads {
		var killed int
		err := admin.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1`, schema).Scan(&killed)
		if err != nil || killed == 0 {
			t.Fatalf("terminate the pool's connections: %d terminated, %v", killed, err)
		}
		if err := read.f(); err != nil {
			t.Errorf("%s after %d connections dropped: %v", read.name, killed, err)
		}
	}
	// A write is not retried, since it may have taken effect; it is
	// refused as unavailable instead of as an internal error.
	if _, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1`, schema); err != nil {
		t.Fatal(err)
	}
	a, pt := testAccount()
	if err := s.CreateAccount(t.Context(), a, pt); err != nil && !errors.Is(err, autho.ErrUnavailable) {
		t.Errorf("CreateAccount on a dropped connection: %v, want success or ErrUnavailable", err)
	}
}

// TestQueryTimeout: a call stuck behind the server (here, a row lock held
// by another session) ends at QueryTimeout as ErrUnavailable.
func TestQueryTimeout(t *testing.T) {
	u, _ := mustSchema(t)
	setup := mustOpen(t, u, Options{})
	if err := setup.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	a, pt := testAccount()
	if err := setup.CreateAccount(t.Context(), a, pt); err != nil {
		t.Fatal(err)
	}
	const timeout = 500 * time.Millisecond
	s := mustOpen(t, u, Options{AcquireTimeout: timeout, QueryTimeout: timeout})
	_ = s.Ping(t.Context()) // warm a connection, so that the lock is what the call waits for
	locker := mustConn(t, u)
	tx, err := locker.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, a.ID); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_, err = s.UpdateAccount(t.Context(), a.ID, func(*autho.Account) error { return nil })
	took := time.Since(began)
	if !errors.Is(err, autho.ErrUnavailable) {
		t.Errorf("UpdateAccount behind a lock = %v, want ErrUnavailable", err)
	}
	if took > timeout+3*time.Second {
		t.Errorf("UpdateAccount behind a lock took %v, want about %v", took, timeout)
	}
	// The timed-out call cost its connection, not the pool. The bound
	// here is short for a loaded machine, so allow a few tries.
	for try := 0; ; try++ {
		_, err := s.Account(t.Context(), a.ID)
		if err == nil {
			break
		}
		if try == 20 {
			t.Fatalf("Account after a timed-out call: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestMigrateProgress(t *testing.T) {
	u, _ := mustSchema(t)
	storetest.TestMigrateProgress(t, mustOpen(t, u, Options{}), migrations.Postgres)
}

// One invitation used, and one expiry noticed, on two nodes at once: each
// once.
func TestStore_InvitationAcrossStores(t *testing.T) {
	nodes := twoNodes(t)
	storetest.TestInvitationAcrossStores(t, nodes[0], nodes[1])
}
