package drivers

import (
	"sync/atomic"
	"time"
)

// epoch is the monotonic origin of mono.
var epoch = time.Now()

// mono returns monotonic nanoseconds since the process started.
func mono() int64 { return int64(time.Since(epoch)) }

// slot carries one in-flight record's index to its acknowledgement in latency mode.
// Slots form a ring; a slot is reused only after its record was acknowledged.
type slot struct {
	k    int   // position in the ring: clients index their per-slot callbacks with it
	idx  int64 // record index: its intended send time is start + idx*period
	busy atomic.Bool
}

// tracker counts acknowledgements of every client the same way: clients call ack (per
// record or per batch) in throughput mode and slotDone per record in latency mode.
//
// Several senders and the clients' callback goroutines use one tracker at once: every
// field they share is atomic, or written before the senders start (slots, start, period,
// lat's backing array) and then only read; each lat element and slot idx has one writer.
type tracker struct {
	sent     atomic.Int64 // records handed to the client in this phase, counted in steps of 1024
	done     atomic.Int64 // records acknowledged or failed in this phase
	failed   atomic.Int64
	firstErr atomic.Pointer[string]
	target   atomic.Int64  // records expected in this phase; set before it starts
	finished chan struct{} // closed when done reaches target

	// Latency mode only.
	slots  []slot
	start  int64   // mono time of record 0's intended send
	period float64 // ns between intended sends
	lat    []int64 // ns, send (intended) -> ack, one per record
	nlat   atomic.Int64
}

// ringSize bounds records in flight in latency mode: at 1M records/s it allows 262 ms
// of latency before the driver waits for a slot.
const ringSize = 1 << 18

func newTracker(latency bool) *tracker {
	t := &tracker{}
	if latency {
		t.slots = make([]slot, ringSize)
		for i := range t.slots {
			t.slots[i].k = i
		}
	}
	return t
}

// phase starts counting n new records.
func (t *tracker) phase(n int64) {
	t.sent.Store(0)
	t.done.Store(0)
	t.failed.Store(0)
	t.target.Store(n)
	t.finished = make(chan struct{})
	if n == 0 {
		close(t.finished)
	}
}

// ack records n acknowledgements with one outcome.
func (t *tracker) ack(n int64, err error) {
	if err != nil {
		t.failed.Add(n)
		if t.firstErr.Load() == nil {
			s := err.Error()
			t.firstErr.CompareAndSwap(nil, &s)
		}
	}
	if t.done.Add(n) == t.target.Load() {
		close(t.finished)
	}
}

// slotDone acknowledges the record of s and records its latency when measuring.
func (t *tracker) slotDone(s *slot, err error) {
	if t.lat != nil && err == nil {
		l := mono() - (t.start + int64(float64(s.idx)*t.period))
		if i := t.nlat.Add(1) - 1; i < int64(len(t.lat)) {
			t.lat[i] = l
		}
	}
	s.busy.Store(false)
	t.ack(1, err)
}
