package accumulator

import (
	"context"
	"errors"
	"slices"
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

	mu      sync.Mutex // guards waiters and spare
	waiters []*waiter  // FIFO, shifted in place so its array is reused
	spare   []*waiter  // finished waiters kept for reuse
	nwait   atomic.Int32
}

// maxSpareWaiters bounds the waiters kept for reuse: about as many as goroutines that
// wait at once in a busy producer.
const maxSpareWaiters = 64

// ErrAborted is returned by Acquire when its abort channel closed (the producer closed).
var ErrAborted = errors.New("kprod: wait aborted")

// A waiter is reused: with 32 goroutines sending into a full buffer.memory, a new waiter,
// channel and timer per wait cost 0.03-0.13 allocations per record (issue 14 item 3).
type waiter struct {
	n     int64
	ready chan struct{} // capacity 1: holds one token once the bytes were granted
	timer *time.Timer   // stopped and drained between waits
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
	b.mu.Lock()
	w := b.newWaiterLocked(n)
	b.waiters = append(b.waiters, w)
	b.nwait.Add(1)
	b.grantLocked() // space may have been freed between TryAcquire and here
	b.mu.Unlock()

	if w.timer == nil {
		w.timer = time.NewTimer(time.Until(deadline))
	} else {
		w.timer.Reset(time.Until(deadline))
	}
	var err error
	select {
	case <-w.ready:
		b.doneWaiting(w)
		return true, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-abort:
		err = ErrAborted
	case <-w.timer.C:
	}
	b.mu.Lock()
	select {
	case <-w.ready: // granted while we gave up: give it back
		b.releaseLocked(n)
	default:
		for i, x := range b.waiters {
			if x == w {
				b.waiters = slices.Delete(b.waiters, i, i+1) // clears the freed slot
				b.nwait.Add(-1)
				break
			}
		}
		b.grantLocked() // we may have been blocking smaller waiters behind us
	}
	b.mu.Unlock()
	b.doneWaiting(w)
	return false, err
}

// newWaiterLocked returns a spare waiter for n bytes, or a new one.
func (b *Budget) newWaiterLocked(n int64) *waiter {
	if k := len(b.spare); k > 0 {
		w := b.spare[k-1]
		b.spare[k-1] = nil
		b.spare = b.spare[:k-1]
		w.n = n
		return w
	}
	return &waiter{n: n, ready: make(chan struct{}, 1)}
}

// doneWaiting keeps w, out of the queue and with its token taken, for a later wait. Its
// timer is stopped and drained first: a timer that fired after the wait ended must not
// end the next wait early (the drain matters under the pre-Go 1.23 timer semantics a
// main module with an older go line still gets).
func (b *Budget) doneWaiting(w *waiter) {
	if !w.timer.Stop() {
		select {
		case <-w.timer.C:
		default:
		}
	}
	b.mu.Lock()
	if len(b.spare) < maxSpareWaiters {
		b.spare = append(b.spare, w)
	}
	b.mu.Unlock()
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
		k := copy(b.waiters, b.waiters[1:])
		b.waiters[k] = nil
		b.waiters = b.waiters[:k]
		b.nwait.Add(-1)
		w.ready <- struct{}{} // never blocks: one grant per wait, and the token was taken
	}
}

// Waiting returns how many appenders wait for memory (Java's waiting-threads).
func (b *Budget) Waiting() int { return int(b.nwait.Load()) }
