package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/database"
)

// op is what one operator command works with: the moment it started, which
// every default expiry is counted from, and the zone dates are read and
// shown in. Both are settled before the database is opened, so a bad
// AUTHO_TIMEZONE is refused before anything changes and can never fail the
// printing of a secret that was already stored.
type op struct {
	*app
	now time.Time
	loc *time.Location
}

func (a *app) newOp() (*op, error) {
	loc, err := a.location()
	if err != nil {
		return nil, err
	}
	return &op{app: a, now: time.Now(), loc: loc}, nil
}

// location is AUTHO_TIMEZONE, the zone that dates are read and shown in.
func (a *app) location() (*time.Location, error) {
	c, err := config.Load(nil, config.Source{Getenv: a.getenv}, "AUTHO_TIMEZONE")
	if err != nil {
		return nil, err
	}
	return c.Location, nil
}

// do is a command's whole use of the database: it settles the op, opens the
// database for use, and runs fn on them.
func (a *app) do(cmd *cobra.Command, use database.Use, fn func(*op, *admin.Service) error) error {
	o, err := a.newOp()
	if err != nil {
		return err
	}
	return o.with(cmd.Context(), use, func(s *admin.Service) error { return fn(o, s) })
}

// with opens the store for use, runs fn with an admin.Service on it, and
// closes the store. fn has printed its result when it returns, and what it
// printed is committed; so a failure to close is only reported, as a
// warning, not turned into a failed command an operator would retry.
func (o *op) with(ctx context.Context, use database.Use, fn func(*admin.Service) error) error {
	st, err := o.openStore(ctx, use)
	if err != nil {
		return err
	}
	err = fn(&admin.Service{Store: st, Now: time.Now})
	if cerr := st.Close(); cerr != nil {
		if err != nil {
			return errors.Join(err, cerr)
		}
		fmt.Fprintf(o.stderr, "autho: warning: closing the database: %s\n", oneLine(cerr.Error()))
	}
	return err
}

// group makes a command that only holds subcommands. Cobra would show help
// and succeed on "autho account bogus"; a typo must fail instead.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q for %q", admin.Redact(args[0]), cmd.CommandPath())}
			}
			return cmd.Help()
		},
	}
	c.AddCommand(subs...)
	return c
}

// wantArgs checks positional arguments, as a usage mistake (exit 2) like a bad
// flag. names are the expected arguments, for the message.
func wantArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, got []string) error {
		if len(got) == len(names) {
			return nil
		}
		if len(names) == 0 {
			return usageError{fmt.Errorf("%s takes no arguments", cmdName(cmd))}
		}
		return usageError{fmt.Errorf("%s needs %s", cmdName(cmd), strings.Join(names, " "))}
	}
}

// wantArgsThenAny is wantArgs for a command whose named arguments may be
// followed by any number of others.
func wantArgsThenAny(names ...string) cobra.PositionalArgs {
	exact := wantArgs(names...)
	return func(cmd *cobra.Command, got []string) error {
		if len(got) >= len(names) {
			return nil
		}
		return exact(cmd, got)
	}
}

// requireFlags checks that flags were given. Cobra's own required-flag check
// reports a plain error; this one is a usage mistake, and its message names
// the flags the way they are typed.
func requireFlags(cmd *cobra.Command, names ...string) error {
	var missing []string
	for _, n := range names {
		if !cmd.Flags().Changed(n) {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return usageError{fmt.Errorf("%s needs %s", cmdName(cmd), strings.Join(missing, " and "))}
}

// flagErr names the flag whose value was wrong.
func flagErr(name string, err error) error { return fmt.Errorf("--%s: %w", name, err) }

var (
	errNegative    = errors.New("must not be negative")
	errNotPositive = errors.New("must be positive")
)

// cmdName is a command as typed after "autho", for messages that already
// start with "autho: ".
func cmdName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}
