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

// poolWait is the longest a caller waits in the waiting room; a check takes
// a fiftieth of that, so only a flood makes anyone wait so long.
const poolWait = time.Second

// Pool bounds how many argon2 computations (Hash, Verify, DummyVerify) run
// at once, and how much of the machine they take. Each takes 19 MiB and a
// core for tens of milliseconds, so unbounded, a flood of parallel sign-ins
// would take memory without limit and the partner login's CPU.
//
// Three things keep a flood of sign-ins from starving the partner login,
// which is what the platform's partners pay for:
//   - a few slots (serve gives half the processors);
//   - a budget: over time argon2 may use a sixth of its slots' time (the
//     login keeps the rest; bench/run's flood scenario measures it), with
//     bursts of up to a second of it per slot, so that an office signing in
//     at nine, or a burst of guesses the throttle must see, runs at full
//     speed. A slot given back while the budget is overdrawn rests until it
//     is repaid (at most maxRest at a time) before it is free again;
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

	mu     sync.Mutex
	n      int           // slots
	credit time.Duration // argon2 time the budget holds; negative when overdrawn
	at     time.Time     // when credit was last brought up to date
}

// roomPerSlot is the waiting room's size per slot. A waiting request holds
// its goroutine and buffers, about 16 KiB: a full room of one slot is 2 MiB.
const roomPerSlot = 128

// The budget: argon2 keeps 1/share of its slots' time, saves up to
// burstPerSlot of it per slot, and a slot rests at most maxRest at a time.
const (
	share        = 6
	burstPerSlot = time.Second
	maxRest      = 500 * time.Millisecond
)

// NewPool returns a pool of n slots (at least 1) with room for 128n
// waiting callers, its budget full.
func NewPool(n int) *Pool {
	n = max(n, 1)
	return &Pool{slots: make(chan struct{}, n), room: make(chan struct{}, roomPerSlot*n),
		n: n, credit: time.Duration(n) * burstPerSlot, at: time.Now()}
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

// releaser returns the release function of a slot taken now.
func (p *Pool) releaser() func() {
	start := time.Now()
	var once sync.Once
	return func() {
		once.Do(func() {
			if rest := p.charge(time.Since(start)); rest > 0 {
				time.AfterFunc(rest, func() { <-p.slots })
				return
			}
			<-p.slots
		})
	}
}

// charge takes held from the budget, and returns how long the slot must
// rest so that the budget is repaid (0 when it is not overdrawn).
func (p *Pool) charge(held time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	// The budget fills at n/share of real time, up to its burst.
	p.credit = min(p.credit+now.Sub(p.at)*time.Duration(p.n)/share, time.Duration(p.n)*burstPerSlot)
	p.at = now
	p.credit -= held
	if p.credit >= 0 {
		return 0
	}
	return min(-p.credit*share/time.Duration(p.n), maxRest)
}
