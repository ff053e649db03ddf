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

// SetClosing marks the accumulator closing: every batch is ready at once and Append
// refuses new records. When it returns, every Append that succeeded has its batch
// queued and counted by AwaitIncomplete, and none succeeds later, so the producer's
// Close needs no count of the Sends in progress. Append checks the flag under its
// partition's lock (as Java's RecordAccumulator.tryAppend checks closed under the
// deque's lock); taking each lock once here waits out the appends already past it. A
// partition created after the walk was created after the flag was set, so its first
// Append sees the flag.
func (a *Accumulator) SetClosing() {
	a.closing.Store(true)
	for _, t := range a.Topics() {
		for _, p := range t.Partitions() {
			p.mu.Lock()
			p.mu.Unlock() // an empty critical section: a barrier
		}
	}
	a.cfg.Wake()
}

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
