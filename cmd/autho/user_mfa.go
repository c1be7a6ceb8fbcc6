package main

import (
	"github.com/spf13/cobra"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/database"
)

// userResetMFACmd is "autho user reset-mfa": for someone who lost both
// their phone and their recovery codes, once the operator is sure who is
// asking.
func (a *app) userResetMFACmd() *cobra.Command {
	var email string
	c := &cobra.Command{
		Use:   "reset-mfa --email EMAIL",
		Short: "Clear a user's second factors and recovery codes (a lost phone), so that signing in asks for the password only",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "email"); err != nil {
				return err
			}
			return a.do(cmd, database.Change, func(o *op, s *admin.Service) error {
				u, err := s.User(cmd.Context(), email)
				if err != nil {
					return err
				}
				n, err := s.ResetMFA(cmd.Context(), autho.OperatorCLI, u.ID)
				if err != nil {
					return err
				}
				out := struct {
					ID      string `json:"id"`
					Email   string `json:"email"`
					Cleared int    `json:"cleared"`
				}{u.ID, u.Email, n}
				return o.show(out, func() {
					if n == 0 {
						o.printf("%s had no second factor; nothing changed.\n", u.Email)
						return
					}
					o.printf("Cleared the second factors and recovery codes of %s. Signing in now asks for the password only; they can add an authenticator app again on the Security page.\n", u.Email)
				})
			})
		},
	}
	c.Flags().StringVar(&email, "email", "", "the user's email address (required)")
	return c
}
