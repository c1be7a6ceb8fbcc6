package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestOf: Of reads the Go tool's stamps; a build without them is shown as
// it is.
func TestOf(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want Version
	}{
		{"no build information", nil, Version{"unknown", "unknown", runtime.Version()}},
		{"go run", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			Version{"(devel)", "unknown", "go1.26.8"}},
		{"tagged, clean", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}},
			Version{"v1.2.3", rev, "go1.26.8"}},
		{"modified checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.4-0.20260101000000-0123456789ab+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: rev}}},
			Version{"v1.2.4-0.20260101000000-0123456789ab+dirty", rev + "-dirty", "go1.26.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.bi); got != tt.want {
				t.Fatalf("Of = %+v, want %+v", got, tt.want)
			}
		})
	}
}
