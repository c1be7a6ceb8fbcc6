package login

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/autho/autho"
)

// usageStore is the part of autho.Store the recorder writes to.
type usageStore interface {
	RecordTokenUse(ctx context.Context, uses []autho.TokenUse) error
}

// Recorder batches "last used" updates in memory and writes them once per
// interval, so a successful login never waits for a database write. The
// contract allows this: last-used may be a few seconds late, and the last
// few seconds may be lost in a crash.
type Recorder struct {
	store usageStore
	log   *slog.Logger

	mu      sync.Mutex
	pending map[string]autho.TokenUse
}

// NewRecorder returns a recorder writing to store.
func NewRecorder(store usageStore, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{store: store, log: log, pending: make(map[string]autho.TokenUse)}
}

// Record notes one use; only the newest use per token is kept.
func (r *Recorder) Record(u autho.TokenUse) {
	r.mu.Lock()
	if old, ok := r.pending[u.TokenID]; !ok || u.At.After(old.At) {
		r.pending[u.TokenID] = u
	}
	r.mu.Unlock()
}

// Flush writes what is pending. On failure the uses are put back (unless a
// newer one arrived meanwhile) to be tried at the next flush.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	if len(r.pending) == 0 {
		r.mu.Unlock()
		return nil
	}
	batch := make([]autho.TokenUse, 0, len(r.pending))
	for _, u := range r.pending {
		batch = append(batch, u)
	}
	clear(r.pending)
	r.mu.Unlock()

	err := r.store.RecordTokenUse(ctx, batch)
	if err != nil {
		for _, u := range batch {
			r.Record(u)
		}
	}
	return err
}

// Run flushes every interval until ctx ends, then flushes once more.
func (r *Recorder) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := r.Flush(ctx); err != nil {
				r.log.Warn("recording token use failed; will retry", "err", err)
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := r.Flush(fctx); err != nil {
				r.log.Warn("final flush of token use failed", "err", err)
			}
			cancel()
			return
		}
	}
}
