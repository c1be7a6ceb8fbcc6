package password

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPool_Acquire(t *testing.T) {
	t.Run("nil bounds nothing", func(t *testing.T) {
		var p *Pool
		release, err := p.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		release()
	})
	t.Run("never more than n at once", func(t *testing.T) {
		const n, callers = 2, 80
		p := NewPool(n)
		var (
			running, most atomic.Int64
			wg            sync.WaitGroup
			gate          = make(chan struct{})
		)
		for range callers {
			wg.Go(func() {
				<-gate
				release, err := p.Acquire(context.Background())
				if errors.Is(err, ErrBusy) {
					return // how many wait too long depends on the machine's speed
				}
				if err != nil {
					t.Error(err)
					return
				}
				now := running.Add(1)
				for {
					m := most.Load()
					if now <= m || most.CompareAndSwap(m, now) {
						break
					}
				}
				DummyVerify()
				running.Add(-1)
				release()
			})
		}
		close(gate)
		wg.Wait()
		if most.Load() > n {
			t.Errorf("%d computations at once, want at most %d", most.Load(), n)
		}
	})
	t.Run("beyond a full waiting room, busy at once", func(t *testing.T) {
		// Whether a caller in the room waits past poolWait depends on the
		// machine's speed; that the room has a size does not.
		p := NewPool(1)
		release, err := p.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for range roomPerSlot {
			wg.Go(func() {
				if _, err := p.Acquire(ctx); !errors.Is(err, context.Canceled) {
					t.Errorf("a waiting caller: %v, want the cancel", err)
				}
			})
		}
		for i := 0; len(p.room) < cap(p.room); i++ {
			if i == 10000 {
				t.Fatalf("%d of %d waiting after 10 s", len(p.room), cap(p.room))
			}
			time.Sleep(time.Millisecond)
		}
		// A cancelled context tells "refused at the door" (ErrBusy) from
		// "let in to wait" (the context's error).
		done, stop := context.WithCancel(t.Context())
		stop()
		if _, err := p.Acquire(done); !errors.Is(err, ErrBusy) {
			t.Errorf("with the room full: %v, want ErrBusy at once", err)
		}
		cancel()
		wg.Wait()
		release()
	})
	t.Run("a slot rests only while the budget is overdrawn", func(t *testing.T) {
		p := NewPool(1)
		release, err := p.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		release()
		if len(p.slots) != 0 {
			t.Fatal("with its budget full, a slot held for 100 ms was not free the moment it was given back")
		}
		p.mu.Lock()
		p.credit = 0
		p.mu.Unlock()
		release, _ = p.Acquire(t.Context())
		time.Sleep(100 * time.Millisecond)
		release()
		release() // a second call gives back nothing more
		if len(p.slots) != 1 {
			t.Fatal("with its budget spent, a slot held for 100 ms was free again the moment it was given back")
		}
		release, err = p.Acquire(t.Context())
		if err != nil {
			t.Fatalf("after its rest: %v", err)
		}
		release()
	})
	t.Run("beyond the waiting room, busy at once", func(t *testing.T) {
		p := NewPool(1)
		release, _ := p.Acquire(t.Context())
		defer release()
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		for range roomPerSlot {
			wg.Go(func() { p.Acquire(ctx) })
		}
		for i := 0; len(p.room) < roomPerSlot; i++ {
			if i == 500 {
				t.Fatalf("%d callers in the waiting room, want %d", len(p.room), roomPerSlot)
			}
			time.Sleep(10 * time.Millisecond)
		}
		// The room is full, so this caller is not kept waiting: if it
		// were, the ended context would answer instead of ErrBusy.
		ended, stop := context.WithCancel(t.Context())
		stop()
		if _, err := p.Acquire(ended); !errors.Is(err, ErrBusy) {
			t.Fatalf("with the waiting room full: %v, want ErrBusy", err)
		}
	})
	t.Run("a caller who gives up leaves", func(t *testing.T) {
		p := NewPool(1)
		release, _ := p.Acquire(t.Context())
		defer release()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := p.Acquire(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Acquire with an ended context: %v", err)
		}
		if len(p.room) != 0 {
			t.Fatal("the caller who gave up still holds a place in the waiting room")
		}
	})
}
