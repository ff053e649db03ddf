package accumulator

import (
	"context"
)

// BeginFlush makes every batch ready at once, ignoring linger.ms, until EndFlush.
func (a *Accumulator) BeginFlush() { a.flushing.Add(1); a.cfg.Wake() }

// EndFlush undoes one BeginFlush.
func (a *Accumulator) EndFlush() { a.flushing.Add(-1) }

// Flushing reports whether a flush or close wants every batch sent now.
func (a *Accumulator) Flushing() bool { return a.flushing.Load() > 0 || a.closing.Load() }

// SetClosing marks the accumulator closing: every batch is ready at once.
func (a *Accumulator) SetClosing() { a.closing.Store(true); a.cfg.Wake() }

// AwaitIncomplete waits until every batch created before the call has completed, or ctx
// ends. Batches created during the wait are not waited for, so a steady stream of sends
// cannot keep Flush from returning.
func (a *Accumulator) AwaitIncomplete(ctx context.Context) error {
	a.incMu.Lock()
	limit := a.nextID
	a.incMu.Unlock()
	for {
		a.incMu.Lock()
		pending := false
		for _, id := range a.incomplete {
			if id <= limit {
				pending = true
				break
			}
		}
		if !pending {
			a.incMu.Unlock()
			return nil
		}
		a.watched = true
		ch := a.doneCh
		a.incMu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Incomplete returns the number of batches not yet completed.
func (a *Accumulator) Incomplete() int {
	a.incMu.Lock()
	defer a.incMu.Unlock()
	return len(a.incomplete)
}

// TakeAll empties every queue and returns the batches (close without delivery, fatal
// errors). Batches in flight are not among them.
func (a *Accumulator) TakeAll() []*Batch {
	var out []*Batch
	for _, t := range a.Topics() {
		for _, p := range t.Partitions() {
			out = append(out, p.takeAll()...)
		}
	}
	return out
}
