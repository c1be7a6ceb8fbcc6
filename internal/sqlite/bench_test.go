package sqlite

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// BenchmarkAPICredential is the login's hot read, from many goroutines at
// once as under load.
func BenchmarkAPICredential(b *testing.B) {
	s := mustOpen(b, filepath.Join(b.TempDir(), "autho.db"))
	ctx := context.Background()
	hashes := seedTokens(b, s, 100, 10_000)
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h := hashes[next.Add(1)%uint64(len(hashes))]
			if _, err := s.APICredential(ctx, h); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
