// Package buildinfo is what an autho binary knows of its own build: the
// module version, the commit and the Go version the Go tool stamped in.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Version is what the binary knows of its own build. Under go run and
// go test the module version is "(devel)", and without VCS stamping there
// is no commit: both are shown as they are rather than guessed.
type Version struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
}

// Read is the running binary's Version.
func Read() Version {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return Of(bi)
}

// Of reads a build's information; bi is nil for a binary built
// without module support.
func Of(bi *debug.BuildInfo) Version {
	v := Version{Version: "unknown", Commit: "unknown", Go: runtime.Version()}
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
