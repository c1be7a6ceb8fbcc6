package login_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/signer"
	"github.com/autho/autho/internal/sqlite"
)

type fixture struct {
	store   *sqlite.Store
	svc     *login.Service
	api     string
	ptn     string
	usage   *login.Recorder
	tokenID string
}

func newFixture(t *testing.T, limit int) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "autho.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	sealer, _ := signer.NewSealer(make([]byte, 32))
	keys, err := signer.NewKeyring(st, sealer, signer.Options{Algorithm: "ES256", TokenTTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	adm := &admin.Service{Store: st}
	acc, ptn, err := adm.CreateAccount(ctx, "A", time.Now().Add(time.Hour*24*30))
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := adm.CreateUser(ctx, acc.ID, "a@example.com", autho.RoleMember, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, api, err := adm.CreateToken(ctx, admin.NewToken{User: u.ID, Name: "t", ExpiresAt: time.Now().Add(time.Hour), Operator: true})
	if err != nil {
		t.Fatal(err)
	}
	usage := login.NewRecorder(st, nil)
	svc := login.NewService(st, keys, login.NewLimiter(limit), usage, login.Config{Issuer: "http://x", Audience: "autho", TTL: 24 * time.Hour})
	return &fixture{store: st, svc: svc, api: api, ptn: ptn, usage: usage, tokenID: tok.ID}
}

// TestLogin_BadChecksumTouchesNoDatabase closes the store, then logs in with
// a partner token one checksum character off: the answer is still 02, which
// it could not be if the store had been read (a closed store errors).
func TestLogin_BadChecksumTouchesNoDatabase(t *testing.T) {
	f := newFixture(t, 0)
	ctx := context.Background()
	if _, err := f.svc.Login(ctx, login.Credentials{APIToken: f.api, PartnerToken: f.ptn}, "127.0.0.1"); err != nil {
		t.Fatalf("good login: %v", err)
	}
	f.store.Close()
	bad := f.ptn[:len(f.ptn)-1] + string(f.ptn[len(f.ptn)-1]^1)
	_, err := f.svc.Login(ctx, login.Credentials{APIToken: f.api, PartnerToken: bad}, "127.0.0.1")
	if err != autho.ErrInvalidPartnerToken {
		t.Fatalf("bad checksum: %v, want 02 without a database read", err)
	}
	// And the control: a well-formed token does reach the (closed) store.
	_, err = f.svc.Login(ctx, login.Credentials{APIToken: f.api, PartnerToken: f.ptn}, "127.0.0.1")
	var ae *autho.Error
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("well-formed token on a closed store: %v, want a store error", err)
	}
}

// TestLogin_RateLimit: refusals spend the IP's and the partner token's
// buckets; once empty, even correct logins from that IP or with that
// partner token wait, while another IP with another partner is untouched.
func TestLogin_RateLimit(t *testing.T) {
	f := newFixture(t, 3)
	ctx := context.Background()
	good := login.Credentials{APIToken: f.api, PartnerToken: f.ptn}
	wrongAPI := login.Credentials{APIToken: "autho_api_x", PartnerToken: f.ptn}
	for i := 0; i < 3; i++ {
		if _, err := f.svc.Login(ctx, wrongAPI, "10.0.0.1"); err != autho.ErrInvalidAPIToken {
			t.Fatalf("refusal %d: %v", i, err)
		}
	}
	if err := f.svc.CheckIP("10.0.0.1"); !errors.Is(err, autho.ErrTooManyRequests) {
		t.Fatalf("4th try from the IP: %v, want 429", err)
	}
	var rl *login.RateLimitError
	if _, err := f.svc.Login(ctx, good, "10.0.0.2"); !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.RetryAfter > 20*time.Second {
		t.Fatalf("partner token bucket empty: %v, want 429 with a Retry-After of about 20s", err)
	}
	if err := f.svc.CheckIP("10.0.0.3"); err != nil {
		t.Fatalf("another IP: %v", err)
	}
}

// TestRecorder_Flush: a successful login's use reaches the store at the next
// flush, and only the newest use per token is written.
func TestRecorder_Flush(t *testing.T) {
	f := newFixture(t, 0)
	ctx := context.Background()
	if _, err := f.svc.Login(ctx, login.Credentials{APIToken: f.api, PartnerToken: f.ptn}, "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	tok, _ := f.store.APIToken(ctx, f.tokenID)
	if !tok.LastUsedAt.IsZero() {
		t.Fatal("last-used written on the login path")
	}
	if err := f.usage.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	tok, _ = f.store.APIToken(ctx, f.tokenID)
	if tok.LastUsedAt.IsZero() || tok.LastUsedIP != "192.0.2.7" {
		t.Fatalf("after flush: %v %q", tok.LastUsedAt, tok.LastUsedIP)
	}
}
