package daemon

import (
	"os"
	"runtime/debug"
)

// A login allocates much and keeps little, so fewer, bounded collections
// cost less CPU per login at a smaller RSS (measured in bench/RESULTS.md);
// GOGC and GOMEMLIMIT, when given, win.
const (
	serveGCPercent   = 200
	serveMemoryLimit = 28 << 20
)

// TuneGC applies serve's garbage-collector defaults and reports what it set
// (-1: left to GOGC or GOMEMLIMIT), for the log.
func TuneGC() (gcPercent int, memoryLimit int64) {
	gcPercent, memoryLimit = -1, -1
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(serveGCPercent)
		gcPercent = serveGCPercent
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(serveMemoryLimit)
		memoryLimit = serveMemoryLimit
	}
	return gcPercent, memoryLimit
}
