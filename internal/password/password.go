// Package password hashes and checks the passwords portal users log in with.
//
// Hashes are argon2id in the PHC string format,
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with salt and hash in unpadded standard base64. The parameters are OWASP's
// minimum for argon2id (19 MiB, 2 passes, 1 lane); because they are written
// into every hash, they can be raised later and old hashes upgraded at the
// next successful login (Verify's needsRehash).
//
// Password rules follow NIST SP 800-63B: a length range and nothing else, no
// composition rules, every Unicode character allowed, never truncated.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/autho/autho/internal/secret"
)

// The current cost parameters. Hashes made with lower ones still verify, and
// are reported as needing a rehash.
const (
	memoryKiB = 19 * 1024
	passes    = 2
	lanes     = 1
	saltLen   = 16
	keyLen    = 32
)

// Length limits, in characters (runes), not bytes, so that a password in
// any script gets the same room.
const (
	MinLength = 12
	MaxLength = 256
)

// generatedLen base62 characters carry about 119 bits, far beyond guessing,
// and stay short enough to type.
const generatedLen = 20

// Bounds on the parameters Verify accepts from a stored hash: a corrupted or
// hostile row must not make one login allocate gigabytes or spin for
// minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxPasses    = 64
	maxLanes     = 64
	maxSaltLen   = 1024
	maxKeyLen    = 1024
)

// ErrMalformedHash says a stored string is not an argon2id PHC hash this
// package can check. It never carries the string itself.
var ErrMalformedHash = errors.New("malformed password hash")

// Validate reports whether pw may be set as a password. Its error is a
// sentence for the person choosing the password and never contains it.
func Validate(pw string) error {
	if !utf8.ValidString(pw) {
		return errors.New("password must be valid UTF-8 text")
	}
	n := utf8.RuneCountInString(pw)
	if n < MinLength {
		return fmt.Errorf("password must be at least %d characters", MinLength)
	}
	if n > MaxLength {
		return fmt.Errorf("password must be at most %d characters", MaxLength)
	}
	return nil
}

// Hash returns the PHC string of pw with a fresh random salt. It refuses a
// password Validate refuses, so a password outside the rules can never be
// stored by mistake.
func Hash(pw string) (string, error) {
	if err := Validate(pw); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails (crypto/rand since Go 1.24)
	key := argon2.IDKey([]byte(pw), salt, passes, memoryKiB, lanes, keyLen)
	return format(params{memoryKiB, passes, lanes}, salt, key), nil
}

// Verify reports whether pw matches the PHC string phc, comparing in
// constant time. needsRehash is true when phc was made with weaker
// parameters than Hash uses now; the caller should then store Hash(pw).
//
// An empty phc (a user who has no password) matches nothing, after the same
// work as a real check, so it cannot be told apart by timing. A malformed phc
// returns ErrMalformedHash.
func Verify(pw, phc string) (ok, needsRehash bool, err error) {
	if phc == "" {
		DummyVerify()
		return false, false, nil
	}
	p, salt, want, err := parse(phc)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.passes, p.memoryKiB, p.lanes, uint32(len(want)))
	ok = subtle.ConstantTimeCompare(got, want) == 1
	needsRehash = p.memoryKiB < memoryKiB || p.passes < passes || p.lanes < lanes ||
		len(salt) < saltLen || len(want) < keyLen
	return ok, needsRehash, nil
}

// dummySalt is fixed: DummyVerify's output is thrown away, only its cost
// matters.
var dummySalt = []byte("autho-dummy-salt")

// DummyVerify costs what Verify costs on a hash made by Hash, and checks
// nothing. Call it when a login names an unknown email, so that the answer
// takes as long as for a known one and does not reveal which emails exist.
func DummyVerify() {
	argon2.IDKey([]byte("autho-dummy-password"), dummySalt, passes, memoryKiB, lanes, keyLen)
}

// Generate returns a random password that Validate accepts, for an operator
// who adds a user without choosing one.
func Generate() string { return secret.Random(generatedLen) }

type params struct {
	memoryKiB uint32
	passes    uint32
	lanes     uint8
}

var b64 = base64.RawStdEncoding

func format(p params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memoryKiB, p.passes, p.lanes, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func parse(phc string) (p params, salt, key []byte, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformedHash
	}
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return p, nil, nil, ErrMalformedHash
	}
	m, okM := paramValue(fields[0], "m=", maxMemoryKiB)
	t, okT := paramValue(fields[1], "t=", maxPasses)
	l, okL := paramValue(fields[2], "p=", maxLanes)
	// argon2 needs at least 8 KiB of memory per lane.
	if !okM || !okT || !okL || t < 1 || l < 1 || m < 8*l {
		return p, nil, nil, ErrMalformedHash
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(salt) > maxSaltLen || len(key) < 16 || len(key) > maxKeyLen {
		return p, nil, nil, ErrMalformedHash
	}
	return params{m, t, uint8(l)}, salt, key, nil
}

// paramValue reads "k=123" with an upper bound; digits only, so no sign or
// spaces slip through.
func paramValue(field, prefix string, max uint32) (uint32, bool) {
	s, ok := strings.CutPrefix(field, prefix)
	if !ok || s == "" || len(s) > 10 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || uint32(v) > max {
		return 0, false
	}
	return uint32(v), true
}
