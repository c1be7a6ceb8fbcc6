package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/database"
	"github.com/autho/autho/internal/view"
)

func (a *app) accountCmd() *cobra.Command {
	return group("account", "Manage partner accounts and their partner tokens",
		a.accountCreateCmd(),
		a.accountListCmd(),
		a.accountShowCmd(),
		a.accountRenewCmd(),
		a.accountStatusCmd("suspend", "Suspend an account: its logins are refused at once", (*admin.Service).Suspend),
		a.accountStatusCmd("reactivate", "Lift an account's suspension", (*admin.Service).Reactivate),
		a.accountRotateCmd(),
		a.accountSetScopesCmd(),
	)
}

func (a *app) accountCreateCmd() *cobra.Command {
	var name, expires string
	c := &cobra.Command{
		Use:   "create --name NAME [--expires TIME]",
		Short: "Create a partner account and its partner token (shown once)",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "name"); err != nil {
				return err
			}
			o, err := a.newOp()
			if err != nil {
				return err
			}
			until := o.now.Add(admin.DefaultAccountTerm)
			if cmd.Flags().Changed("expires") {
				if until, err = config.ParseTime(expires, o.loc); err != nil {
					return usageError{flagErr("expires", err)}
				}
			}
			return o.with(cmd.Context(), database.Change, func(s *admin.Service) error {
				namesakes, err := s.AccountsNamed(cmd.Context(), name)
				if err != nil {
					return err
				}
				acc, pt, err := s.CreateAccount(cmd.Context(), autho.OperatorCLI, name, until)
				if err != nil {
					return err
				}
				if len(namesakes) > 0 {
					ids := make([]string, len(namesakes))
					for i, n := range namesakes {
						ids[i] = n.ID
					}
					what := "account " + ids[0] + " is"
					if len(ids) > 1 {
						what = "accounts " + strings.Join(ids, ", ") + " are"
					}
					o.warn("%s also named %q; %s is a separate account (if it was made by mistake, suspend it)", what, acc.Name, acc.ID)
				}
				if o.json {
					return o.printJSON(view.AccountOf(acc, o.now, pt))
				}
				o.printAccount(acc)
				o.printSecret("Partner token", pt)
				return nil
			})
		},
	}
	c.Flags().StringVar(&name, "name", "", "the partner company's name (required)")
	c.Flags().StringVar(&expires, "expires", "", "expiry: RFC 3339 or YYYY-MM-DD (end of that day in AUTHO_TIMEZONE); default one year from now")
	return c
}

func (a *app) accountListCmd() *cobra.Command {
	var expiring string
	c := &cobra.Command{
		Use:   "list [--expiring DURATION]",
		Short: "List every account, or those expiring within a time (ended ones too)",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var q admin.AccountQuery
			if expiring != "" {
				d, err := config.ParseDuration(expiring)
				if err != nil || d <= 0 {
					return usageError{fmt.Errorf("--expiring: %q is not a positive duration such as 30d or 72h", expiring)}
				}
				q.ExpiringBefore = time.Now().Add(d)
			}
			return a.do(cmd, database.Read, func(o *op, s *admin.Service) error {
				as, err := s.AccountsWhere(cmd.Context(), q)
				if err != nil {
					return err
				}
				return printList(o, "accounts", as, func(x *autho.Account) view.Account { return view.AccountOf(x, o.now, "") }, o.printAccount, "No accounts.")
			})
		},
	}
	c.Flags().StringVar(&expiring, "expiring", "", "only the accounts whose expiry comes within this time from now, such as 30d")
	return c
}

func (a *app) accountShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ACCOUNT_ID",
		Short: "Show one account",
		Args:  wantArgs("ACCOUNT_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.accountDo(cmd, database.Read, func(s *admin.Service) (*autho.Account, error) {
				return s.Account(cmd.Context(), argv[0])
			})
		},
	}
}

func (a *app) accountRenewCmd() *cobra.Command {
	var expires string
	c := &cobra.Command{
		Use:   "renew ACCOUNT_ID --expires TIME",
		Short: "Set an account's expiry",
		Args:  wantArgs("ACCOUNT_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if err := requireFlags(cmd, "expires"); err != nil {
				return err
			}
			loc, err := a.location()
			if err != nil {
				return err
			}
			until, err := config.ParseTime(expires, loc)
			if err != nil {
				return usageError{flagErr("expires", err)}
			}
			return a.accountDo(cmd, database.Change, func(s *admin.Service) (*autho.Account, error) {
				return s.RenewAccount(cmd.Context(), autho.OperatorCLI, argv[0], until)
			})
		},
	}
	c.Flags().StringVar(&expires, "expires", "", "new expiry: RFC 3339 or YYYY-MM-DD (end of that day in AUTHO_TIMEZONE) (required)")
	return c
}

func (a *app) accountStatusCmd(use, short string, do func(*admin.Service, context.Context, autho.Actor, string) (*autho.Account, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use + " ACCOUNT_ID",
		Short: short,
		Args:  wantArgs("ACCOUNT_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.accountDo(cmd, database.Change, func(s *admin.Service) (*autho.Account, error) {
				return do(s, cmd.Context(), autho.OperatorCLI, argv[0])
			})
		},
	}
}

// accountDo runs an action that answers with an account and prints it.
func (a *app) accountDo(cmd *cobra.Command, use database.Use, do func(*admin.Service) (*autho.Account, error)) error {
	o, err := a.newOp()
	if err != nil {
		return err
	}
	return o.with(cmd.Context(), use, func(s *admin.Service) error {
		acc, err := do(s)
		if err != nil {
			return err
		}
		return o.show(view.AccountOf(acc, o.now, ""), func() { o.printAccount(acc) })
	})
}

func (a *app) accountSetScopesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "set-scopes ACCOUNT_ID [SCOPE]...",
		Short: "Set the scopes an account's people may give their tokens in the portal; none clears them",
		Args:  wantArgsThenAny("ACCOUNT_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.accountDo(cmd, database.Change, func(s *admin.Service) (*autho.Account, error) {
				return s.SetAccountScopes(cmd.Context(), autho.OperatorCLI, argv[0], argv[1:])
			})
		},
	}
}

func (a *app) accountRotateCmd() *cobra.Command {
	var grace string
	c := &cobra.Command{
		Use:   "rotate-partner-token ACCOUNT_ID [--grace DURATION]",
		Short: "Give an account a new partner token (shown once); the old one ends after the grace period",
		Args:  wantArgs("ACCOUNT_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var g time.Duration
			if cmd.Flags().Changed("grace") {
				var err error
				if g, err = config.ParseDuration(grace); err != nil {
					return usageError{flagErr("grace", err)}
				}
				if g < 0 {
					return usageError{flagErr("grace", errNegative)}
				}
			}
			return a.do(cmd, database.Change, func(o *op, s *admin.Service) error {
				acc, pt, until, err := s.RotatePartnerToken(cmd.Context(), autho.OperatorCLI, argv[0], g)
				if err != nil {
					return err
				}
				if o.json {
					return o.printJSON(view.RotationOf(acc, o.now, pt, until, g))
				}
				o.printAccount(acc)
				if g > 0 {
					o.printf("The previous partner token keeps working until %s.\n", o.when(until))
				} else {
					o.printf("The previous partner token no longer works.\n")
				}
				o.printSecret("New partner token", pt)
				return nil
			})
		},
	}
	c.Flags().StringVar(&grace, "grace", "0", "how long the old partner token keeps working, e.g. 24h or 7d")
	return c
}
