package secretscan

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/autho/autho/internal/secret"
)

// The regular expressions the README (its token-format table) gives scanners find every token autho
// makes, of their kind only, and nothing a character longer or shorter.
func TestREADMERegexps(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string]secret.Kind{}
	for _, m := range regexp.MustCompile("(?m)^\\| (API|partner) token \\| `([^`]+)` \\|$").FindAllStringSubmatch(string(b), -1) {
		exprs[m[2]] = map[string]secret.Kind{"API": secret.APIToken, "partner": secret.PartnerToken}[m[1]]
	}
	if len(exprs) != 2 {
		t.Fatalf("found %d regular expressions in the README table, want 2", len(exprs))
	}
	for expr, kind := range exprs {
		re := regexp.MustCompile(expr)
		for _, k := range []secret.Kind{secret.APIToken, secret.PartnerToken, secret.OperatorKey} {
			for range 200 {
				tok := secret.New(k)
				for _, tc := range []struct {
					text string
					want bool
				}{
					{"AUTHO_TOKEN=" + tok + "\n", k == kind},
					{`"` + tok + `"`, k == kind},
					{tok[:len(tok)-1], false},
					{tok + "A", false},
					{"x" + tok, false},
				} {
					if got := re.MatchString(tc.text); got != tc.want {
						t.Fatalf("%s on %q: %v, want %v", expr, secret.Hint(tok), got, tc.want)
					}
				}
			}
		}
		if !strings.HasPrefix(expr, `\b`+string(kind)) {
			t.Errorf("%s does not start with its prefix", expr)
		}
	}
}
