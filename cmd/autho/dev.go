package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autho/autho/internal/database"
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
	if err := seed.CheckOut(out, database.OwnFiles(o.db)); err != nil {
		if errors.As(err, new(*seed.NotNewError)) {
			return usageError{err}
		}
		return err
	}
	st, err := o.openStore(ctx, database.Change)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	progress := seed.NewProgress(o.stderr, plan, start)
	progress.Update(seed.Result{}, false) // at once: a big seed's first batch takes a while
	var res seedResult
	res.Result, err = seed.ToFile(ctx, st, seed.Job{Plan: plan, Out: out, Force: force, DB: database.Name(o.db),
		Progress: progress.Update})
	if err != nil {
		return err
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
