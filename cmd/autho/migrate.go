package main

import (
	"github.com/spf13/cobra"
)

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema (serve and every command also do this)",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := a.newOp()
			if err != nil {
				return err
			}
			// Opening the store applies pending migrations; there is
			// nothing else to do.
			st, err := o.openStore(cmd.Context())
			if err != nil {
				return err
			}
			if err := st.Close(); err != nil {
				return err
			}
			if o.json {
				return o.printJSON(struct {
					Migrated bool `json:"migrated"`
				}{true})
			}
			o.printf("The database schema is up to date.\n")
			return nil
		},
	}
}
