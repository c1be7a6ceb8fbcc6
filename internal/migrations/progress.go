package migrations

import (
	"sync"
	"time"
)

// ReportSlow is a Progress that says nothing of a migration done within
// after, and of a longer one says so once it has taken that long (took < 0),
// then again when it is done, with the time it took, so that a command that
// seems to hang says why.
func ReportSlow(after time.Duration, say func(m Migration, took time.Duration)) Progress {
	var (
		mu        sync.Mutex
		timer     *time.Timer
		current   int // counts migrations started; a timer speaks only for its own
		announced bool
	)
	return func(m Migration, done bool, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			current++
			mine := current
			announced = false
			timer = time.AfterFunc(after, func() {
				mu.Lock()
				defer mu.Unlock()
				if mine == current && !announced {
					announced = true
					say(m, -1)
				}
			})
			return
		}
		timer.Stop()
		if announced {
			say(m, took)
		}
		current++ // a timer of this migration that fired late stays quiet
	}
}
