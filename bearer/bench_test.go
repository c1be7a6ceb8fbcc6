package bearer

import (
	"context"
	"testing"
)

// BenchmarkVerify measures the whole local verify path Middleware runs per
// request: shape checks, header parse, key lookup, signature, claims.
func BenchmarkVerify(b *testing.B) {
	k := mustKeys(b)
	keys := standardKeys(k)
	keys["hs"] = verifyKey{HS256, k.secret}
	v := mustVerifier(b, Config{Keys: keys, Algorithms: []string{ES256, EdDSA, RS256, HS256}})
	for _, tc := range []struct{ alg, kid string }{{ES256, "es"}, {EdDSA, "ed"}, {HS256, "hs"}, {RS256, "rs"}} {
		token := mustSign(b, tc.alg, tc.kid, goodClaims())
		b.Run(tc.alg, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if _, err := v.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
