package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/database"
	"github.com/autho/autho/internal/password"
	"github.com/autho/autho/internal/view"
)

func (a *app) userCmd() *cobra.Command {
	return group("user", "Manage the people who log into the portal",
		a.userCreateCmd(),
		a.userListCmd(),
		a.userResetPasswordCmd(),
		a.userResetMFACmd(),
		a.userActiveCmd("deactivate", "Deactivate a user: portal logins and logins with the user's API tokens are refused", (*admin.Service).DeactivateUser),
		a.userActiveCmd("activate", "Reactivate a deactivated user", (*admin.Service).ActivateUser),
	)
}

func (a *app) userCreateCmd() *cobra.Command {
	var accountID, email, role string
	var fromStdin bool
	c := &cobra.Command{
		Use:   "create --account ID --email EMAIL [--role admin|member] [--password-stdin]",
		Short: "Add a user to an account; without --password-stdin a password is generated and shown once",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "account", "email"); err != nil {
				return err
			}
			pw := ""
			if fromStdin {
				var err error
				if pw, err = readLine(a.stdin); err != nil {
					return err
				}
			}
			return a.do(cmd, database.Change, func(o *op, s *admin.Service) error {
				u, generated, err := s.CreateUser(cmd.Context(), autho.OperatorCLI, accountID, email, autho.Role(role), pw)
				if err != nil {
					return err
				}
				if o.json {
					return o.printJSON(view.UserOf(u, generated))
				}
				o.printUser(u)
				if generated != "" {
					o.printSecret("Password", generated)
				}
				return nil
			})
		},
	}
	c.Flags().StringVar(&accountID, "account", "", "the account's id (required)")
	c.Flags().StringVar(&email, "email", "", "the user's email address, their portal login (required)")
	c.Flags().StringVar(&role, "role", string(autho.RoleMember), "admin (manages the account's users and tokens) or member")
	c.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin instead of generating one")
	return c
}

// maxPasswordLine bounds what --password-stdin reads: password.MaxLength
// runes of at most 4 bytes each, and a line ending.
const maxPasswordLine = password.MaxLength*4 + 2

// readLine reads the password from the first line of r. Only the line
// ending is removed: spaces are part of a password.
func readLine(r io.Reader) (string, error) {
	if r == nil {
		return "", errors.New("--password-stdin: no standard input")
	}
	line, err := bufio.NewReader(io.LimitReader(r, maxPasswordLine+1)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("--password-stdin: reading standard input: %w", err)
	}
	if len(line) > maxPasswordLine {
		return "", fmt.Errorf("password must be at most %d characters", password.MaxLength)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("--password-stdin: standard input holds no password")
	}
	return line, nil
}

func (a *app) userActiveCmd(use, short string, do func(*admin.Service, context.Context, autho.Actor, string) (*autho.User, error)) *cobra.Command {
	var email string
	c := &cobra.Command{
		Use:   use + " --email EMAIL",
		Short: short,
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "email"); err != nil {
				return err
			}
			return a.do(cmd, database.Change, func(o *op, s *admin.Service) error {
				u, err := do(s, cmd.Context(), autho.OperatorCLI, email)
				if err != nil {
					return err
				}
				return o.show(view.UserOf(u, ""), func() { o.printUser(u) })
			})
		},
	}
	c.Flags().StringVar(&email, "email", "", "the user's email address (required)")
	return c
}

func (a *app) userListCmd() *cobra.Command {
	var accountID string
	c := &cobra.Command{
		Use:   "list --account ID",
		Short: "List an account's users",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "account"); err != nil {
				return err
			}
			return a.do(cmd, database.Read, func(o *op, s *admin.Service) error {
				us, err := s.Users(cmd.Context(), accountID)
				if err != nil {
					return err
				}
				return printList(o, "users", us, func(x *autho.User) view.User { return view.UserOf(x, "") }, o.printUser, "No users.")
			})
		},
	}
	c.Flags().StringVar(&accountID, "account", "", "the account's id (required)")
	return c
}

func (a *app) userResetPasswordCmd() *cobra.Command {
	var email string
	c := &cobra.Command{
		Use:   "reset-password --email EMAIL",
		Short: "Give a user a new generated password (shown once), e.g. a sole admin who is locked out; the user's portal sessions end",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "email"); err != nil {
				return err
			}
			return a.do(cmd, database.Change, func(o *op, s *admin.Service) error {
				u, pw, err := s.ResetPassword(cmd.Context(), autho.OperatorCLI, email)
				if err != nil {
					return err
				}
				if o.json {
					return o.printJSON(view.UserOf(u, pw))
				}
				o.printUser(u)
				o.printf("The user's portal sessions have ended; the old password no longer works.\n")
				o.printSecret("New password", pw)
				return nil
			})
		},
	}
	c.Flags().StringVar(&email, "email", "", "the user's email address (required)")
	return c
}
