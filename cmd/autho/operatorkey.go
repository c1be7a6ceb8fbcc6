package main

import (
	"github.com/spf13/cobra"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/database"
	"github.com/autho/autho/internal/view"
)

func (a *app) operatorKeyCmd() *cobra.Command {
	var name string
	var readOnly bool
	create := &cobra.Command{
		Use:   "create --name NAME [--read-only]",
		Short: "Make a key for the admin API (shown once), named for the system that uses it; --read-only keys may only GET",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "name"); err != nil {
				return err
			}
			return a.do(cmd, database.Change, func(o *op, s *admin.Service) error {
				k, plain, err := s.CreateOperatorKey(cmd.Context(), autho.OperatorCLI, name, readOnly)
				if err != nil {
					return err
				}
				if o.json {
					return o.printJSON(view.OperatorKeyOf(k, plain))
				}
				o.printOperatorKey(k)
				o.printSecret("Operator key", plain)
				return nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", `the system that uses the key ("crm", "billing"): the audit log names changes made with it "operator:NAME" (required)`)
	create.Flags().BoolVar(&readOnly, "read-only", false, "the key may only read (GET); anything else with it is 403")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the operator keys, revoked ones too",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.do(cmd, database.Read, func(o *op, s *admin.Service) error {
				ks, err := s.OperatorKeys(cmd.Context())
				if err != nil {
					return err
				}
				return printList(o, "keys", ks, func(x *autho.OperatorKey) view.OperatorKey { return view.OperatorKeyOf(x, "") }, o.printOperatorKey, "No operator keys.")
			})
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke KEY_ID",
		Short: "Revoke an operator key: its next request is refused, on every node (revoking twice is harmless)",
		Args:  wantArgs("KEY_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.do(cmd, database.Change, func(o *op, s *admin.Service) error {
				k, err := s.RevokeOperatorKey(cmd.Context(), autho.OperatorCLI, argv[0])
				if err != nil {
					return err
				}
				return o.show(view.OperatorKeyOf(k, ""), func() { o.printOperatorKey(k) })
			})
		},
	}
	return group("operator-key", "Manage the keys the platform's back office calls the admin API with", create, list, revoke)
}
