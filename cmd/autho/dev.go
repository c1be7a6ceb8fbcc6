package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// seedNamePrefix starts the name of every account dev seed makes. It is
// how dev seed recognises a database it may write to without --force, and
// how a person recognises load-test accounts in "autho account list".
const seedNamePrefix = "devseed-"

// Batch sizes. Token ids and hashes are random, so a transaction dirties
// index pages all over the file and each commit writes them all to the
// WAL: fewer, larger transactions write far less (1M tokens on SQLite took
// 157 s in batches of 10,000 and 31 s in batches of 100,000; 250,000 gained
// nothing more). A batch of 100,000 holds some 50 MiB of rows and secrets.
const (
	seedBatchTokens   = 100_000
	seedBatchAccounts = 2_000
)

// seedTerm is how long seeded accounts and tokens stay valid: long enough
// for any load test, without the special cases of "never".
const seedTerm = 365 * 24 * time.Hour

// seedStore is the bulk path dev seed needs below autho.Store: the Store's
// one-row-per-call creates would take hours for a million tokens. Both
// backends implement it (seed.go in each).
type seedStore interface {
	// CountAccountsNotNamed counts the accounts whose name does not start
	// with prefix.
	CountAccountsNotNamed(ctx context.Context, prefix string) (int, error)
	// InsertBulk stores the rows in one transaction, in argument order.
	InsertBulk(ctx context.Context, accounts []*autho.Account, partners []*autho.PartnerToken,
		users []*autho.User, tokens []*autho.APIToken) error
}

func (a *app) devCmd() *cobra.Command {
	return group("dev", "Developer tools: load-test data (never for a production database)",
		a.devSeedCmd(),
	)
}

func (a *app) devSeedCmd() *cobra.Command {
	var accounts, tokens int
	var out string
	var force bool
	c := &cobra.Command{
		Use:   "seed --accounts A --tokens N --out FILE [--force]",
		Short: "Bulk-create load-test accounts, users and API tokens; write the secrets to FILE",
		Long: `Bulk-create A accounts, each with one user, and N API tokens in all, spread evenly
over the accounts, in batched transactions; progress goes to stderr.

FILE gets one "api_token partner_token" pair a line (mode 0600: it holds
secrets), each line written once its rows are committed. It must be a new
file: dev seed writes beside it and puts it in place when done, never over a
file that exists, and refuses the database's own files.

Seeded data is for load tests only:
  - accounts are named "` + seedNamePrefix + `<run>-<n>", and that prefix is how dev seed
    recognises its own: it refuses a database holding any account whose name
    does not start with it, unless --force is given;
  - users' emails end in "@devseed.invalid" and they have no password (an
    empty hash, which matches nothing), so they cannot sign into the portal:
    seeding a million users must not cost a million argon2 hashes;
  - accounts and tokens expire one year from now and carry no scopes.`,
		Args: wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "tokens", "out"); err != nil {
				return err
			}
			if accounts < 1 {
				return usageError{flagErr("accounts", errNotPositive)}
			}
			if tokens < 1 {
				return usageError{flagErr("tokens", errNotPositive)}
			}
			if strings.TrimSpace(out) == "" {
				return usageError{flagErr("out", errors.New("must not be empty"))}
			}
			o, err := a.newOp()
			if err != nil {
				return err
			}
			return o.seed(cmd.Context(), seedPlan{accounts: accounts, tokens: tokens}, out, force)
		},
	}
	c.Flags().IntVar(&accounts, "accounts", 100, "how many accounts, each with one user")
	c.Flags().IntVar(&tokens, "tokens", 0, "how many API tokens in all (required)")
	c.Flags().StringVar(&out, "out", "", `a new file for the "api_token partner_token" pairs, mode 0600 (required)`)
	c.Flags().BoolVar(&force, "force", false, "seed even a database holding accounts dev seed did not make")
	return c
}

// seedPlan is what to make: tokens spread over accounts, the first
// tokens%accounts accounts getting one more.
type seedPlan struct{ accounts, tokens int }

func (p seedPlan) tokensOf(k int) int {
	n := p.tokens / p.accounts
	if k < p.tokens%p.accounts {
		n++
	}
	return n
}

// seedBatch is one transaction's rows, and the file lines to write once
// it commits.
type seedBatch struct {
	accounts []*autho.Account
	partners []*autho.PartnerToken
	users    []*autho.User
	tokens   []*autho.APIToken
	lines    []string
}

type seedResult struct {
	Accounts int     `json:"accounts"`
	Users    int     `json:"users"`
	Tokens   int     `json:"tokens"`
	Out      string  `json:"out"`
	Seconds  float64 `json:"seconds"`
}

func (o *op) seed(ctx context.Context, plan seedPlan, out string, force bool) error {
	if err := o.newSeedOut(out); err != nil {
		return err
	}
	st, err := o.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	bulk, ok := st.(seedStore)
	if !ok {
		return errors.New("dev seed: this database backend has no bulk path")
	}
	foreign, err := bulk.CountAccountsNotNamed(ctx, seedNamePrefix)
	if err != nil {
		return err
	}
	if foreign > 0 && !force {
		return fmt.Errorf("dev seed: the database %s holds %d account(s) that dev seed did not make (names not starting with %q); "+
			"it is for load-test databases only: use a fresh --db, or --force to seed this one anyway", o.dbName(), foreign, seedNamePrefix)
	}
	// Made only now, so that a refusal leaves nothing behind, and as a
	// file of its own (O_EXCL, 0600), so that nothing that exists, or that
	// someone else slips in under the name meanwhile, is ever written.
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return flagErr("out", err)
	}
	start := time.Now()
	res, err := o.seedInto(ctx, bulk, plan, f, start)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = flagErr("out", cerr)
	}
	// The pairs of committed rows are kept even when seeding failed: they
	// are the only copy of those secrets.
	where, lerr := placeNew(f.Name(), out)
	if err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("dev seed: %w (the pairs of every batch committed so far are in %s)", err, where)
	}
	res.Out, res.Seconds = out, time.Since(start).Round(time.Millisecond).Seconds()
	if o.json {
		return o.printJSON(res)
	}
	o.printf("Seeded %d accounts (named %s…), %d users (no password) and %d API tokens in %.1f s.\n",
		res.Accounts, seedNamePrefix, res.Users, res.Tokens, res.Seconds)
	o.printf("Wrote %d \"api_token partner_token\" pairs to %s (mode 0600: it holds secrets).\n", res.Tokens, out)
	return nil
}

// newSeedOut refuses an --out that is not a new file: one that exists
// (whoever made it, whatever it holds) or that is the database's own,
// which SQLite may make at any time. It runs before the database is opened,
// so a refusal changes nothing.
func (o *op) newSeedOut(out string) error {
	if !isPostgres(o.db) {
		for _, own := range []string{o.db, o.db + "-wal", o.db + "-shm", o.db + "-journal", masterKeyPath(o.db)} {
			if samePath(out, own) {
				return usageError{flagErr("out", fmt.Errorf("%s is the database's own file %s: name a new file for the pairs", out, own))}
			}
		}
	}
	if _, err := os.Lstat(out); err == nil {
		return usageError{flagErr("out", fmt.Errorf("%s exists: dev seed writes only a new file; remove it or name another", out))}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return flagErr("out", err)
	}
	return nil
}

// samePath reports whether a and b name one file: an existing one by any
// name (os.SameFile), or, since the file may not exist yet, the same path
// once absolute, cleaned, and with symlinks in its directory resolved.
func samePath(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil && os.SameFile(fa, fb) {
			return true
		}
	}
	return resolvedPath(a) == resolvedPath(b)
}

func resolvedPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs))
	}
	return abs
}

// placeNew gives the finished file tmp the name out, unless something has
// taken that name since newSeedOut looked: a link, unlike a rename, fails
// rather than replace it. It returns where the pairs are.
func placeNew(tmp, out string) (string, error) {
	if err := os.Link(tmp, out); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return tmp, fmt.Errorf("--out: %s was made by someone else while seeding, and is left alone", out)
		}
		return tmp, flagErr("out", err)
	}
	os.Remove(tmp)
	return out, nil
}

// dbName is --db for messages, without what may be a password in a URL.
func (o *op) dbName() string {
	if isPostgres(o.db) {
		return "(PostgreSQL)"
	}
	return o.db
}

// seedInto makes the rows in one goroutine while this one inserts the
// previous batch, so that generating secrets and hashing them overlaps
// with the database's work.
func (o *op) seedInto(ctx context.Context, bulk seedStore, plan seedPlan, f io.Writer, start time.Time) (seedResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *seedBatch, 1)
	go func() {
		defer close(batches)
		makeSeedBatches(ctx, plan, time.Now().UTC().Truncate(time.Microsecond), batches)
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	prog := newProgress(o.stderr, plan)
	var res seedResult
	for b := range batches {
		if err := bulk.InsertBulk(ctx, b.accounts, b.partners, b.users, b.tokens); err != nil {
			return res, err
		}
		for _, l := range b.lines {
			w.WriteString(l)
		}
		if err := w.Flush(); err != nil {
			return res, fmt.Errorf("--out: %w", err)
		}
		res.Accounts += len(b.accounts)
		res.Users += len(b.users)
		res.Tokens += len(b.tokens)
		prog.update(res, time.Since(start), false)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	prog.update(res, time.Since(start), true)
	return res, nil
}

// makeSeedBatches sends the plan's rows in batches of about
// seedBatchTokens tokens, each account before its user and tokens.
func makeSeedBatches(ctx context.Context, plan seedPlan, now time.Time, batches chan<- *seedBatch) {
	run := strings.ToLower(secret.Random(8)) // keeps names and emails unique across runs
	until := now.Add(seedTerm)
	b := &seedBatch{}
	send := func() bool {
		select {
		case batches <- b:
			b = &seedBatch{}
			return true
		case <-ctx.Done():
			return false
		}
	}
	for k := range plan.accounts {
		ptn := secret.New(secret.PartnerToken)
		acc := &autho.Account{ID: secret.NewID("acc"), Name: fmt.Sprintf("%s%s-%06d", seedNamePrefix, run, k+1),
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
			if len(b.tokens) >= seedBatchTokens && !send() {
				return
			}
		}
		if len(b.accounts) >= seedBatchAccounts && !send() {
			return
		}
	}
	if len(b.accounts) > 0 || len(b.tokens) > 0 {
		send()
	}
}

// progress writes the progress line: rewritten in place on a terminal, and
// otherwise (a log, CI) a new line every few seconds so as not to flood it.
type progress struct {
	w     io.Writer
	plan  seedPlan
	tty   bool
	every time.Duration
	last  time.Duration
}

func newProgress(w io.Writer, plan seedPlan) *progress {
	p := &progress{w: w, plan: plan, every: 5 * time.Second}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 250*time.Millisecond
		}
	}
	return p
}

func (p *progress) update(r seedResult, elapsed time.Duration, done bool) {
	if !done && elapsed-p.last < p.every {
		return
	}
	p.last = elapsed
	rate := float64(r.Tokens) / max(elapsed.Seconds(), 1e-3)
	line := fmt.Sprintf("dev seed: %d/%d tokens, %d/%d accounts, %.0f s, %.0f tokens/s",
		r.Tokens, p.plan.tokens, r.Accounts, p.plan.accounts, elapsed.Seconds(), rate)
	switch {
	case p.tty && done:
		fmt.Fprintf(p.w, "\r%s\n", line)
	case p.tty:
		fmt.Fprintf(p.w, "\r%s", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}
