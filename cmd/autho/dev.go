package main

import (
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

	"github.com/autho/autho/internal/seed"
)

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
  - accounts are named "` + seed.NamePrefix + `<run>-<n>", and that prefix is how dev seed
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
			return o.seed(cmd.Context(), seed.Plan{Accounts: accounts, Tokens: tokens}, out, force)
		},
	}
	c.Flags().IntVar(&accounts, "accounts", 100, "how many accounts, each with one user")
	c.Flags().IntVar(&tokens, "tokens", 0, "how many API tokens in all (required)")
	c.Flags().StringVar(&out, "out", "", `a new file for the "api_token partner_token" pairs, mode 0600 (required)`)
	c.Flags().BoolVar(&force, "force", false, "seed even a database holding accounts dev seed did not make")
	return c
}

// seedResult is what dev seed prints.
type seedResult struct {
	seed.Result
	Out     string  `json:"out"`
	Seconds float64 `json:"seconds"`
}

func (o *op) seed(ctx context.Context, plan seed.Plan, out string, force bool) error {
	if err := o.newSeedOut(out); err != nil {
		return err
	}
	st, err := o.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	bulk, ok := st.(seed.Store)
	if !ok {
		return errors.New("dev seed: this database backend has no bulk path")
	}
	foreign, err := seed.Foreign(ctx, bulk)
	if err != nil {
		return err
	}
	if foreign > 0 && !force {
		return fmt.Errorf("dev seed: the database %s holds %d account(s) that dev seed did not make (names not starting with %q); "+
			"it is for load-test databases only: use a fresh --db, or --force to seed this one anyway", o.dbName(), foreign, seed.NamePrefix)
	}
	// Made only now, so that a refusal leaves nothing behind, and as a
	// file of its own (O_EXCL, 0600), so that nothing that exists, or that
	// someone else slips in under the name meanwhile, is ever written.
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return flagErr("out", err)
	}
	start := time.Now()
	prog := newProgress(o.stderr, plan, start)
	var res seedResult
	res.Result, err = seed.Run(ctx, bulk, plan, outWriter{f}, prog.update)
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
		res.Accounts, seed.NamePrefix, res.Users, res.Tokens, res.Seconds)
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

// progress writes the progress line: rewritten in place on a terminal, and
// otherwise (a log, CI) a new line every few seconds so as not to flood it.
type progress struct {
	w     io.Writer
	plan  seed.Plan
	start time.Time
	tty   bool
	every time.Duration
	last  time.Duration
}

func newProgress(w io.Writer, plan seed.Plan, start time.Time) *progress {
	p := &progress{w: w, plan: plan, start: start, every: 5 * time.Second}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 250*time.Millisecond
		}
	}
	return p
}

func (p *progress) update(r seed.Result, done bool) {
	elapsed := time.Since(p.start)
	if !done && elapsed-p.last < p.every {
		return
	}
	p.last = elapsed
	rate := float64(r.Tokens) / max(elapsed.Seconds(), 1e-3)
	line := fmt.Sprintf("dev seed: %d/%d tokens, %d/%d accounts, %.0f s, %.0f tokens/s",
		r.Tokens, p.plan.Tokens, r.Accounts, p.plan.Accounts, elapsed.Seconds(), rate)
	switch {
	case p.tty && done:
		fmt.Fprintf(p.w, "\r%s\n", line)
	case p.tty:
		fmt.Fprintf(p.w, "\r%s", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}

// outWriter names --out in a failure to write the pairs.
type outWriter struct{ w io.Writer }

func (o outWriter) Write(b []byte) (int, error) {
	n, err := o.w.Write(b)
	if err != nil {
		err = flagErr("out", err)
	}
	return n, err
}
