package main

import "github.com/spf13/cobra"

// commands lists the subcommands of autho.
func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		// The operator's commands: each opens the database, does one
		// thing through internal/admin, and closes it.
		a.migrateCmd(),
		a.accountCmd(),
		a.userCmd(),
		a.tokenCmd(),

		// The server and its keys.
		a.serveCmd(),
		a.keysCmd(),
		a.gatewayCmd(),
		a.devCmd(), // load-test data
	}
}
