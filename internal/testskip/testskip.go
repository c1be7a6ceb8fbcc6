// Package testskip is how a test skips for want of an optional service
// (PostgreSQL, Chromium), and how a package's tests end with one line
// saying how many skipped and which variable would run them.
//
// go test shows nothing of a package that passes but its "ok" line, not
// even what TestMain prints, so a newcomer would never learn that half the
// suite did not run. Main therefore writes its line to the terminal
// (/dev/tty) when there is one; without a terminal (CI, a pipe) it goes to
// stderr, where -v and a failure show it. Under CI nothing skips: Skip
// fails the test instead, so a broken CI set-up cannot pass by skipping.
package testskip

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Need is an optional service and the variable that gives it to the tests.
type Need struct {
	What     string // for people: "PostgreSQL"
	Variable string // AUTHO_TEST_POSTGRES
	Example  string // a value that works on a usual machine
}

// The services some tests need.
var (
	Postgres = Need{"PostgreSQL", "AUTHO_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"}
	Chromium = Need{"Chromium", "AUTHO_TEST_CHROMIUM", "/usr/bin/chromium"}
)

var skipped = struct {
	sync.Mutex
	n map[Need]int
}{n: map[Need]int{}}

// Skip skips tb for want of need, saying why, or fails it under CI.
func Skip(tb testing.TB, need Need, why string) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatal(why + " (CI must not skip)")
	}
	skipped.Lock()
	skipped.n[need]++
	skipped.Unlock()
	tb.Skip(why)
}

// Main runs the package's tests and then, if any skipped for a service,
// says so in one line. It returns the exit code for os.Exit.
func Main(m *testing.M) int {
	code := m.Run()
	skipped.Lock()
	line := summary(strings.TrimSuffix(filepath.Base(os.Args[0]), ".test"), skipped.n)
	skipped.Unlock()
	if line != "" {
		w, closeW := out()
		fmt.Fprintln(w, line)
		closeW()
	}
	return code
}

// summary is the line for package pkg, "" when nothing skipped.
func summary(pkg string, n map[Need]int) string {
	total := 0
	var parts []string
	for _, need := range []Need{Postgres, Chromium} {
		if n[need] == 0 {
			continue
		}
		total += n[need]
		parts = append(parts, fmt.Sprintf("%d need %s (set %s, e.g. %s)", n[need], need.What, need.Variable, need.Example))
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d tests skipped: %s", pkg, total, strings.Join(parts, "; "))
}

// out is the terminal, past go test's capture of the test's output, or
// stderr when there is none.
func out() (io.Writer, func()) {
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return os.Stderr, func() {}
	}
	return tty, func() { tty.Close() }
}
