package portal

import (
	"context"
	"time"
)

// janitorEvery is how often Run deletes ended sessions and failures too old
// to count. Both are ignored on read anyway; this only keeps tables small.
const janitorEvery = 5 * time.Minute

// Run deletes ended sessions and old login failures until ctx ends. Every
// node may run it; the deletes are the same whoever runs them.
func (p *Portal) Run(ctx context.Context) {
	t := time.NewTicker(janitorEvery)
	defer t.Stop()
	for {
		p.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Portal) sweep(ctx context.Context) {
	now := p.cfg.Now()
	if _, err := p.store.DeleteSessionsBefore(ctx, now.Add(-idleTimeout), now.Add(-absoluteTimeout)); err != nil && ctx.Err() == nil {
		p.log.Warn("portal: cannot delete ended sessions", "err", err)
	}
	if _, err := p.store.DeleteLoginFailuresBefore(ctx, now.Add(-failureWindow)); err != nil && ctx.Err() == nil {
		p.log.Warn("portal: cannot delete old login failures", "err", err)
	}
}
