package admin_test

import (
	"fmt"
	"github.com/autho/autho"
	"testing"
	"time"

	"github.com/autho/autho/internal/admin"
)

// Names and emails refuse the characters that change how the text around
// them reads without showing themselves: a "‮" in a token's name can make
// a list say what it does not (Trojan Source), an invisible space makes
// two names look alike.
func TestService_InvisibleCharacters(t *testing.T) {
	f := newFixture(t)
	a, _ := f.mustAccount(t, "Acme")
	u := f.mustUser(t, a.ID, "ann@example.com")
	fields := []struct {
		name string
		try  func(s string) error
	}{
		{"account name", func(s string) error {
			_, _, err := f.svc.CreateAccount(t.Context(), autho.OperatorCLI, "Acme "+s+" Ltd", start.Add(time.Hour))
			return err
		}},
		{"token name", func(s string) error {
			_, _, err := f.svc.CreateToken(t.Context(), autho.OperatorCLI, admin.NewToken{User: u.ID, Name: "ci " + s + " prod", ExpiresAt: start.Add(time.Hour)})
			return err
		}},
		{"email", func(s string) error {
			_, _, err := f.svc.CreateUser(t.Context(), autho.OperatorCLI, a.ID, "bo"+s+"b@example.com", "", "")
			return err
		}},
	}
	refused := []rune{
		0x202A, 0x202B, 0x202C, 0x202D, 0x202E, // embeddings and overrides
		0x2066, 0x2067, 0x2068, 0x2069, // isolates
		0x200E, 0x200F, 0x061C, // marks
		0x200B, 0x2060, 0xFEFF, 0x00AD, // invisible space, word joiner, BOM, soft hyphen
		0xE0041, // a tag character, invisible ASCII
	}
	for _, fl := range fields {
		for _, r := range refused {
			t.Run(fmt.Sprintf("%s with %U", fl.name, r), func(t *testing.T) {
				before := snapshot(t, f.store)
				wantInputError(t, fl.try(string(r)), fmt.Sprintf("must not contain invisible or text-direction characters (%U)", r), nil)
				if snapshot(t, f.store) != before {
					t.Fatal("store changed")
				}
			})
		}
	}
	// The joiners stay: emoji sequences and scripts such as Persian and
	// the Indic ones need them.
	for _, ok := range []struct{ what, s string }{
		{"zero-width joiner (an emoji family)", "👩\u200d👩\u200d👧"},
		{"zero-width non-joiner (Persian)", "می\u200cخواهم"},
	} {
		for _, fl := range fields[:2] {
			t.Run(fl.name+" with "+ok.what, func(t *testing.T) {
				if err := fl.try(ok.s); err != nil {
					t.Fatalf("refused: %v", err)
				}
			})
		}
	}
}
