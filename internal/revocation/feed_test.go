package revocation_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/pgtest"
	"github.com/autho/autho/internal/postgres"
	"github.com/autho/autho/internal/revocation"
	"github.com/autho/autho/internal/signer"
	"github.com/autho/autho/internal/sqlite"
)

// clock is the one clock of a test's changes and its feed.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// store is a store the feed reads and the rules change.
type store interface {
	autho.Store
	revocation.Source
	Migrate(context.Context) error
}

// backends opens a fresh, migrated database of each kind.
var backends = []struct {
	name string
	open func(tb testing.TB) store
}{
	{"sqlite", func(tb testing.TB) store {
		st, err := sqlite.Open(filepath.Join(tb.TempDir(), "autho.db"))
		if err != nil {
			tb.Fatal(err)
		}
		return st
	}},
	{"postgres", func(tb testing.TB) store {
		url, _ := pgtest.Schema(tb, "revocation_")
		st, err := postgres.Open(context.Background(), url, postgres.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		return st
	}},
}

// env is a feed on a real store, changed through the rules the CLI and
// the admin API use, all on one clock.
type env struct {
	tb    testing.TB
	ctx   context.Context
	clock *clock
	st    store
	keys  *signer.Keyring
	svc   *admin.Service
	feed  *revocation.Feed
}

const ttl = 24 * time.Hour

func newEnv(tb testing.TB, open func(testing.TB) store) *env {
	tb.Helper()
	st := open(tb)
	tb.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	c := &clock{t: time.Now().UTC().Truncate(time.Second).Add(300 * time.Millisecond)}
	sealer, err := signer.NewSealer(make([]byte, signer.MasterKeyLen))
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := signer.NewKeyring(st, sealer, signer.Options{Algorithm: signer.ES256, TokenTTL: ttl, Now: c.Now})
	if err != nil {
		tb.Fatal(err)
	}
	if err := keys.EnsureKey(ctx); err != nil {
		tb.Fatal(err)
	}
	feed, err := revocation.New(st, keys, revocation.Config{Issuer: "http://autho.test", Window: revocation.Window(ttl), Now: c.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return &env{tb: tb, ctx: ctx, clock: c, st: st, keys: keys, svc: &admin.Service{Store: st, Now: c.Now}, feed: feed}
}

// forEach runs f on a fresh env of each backend.
func forEach(t *testing.T, f func(t *testing.T, e *env)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, newEnv(t, b.open)) })
	}
}

func (e *env) must(err error, what string) {
	e.tb.Helper()
	if err != nil {
		e.tb.Fatalf("%s: %v", what, err)
	}
}

type thing struct{ account, user, token string }

// newThing makes an account with one user holding one API token.
func (e *env) newThing(n int) thing {
	e.tb.Helper()
	a, _, err := e.svc.CreateAccount(e.ctx, by, fmt.Sprintf("A%d", n), e.clock.Now().Add(365*24*time.Hour))
	e.must(err, "create account")
	u, _, err := e.svc.CreateUser(e.ctx, by, a.ID, fmt.Sprintf("u%d@example.com", n), autho.RoleAdmin, "")
	e.must(err, "create user")
	tok, _, err := e.svc.CreateToken(e.ctx, by, admin.NewToken{User: u.ID, Name: "t", ExpiresAt: e.clock.Now().Add(30 * 24 * time.Hour)})
	e.must(err, "create token")
	return thing{a.ID, u.ID, tok.ID}
}

var by = autho.OperatorCLI

// read parses the current document, checking its signature with the
// keyring's published key.
func (e *env) read() (*bearer.RevocationList, *jwt.Token) {
	e.tb.Helper()
	d := e.feed.Current()
	if d == nil {
		e.tb.Fatal("no document")
	}
	l := new(bearer.RevocationList)
	tok, err := jwt.NewParser(jwt.WithTimeFunc(e.clock.Now)).ParseWithClaims(string(d.Body), l, func(t *jwt.Token) (any, error) {
		_, k, ok := e.keys.VerificationKey(t.Header["kid"].(string))
		if !ok {
			return nil, fmt.Errorf("unknown kid")
		}
		return k, nil
	})
	if err != nil {
		e.tb.Fatalf("the document does not verify: %v", err)
	}
	return l, tok
}

func (e *env) refresh(want bool, what string) {
	e.tb.Helper()
	built, err := e.feed.Refresh(e.ctx)
	e.must(err, what)
	if built != want {
		e.tb.Fatalf("%s: built %v, want %v", what, built, want)
	}
}

// TestFeed_BuiltOnChange: a document is built when the store's version
// moves, or once a minute; otherwise the same one is served. Reactivation
// keeps the entries, which leave only once no JWT they refuse can live.
func TestFeed_BuiltOnChange(t *testing.T) { forEach(t, testBuiltOnChange) }

func testBuiltOnChange(t *testing.T, e *env) {
	a, b, c := e.newThing(1), e.newThing(2), e.newThing(3)
	e.refresh(true, "first")
	l, tok := e.read()
	if len(l.Revoked) != 0 || tok.Header["typ"] != bearer.RevocationsType || l.Issuer != "http://autho.test" ||
		!l.ExpiresAt.Equal(l.IssuedAt.Add(revocation.Lifetime)) {
		t.Fatalf("first document %+v, header %v", l, tok.Header)
	}
	first := e.feed.Current()
	e.clock.Add(10 * time.Second)
	e.refresh(false, "nothing changed")
	if e.feed.Current() != first {
		t.Fatal("the document was replaced though nothing changed")
	}

	changed := e.clock.Now()
	_, err := e.svc.Revoke(e.ctx, by, a.token)
	e.must(err, "revoke")
	_, err = e.svc.DeactivateUser(e.ctx, by, b.user)
	e.must(err, "deactivate")
	_, err = e.svc.Suspend(e.ctx, by, c.account)
	e.must(err, "suspend")
	e.refresh(true, "after the changes")
	l, _ = e.read()
	want := []bearer.Revocation{
		{Kind: bearer.RevokedAccount, ID: c.account, NotBefore: changed.Unix() + 1},
		{Kind: bearer.RevokedToken, ID: a.token, NotBefore: bearer.RevokedForever},
		{Kind: bearer.RevokedUser, ID: b.user, NotBefore: changed.Unix() + 1},
	}
	if fmt.Sprint(l.Revoked) != fmt.Sprint(want) {
		t.Fatalf("entries %+v, want %+v", l.Revoked, want)
	}
	if e.feed.Current().ETag == first.ETag {
		t.Fatal("same ETag for another document")
	}

	e.clock.Add(time.Hour)
	_, err = e.svc.ActivateUser(e.ctx, by, b.user)
	e.must(err, "activate")
	_, err = e.svc.Reactivate(e.ctx, by, c.account)
	e.must(err, "reactivate")
	e.refresh(true, "after reactivation")
	if l, _ = e.read(); fmt.Sprint(l.Revoked) != fmt.Sprint(want) {
		t.Fatalf("after reactivation %+v, want the same entries %+v", l.Revoked, want)
	}
	held := e.feed.Current()
	e.clock.Add(revocation.ResignEvery)
	e.refresh(true, "a minute later")
	if l, _ = e.read(); e.feed.Current().ETag == held.ETag || fmt.Sprint(l.Revoked) != fmt.Sprint(want) {
		t.Fatalf("re-signed document: %+v", l)
	}

	// The window after the change: a JWT of ttl issued just before it,
	// and the most leeway a verifier allows, are both over.
	e.clock.Add(revocation.Window(ttl) - time.Hour - revocation.ResignEvery + time.Second)
	e.refresh(true, "past the window")
	if l, _ = e.read(); len(l.Revoked) != 0 {
		t.Fatalf("past the window: %+v", l.Revoked)
	}
}

// TestFeed_AccountEnded: an account whose end the operator moved to now
// is listed from then, since its JWTs issued before (capped at the old
// end) may still be alive.
func TestFeed_AccountEnded(t *testing.T) { forEach(t, testAccountEnded) }

func testAccountEnded(t *testing.T, e *env) {
	a := e.newThing(1)
	ended := e.clock.Now()
	_, err := e.st.UpdateAccount(e.ctx, a.account, func(acc *autho.Account) error { acc.ExpiresAt = ended; return nil })
	e.must(err, "end account")
	e.refresh(true, "after the end")
	l, _ := e.read()
	if len(l.Revoked) != 1 || l.Revoked[0] != (bearer.Revocation{Kind: bearer.RevokedAccount, ID: a.account, NotBefore: ended.Unix() + 1}) {
		t.Fatalf("entries %+v", l.Revoked)
	}
}

// TestEntries: the feed's rule on the store's facts.
func TestEntries(t *testing.T) {
	at := time.Date(2026, 12, 8, 2, 0, 0, 999_000_000, time.UTC)
	for _, tc := range []struct {
		name  string
		facts []autho.Revocation
		want  string
	}{
		{"none", nil, "[]"},
		{"token: forever", []autho.Revocation{{Kind: autho.RevokedToken, ID: "tok_1", At: at}},
			fmt.Sprintf("[{token tok_1 %d}]", bearer.RevokedForever)},
		{"user: the second after", []autho.Revocation{{Kind: autho.RevokedUser, ID: "usr_1", At: at}},
			fmt.Sprintf("[{user usr_1 %d}]", at.Unix()+1)},
		{"account twice: the later", []autho.Revocation{
			{Kind: autho.RevokedAccount, ID: "acc_1", At: at.Add(time.Hour)},
			{Kind: autho.RevokedAccount, ID: "acc_1", At: at},
		}, fmt.Sprintf("[{account acc_1 %d}]", at.Add(time.Hour).Unix()+1)},
		{"sorted by kind and id", []autho.Revocation{
			{Kind: autho.RevokedUser, ID: "usr_2", At: at},
			{Kind: autho.RevokedUser, ID: "usr_1", At: at},
			{Kind: autho.RevokedAccount, ID: "acc_9", At: at},
		}, fmt.Sprintf("[{account acc_9 %[1]d} {user usr_1 %[1]d} {user usr_2 %[1]d}]", at.Unix()+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(revocation.Entries(tc.facts)); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	// The store's kinds are the wire's.
	if string(autho.RevokedToken) != bearer.RevokedToken || string(autho.RevokedUser) != bearer.RevokedUser ||
		string(autho.RevokedAccount) != bearer.RevokedAccount {
		t.Fatal("kinds differ between autho and bearer")
	}
}

// BenchmarkFeed_Build measures a rebuild with 10,000 revoked tokens on
// each backend (reading the facts, the rule, signing) and reports the
// document's size.
func BenchmarkFeed_Build(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			e := newEnv(b, be.open)
			th := e.newThing(0)
			const n = 10000
			for range n {
				tok, _, err := e.svc.CreateToken(e.ctx, by, admin.NewToken{User: th.user, Name: "t", ExpiresAt: e.clock.Now().Add(24 * time.Hour)})
				e.must(err, "create token")
				_, err = e.svc.Revoke(e.ctx, by, tok.ID)
				e.must(err, "revoke")
			}
			for b.Loop() {
				e.clock.Add(revocation.ResignEvery) // so that every Refresh builds
				if built, err := e.feed.Refresh(e.ctx); err != nil || !built {
					b.Fatal(built, err)
				}
			}
			d := e.feed.Current()
			if d.Entries != n {
				b.Fatalf("%d entries, want %d", d.Entries, n)
			}
			b.ReportMetric(float64(len(d.Body)), "feed-bytes")
			b.ReportMetric(float64(len(d.Gzip)), "gzip-bytes")
		})
	}
}
