package main

import (
	"github.com/spf13/cobra"

	"github.com/autho/autho/internal/database"
)

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema (serve does this too; the other commands refuse a database that does not exist)",
		Args:  wantArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := a.newOp()
			if err != nil {
				return err
			}
			set, err := o.settings("AUTHO_MASTER_KEY")
			if err != nil {
				return err
			}
			keyFile, err := database.Migrate(cmd.Context(), o.db, set.MasterKey, o.migrationProgress())
			if err != nil {
				return err
			}
			res := struct {
				Migrated      bool   `json:"migrated"`
				MasterKeyFile string `json:"master_key_file,omitempty"` // when made now
			}{true, keyFile}
			if o.json {
				return o.printJSON(res)
			}
			o.printf("The database schema is up to date.\n")
			if keyFile != "" {
				o.printf("Wrote a new master key to %s (mode 0600): back it up with the database, since the signing keys cannot be read without it.\n", keyFile)
			}
			return nil
		},
	}
}
