package storetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autho/autho"
)

// BenchmarkLoginLookups compares a login's reading as two lookups
// (PartnerCredential, then APICredential) with the one-round-trip
// LoginCredentials, from many goroutines at once, cycling through apiHashes
// (tokens that exist) with the partner token partnerHash. Each backend seeds
// its own data and calls it, so that the figures compare.
func BenchmarkLoginLookups(b *testing.B, s autho.Store, partnerHash []byte, apiHashes [][]byte) {
	ctx := context.Background()
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
			rec, err := s.LoginCredentials(ctx, partnerHash, api)
			if err == nil && rec.Token == nil {
				err = errors.New("api token not found")
			}
			return err
		})
	})
}

// BenchmarkRecordTokenUse is the last-used flush of one busy second: 5,000
// of the tokens ids used, in random order as logins come, written in one
// call. ns/op is per use.
func BenchmarkRecordTokenUse(b *testing.B, s autho.Store, ids []string) {
	ctx := context.Background()
	ids = slices.Clone(ids)
	rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	const batch = 5000
	uses := make([]autho.TokenUse, batch)
	at := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		at = at.Add(time.Second)
		for j := range uses {
			uses[j] = autho.TokenUse{TokenID: ids[(i+j)%len(ids)], At: at, IP: "192.0.2.1"}
		}
		n := min(batch, b.N-i)
		if err := s.RecordTokenUse(ctx, uses[:n]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRevocations is what the feed builder asks of a store: the
// version, which every node polls four times a second, and the facts,
// read again when it moves. s holds want facts between since and now
// (each backend seeds its own, some ten thousand revoked tokens).
func BenchmarkRevocations(b *testing.B, s autho.Store, since, now time.Time, want int) {
	ctx := context.Background()
	b.Run("Revocations", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rs, err := s.Revocations(ctx, since, now)
			if err != nil {
				b.Fatal(err)
			}
			if len(rs) != want {
				b.Fatalf("%d revocations, want %d", len(rs), want)
			}
		}
	})
	b.Run("RevocationVersion", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.RevocationVersion(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
