package main

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildVersion is what the binary knows of its own build. Under go run and
// go test the module version is "(devel)", and without VCS stamping there
// is no commit: both are shown as they are rather than guessed.
type buildVersion struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
}

func readBuildVersion() buildVersion {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return versionOf(bi)
}

// versionOf reads a build's information; bi is nil for a binary built
// without module support.
func versionOf(bi *debug.BuildInfo) buildVersion {
	v := buildVersion{Version: "unknown", Commit: "unknown", Go: runtime.Version()}
	if bi == nil {
		return v
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" {
		v.Commit = rev
		if dirty {
			v.Commit += "-dirty"
		}
	}
	return v
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show autho's version, the commit it was built from and the Go version (also --version)",
		Args:  wantArgs(),
		RunE:  func(*cobra.Command, []string) error { return a.printVersion() },
	}
}

func (a *app) printVersion() error {
	v := readBuildVersion()
	o := &op{app: a}
	if a.json {
		return o.printJSON(v)
	}
	o.printf("autho %s (commit %s, %s)\n", v.Version, v.Commit, v.Go)
	return nil
}
