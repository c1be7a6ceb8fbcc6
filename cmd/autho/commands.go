package main

import "github.com/spf13/cobra"

// commands lists the subcommands of autho.
func (a *app) commands() []*cobra.Command {
	return nil
}
