package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/database"
	"github.com/autho/autho/internal/password"
	"github.com/autho/autho/internal/signer"
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
	var fromStdin, invite bool
	c := &cobra.Command{
		Use:   "create --account ID --email EMAIL [--role admin|member] [--password-stdin | --invite]",
		Short: "Add a user to an account; without --password-stdin a password is generated and shown once, with --invite a link to choose one is mailed",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "account", "email"); err != nil {
				return err
			}
			if invite {
				if fromStdin {
					return usageError{errors.New("--invite and --password-stdin: give one; an invited user chooses their own password")}
				}
				return a.inviteUser(cmd, accountID, email, role)
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
	c.Flags().BoolVar(&invite, "invite", false, "mail the user a one-time link (valid 72 h) to choose their password; needs AUTHO_SMTP_URL and AUTHO_SMTP_FROM, as serve does")
	return c
}

// inviteUser is "user create --invite": the user, the invitation and its
// mail in one transaction; a running server sends the mail. The link is
// sealed with the master key, so the command needs it as webhook create
// does, and mail settings like serve's, so that an invitation is never
// queued where no server could mail it.
func (a *app) inviteUser(cmd *cobra.Command, accountID, email, role string) error {
	o, err := a.newOp()
	if err != nil {
		return err
	}
	set, err := a.settings("AUTHO_SMTP_URL", "AUTHO_SMTP_FROM")
	if err != nil {
		return err
	}
	invite := func(s *admin.Service) error {
		u, err := s.InviteUser(cmd.Context(), autho.OperatorCLI, accountID, email, autho.Role(role))
		if err != nil {
			return err
		}
		if o.json {
			v := view.UserOf(u, "")
			v.Invited = true
			return o.printJSON(v)
		}
		o.printUser(u)
		o.printf("An invitation was mailed to %s; its link works once, for 72 hours.\n", u.Email)
		return nil
	}
	if set.SMTP == nil {
		// Refused by the rule, in its words, before the master key is
		// looked for.
		return o.with(cmd.Context(), database.Change, invite)
	}
	return a.withSealer(cmd.Context(), "", database.Change, signer.ReadKeyFile, func(st autho.Store, sealer *signer.Sealer, _ signer.Options, _ string) error {
		return invite(&admin.Service{Store: st, Now: time.Now, Sealer: sealer, Mail: true})
	})
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
