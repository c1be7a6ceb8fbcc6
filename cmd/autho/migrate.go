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
			// A SQLite database gets its master key file here as at
			// serve's first start, so that keys commands work before
			// serve has run. PostgreSQL's key is always given, and
			// migrate has no use for it.
			var mk *masterKey
			if !isPostgres(o.db) {
				if mk, err = o.masterKey(o.db); err != nil {
					return err
				}
			}
			// Opening the store applies pending migrations.
			st, err := o.openStore(cmd.Context())
			if err != nil {
				return err
			}
			var created bool
			if mk != nil {
				_, created, err = mk.open(cmd.Context(), st, createKeyFile)
			}
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			res := struct {
				Migrated      bool   `json:"migrated"`
				MasterKeyFile string `json:"master_key_file,omitempty"` // when made now
			}{Migrated: true}
			if created {
				res.MasterKeyFile = mk.file.Path()
			}
			if o.json {
				return o.printJSON(res)
			}
			o.printf("The database schema is up to date.\n")
			if created {
				o.printf("Wrote a new master key to %s (mode 0600): back it up with the database, since the signing keys cannot be read without it.\n", mk.file.Path())
			}
			return nil
		},
	}
}
