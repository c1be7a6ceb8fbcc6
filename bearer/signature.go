package bearer

import (
	"crypto/elliptic"
	"encoding/base64"
	"math/big"
)

// highS reports whether seg, an ES256 signature (r, s) in base64url, has s
// in the upper half of the group order n. ECDSA accepts (r, s) and
// (r, n−s) alike, so without a rule one JWT has two valid strings, and
// anything that tells tokens apart by their string (a cache of
// introspection answers, a list of tokens seen, a log search) can be
// handed the twin. autho signs with the low s, as Bitcoin and Ethereum
// require of their signatures. A segment that is not 64 bytes is left to
// the signature check.
func highS(seg string) bool {
	var sig [64]byte
	if base64.RawURLEncoding.DecodedLen(len(seg)) != len(sig) {
		return false
	}
	if _, err := base64.RawURLEncoding.Strict().Decode(sig[:], []byte(seg)); err != nil {
		return false
	}
	s := new(big.Int).SetBytes(sig[32:])
	return s.Lsh(s, 1).Cmp(elliptic.P256().Params().N) > 0
}
