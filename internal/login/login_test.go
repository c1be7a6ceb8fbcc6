package login_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/secret"
)

// flip changes a secret's last (checksum) character.
func flip(s string) string {
	last := byte('a')
	if s[len(s)-1] == 'a' {
		last = 'b'
	}
	return s[:len(s)-1] + string(last)
}

// TestLogin_RefusalTable walks the contract's refusal table on each backend:
// every code, and pairs of failing conditions that show its order (the
// first that applies answers). cmd/autho's TestLogin_ErrorTable asks the
// same over HTTP, as a smoke test.
func TestLogin_RefusalTable(t *testing.T) { forEachBackend(t, testRefusalTable) }

func testRefusalTable(t *testing.T, open backend) {
	f := newFixture(t, open, 0)
	ctx := t.Context()
	adm := &admin.Service{Store: f.store, Now: func() time.Time { return start.Add(-time.Hour) }}
	past, future := start.Add(-time.Hour), start.Add(time.Hour)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	suspend := func(p partner) partner { must(adm.Suspend(ctx, autho.OperatorCLI, p.AccountID)); return p }
	revoke := func(p partner) partner { must(adm.Revoke(ctx, autho.OperatorCLI, p.TokenID)); return p }
	deactivate := func(p partner) partner { must(adm.DeactivateUser(ctx, autho.OperatorCLI, p.UserID)); return p }
	// rotate gives p's account a new partner token and returns p holding
	// the old one, which ends after grace.
	rotate := func(p partner, grace time.Duration) (old, next partner) {
		_, plain, _, err := adm.RotatePartnerToken(ctx, autho.OperatorCLI, p.AccountID, grace)
		must(nil, err)
		next = p
		next.PartnerToken = plain
		return p, next
	}

	good := f.goodPartner(t)
	other := f.goodPartner(t)
	expiredAcc := f.newPartner(t, past, future)
	suspended := suspend(f.goodPartner(t))
	suspendedExpired := suspend(f.newPartner(t, past, future))
	revoked := revoke(f.newToken(t, good, future, nil))
	revokedExpired := revoke(f.newToken(t, good, past, nil))
	expiredTok := f.newToken(t, good, past, nil)
	otherExpiredTok := f.newToken(t, other, past, nil)
	otherRevokedTok := revoke(f.newToken(t, other, future, nil))
	deactivated := deactivate(f.goodPartner(t))
	deactivatedExpiredTok := f.newToken(t, deactivated, past, nil)
	rotatedOut, rotatedIn := rotate(f.goodPartner(t), 0)
	inGrace, _ := rotate(f.goodPartner(t), 2*time.Hour)
	expiredRotatedOut, _ := rotate(f.newPartner(t, past, future), 0)
	unknownAPI := secret.New(secret.APIToken)
	unknownPtn := secret.New(secret.PartnerToken)

	for _, tc := range []struct {
		name     string
		api, ptn string
		code     string
	}{
		{"00 ok", good.APIToken, good.PartnerToken, "00"},
		{"00 partner token rotated in", rotatedIn.APIToken, rotatedIn.PartnerToken, "00"},
		{"00 partner token rotated out, in its grace", inGrace.APIToken, inGrace.PartnerToken, "00"},
		{"02 partner token malformed", good.APIToken, "nope", "02"},
		{"02 partner token bad checksum", good.APIToken, flip(good.PartnerToken), "02"},
		{"02 partner token unknown", good.APIToken, unknownPtn, "02"},
		{"02 API token in the partner field", good.APIToken, good.APIToken, "02"},
		{"02 partner token rotated out, grace over", rotatedOut.APIToken, rotatedOut.PartnerToken, "02"},
		{"02 before 03: rotated-out partner token of an expired account", expiredRotatedOut.APIToken, expiredRotatedOut.PartnerToken, "02"},
		{"03 account expired", expiredAcc.APIToken, expiredAcc.PartnerToken, "03"},
		{"03 before 04: expired account, unknown API token", unknownAPI, expiredAcc.PartnerToken, "03"},
		{"03 before 07: account expired and suspended", suspendedExpired.APIToken, suspendedExpired.PartnerToken, "03"},
		{"07 account suspended", suspended.APIToken, suspended.PartnerToken, "07"},
		{"07 before 04: suspended account, malformed API token", "x", suspended.PartnerToken, "07"},
		{"04 API token malformed", "autho_api_short", good.PartnerToken, "04"},
		{"04 API token bad checksum", flip(good.APIToken), good.PartnerToken, "04"},
		{"04 API token unknown", unknownAPI, good.PartnerToken, "04"},
		{"04 partner token in the API field", good.PartnerToken, good.PartnerToken, "04"},
		{"04 API token revoked", revoked.APIToken, good.PartnerToken, "04"},
		{"04 before 05: API token revoked and expired", revokedExpired.APIToken, good.PartnerToken, "04"},
		{"04 before 06: revoked token of another account", otherRevokedTok.APIToken, good.PartnerToken, "04"},
		{"06 API token of another account", other.APIToken, good.PartnerToken, "06"},
		{"06 before 05: expired token of another account", otherExpiredTok.APIToken, good.PartnerToken, "06"},
		{"05 API token expired", expiredTok.APIToken, good.PartnerToken, "05"},
		{"05 before 07: expired token of a deactivated user", deactivatedExpiredTok.APIToken, deactivated.PartnerToken, "05"},
		{"07 user deactivated", deactivated.APIToken, deactivated.PartnerToken, "07"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Login(ctx, login.Credentials{APIToken: tc.api, PartnerToken: tc.ptn}, "192.0.2.1")
			wantCode(t, err, tc.code)
		})
	}
}

// TestLogin_ChangeRefusedAtOnce: a change made by the operator is refused on
// the very next login, on every node: here two Services, each on its own
// handle on one database, the change made through the first.
func TestLogin_ChangeRefusedAtOnce(t *testing.T) { forEachBackend(t, testChangeRefusedAtOnce) }

func testChangeRefusedAtOnce(t *testing.T, open backend) {
	f := newFixture(t, open, 0)
	ctx := t.Context()
	second := f.reopen()
	nodes := []*login.Service{f.svc, f.service(second, mustKeyring(t, second, true), nil)}
	adm := &admin.Service{Store: f.store, Now: func() time.Time { return start }}
	for _, tc := range []struct {
		name   string
		change func(p partner) error
		code   string
	}{
		{"04 after the API token is revoked", func(p partner) error { _, err := adm.Revoke(ctx, autho.OperatorCLI, p.TokenID); return err }, "04"},
		{"07 after the account is suspended", func(p partner) error { _, err := adm.Suspend(ctx, autho.OperatorCLI, p.AccountID); return err }, "07"},
		{"07 after the user is deactivated", func(p partner) error { _, err := adm.DeactivateUser(ctx, autho.OperatorCLI, p.UserID); return err }, "07"},
		{"02 after the partner token is rotated", func(p partner) error {
			_, _, _, err := adm.RotatePartnerToken(ctx, autho.OperatorCLI, p.AccountID, 0)
			return err
		}, "02"},
		{"03 after the account's expiry is moved to now", func(p partner) error {
			_, err := f.store.UpdateAccount(ctx, p.AccountID, func(a *autho.Account) error { a.ExpiresAt = start; return nil })
			return err
		}, "03"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.goodPartner(t)
			for _, n := range nodes {
				if _, err := n.Login(ctx, p.creds(), "192.0.2.1"); err != nil {
					t.Fatalf("login before the change: %v", err)
				}
			}
			if err := tc.change(p); err != nil {
				t.Fatal(err)
			}
			for i, n := range nodes {
				_, err := n.Login(ctx, p.creds(), "192.0.2.1")
				if ae, ok := err.(*autho.Error); !ok || ae.Code != tc.code {
					t.Fatalf("node %d: err = %v, want %s", i+1, err, tc.code)
				}
			}
		})
	}
}

// TestLogin_JWT: a login's JWT and Result. Its exp is the TTL's, capped by
// the account's and the API token's expiries, in whole seconds rounded down;
// scope is the token's scopes, absent without any.
func TestLogin_JWT(t *testing.T) { forEachBackend(t, testJWT) }

func testJWT(t *testing.T, open backend) {
	f := newFixture(t, open, 0)
	ctx := t.Context()
	day := 24 * time.Hour
	for _, tc := range []struct {
		name                   string
		accountEnds, tokenEnds time.Time
		scopes                 []string
		exp                    time.Time
		scope                  string
	}{
		{"the TTL", start.Add(30 * day), start.Add(30 * day), nil, start.Add(day), ""},
		{"capped by the API token", start.Add(30 * day), start.Add(time.Hour), nil, start.Add(time.Hour), ""},
		{"capped by the account", start.Add(2 * time.Hour), start.Add(30 * day), nil, start.Add(2 * time.Hour), ""},
		{"whole seconds, rounded down", start.Add(30 * day), start.Add(time.Hour + 999999*time.Microsecond), nil, start.Add(time.Hour), ""},
		{"scopes", start.Add(30 * day), start.Add(30 * day), []string{"orders:read", "orders:write"}, start.Add(day), "orders:read orders:write"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.newPartner(t, tc.accountEnds, start.Add(time.Hour))
			p = f.newToken(t, p, tc.tokenEnds, tc.scopes)
			res, err := f.svc.Login(ctx, p.creds(), "192.0.2.1")
			if err != nil {
				t.Fatal(err)
			}
			if !res.ExpiresAt.Equal(tc.exp) || res.TokenID != p.TokenID || res.AccountID != p.AccountID {
				t.Fatalf("result %+v, want exp %v, token %s, account %s", res, tc.exp, p.TokenID, p.AccountID)
			}
			c := jwt.MapClaims{}
			if _, _, err := jwt.NewParser().ParseUnverified(res.Token, c); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"iss": "http://x", "aud": "autho", "sub": p.UserID, "acc": p.AccountID, "tok": p.TokenID,
				"iat": float64(start.Unix()), "nbf": float64(start.Unix()), "exp": float64(tc.exp.Unix())}
			for k, v := range want {
				if c[k] != v {
					t.Errorf("claim %s = %v, want %v", k, c[k], v)
				}
			}
			if got, _ := c["scope"].(string); got != tc.scope {
				t.Errorf("scope = %q, want %q", got, tc.scope)
			}
			if _, ok := c["scope"]; ok != (tc.scope != "") {
				t.Errorf("scope claim present: %v, want %v", ok, tc.scope != "")
			}
		})
	}
}

// TestLogin_SignerFails: a pair that passes the table but cannot be signed
// is an error, not a refusal, and spends no rate-limit token.
func TestLogin_SignerFails(t *testing.T) {
	f := newFixture(t, openSQLite, 1)
	p := f.goodPartner(t)
	svc := f.service(f.store, mustKeyring(t, f.store, false), login.NewLimiter(1))
	for range 2 {
		_, err := svc.Login(t.Context(), p.creds(), "192.0.2.1")
		var ae *autho.Error
		if err == nil || errors.As(err, &ae) || errors.Is(err, autho.ErrTooManyRequests) {
			t.Fatalf("err = %v, want the signer's error", err)
		}
	}
}

// TestLogin_BadChecksumTouchesNoDatabase closes the store, then logs in with
// a partner token one checksum character off: the answer is still 02, which
// it could not be if the store had been read (a closed store errors).
func TestLogin_BadChecksumTouchesNoDatabase(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open backend) {
		f := newFixture(t, open, 0)
		p := f.goodPartner(t)
		ctx := context.Background()
		if _, err := f.svc.Login(ctx, p.creds(), "127.0.0.1"); err != nil {
			t.Fatalf("good login: %v", err)
		}
		f.store.Close()
		bad := p.PartnerToken[:len(p.PartnerToken)-1] + string(p.PartnerToken[len(p.PartnerToken)-1]^1)
		_, err := f.svc.Login(ctx, login.Credentials{APIToken: p.APIToken, PartnerToken: bad}, "127.0.0.1")
		if err != autho.ErrInvalidPartnerToken {
			t.Fatalf("bad checksum: %v, want 02 without a database read", err)
		}
		// And the control: a well-formed token does reach the (closed) store.
		_, err = f.svc.Login(ctx, p.creds(), "127.0.0.1")
		var ae *autho.Error
		if err == nil || errors.As(err, &ae) {
			t.Fatalf("well-formed token on a closed store: %v, want a store error", err)
		}
	})
}

// TestLogin_RateLimit: refusals spend the IP's and the partner token's
// buckets; once empty, even correct logins from that IP or with that
// partner token wait, while another IP with another partner is untouched.
func TestLogin_RateLimit(t *testing.T) {
	f := newFixture(t, openSQLite, 3)
	p := f.goodPartner(t)
	ctx := context.Background()
	good := p.creds()
	wrongAPI := login.Credentials{APIToken: "autho_api_x", PartnerToken: p.PartnerToken}
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
	forEachBackend(t, func(t *testing.T, open backend) {
		f := newFixture(t, open, 0)
		p := f.goodPartner(t)
		ctx := context.Background()
		if _, err := f.svc.Login(ctx, p.creds(), "192.0.2.7"); err != nil {
			t.Fatal(err)
		}
		tok, _ := f.store.APIToken(ctx, p.TokenID)
		if !tok.LastUsedAt.IsZero() {
			t.Fatal("last-used written on the login path")
		}
		if err := f.usage.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		tok, _ = f.store.APIToken(ctx, p.TokenID)
		if tok.LastUsedAt.IsZero() || tok.LastUsedIP != "192.0.2.7" {
			t.Fatalf("after flush: %v %q", tok.LastUsedAt, tok.LastUsedIP)
		}
	})
}

// TestLogin_Scoped: LoginScoped narrows the JWT's scope claim to the scopes
// asked, in the token's order; none asked is all of them; a scope the token
// lacks is ErrInvalidScope, after the whole refusal table (a refused pair
// gets its refusal, whatever it asks), and spends nothing of the rate limit.
func TestLogin_Scoped(t *testing.T) {
	f := newFixture(t, openSQLite, 1)
	ctx := t.Context()
	p := f.goodPartner(t)
	p = f.newToken(t, p, start.Add(time.Hour), []string{"a", "b", "c"})
	bare := f.newToken(t, p, start.Add(time.Hour), nil)
	for i, tc := range []struct {
		name   string
		creds  login.Credentials
		asked  []string
		scope  string
		err    error
		refuse *autho.Error
	}{
		{name: "none asked: all", creds: p.creds(), scope: "a b c"},
		{name: "narrowed, in the token's order", creds: p.creds(), asked: []string{"c", "a"}, scope: "a c"},
		{name: "asked twice", creds: p.creds(), asked: []string{"b", "b"}, scope: "b"},
		{name: "one the token lacks", creds: p.creds(), asked: []string{"a", "z"}, err: login.ErrInvalidScope},
		{name: "any, of a token without scopes", creds: bare.creds(), asked: []string{"a"}, err: login.ErrInvalidScope},
		{name: "none, of a token without scopes", creds: bare.creds(), scope: ""},
		{name: "a refusal first", creds: p.withAPI("autho_api_x"), asked: []string{"z"}, refuse: autho.ErrInvalidAPIToken},
	} {

		t.Run(tc.name, func(t *testing.T) {
			// Each case tries twice, from an IP of its own, with a limit
			// of 1: the second try's answer shows that ErrInvalidScope
			// spent nothing (of the IP's bucket nor the partner token's).
			ip := "192.0.2." + strconv.Itoa(i+1)
			for range 2 {
				res, err := f.svc.LoginScoped(ctx, tc.creds, tc.asked, ip)
				switch {
				case tc.refuse != nil:
					if !errors.Is(err, tc.refuse) && !errors.Is(err, autho.ErrTooManyRequests) {
						t.Fatalf("err = %v, want %v", err, tc.refuse)
					}
					return
				case tc.err != nil:
					if !errors.Is(err, tc.err) {
						t.Fatalf("err = %v, want %v", err, tc.err)
					}
					continue
				case err != nil:
					t.Fatal(err)
				}
				c := jwt.MapClaims{}
				if _, _, err := jwt.NewParser().ParseUnverified(res.Token, c); err != nil {
					t.Fatal(err)
				}
				if got, _ := c["scope"].(string); got != tc.scope || res.Scope != tc.scope {
					t.Fatalf("scope claim %q, result %q, want %q", got, res.Scope, tc.scope)
				}
				if !res.IssuedAt.Equal(start) {
					t.Fatalf("issued at %v", res.IssuedAt)
				}
			}
		})
	}
}
