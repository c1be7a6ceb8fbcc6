package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

var phcShape = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHash_Format(t *testing.T) {
	a, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !phcShape.MatchString(a) {
		t.Fatalf("Hash = %q, want the PHC argon2id shape", a)
	}
	if a == b {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestHash_RefusesInvalid(t *testing.T) {
	for _, pw := range []string{"", "short", strings.Repeat("x", MaxLength+1)} {
		if _, err := Hash(pw); err == nil {
			t.Errorf("Hash(%d chars) = nil error, want refusal", len(pw))
		}
	}
}

// phcWith builds a hash independently of format, with chosen parameters.
func phcWith(pw string, m, t uint32, p uint8, saltLen, keyLen int) string {
	salt := []byte(strings.Repeat("s", saltLen))
	key := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(keyLen))
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d", m, t, p) + "$" +
		enc.EncodeToString(salt) + "$" + enc.EncodeToString(key)
}

func TestVerify(t *testing.T) {
	const pw = "the quick brown fox"
	current, err := Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("ж", MaxLength)
	longHash, err := Hash(long)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		pw, phc    string
		ok, rehash bool
		wantErr    error
	}{
		{"ok", pw, current, true, false, nil},
		{"wrong password", pw + "!", current, false, false, nil},
		{"empty password", "", current, false, false, nil},
		{"never truncated", long[:len(long)-2] + "з", longHash, false, false, nil},
		{"long ok", long, longHash, true, false, nil},
		{"independent hash", pw, phcWith(pw, 19456, 2, 1, 16, 32), true, false, nil},
		{"weaker memory", pw, phcWith(pw, 8192, 2, 1, 16, 32), true, true, nil},
		{"weaker passes", pw, phcWith(pw, 19456, 1, 1, 16, 32), true, true, nil},
		{"short salt", pw, phcWith(pw, 19456, 2, 1, 8, 32), true, true, nil},
		{"short key", pw, phcWith(pw, 19456, 2, 1, 16, 16), true, true, nil},
		{"stronger is fine", pw, phcWith(pw, 19456, 3, 2, 16, 32), true, false, nil},
		{"no password set", pw, "", false, false, nil},
		{"argon2i", pw, strings.Replace(current, "argon2id", "argon2i", 1), false, false, ErrMalformedHash},
		{"old version", pw, strings.Replace(current, "v=19", "v=16", 1), false, false, ErrMalformedHash},
		{"params reordered", pw, strings.Replace(current, "m=19456,t=2,p=1", "t=2,m=19456,p=1", 1), false, false, ErrMalformedHash},
		{"huge memory", pw, strings.Replace(current, "m=19456", "m=99999999", 1), false, false, ErrMalformedHash},
		{"signed param", pw, strings.Replace(current, "t=2", "t=+2", 1), false, false, ErrMalformedHash},
		{"zero lanes", pw, strings.Replace(current, "p=1", "p=0", 1), false, false, ErrMalformedHash},
		{"bad base64", pw, current[:len(current)-3] + "!!!", false, false, ErrMalformedHash},
		{"padded base64", pw, current + "=", false, false, ErrMalformedHash},
		{"missing part", pw, current[:strings.LastIndex(current, "$")], false, false, ErrMalformedHash},
		{"bcrypt", pw, "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", false, false, ErrMalformedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := Verify(tt.pw, tt.phc)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify err = %v, want %v", err, tt.wantErr)
			}
			if ok != tt.ok || rehash != tt.rehash {
				t.Fatalf("Verify = ok %v, rehash %v; want %v, %v", ok, rehash, tt.ok, tt.rehash)
			}
			if err != nil && strings.Contains(err.Error(), tt.phc) {
				t.Fatal("error message contains the hash")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		ok   bool
	}{
		{"empty", "", false},
		{"11 characters", "abcdefghijk", false},
		{"12 characters", "abcdefghijkl", true},
		{"spaces count", "a b c d e f ", true},
		{"12 multibyte runes", strings.Repeat("密", 12), true},
		{"11 multibyte runes, 33 bytes", strings.Repeat("密", 11), false},
		{"emoji", strings.Repeat("🔑", 12), true},
		{"256 runes", strings.Repeat("é", MaxLength), true},
		{"257 runes", strings.Repeat("é", MaxLength+1), false},
		{"invalid UTF-8", "abcdefghijkl\xff", false},
		{"no composition rules", "aaaaaaaaaaaa", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.pw)
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tt.ok)
			}
			if err != nil && tt.pw != "" && strings.Contains(err.Error(), tt.pw) {
				t.Fatal("error message contains the password")
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		pw := Generate()
		if err := Validate(pw); err != nil {
			t.Fatalf("Generate() = %d chars: %v", len(pw), err)
		}
		if len(pw) != generatedLen || strings.Trim(pw, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
			t.Fatalf("Generate() = %q, want %d base62 characters", pw, generatedLen)
		}
		if seen[pw] {
			t.Fatal("Generate repeated a password")
		}
		seen[pw] = true
	}
}

func BenchmarkVerify(b *testing.B) {
	h, err := Hash("benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Verify("benchmark password", h)
	}
}

func BenchmarkDummyVerify(b *testing.B) {
	for b.Loop() {
		DummyVerify()
	}
}
