package main

import (
	"github.com/spf13/cobra"

	"github.com/autho/autho/internal/buildinfo"
)

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show autho's version, the commit it was built from and the Go version (also --version)",
		Args:  wantArgs(),
		RunE:  func(*cobra.Command, []string) error { return a.printVersion() },
	}
}

func (a *app) printVersion() error {
	v := buildinfo.Read()
	o := &op{app: a}
	if a.json {
		return o.printJSON(v)
	}
	o.printf("autho %s (commit %s, %s)\n", v.Version, v.Commit, v.Go)
	return nil
}
