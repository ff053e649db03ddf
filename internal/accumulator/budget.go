package accumulator

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Budget is buffer.memory: a hard byte budget for records the producer holds unsent.
//
// The common case, space available, is one atomic add with no lock (performance.md: one
// global lock around buffer accounting costs franz-go a quarter of its CPU). Only when
// the budget is exhausted do callers take the mutex and queue in FIFO order, as Java's
// BufferPool does, so a large record is not starved by a stream of small ones.
type Budget struct {
	max  int64
	used atomic.Int64

	mu      sync.Mutex // guards waiters
	waiters []*waiter  // FIFO
	nwait   atomic.Int32
}

// ErrAborted is returned by Acquire when its abort channel closed (the producer closed).
var ErrAborted = errors.New("kprod: wait aborted")

type waiter struct {
	n     int64
	ready chan struct{} // closed when the bytes were granted to this waiter
}

// NewBudget returns a budget of max bytes.
func NewBudget(max int64) *Budget { return &Budget{max: max} }

// Max returns the budget's size.
func (b *Budget) Max() int64 { return b.max }

// Exhausted reports whether someone is waiting for memory: then every batch counts as
// ready, so sending frees memory sooner (Java's RecordAccumulator.ready does the same).
func (b *Budget) Exhausted() bool { return b.nwait.Load() > 0 }

// Used returns the bytes currently held.
func (b *Budget) Used() int64 { return b.used.Load() }

// TryAcquire takes n bytes if they are free and nobody is queued before us.
func (b *Budget) TryAcquire(n int64) bool {
	if b.nwait.Load() > 0 {
		return false
	}
	for {
		u := b.used.Load()
		if u+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// Acquire takes n bytes, waiting in FIFO order until they are free, ctx ends, abort is
// closed or the deadline passes (then it returns false with nothing taken: a cancelled
// wait never leaks budget). n must not exceed Max.
func (b *Budget) Acquire(ctx context.Context, n int64, deadline time.Time, abort <-chan struct{}) (bool, error) {
	if b.TryAcquire(n) {
		return true, nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	b.mu.Lock()
	b.waiters = append(b.waiters, w)
	b.nwait.Add(1)
	b.grantLocked() // space may have been freed between TryAcquire and here
	b.mu.Unlock()

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		return true, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-abort:
		err = ErrAborted
	case <-timer.C:
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready: // granted while we gave up: give it back
		b.releaseLocked(n)
	default:
		for i, x := range b.waiters {
			if x == w {
				b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
				b.nwait.Add(-1)
				break
			}
		}
		b.grantLocked() // we may have been blocking smaller waiters behind us
	}
	return false, err
}

// Release returns n bytes.
func (b *Budget) Release(n int64) {
	if n == 0 {
		return
	}
	if b.nwait.Load() == 0 {
		b.used.Add(-n)
		// A waiter may have queued between our check and the add; let it look.
		if b.nwait.Load() == 0 {
			return
		}
		b.mu.Lock()
		b.grantLocked()
		b.mu.Unlock()
		return
	}
	b.mu.Lock()
	b.releaseLocked(n)
	b.mu.Unlock()
}

func (b *Budget) releaseLocked(n int64) {
	b.used.Add(-n)
	b.grantLocked()
}

// grantLocked hands free bytes to queued waiters in order.
func (b *Budget) grantLocked() {
	for len(b.waiters) > 0 {
		w := b.waiters[0]
		u := b.used.Load()
		if u+w.n > b.max {
			return
		}
		if !b.used.CompareAndSwap(u, u+w.n) {
			continue
		}
		b.waiters[0] = nil
		b.waiters = b.waiters[1:]
		b.nwait.Add(-1)
		close(w.ready)
	}
}

// Waiting returns how many appenders wait for memory (Java's waiting-threads).
func (b *Budget) Waiting() int { return int(b.nwait.Load()) }
