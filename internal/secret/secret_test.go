package secret

import (
	"hash/crc32"
	"strings"
	"testing"
)

func TestNew_WellFormed(t *testing.T) {
	for _, k := range []Kind{APIToken, PartnerToken} {
		seen := map[string]bool{}
		for i := 0; i < 1000; i++ {
			s := New(k)
			if len(s) != 46 || !strings.HasPrefix(s, string(k)) {
				t.Fatalf("New(%q) = %q: wrong shape", k, s)
			}
			if err := Check(k, s); err != nil {
				t.Fatalf("Check(New(%q)) = %v", k, err)
			}
			if seen[s] {
				t.Fatalf("New(%q) repeated %q", k, s)
			}
			seen[s] = true
		}
	}
}

// The checksum is specified independently of the code: CRC-32/IEEE of the
// first 40 characters, base62 big-endian, left-padded with '0' to 6.
func TestCheck_ChecksumBySpec(t *testing.T) {
	head := "autho_api_" + strings.Repeat("a", 30)
	v := crc32.ChecksumIEEE([]byte(head))
	digits := ""
	for v > 0 {
		digits = string(alphabet[v%62]) + digits
		v /= 62
	}
	tok := head + strings.Repeat("0", 6-len(digits)) + digits
	if err := Check(APIToken, tok); err != nil {
		t.Fatalf("Check(%q) = %v, want nil", tok, err)
	}
}

func TestCheck_Refuses(t *testing.T) {
	good := New(APIToken)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct {
		name string
		kind Kind
		s    string
	}{
		{"empty", APIToken, ""},
		{"other kind", PartnerToken, good},
		{"short", APIToken, good[:45]},
		{"long", APIToken, good + "0"},
		{"checksum char", APIToken, flip(good, 45)},
		{"random char", APIToken, flip(good, 12)},
		{"not base62", APIToken, good[:20] + "-" + good[21:]},
		{"upper prefix", APIToken, strings.ToUpper(good[:10]) + good[10:]},
		{"multibyte", APIToken, good[:44] + "é"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Check(tt.kind, tt.s); err == nil {
				t.Fatalf("Check(%q) = nil, want error", tt.s)
			}
		})
	}
}

func TestHint(t *testing.T) {
	s := New(PartnerToken)
	h := Hint(s)
	if want := s[:14] + "…" + s[42:]; h != want {
		t.Fatalf("Hint = %q, want %q", h, want)
	}
	if strings.Contains(h, s[14:42]) {
		t.Fatal("hint reveals the secret's middle")
	}
}

func TestNewID(t *testing.T) {
	id := NewID("acc")
	if !strings.HasPrefix(id, "acc_") || len(id) != 24 {
		t.Fatalf("NewID = %q", id)
	}
}

func TestIDFrom(t *testing.T) {
	a, b := IDFrom("tok", []byte("seed one")), IDFrom("tok", []byte("seed two"))
	if a != IDFrom("tok", []byte("seed one")) {
		t.Fatal("one seed gives two ids")
	}
	if a == b {
		t.Fatal("two seeds give one id")
	}
	for _, id := range []string{a, b} {
		if !strings.HasPrefix(id, "tok_") || len(id) != len(NewID("tok")) || strings.Trim(id[4:], alphabet) != "" {
			t.Fatalf("IDFrom = %q, want the shape of NewID", id)
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add(New(APIToken))
	f.Add(New(PartnerToken))
	f.Add("autho_api_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []Kind{APIToken, PartnerToken} {
			if Check(k, s) != nil {
				continue
			}
			// Anything accepted must be exactly a token's shape.
			if len(s) != TokenLen || !strings.HasPrefix(s, string(k)) {
				t.Fatalf("accepted %q", s)
			}
			if Hint(s) == "" {
				t.Fatalf("no hint for accepted %q", s)
			}
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	s := New(APIToken)
	for b.Loop() {
		if Check(APIToken, s) != nil {
			b.Fatal("refused")
		}
	}
}
