// Package seed makes load-test data in bulk: accounts, each with one user
// and a partner token, and API tokens spread evenly over them, with one
// "api_token partner_token" line per token for the load generator. It is
// what "autho dev seed" runs; nothing on a server's path uses it.
//
// Seeded data is recognisable and harmless: accounts are named
// NamePrefix + "<run>-<n>", users' emails end in "@devseed.invalid" and
// they have no password (an empty hash matches nothing, and a million
// argon2 hashes would take hours), accounts and tokens expire a year after
// the seed and carry no scopes.
package seed

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// NamePrefix starts the name of every account seed makes. It is how dev
// seed recognises a database it may write to, and how a person recognises
// load-test accounts in "autho account list".
const NamePrefix = "devseed-"

// Batch sizes. Token ids and hashes are random, so every commit writes
// index pages from all over the file: fewer, larger transactions write far
// less (bench/RESULTS.md has the seed's time at a million tokens). A batch
// of 100,000 holds some 50 MiB of rows and secrets.
const (
	batchTokens   = 100_000
	batchAccounts = 2_000
)

// term is how long seeded accounts and tokens stay valid: long enough for
// any load test, without the special cases of "never".
const term = 365 * 24 * time.Hour

// Store is the bulk path seed needs below autho.Store: the Store's
// one-row-per-call creates would take hours for a million tokens. Both
// backends implement it (seed.go in each).
type Store interface {
	// CountAccountsNotNamed counts the accounts whose name does not start
	// with prefix.
	CountAccountsNotNamed(ctx context.Context, prefix string) (int, error)
	// InsertBulk stores the rows in one transaction, in argument order.
	InsertBulk(ctx context.Context, accounts []*autho.Account, partners []*autho.PartnerToken,
		users []*autho.User, tokens []*autho.APIToken) error
}

// Foreign counts the accounts of st that seed did not make.
func Foreign(ctx context.Context, st Store) (int, error) {
	return st.CountAccountsNotNamed(ctx, NamePrefix)
}

// Plan is what to make: Tokens spread over Accounts, the first
// Tokens%Accounts accounts getting one more. Both must be positive.
type Plan struct{ Accounts, Tokens int }

func (p Plan) tokensOf(k int) int {
	n := p.Tokens / p.Accounts
	if k < p.Tokens%p.Accounts {
		n++
	}
	return n
}

// Result counts what is committed.
type Result struct {
	Accounts int `json:"accounts"`
	Users    int `json:"users"`
	Tokens   int `json:"tokens"`
}

// batch is one transaction's rows, and the lines to write once it commits.
type batch struct {
	accounts []*autho.Account
	partners []*autho.PartnerToken
	users    []*autho.User
	tokens   []*autho.APIToken
	lines    []string
}

// Run makes plan's rows in st and writes to w one "api_token
// partner_token" line per token, each batch's lines once its rows are
// committed, so that w holds the secrets of every committed row even when
// Run fails. progress hears the counts after each batch, and once more
// (done) at the end. The rows are made in one goroutine while this one
// inserts the previous batch, so that generating and hashing secrets
// overlaps with the database's work.
func Run(ctx context.Context, st Store, plan Plan, w io.Writer, progress func(r Result, done bool)) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *batch, 1)
	go func() {
		defer close(batches)
		makeBatches(ctx, plan, time.Now().UTC().Truncate(time.Microsecond), batches)
	}()
	bw := bufio.NewWriterSize(w, 1<<20)
	var res Result
	for b := range batches {
		if err := st.InsertBulk(ctx, b.accounts, b.partners, b.users, b.tokens); err != nil {
			return res, err
		}
		for _, l := range b.lines {
			bw.WriteString(l)
		}
		if err := bw.Flush(); err != nil {
			return res, err
		}
		res.Accounts += len(b.accounts)
		res.Users += len(b.users)
		res.Tokens += len(b.tokens)
		progress(res, false)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	progress(res, true)
	return res, nil
}

// makeBatches sends the plan's rows in batches of about batchTokens
// tokens, each account before its user and tokens.
func makeBatches(ctx context.Context, plan Plan, now time.Time, batches chan<- *batch) {
	run := strings.ToLower(secret.Random(8)) // keeps names and emails unique across runs
	until := now.Add(term)
	b := &batch{}
	send := func() bool {
		select {
		case batches <- b:
			b = &batch{}
			return true
		case <-ctx.Done():
			return false
		}
	}
	for k := range plan.Accounts {
		ptn := secret.New(secret.PartnerToken)
		acc := &autho.Account{ID: secret.NewID("acc"), Name: fmt.Sprintf("%s%s-%06d", NamePrefix, run, k+1),
			Status: autho.AccountActive, ExpiresAt: until, CreatedAt: now, UpdatedAt: now}
		usr := &autho.User{ID: secret.NewID("usr"), AccountID: acc.ID,
			Email: fmt.Sprintf("u%06d-%s@devseed.invalid", k+1, run),
			Role:  autho.RoleMember, Active: true, CreatedAt: now, UpdatedAt: now}
		b.accounts = append(b.accounts, acc)
		b.partners = append(b.partners, &autho.PartnerToken{ID: secret.NewID("ptk"), AccountID: acc.ID,
			Hash: secret.Hash(ptn), Hint: secret.Hint(ptn), CreatedAt: now})
		b.users = append(b.users, usr)
		for range plan.tokensOf(k) {
			api := secret.New(secret.APIToken)
			b.tokens = append(b.tokens, &autho.APIToken{ID: secret.NewID("tok"), UserID: usr.ID, AccountID: acc.ID,
				Name: "seed", Hash: secret.Hash(api), Hint: secret.Hint(api), CreatedAt: now, ExpiresAt: until})
			b.lines = append(b.lines, api+" "+ptn+"\n")
			if len(b.tokens) >= batchTokens && !send() {
				return
			}
		}
		if len(b.accounts) >= batchAccounts && !send() {
			return
		}
	}
	if len(b.accounts) > 0 || len(b.tokens) > 0 {
		send()
	}
}
