package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/autho/autho"
)

// BenchmarkLoginLookups compares a login's reading as two lookups
// (PartnerCredential, then APICredential) with the one-round-trip
// LoginCredentials, from many goroutines at once, cycling through apiHashes
// (tokens that exist) with the partner token partnerHash. Each backend seeds
// its own data and calls it, so that the figures compare.
func BenchmarkLoginLookups(b *testing.B, s autho.Store, partnerHash []byte, apiHashes [][]byte) {
	ctx := context.Background()
	pr, ok := s.(pairReader)
	if !ok {
		b.Fatalf("%T has no LoginCredentials", s)
	}
	run := func(b *testing.B, lookup func(api []byte) error) {
		var next atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := lookup(apiHashes[next.Add(1)%uint64(len(apiHashes))]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.Run("two lookups", func(b *testing.B) {
		run(b, func(api []byte) error {
			if _, err := s.PartnerCredential(ctx, partnerHash); err != nil {
				return err
			}
			_, err := s.APICredential(ctx, api)
			return err
		})
	})
	b.Run("one statement", func(b *testing.B) {
		run(b, func(api []byte) error {
			_, ac, err := pr.LoginCredentials(ctx, partnerHash, api)
			if err == nil && ac == nil {
				err = errors.New("api token not found")
			}
			return err
		})
	})
}
