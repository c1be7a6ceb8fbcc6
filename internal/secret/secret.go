// Package secret makes and checks autho's secrets: API tokens, partner tokens
// and the opaque ids of stored objects.
//
// A token is a prefix, 30 base62 characters from crypto/rand, and a 6-character
// checksum (CRC-32/IEEE of everything before it, base62, big-endian, padded
// with '0'). The checksum lets a typo or a forged token be refused without a
// database read, and the prefix lets secret scanners find leaked tokens.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"math/big"
)

// Kind is a token prefix.
type Kind string

// Token kinds.
const (
	APIToken     Kind = "autho_api_"
	PartnerToken Kind = "autho_ptn_"
	OperatorKey  Kind = "autho_adm_" // the admin API's bearer
)

const (
	alphabet    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	randomLen   = 30
	checksumLen = 6
	prefixLen   = 10 // len("autho_api_"); every kind has the same length

	// TokenLen is the length of every token.
	TokenLen = prefixLen + randomLen + checksumLen
)

// ErrMalformed says a string is not a well-formed token of the expected kind.
var ErrMalformed = errors.New("malformed token")

// New returns a fresh token of kind k.
func New(k Kind) string {
	b := make([]byte, 0, TokenLen)
	b = append(b, k...)
	b = appendRandom(b, randomLen)
	return string(appendChecksum(b))
}

// Check reports whether s is a well-formed token of kind k: prefix, length,
// alphabet and checksum. It does no I/O and allocates nothing.
func Check(k Kind, s string) error {
	if len(s) != TokenLen || s[:prefixLen] != string(k) {
		return ErrMalformed
	}
	body := s[prefixLen : prefixLen+randomLen]
	for i := 0; i < len(body); i++ {
		if !isBase62(body[i]) {
			return ErrMalformed
		}
	}
	var want [checksumLen]byte
	putChecksum(want[:], crc32.ChecksumIEEE([]byte(s[:prefixLen+randomLen])))
	if string(want[:]) != s[prefixLen+randomLen:] {
		return ErrMalformed
	}
	return nil
}

// Hash is what the database keeps of a secret: its SHA-256.
func Hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Hint is the non-secret display form of a token: its prefix, the first four
// random characters, "…", and the last four characters.
func Hint(s string) string {
	if len(s) != TokenLen {
		return ""
	}
	return s[:prefixLen+4] + "…" + s[TokenLen-4:]
}

// NewID returns an opaque id with the given type prefix, such as "acc".
func NewID(prefix string) string {
	b := make([]byte, 0, len(prefix)+1+20)
	b = append(b, prefix...)
	b = append(b, '_')
	return string(appendRandom(b, 20))
}

// IDFrom returns an id shaped like NewID's, derived from seed instead of
// drawn at random: one seed always names one object, so a request sent
// twice (a form a reload sends again) cannot make two.
func IDFrom(prefix string, seed []byte) string {
	sum := sha256.Sum256(seed)
	n := new(big.Int).SetBytes(sum[:])
	base, digit := big.NewInt(62), new(big.Int)
	b := make([]byte, 0, len(prefix)+1+20)
	b = append(b, prefix...)
	b = append(b, '_')
	for range 20 {
		n.DivMod(n, base, digit)
		b = append(b, alphabet[digit.Int64()])
	}
	return string(b)
}

// Random returns n uniformly random base62 characters.
func Random(n int) string { return string(appendRandom(nil, n)) }

func appendRandom(b []byte, n int) []byte {
	// Rejection sampling keeps the characters uniform: 248 is the largest
	// multiple of 62 that fits in a byte.
	var buf [64]byte
	for n > 0 {
		rand.Read(buf[:]) // never fails (crypto/rand since Go 1.24)
		for _, c := range buf {
			if c >= 248 {
				continue
			}
			b = append(b, alphabet[c%62])
			if n--; n == 0 {
				break
			}
		}
	}
	return b
}

func appendChecksum(b []byte) []byte {
	var sum [checksumLen]byte
	putChecksum(sum[:], crc32.ChecksumIEEE(b))
	return append(b, sum[:]...)
}

func putChecksum(dst []byte, v uint32) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = alphabet[v%62]
		v /= 62
	}
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}
