// Package suggest finds, among known names, the one a mistyped name most
// likely meant: cobra suggests mistyped commands, but not flags.
package suggest

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// FlagError adds the nearest of flags to the parser's "unknown flag" error
// err, when one is near enough; any other error comes back as it was.
func FlagError(flags *pflag.FlagSet, err error) error {
	typed, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok || typed == "" {
		return err
	}
	var names []string
	flags.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	if best, ok := Nearest(typed, names); ok {
		return fmt.Errorf("%w (did you mean --%s?)", err, best)
	}
	return err
}

// Nearest is the name of names nearest to typed, and whether it is near
// enough to suggest: at most two edits, and fewer than half of typed ("x"
// is not a typo of "db"); a name that typed begins, from three characters
// on ("pass" for "password-stdin"), counts as one edit away.
func Nearest(typed string, names []string) (string, bool) {
	best, bestDist := "", 0
	for _, n := range names {
		d := editDistance(typed, n)
		if len(typed) >= 3 && strings.HasPrefix(n, typed) {
			d = min(d, 1)
		}
		if best == "" || d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" || bestDist > 2 || 2*bestDist >= len(typed) {
		return "", false
	}
	return best, true
}

// editDistance is the Levenshtein distance between a and b, in bytes (flag
// names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
