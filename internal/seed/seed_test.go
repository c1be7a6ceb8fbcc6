package seed

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/pgtest"
	"github.com/autho/autho/internal/postgres"
	"github.com/autho/autho/internal/secret"
	"github.com/autho/autho/internal/sqlite"
)

func TestPlan_tokensOf(t *testing.T) {
	for _, tc := range []struct {
		plan Plan
		want []int
	}{
		{Plan{Accounts: 3, Tokens: 10}, []int{4, 3, 3}},
		{Plan{Accounts: 1, Tokens: 5}, []int{5}},
		{Plan{Accounts: 4, Tokens: 2}, []int{1, 1, 0, 0}},
		{Plan{Accounts: 2, Tokens: 6}, []int{3, 3}},
	} {
		var got []int
		for k := range tc.plan.Accounts {
			got = append(got, tc.plan.tokensOf(k))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%+v: tokens per account %v, want %v", tc.plan, got, tc.want)
		}
	}
}

// seedStore is the autho.Store with the bulk path of each backend.
type seedStore interface {
	autho.Store
	Store
}

// backends open an empty, migrated store of each kind.
var backends = []struct {
	name string
	open func(t *testing.T) seedStore
}{
	{"sqlite", func(t *testing.T) seedStore {
		st, err := sqlite.Open(filepath.Join(t.TempDir(), "autho.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return st
	}},
	{"postgres", func(t *testing.T) seedStore {
		url, _ := pgtest.Schema(t, "autho_seed_")
		st, err := postgres.Open(context.Background(), url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return st
	}},
}

// TestRun: on each backend, Run stores what it counts, writes one pair per
// token whose two secrets are the stored token's and its account's, and
// tells progress of the end once.
func TestRun(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			var out bytes.Buffer
			var heard []Result
			dones := 0
			res, err := Run(ctx, st, Plan{Accounts: 3, Tokens: 10}, &out, func(r Result, done bool) {
				heard = append(heard, r)
				if done {
					dones++
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := (Result{Accounts: 3, Users: 3, Tokens: 10}); res != want || dones != 1 || heard[len(heard)-1] != want {
				t.Fatalf("Run = %+v, progress heard %+v with %d ends; want %+v, one end", res, heard, dones, want)
			}

			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			perAccount := map[string]int{}
			for i, l := range lines {
				api, ptn, ok := strings.Cut(l, " ")
				if !ok || secret.Check(secret.APIToken, api) != nil || secret.Check(secret.PartnerToken, ptn) != nil {
					t.Fatalf("line %d is not an api_token partner_token pair", i+1)
				}
				tok, err := st.APICredential(ctx, secret.Hash(api))
				if err != nil {
					t.Fatalf("line %d: the API token is not stored: %v", i+1, err)
				}
				partner, err := st.PartnerCredential(ctx, secret.Hash(ptn))
				if err != nil {
					t.Fatalf("line %d: the partner token is not stored: %v", i+1, err)
				}
				if tok.Token.AccountID != partner.Account.ID || !tok.UserActive {
					t.Fatalf("line %d: token of account %s, partner token of %s", i+1, tok.Token.AccountID, partner.Account.ID)
				}
				if !strings.HasPrefix(partner.Account.Name, NamePrefix) || partner.Account.ExpiresAt.Before(time.Now().Add(364*24*time.Hour)) {
					t.Fatalf("line %d: account %q expiring %v", i+1, partner.Account.Name, partner.Account.ExpiresAt)
				}
				perAccount[partner.Account.ID]++
			}
			counts := slices.Sorted(maps.Values(perAccount))
			if len(lines) != 10 || !slices.Equal(counts, []int{3, 3, 4}) {
				t.Fatalf("%d lines, tokens per account %v; want 10 lines as 3, 3, 4", len(lines), counts)
			}
			if n, err := Foreign(ctx, st); err != nil || n != 0 {
				t.Fatalf("Foreign = %d, %v after a seed, want 0", n, err)
			}
		})
	}
}

// TestForeign: an account seed did not make counts, whatever its name
// holds after the start.
func TestForeign(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st := b.open(t)
			now := time.Now().UTC().Truncate(time.Microsecond)
			for i, n := range []string{NamePrefix + "x-000001", "Real Partner", "a " + NamePrefix} {
				acc := &autho.Account{ID: secret.NewID("acc"), Name: n, Status: autho.AccountActive,
					ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
				ptn := secret.New(secret.PartnerToken)
				pt := &autho.PartnerToken{ID: secret.NewID("ptk"), AccountID: acc.ID, Hash: secret.Hash(ptn), Hint: secret.Hint(ptn), CreatedAt: now}
				if err := st.CreateAccount(ctx, acc, pt); err != nil {
					t.Fatalf("account %d: %v", i, err)
				}
			}
			if n, err := Foreign(ctx, st); err != nil || n != 2 {
				t.Fatalf("Foreign = %d, %v; want 2", n, err)
			}
		})
	}
}

// failingWriter refuses every write, like a full disk.
type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// TestRun_WriteFails: a batch whose lines cannot be written stops the seed
// with the writer's error, its rows already committed, and is not counted.
func TestRun_WriteFails(t *testing.T) {
	st := backends[0].open(t)
	full := errors.New("no space left on device")
	res, err := Run(context.Background(), st, Plan{Accounts: 2, Tokens: 3}, failingWriter{full}, func(Result, bool) {
		t.Error("progress heard of a batch whose lines were not written")
	})
	if !errors.Is(err, full) {
		t.Fatalf("Run = %v, want the writer's error", err)
	}
	if res != (Result{}) {
		t.Fatalf("Run counted %+v, want nothing written", res)
	}
	if n, err := Foreign(context.Background(), st); err != nil || n != 0 {
		t.Fatalf("Foreign = %d, %v", n, err)
	}
	accts, err := st.Accounts(context.Background())
	if err != nil || len(accts) != 2 {
		t.Fatalf("%d accounts stored, %v; want the batch's 2, committed before the write", len(accts), err)
	}
}
