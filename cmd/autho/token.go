package main

import (
	"errors"
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

func (a *app) tokenCmd() *cobra.Command {
	return group("token", "Manage users' API tokens",
		a.tokenCreateCmd(),
		a.tokenListCmd(),
		a.tokenRevokeCmd(),
	)
}

func (a *app) tokenCreateCmd() *cobra.Command {
	var email, name, expiresIn, expires string
	var scopes []string
	c := &cobra.Command{
		Use:   "create --email EMAIL --name NAME [--expires-in DURATION | --expires TIME] [--scope S]...",
		Short: "Create an API token for a user (shown once); the operator is not bound by AUTHO_MAX_TOKEN_TTL",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "email", "name"); err != nil {
				return err
			}
			if cmd.Flags().Changed("expires-in") && cmd.Flags().Changed("expires") {
				return usageError{errors.New("give --expires-in or --expires, not both")}
			}
			o, err := a.newOp()
			if err != nil {
				return err
			}
			until := o.now.Add(admin.DefaultTokenTerm)
			var shortTerm time.Duration // a lifetime under an hour, likely a mistake
			switch {
			case cmd.Flags().Changed("expires-in"):
				d, err := config.ParseDuration(expiresIn)
				if err != nil {
					return usageError{flagErr("expires-in", err)}
				}
				if d <= 0 {
					return usageError{flagErr("expires-in", errNotPositive)}
				}
				until = o.now.Add(d)
				if d < time.Hour {
					shortTerm = d
				}
			case cmd.Flags().Changed("expires"):
				if until, err = config.ParseTime(expires, o.loc); err != nil {
					return usageError{flagErr("expires", err)}
				}
			}
			return o.with(cmd.Context(), database.Change, func(s *admin.Service) error {
				t, plain, err := s.CreateToken(cmd.Context(), autho.OperatorCLI, admin.NewToken{
					User:      email,
					Name:      name,
					ExpiresAt: until,
					Scopes:    scopes,
				})
				if err != nil {
					return err
				}
				if shortTerm > 0 {
					o.warn("the token expires in %s, under an hour: %s", shortTerm, shortTermHint(expiresIn))
				}
				if o.json {
					return o.printJSON(view.TokenOf(t, o.now, plain))
				}
				o.printToken(t)
				o.printSecret("API token", plain)
				return nil
			})
		},
	}
	c.Flags().StringVar(&email, "email", "", "the owning user's email address (required)")
	c.Flags().StringVar(&name, "name", "", "a name for the token, e.g. what uses it (required)")
	c.Flags().StringVar(&expiresIn, "expires-in", "90d", "lifetime, e.g. 90d, 1d12h or 36h")
	c.Flags().StringVar(&expires, "expires", "", "expiry instead of --expires-in: RFC 3339 or YYYY-MM-DD (end of that day in AUTHO_TIMEZONE)")
	c.Flags().StringArrayVar(&scopes, "scope", nil, "a scope the token carries in its JWTs; repeat for more")
	return c
}

func (a *app) tokenListCmd() *cobra.Command {
	var accountID, email string
	c := &cobra.Command{
		Use:   "list [--account ID] [--email EMAIL]",
		Short: "List API tokens, newest first",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("account") && accountID == "" {
				return usageError{flagErr("account", errors.New("must not be empty"))}
			}
			if cmd.Flags().Changed("email") && email == "" {
				return usageError{flagErr("email", errors.New("must not be empty"))}
			}
			return a.do(cmd, database.Read, func(o *op, s *admin.Service) error {
				ts, err := s.Tokens(cmd.Context(), admin.TokenQuery{AccountID: accountID, User: email})
				if err != nil {
					return err
				}
				return printList(o, "tokens", ts, func(x *autho.APIToken) view.Token { return view.TokenOf(x, o.now, "") }, o.printToken, "No tokens.")
			})
		},
	}
	c.Flags().StringVar(&accountID, "account", "", "only this account's tokens")
	c.Flags().StringVar(&email, "email", "", "only this user's tokens")
	return c
}

func (a *app) tokenRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke TOKEN_ID",
		Short: "Revoke an API token: its next login is refused (revoking twice is harmless)",
		Args:  wantArgs("TOKEN_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.do(cmd, database.Change, func(o *op, s *admin.Service) error {
				t, err := s.Revoke(cmd.Context(), autho.OperatorCLI, argv[0])
				if err != nil {
					return err
				}
				return o.show(view.TokenOf(t, o.now, ""), func() { o.printToken(t) })
			})
		},
	}
}

// shortTermHint says why an API token's lifetime under an hour is probably
// a mistake: API tokens live for days or months, and "m" is minutes.
func shortTermHint(in string) string {
	if n, ok := strings.CutSuffix(strings.TrimSpace(in), "m"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		return fmt.Sprintf("m is minutes; did you mean %sd (days)? Revoke it and create another if so", n)
	}
	return "API tokens usually live for days (e.g. 90d); revoke it and create another if this was a mistake"
}
