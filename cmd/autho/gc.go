package main

import (
	"os"
	"runtime/debug"
)

// Garbage-collector settings for serve, unless the operator gives the Go
// runtime's own GOGC or GOMEMLIMIT. A login allocates about 17 KB, half of
// it inside the ECDSA signature, and keeps next to nothing: with Go's
// default GOGC=100 the collector ran every few milliseconds under load.
// GOGC=200 halves the cycles; the memory limit caps what the larger heap
// may grow to, so a burst makes the collector work harder instead of the
// process bigger, and it is what makes the runtime hand freed pages back to
// the system: under bench/run's load (100k tokens) a node peaked at 69 MiB
// RSS with a 40 MiB limit, 14 MiB of it idle heap kept; at 63 MiB with 32
// and 59 MiB with 28, for the same CPU per login. A node whose live heap nears the limit (thousands of open
// connections) should raise it with GOMEMLIMIT, or the collector runs
// continually; the debug log line at start says what was set.
const (
	serveGCPercent   = 200
	serveMemoryLimit = 28 << 20
)

// tuneGC applies the serve defaults and reports what it set, for the log.
func tuneGC() (gcPercent int, memoryLimit int64) {
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
