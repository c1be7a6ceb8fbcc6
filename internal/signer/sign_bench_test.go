package signer

import "testing"

func BenchmarkSign(b *testing.B) {
	for _, alg := range algorithms {
		b.Run(alg, func(b *testing.B) {
			db := newTestDB(b)
			k := db.keyring(b, alg)
			mustEnsureKey(b, k)
			c := testClaims(db.clock.Now())
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := k.Sign(c); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
