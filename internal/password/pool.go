package password

import (
	"context"
	"errors"
	"time"
)

// ErrBusy says every slot of a Pool is taken and its waiting room is full:
// the caller should ask the person to try again in a moment. It is the
// answer to a flood, and costs nothing to give.
var ErrBusy = errors.New("too many password checks at once")

// poolWait is the longest a caller waits in the waiting room; a check
// takes about 50 ms, so only a flood makes anyone wait that long.
const poolWait = time.Second

// Pool bounds how many argon2 computations (Hash, Verify, DummyVerify) run
// at once. Each takes 19 MiB and a core for about 50 ms; unbounded, a
// hundred parallel sign-ins took the process from 32 MiB to 850 MiB and the
// partner login's median from 1 ms to seconds. Beyond the slots, a few
// callers may wait their turn; the rest get ErrBusy at once.
//
// A nil *Pool bounds nothing: an operator command hashes one password.
type Pool struct {
	slots chan struct{}
	room  chan struct{} // the waiting room: callers queued for a slot
}

// NewPool returns a pool of n slots (at least 1) with room for 8n waiting
// callers: a queue that drains in a fraction of poolWait, so that a busy
// office signing in at nine is served, and only a flood is turned away.
func NewPool(n int) *Pool {
	n = max(n, 1)
	return &Pool{slots: make(chan struct{}, n), room: make(chan struct{}, 8*n)}
}

// Acquire takes a slot for one argon2 computation, and returns the function
// that gives it back. It waits while the waiting room has space, at most
// poolWait or until ctx ends, and otherwise returns ErrBusy.
func (p *Pool) Acquire(ctx context.Context) (release func(), err error) {
	if p == nil {
		return func() {}, nil
	}
	select {
	case p.slots <- struct{}{}:
		return p.release, nil
	default:
	}
	select {
	case p.room <- struct{}{}:
	default:
		return nil, ErrBusy
	}
	defer func() { <-p.room }()
	t := time.NewTimer(poolWait)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		return p.release, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Pool) release() { <-p.slots }
