package password

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrBusy says every slot of a Pool is taken and its waiting room is full:
// the caller should ask the person to try again in a moment. It is the
// answer to a flood, and costs nothing to give.
var ErrBusy = errors.New("too many password checks at once")

// poolWait is the longest a caller waits in the waiting room; a check and
// its rest take a tenth of that, so only a flood makes anyone wait so long.
const poolWait = time.Second

// Pool bounds how many argon2 computations (Hash, Verify, DummyVerify) run
// at once, and how much of the machine they take. Each takes 19 MiB and a
// core for 20-50 ms; unbounded, a hundred parallel sign-ins took the
// process from 32 MiB to 850 MiB and the partner login's median from 1 ms
// to seconds.
//
// Three things keep a flood of sign-ins from starving the partner login,
// which is what the platform's partners pay for:
//   - a few slots (serve gives half the processors);
//   - a rest: a slot given back comes free again only after restFactor
//     times as long as it was held (at most maxRest), so that under a flood
//     argon2 keeps a sixth of the cores its slots stand for, and the login
//     the rest (bench/run's flood scenario measures what is left of it). A
//     lone sign-in is not slowed: the rest delays only the next;
//   - a waiting room: callers beyond the slots wait up to poolWait, and get
//     ErrBusy when it passes. A flood tool resends the moment it is
//     answered, so an immediate refusal would only make room for its next
//     request; held a second, each of its connections costs one cheap
//     refusal a second. Beyond the room, ErrBusy comes at once.
//
// A nil *Pool bounds nothing: an operator command hashes one password.
type Pool struct {
	slots chan struct{}
	room  chan struct{} // the waiting room: callers queued for a slot
}

// roomPerSlot is the waiting room's size per slot. A waiting request holds
// its goroutine and buffers, about 16 KiB: a full room of one slot is 2 MiB.
const roomPerSlot = 128

// restFactor and maxRest set a slot's rest after use. The bound keeps a
// hold made long by something other than argon2 (the database the caller
// reached while holding the slot) from keeping the slot away for long.
const (
	restFactor = 5
	maxRest    = 500 * time.Millisecond
)

// NewPool returns a pool of n slots (at least 1) with room for 128n
// waiting callers.
func NewPool(n int) *Pool {
	n = max(n, 1)
	return &Pool{slots: make(chan struct{}, n), room: make(chan struct{}, roomPerSlot*n)}
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
		return p.releaser(), nil
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
		return p.releaser(), nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// releaser returns the release function of a slot taken now: the slot
// rests restFactor times as long as it was held before it is free again.
func (p *Pool) releaser() func() {
	start := time.Now()
	var once sync.Once
	return func() {
		once.Do(func() {
			time.AfterFunc(min(restFactor*time.Since(start), maxRest), func() { <-p.slots })
		})
	}
}
