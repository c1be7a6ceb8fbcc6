package suggest

import (
	"errors"
	"testing"

	"github.com/spf13/pflag"
)

func TestNearest(t *testing.T) {
	names := []string{"db", "json", "expires", "expires-in", "password-stdin", "name"}
	for _, tc := range []struct {
		typed, want string
		ok          bool
	}{
		{"expire", "expires", true},
		{"expries", "expires", true},
		{"pass", "password-stdin", true},
		{"jsn", "json", true},
		{"jsno", "", false}, // two edits of four letters is too far
		{"x", "", false},
		{"all", "", false},
		{"databse", "", false},
		{"", "", false},
	} {
		got, ok := Nearest(tc.typed, names)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Nearest(%q) = %q, %v; want %q, %v", tc.typed, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := Nearest("expire", nil); ok {
		t.Error("a suggestion from no names")
	}
}

func TestFlagError(t *testing.T) {
	flags := pflag.NewFlagSet("x", pflag.ContinueOnError)
	flags.String("expires", "", "")
	flags.String("hidden-one", "", "")
	flags.MarkHidden("hidden-one")
	for _, tc := range []struct{ err, want string }{
		{"unknown flag: --expire", "unknown flag: --expire (did you mean --expires?)"},
		{"unknown flag: --hidden-on", "unknown flag: --hidden-on"},
		{"unknown shorthand flag: 'x' in -x", "unknown shorthand flag: 'x' in -x"},
		{"flag needs an argument: --expires", "flag needs an argument: --expires"},
	} {
		if got := FlagError(flags, errors.New(tc.err)).Error(); got != tc.want {
			t.Errorf("FlagError(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
